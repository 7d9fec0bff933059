with

source as (

    select * from {{ source('source', 'sys_md_client') }}

),

renamed as (

    select
        id_cln::text as id_cln,
        lc_cln::text as lc_cln,
        id_tc_cg::text as id_tc_cg,
        id_tc_cible::text as id_tc_cible,
        id_segment::text as id_segment,
        geo::text as geo,
        id_kam::text as id_kam
    from source

)

select * from renamed
