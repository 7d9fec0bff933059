{{ config(materialized='ephemeral', tags=['final', 'price_book']) }}
{#- The quote-engine lists (codes PT2QE_<as_of>) of the published price book, with the
    reference date read back from the code. A final run carries them forward and
    recomputes their validity chain. No published table yet (before the first final
    run): no row. Ephemeral: a view on the published table would be dropped with it
    (CASCADE) every time the table is replaced. -#}
{%- set published = source('price_book_published', 'price_lists') -%}
{%- set exists = execute and load_relation(published) is not none %}
with

source as (

    {% if exists %}
        select * from {{ published }}
    {% else %}
        select null::text as code
        where false
    {% endif %}

),

renamed as (

    select
        code::text as code,
        to_date(substring(code from 7), 'YYYY-MM-DD') as as_of
    from source
    where code ~ '^PT2QE_[0-9]{4}-[0-9]{2}-[0-9]{2}$'

)

select * from renamed
