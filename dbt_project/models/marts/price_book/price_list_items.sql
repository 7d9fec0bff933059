{{ config(
    tags=['final', 'price_book'],
    indexes=[
        {'columns': ['id_art', 'id_cln']},
        {'columns': ['id_art', 'customer_group']},
        {'columns': ['id_art', 'channel']},
    ],
) }}
{#- The prices (PRICE_BOOK_RULES.md, Tables): the items of the pricing team's lists
    (inputs/price_lists/price_list_items.csv) and of the quote engine's customer lists.

    This final run's list PT2QE_<as_of> holds one item per published offer
    (int_final_offers__publication): PRICE_HT = NOUVEAU_PRIX, COST_PRICE = NEW_PAS,
    MIN_QUANTITY 1, no MAX_QUANTITY, validity = the condition's dates, SOURCE_RUN_ID =
    the run that computed the recommendations. It replaces the whole list as published
    before (an offer no longer published leaves it); the other PT2QE lists are carried
    forward unchanged. Publishing the same run again gives the same rows.

    Unique on (PRICE_LIST_CODE, ID_ART, ID_CLN, CUSTOMER_GROUP, CHANNEL, MIN_QUANTITY),
    NULLs equal: a table constraint (contract). Indexed for resolve_price. -#}
with

input_items as (

    select * from {{ ref('stg_price_book__price_list_items') }}

),

published_items as (

    select * from {{ ref('stg_price_book__published_items') }}

),

publication as (

    select * from {{ ref('int_final_offers__publication') }}

),

current_list as (

    select distinct price_list_code
    from publication
    where price_list_code is not null

),

current_items as (

    select
        price_list_code,
        id_art,
        id_cln,
        null::text as customer_group,
        null::text as channel,
        nouveau_prix as price_ht,
        new_pas as cost_price,
        1 as min_quantity,
        null::integer as max_quantity,
        dt_deb_condition as valid_from,
        dt_fin_condition as valid_until,
        true as is_active,
        source_run_id
    from publication
    where is_published

),

carried_items as (

    select *
    from published_items
    where published_items.price_list_code not in (select current_list.price_list_code from current_list)

),

final as (

    select * from input_items
    union all
    select * from current_items
    union all
    select * from carried_items

)

select
    price_list_code,
    id_art,
    id_cln,
    customer_group,
    channel,
    price_ht,
    cost_price,
    min_quantity,
    max_quantity,
    valid_from,
    valid_until,
    is_active,
    source_run_id
from final
