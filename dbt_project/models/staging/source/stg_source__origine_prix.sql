with

source as (

    select * from {{ source('source', 'sys_md_origine_prix') }}

),

renamed as (

    select
        id_origine_prix::text as id_origine_prix,
        lc_origine_prix::text as lc_origine_prix,
        type_prix::text as type_prix,
        fg_promo::text as fg_promo
    from source

)

select * from renamed
