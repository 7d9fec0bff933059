with

source as (

    select * from {{ source('registry', 'price_anomaly_reviews') }}

),

renamed as (

    select
        observation_id::text as observation_id,
        lower(status::text) as status,
        reason::text as reason,
        reviewer::text as reviewer,
        source_line::integer as source_line
    from source

)

select * from renamed
