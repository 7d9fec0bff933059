with

source as (

    select * from {{ source('inputs', 'capping_type_client') }}

),

renamed as (

    select
        type_client::text as type_client,
        capping_high::numeric as capping_high,
        capping_medium::numeric as capping_medium,
        capping_low::numeric as capping_low
    from source

)

select * from renamed
