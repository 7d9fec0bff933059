with

source as (

    select * from {{ source('source', 'pt0ce_type_restaurant_mapping') }}

),

renamed as (

    select
        id_segment::text as id_segment,
        type_restaurant::text as type_restaurant
    from source

)

select * from renamed
