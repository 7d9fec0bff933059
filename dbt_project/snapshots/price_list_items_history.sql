{#- History of the published prices (PRICE_BOOK_RULES.md, History): every change of
    PRICE_HT of an item of the published price book (marts.price_list_items, read after
    the publication) is kept, in marts.price_list_items_history, BI's table:
    OLD_PRICE_HT, NEW_PRICE_HT, CHANGED_AT, RUN_ID.

    Check strategy on NEW_PRICE_HT, one row per item version (ITEM_KEY = list | article
    | customer | group | channel | MIN_QUANTITY): a new item gets a row, a new price a
    new row (the previous one is closed: dbt_valid_to), an item that left the price
    book a row with dbt_is_deleted = 'True'. An unchanged price adds nothing, so
    publishing the same run again leaves the history as it is.
    - OLD_PRICE_HT: the item's price in the current version of the history; for an item
      new to the history, the offer's PRIX_TARIF_ACTUEL when the item is one of this
      final run's published offers (the price the customer paid until now), else NULL.
    - CHANGED_AT: when the snapshot saw the change (the publishing run); RUN_ID: that
      run (dbt var run_id); SOURCE_RUN_ID: the run that computed the price (NULL for the
      pricing team's lists); CATEGORY: the article's LC_HIC_SYSCO_N1 (notifications
      filter on it).
    Run it after the publication (`dbt snapshot`, tag price_book_history). -#}
{% snapshot price_list_items_history %}
{{ config(
    schema='marts',
    unique_key='item_key',
    strategy='check',
    check_cols=['new_price_ht'],
    hard_deletes='new_record',
    tags=['final', 'price_book_history'],
) }}
{%- set history = load_relation(this) if execute else none %}
with

items as (

    select * from {{ source('price_book_published', 'price_list_items') }}

),

publication as (

    select * from {{ ref('int_final_offers__publication') }}

),

articles as (

    select * from {{ ref('stg_source__article') }}

),

current_versions as (

    {% if history is not none -%}
    select
        item_key,
        new_price_ht
    from {{ this }}
    where dbt_valid_to is null and coalesce(dbt_is_deleted, 'False') <> 'True'
    {%- else -%}
    select
        null::text as item_key,
        null::numeric as new_price_ht
    where false
    {%- endif %}

),

keyed as (

    select
        items.*,
        items.price_list_code || '|' || items.id_art || '|' || coalesce(items.id_cln, '') || '|'
        || coalesce(items.customer_group, '') || '|' || coalesce(items.channel, '') || '|'
        || items.min_quantity::text as item_key
    from items

),

final as (

    select
        keyed.item_key,
        keyed.price_list_code,
        keyed.id_art,
        keyed.id_cln,
        keyed.customer_group,
        keyed.channel,
        keyed.min_quantity,
        coalesce(current_versions.new_price_ht, publication.prix_tarif_actuel) as old_price_ht,
        keyed.price_ht as new_price_ht,
        current_timestamp as changed_at,
        {{ pt2qe_text('run_id') }}::text as run_id,
        keyed.source_run_id,
        articles.lc_hic_sysco_n1 as category
    from keyed
    left join current_versions on keyed.item_key = current_versions.item_key
    left join publication
        on
            keyed.price_list_code = publication.price_list_code
            and keyed.id_art = publication.id_art
            and keyed.id_cln = publication.id_cln
            and keyed.min_quantity = 1
            and publication.is_published
    left join articles on keyed.id_art = articles.id_art

)

select * from final
{% endsnapshot %}
