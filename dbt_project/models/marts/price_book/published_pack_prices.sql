{{ config(tags=['final', 'price_book']) }}
{#- The packs that are published: the coherent ones of pack_prices (R015: a pack costs
    less than its units bought one by one). Export order: price_list_code, id_art,
    id_cln, pack_units. -#}
with

packs as (

    select * from {{ ref('pack_prices') }}

),

final as (

    select
        price_list_code,
        id_art,
        id_cln,
        pack_units,
        unit_price,
        pack_price,
        gtin14
    from packs
    where is_coherent

)

select * from final
