{{ config(tags=['final', 'price_book']) }}
{#- Items of inputs/price_lists/price_list_items.csv as loaded (checked by
    pt2qe.pricebook: PRICE_HT > 0, MIN_QUANTITY <= MAX_QUANTITY, known list, the scope
    column of the list's type, unique key). They come from no run: SOURCE_RUN_ID NULL. -#}
with

source as (

    select * from {{ source('price_book_inputs', 'price_list_items') }}

),

renamed as (

    select
        price_list_code::text as price_list_code,
        id_art::text as id_art,
        id_cln::text as id_cln,
        customer_group::text as customer_group,
        channel::text as channel,
        price_ht::numeric as price_ht,
        cost_price::numeric as cost_price,
        coalesce(min_quantity, 1)::integer as min_quantity,
        max_quantity::integer as max_quantity,
        valid_from::date as valid_from,
        valid_until::date as valid_until,
        coalesce(is_active, true) as is_active,
        null::text as source_run_id
    from source

)

select * from renamed
