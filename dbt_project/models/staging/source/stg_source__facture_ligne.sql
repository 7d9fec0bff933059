with

source as (

    select * from {{ source('source', 'sys_facture_ligne') }}

),

renamed as (

    select
        id_facture::text as id_facture,
        no_ligne::bigint as no_ligne,
        id_cde::text as id_cde,
        id_cln::text as id_cln,
        id_art::text as id_art,
        dt_facture::date as dt_facture,
        qt_uf::numeric as qt_uf,
        qt_kg::numeric as qt_kg,
        mt_ca::numeric as mt_ca,
        id_origine_prix::text as id_origine_prix,
        fg_hm::text as fg_hm,
        id_fournisseur::text as id_fournisseur
    from source

)

select * from renamed
