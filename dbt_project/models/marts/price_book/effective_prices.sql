{{ config(
    tags=['final', 'price_book'],
    pre_hook="{{ pt2qe_install_resolve_price(this.schema) }}",
) }}
{#- Effective unit prices for BI (PRICE_BOOK_RULES.md, Resolution): for every customer x
    article of the final offers and of the customer lists valid on the reference date,
    what resolve_price(article, 1, customer, as_of, no channel) returns. A pair without
    any price keeps its row with NULL prices and PRICE_SOURCE (visible gaps).

    The pre-hook creates the function resolve_price in this model's schema (and in
    marts, for BI; macros/price_book/resolve_price_ddl.sql) before the model reads it.
    Export order: id_cln, id_art. -#}
-- depends_on: {{ ref('price_book_customer_groups') }}
with

final_offers as (

    select * from {{ ref('final_price_offers') }}

),

lists as (

    select * from {{ ref('price_lists') }}

),

items as (

    select * from {{ ref('price_list_items') }}

),

customer_items as (

    select
        items.id_cln,
        items.id_art
    from items
    inner join lists on items.price_list_code = lists.code
    where
        lists.list_type = 'customer'
        and lists.is_active
        and (lists.valid_from is null or lists.valid_from <= {{ pt2qe_date('as_of') }})
        and (lists.valid_until is null or lists.valid_until >= {{ pt2qe_date('as_of') }})

),

pairs as (

    select
        id_cln,
        id_art
    from final_offers

    union

    select
        id_cln,
        id_art
    from customer_items

),

resolved as (

    select
        pairs.id_cln,
        pairs.id_art,
        {{ pt2qe_date('as_of') }} as as_of,
        resolved_price.price_ht,
        resolved_price.original_price,
        resolved_price.discount_rate,
        resolved_price.price_list_code,
        resolved_price.price_source,
        resolved_price.min_quantity,
        resolved_price.max_quantity,
        resolved_price.currency
    from pairs
    left join lateral {{ this.schema }}.resolve_price(
        pairs.id_art, 1, pairs.id_cln, {{ pt2qe_date('as_of') }}, null
    ) as resolved_price on true

)

select * from resolved
