{#-
    The price suggestion of each item x context without its trend (the mart
    price_suggestions adds it): computed from price_observations alone, so that it runs
    beside price_monthly_averages -> price_trends instead of after them (the chain
    observations -> monthly averages -> trends -> suggestions was the critical path of a
    full run's dbt build).
    SUGGESTION per item x context (PRICE_REGISTRY_RULES.md) from the reference
    observations (no catalog, no promotion, no exception or rejected review) recorded in
    [reference date - price_history_months months, reference date]: average, minimum,
    maximum, median, sample size, the last price with its date and supplier (latest
    RECORDED_AT, then highest OBSERVATION_ID), the suggested range = 25th to 75th
    percentile (continuous: v[lo] + (h - lo) x (v[lo+1] - v[lo]) with h = (n - 1) p, the
    same interpolation as percentile_cont, computed exactly on numerics), and the
    confidence: `high` (>= 10 samples), `medium` (>= price_minimum_samples), `low`
    (fewer: no range, RANGE_NOTE 'Données insuffisantes').
    CATALOG_PRICE: the latest catalog price valid on the reference date, for comparison.
-#}
{{ config(pre_hook="set local work_mem = '1GB'") }}

with

observations as (

    select * from {{ ref('price_observations') }}

),

catalog_observations as (

    select * from {{ ref('price_observations') }}

),

parameters as (

    select * from {{ ref('int_registry__parameters') }}

),

window_prices as (

    select
        hashtext(observations.item_key || '|' || observations.context_key) as series_hash,
        observations.item_key,
        observations.context_key,
        observations.observation_id,
        observations.description,
        observations.category,
        observations.unit_price,
        observations.recorded_at,
        observations.supplier
    from observations
    where observations.is_reference
        and observations.recorded_at >= (
            select {{ pt2qe_date('as_of') }} - make_interval(months => price_history_months) from parameters
        )
        and observations.recorded_at <= {{ pt2qe_date('as_of') }}

),

ranked_prices as (

    select
        window_prices.*,
        row_number() over series_by_price as price_order,
        count(*) over series as sample_size
    from window_prices
    window
        series as (partition by series_hash, item_key, context_key),
        series_by_price as (series order by unit_price)

),

-- rank (1-based) and weight of the two values around each percentile
percentile_positions as (

    select
        ranked_prices.*,
        floor((sample_size - 1) * 0.25)::bigint + 1 as p25_rank,
        (sample_size - 1) * 0.25 - floor((sample_size - 1) * 0.25) as p25_fraction,
        floor((sample_size - 1) * 0.50)::bigint + 1 as p50_rank,
        (sample_size - 1) * 0.50 - floor((sample_size - 1) * 0.50) as p50_fraction,
        floor((sample_size - 1) * 0.75)::bigint + 1 as p75_rank,
        (sample_size - 1) * 0.75 - floor((sample_size - 1) * 0.75) as p75_fraction
    from ranked_prices

),

statistics as (

    select
        item_key,
        context_key,
        max(description) as description,
        max(category) as category,
        count(*) as sample_size,
        avg(unit_price) as average_price,
        min(unit_price) as min_price,
        max(unit_price) as max_price,
        max(unit_price) filter (where price_order = p25_rank) as p25_low,
        max(unit_price) filter (where price_order = p25_rank + 1) as p25_high,
        max(p25_fraction) as p25_fraction,
        max(unit_price) filter (where price_order = p50_rank) as p50_low,
        max(unit_price) filter (where price_order = p50_rank + 1) as p50_high,
        max(p50_fraction) as p50_fraction,
        max(unit_price) filter (where price_order = p75_rank) as p75_low,
        max(unit_price) filter (where price_order = p75_rank + 1) as p75_high,
        max(p75_fraction) as p75_fraction,
        -- the last price in one pass, no second sort: the greatest
        -- [date, id, price, supplier] (ISO dates compare as text; ids are unique)
        max(array[recorded_at::text, observation_id, unit_price::text, supplier]) as last_price_record
    from percentile_positions
    -- the order of the window sort: no second sort
    group by series_hash, item_key, context_key

),

catalog_prices as (

    select distinct on (item_key, context_key)
        item_key,
        context_key,
        unit_price as catalog_price
    from catalog_observations
    where source_type = 'catalog'
        and (valid_from is null or valid_from <= {{ pt2qe_date('as_of') }})
        and (valid_until is null or valid_until >= {{ pt2qe_date('as_of') }})
    order by item_key, context_key, recorded_at desc, observation_id desc

),

suggested as (

    select
        statistics.*,
        statistics.p50_low + statistics.p50_fraction * coalesce(statistics.p50_high - statistics.p50_low, 0)
            as median_price,
        case
            when statistics.sample_size >= 10 then 'high'
            when statistics.sample_size >= parameters.price_minimum_samples then 'medium'
            else 'low'
        end as confidence,
        catalog_prices.catalog_price
    from statistics
    cross join parameters
    left join catalog_prices
        on statistics.item_key = catalog_prices.item_key
        and statistics.context_key = catalog_prices.context_key

),

final as (

    select
        item_key,
        context_key,
        description,
        category,
        sample_size,
        trim_scale(average_price) as average_price,
        min_price,
        max_price,
        trim_scale(median_price) as median_price,
        last_price_record[3]::numeric as last_price,
        last_price_record[1]::date as last_price_date,
        last_price_record[4] as last_price_supplier,
        case
            when confidence <> 'low'
                then trim_scale(p25_low + p25_fraction * coalesce(p25_high - p25_low, 0))
        end as suggested_min_price,
        case
            when confidence <> 'low'
                then trim_scale(p75_low + p75_fraction * coalesce(p75_high - p75_low, 0))
        end as suggested_max_price,
        case when confidence = 'low' then 'Données insuffisantes' end as range_note,
        confidence,
        catalog_price
    from suggested

)

select * from final
