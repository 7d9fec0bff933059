with

source as (

    select * from {{ source('registry', 'price_registry_imports') }}

),

renamed as (

    select
        observation_id::text as observation_id,
        item_key::text as item_key,
        context_key::text as context_key,
        description::text as description,
        category::text as category,
        unit_price::numeric as unit_price,
        quantity::numeric as quantity,
        currency::text as currency,
        recorded_at::date as recorded_at,
        valid_from::date as valid_from,
        valid_until::date as valid_until,
        source_type::text as source_type,
        supplier::text as supplier,
        notes::text as notes,
        context_year::integer as context_year,
        source_file::text as source_file,
        source_line::integer as source_line
    from source

)

select * from renamed
