{{ config(materialized='ephemeral', tags=['final', 'price_book']) }}
{#- Items of the quote-engine lists (PT2QE_<as_of>) of the published price book, as they
    are: a final run carries forward those of every list but the one it publishes. No
    published table yet (before the first final run): no row. Ephemeral: a view on the
    published table would be dropped with it (CASCADE) every time the table is
    replaced. -#}
{%- set published = source('price_book_published', 'price_list_items') -%}
{%- set exists = execute and load_relation(published) is not none %}
with

source as (

    {% if exists %}
        select * from {{ published }}
    {% else %}
        select
            null::text as price_list_code,
            null::text as id_art,
            null::text as id_cln,
            null::text as customer_group,
            null::text as channel,
            null::numeric as price_ht,
            null::numeric as cost_price,
            null::integer as min_quantity,
            null::integer as max_quantity,
            null::date as valid_from,
            null::date as valid_until,
            null::boolean as is_active,
            null::text as source_run_id
        where false
    {% endif %}

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
        min_quantity::integer as min_quantity,
        max_quantity::integer as max_quantity,
        valid_from::date as valid_from,
        valid_until::date as valid_until,
        is_active::boolean as is_active,
        source_run_id::text as source_run_id
    from source
    where price_list_code ~ '^PT2QE_[0-9]{4}-[0-9]{2}-[0-9]{2}$'

)

select * from renamed
