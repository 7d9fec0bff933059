with

source as (

    select * from {{ source('source', 'sys_tarif_simulation') }}

),

renamed as (

    select
        id_cnd::text as id_cnd,
        prix_tarif_actuel::numeric as prix_tarif_actuel,
        id_origine_prix::text as id_origine_prix
    from source

)

select * from renamed
