with

source as (

    select * from {{ source('inputs', 'capping_corrections') }}

),

renamed as (

    select
        univers::text as univers,
        type_client::text as type_client,
        type_restaurant::text as type_restaurant,
        -- an empty GEO cell means a cube without GEO (QUOTE_ENGINE_RULES.md section 4)
        nullif(geo::text, '') as geo,
        capping_high::numeric as capping_high,
        capping_medium::numeric as capping_medium,
        capping_low::numeric as capping_low
    from source

)

select * from renamed
