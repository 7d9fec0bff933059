{#-
    The file price_registry_anomalies.csv of each run (PRICE_REGISTRY_RULES.md,
    "Outputs"): every observation recorded in [reference date - price_history_months
    months, reference date] whose IS_ANOMALY is true or whose SEVERITY is set, with its
    review STATUS (pending when an anomaly is not reviewed yet). SORT_ORDER: most severe
    first (critical, high, medium, low), then the largest |deviation|, then the latest,
    then OBSERVATION_ID; the exporter orders by it and drops it. IS_ANOMALY is written
    'true' / 'false'.
-#}
{{ config(pre_hook="set local work_mem = '1GB'") }}

with

observations as (

    select * from {{ ref('price_observations') }}

),

parameters as (

    select * from {{ ref('int_registry__parameters') }}

),

flagged as (

    select observations.*
    from observations
    where observations.recorded_at >= (
            select {{ pt2qe_date('as_of') }} - make_interval(months => price_history_months) from parameters
        )
        and observations.recorded_at <= {{ pt2qe_date('as_of') }}
        and (observations.is_anomaly or observations.severity is not null)

),

final as (

    select
        observation_id,
        item_key,
        context_key,
        description,
        recorded_at,
        unit_price,
        average_price,
        deviation_percent,
        price_rank,
        severity,
        case when is_anomaly then 'true' else 'false' end as is_anomaly,
        source_type,
        supplier,
        review_status as status,
        row_number() over (
            order by
                case severity when 'critical' then 1 when 'high' then 2 when 'medium' then 3 when 'low' then 4 else 5 end,
                abs(deviation_percent) desc,
                recorded_at desc,
                observation_id
        ) as sort_order
    from flagged

)

select * from final
