{#-
    SUPPLIER COMPARISON per item x context x supplier (PRICE_REGISTRY_RULES.md): the
    reference observations (no catalog, no promotion, no exception or rejected review)
    up to the reference date that name a supplier: average, count, min, max, and the
    gap to the cheapest supplier's average of the same item x context, in percent
    ((average - cheapest) / cheapest x 100; 0 for the cheapest).
-#}
{{ config(pre_hook="set local work_mem = '1GB'") }}

with

observations as (

    select * from {{ ref('price_observations') }}

),

per_supplier as (

    select
        hashtext(item_key || '|' || context_key) as series_hash,
        item_key,
        context_key,
        supplier,
        avg(unit_price) as average_price,
        count(*) as observations,
        min(unit_price) as min_price,
        max(unit_price) as max_price,
        max(recorded_at) as last_recorded_at
    from observations
    where is_reference
        and supplier is not null
    group by series_hash, item_key, context_key, supplier

),

compared as (

    select
        per_supplier.*,
        min(average_price) over series as cheapest_average_price,
        count(*) over series as suppliers,
        rank() over (series order by average_price) as supplier_rank
    from per_supplier
    window series as (partition by series_hash, item_key, context_key)

),

final as (

    select
        item_key,
        context_key,
        supplier,
        observations,
        trim_scale(average_price) as average_price,
        min_price,
        max_price,
        last_recorded_at,
        suppliers,
        supplier_rank,
        trim_scale(cheapest_average_price) as cheapest_average_price,
        trim_scale((average_price - cheapest_average_price) * 100 / nullif(cheapest_average_price, 0))
            as gap_to_cheapest_percent
    from compared

)

select * from final
