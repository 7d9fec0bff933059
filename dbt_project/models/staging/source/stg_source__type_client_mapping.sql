with

source as (

    select * from {{ source('source', 'pt0ce_type_client_mapping') }}

),

renamed as (

    select
        id_tc_cg::text as id_tc_cg,
        id_tc_cible::text as id_tc_cible,
        fg_hm::text as fg_hm,
        type_client::text as type_client
    from source

)

select * from renamed
