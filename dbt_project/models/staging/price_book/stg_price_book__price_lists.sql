{{ config(tags=['final', 'price_book']) }}
{#- Lists of inputs/price_lists/price_lists.csv as loaded (checked by
    pt2qe.pricebook: codes unique, types base/channel/group/customer, PT2QE_ codes
    reserved). The CSV has no INCLUDES_TAX nor REQUIRES_APPROVAL column: prices are
    excluding tax (PRICE_HT) and the team's lists need no approval. -#}
with

source as (

    select * from {{ source('price_book_inputs', 'price_lists') }}

),

renamed as (

    select
        code::text as code,
        name::text as name,  -- noqa: RF04
        list_type::text as list_type,
        coalesce(priority, 100)::integer as priority,
        coalesce(currency, 'EUR')::text as currency,
        false as includes_tax,
        valid_from::date as valid_from,
        valid_until::date as valid_until,
        coalesce(is_active, true) as is_active,
        false as requires_approval
    from source

)

select * from renamed
