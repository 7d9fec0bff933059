with

source as (

    select * from {{ source('source', 'sys_md_article') }}

),

renamed as (

    select
        id_art::text as id_art,
        lc_art::text as lc_art,
        id_gmm::text as id_gmm,
        lc_hic_sysco_n1::text as lc_hic_sysco_n1,
        lc_hic_sysco_n2::text as lc_hic_sysco_n2,
        lc_attribut::text as lc_attribut,
        id_gtin13::text as id_gtin13,
        famille_conditionnement::text as famille_conditionnement
    from source

)

select * from renamed
