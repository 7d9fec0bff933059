{{ config(tags=['final', 'price_book']) }}
{#- Pack prices (PRICE_BOOK_RULES.md, Packs; seed 001 rules R005, R006, R015).

    For every item of a customer or base list (active, in an active list, neither
    expired on the reference date), of an article whose FAMILLE_CONDITIONNEMENT has a
    scale in the seed pack_scales: one row per pack size of that family. The unit price
    is the item of the lowest MIN_QUANTITY of its list, article and customer (the unit
    tier), so a list with quantity tiers gives one pack price per size.
    - PACK_PRICE = round(UNIT_PRICE x PACK_UNITS x (1 - DISCOUNT) + PACKAGING_COST, 2).
    - IS_COHERENT = PACK_PRICE < PACK_UNITS x UNIT_PRICE (R015); an incoherent pack is
      flagged here and left out of published_pack_prices.
    - GTIN14 (R006) = indicator (1 for 3 units, 2 for 6, 3 for 12) || the first 12
      digits of the unit's GTIN-13 || the GS1 check digit; NULL, with GTIN13_STATUS
      saying why, when the unit GTIN-13 is missing, not 13 digits or has a wrong check
      digit.
    Export order: price_list_code, id_art, id_cln, pack_units. -#}
with

lists as (

    select * from {{ ref('price_lists') }}

),

items as (

    select * from {{ ref('price_list_items') }}

),

articles as (

    select * from {{ ref('stg_source__article') }}

),

scales as (

    select * from {{ ref('pack_scales') }}

),

unit_items as (

    select
        items.price_list_code,
        items.id_art,
        items.id_cln,
        items.price_ht as unit_price,
        row_number() over (
            partition by items.price_list_code, items.id_art, items.id_cln
            order by items.min_quantity
        ) as tier_rank
    from items
    inner join lists on items.price_list_code = lists.code
    where
        lists.list_type in ('customer', 'base')
        and lists.is_active
        and items.is_active
        and (lists.valid_until is null or lists.valid_until >= {{ pt2qe_date('as_of') }})
        and (items.valid_until is null or items.valid_until >= {{ pt2qe_date('as_of') }})

),

packs as (

    select
        unit_items.price_list_code,
        unit_items.id_art,
        unit_items.id_cln,
        scales.pack_units,
        unit_items.unit_price,
        scales.discount,
        scales.packaging_cost,
        nullif(btrim(articles.id_gtin13), '') as gtin13
    from unit_items
    inner join articles on unit_items.id_art = articles.id_art
    inner join scales on lower(btrim(articles.famille_conditionnement)) = scales.famille_conditionnement
    where unit_items.tier_rank = 1

),

priced as (

    select
        *,
        round(unit_price * pack_units * (1 - discount) + packaging_cost, 2) as pack_price,
        {{ pt2qe_gtin13_status('gtin13') }} as gtin13_status,
        {{ pt2qe_gtin14('gtin13', 'pack_units') }} as gtin14
    from packs

),

final as (

    select
        price_list_code,
        id_art,
        id_cln,
        pack_units,
        unit_price,
        pack_price,
        gtin13,
        gtin13_status,
        gtin14,
        pack_price < pack_units * unit_price as is_coherent
    from priced

)

select * from final
