with

source as (

    select * from {{ source('source', 'sys_md_calendrier_sysco') }}

),

renamed as (

    select
        id_sem::date as id_sem,
        dt_fin_sem::date as dt_fin_sem,
        id_trimestre_fiscal::text as id_trimestre_fiscal,
        id_annee_fiscale::text as id_annee_fiscale,
        fg_sem_en_cours::text as fg_sem_en_cours
    from source

)

select * from renamed
