with

source as (

    select * from {{ source('source', 'sys_md_condition') }}

),

renamed as (

    select
        id_cnd::text as id_cnd,
        id_cln::text as id_cln,
        id_art::text as id_art,
        id_typ_cnd::text as id_typ_cnd,
        id_seq::text as id_seq,
        fg_cnd_vld::text as fg_cnd_vld,
        dt_deb::date as dt_deb,
        dt_fin::date as dt_fin
    from source

)

select * from renamed
