{#-
    SUGGESTION per item x context (PRICE_REGISTRY_RULES.md): the suggestion computed by
    int_registry__suggestions (statistics of the reference prices of the last
    price_history_months months, suggested range, confidence, catalog price) with the
    TREND of price_trends ('insufficient_data' when the series has no trend row).
-#}
with

suggestions as (

    select * from {{ ref('int_registry__suggestions') }}

),

trends as (

    select * from {{ ref('price_trends') }}

),

final as (

    select
        suggestions.item_key,
        suggestions.context_key,
        suggestions.description,
        suggestions.category,
        suggestions.sample_size,
        suggestions.average_price,
        suggestions.min_price,
        suggestions.max_price,
        suggestions.median_price,
        suggestions.last_price,
        suggestions.last_price_date,
        suggestions.last_price_supplier,
        suggestions.suggested_min_price,
        suggestions.suggested_max_price,
        suggestions.range_note,
        coalesce(trends.trend, 'insufficient_data') as trend,
        suggestions.confidence,
        suggestions.catalog_price
    from suggestions
    left join trends
        on suggestions.item_key = trends.item_key
        and suggestions.context_key = trends.context_key

)

select * from final
