{#-
    The registry's parameters (seed registry_parameters, key;value) as one typed row.
    A missing key gives NULL and fails the not_null tests of the YAML; a value that is
    not a number fails the cast, before any registry model runs.
-#}
with

parameters as (

    select * from {{ ref('registry_parameters') }}

),

pivoted as (

    select
        max(case when key = 'price_history_months' then value end) as price_history_months,
        max(case when key = 'price_minimum_samples' then value end) as price_minimum_samples,
        max(case when key = 'anomaly_threshold_critical' then value end) as anomaly_threshold_critical,
        max(case when key = 'anomaly_threshold_high' then value end) as anomaly_threshold_high,
        max(case when key = 'anomaly_threshold_medium' then value end) as anomaly_threshold_medium,
        max(case when key = 'anomaly_threshold_low' then value end) as anomaly_threshold_low,
        max(case when key = 'inflation_alert_threshold' then value end) as inflation_alert_threshold,
        max(case when key = 'price_average_method' then value end) as price_average_method
    from parameters

),

final as (

    select
        trim(price_history_months)::integer as price_history_months,
        trim(price_minimum_samples)::integer as price_minimum_samples,
        trim(anomaly_threshold_critical)::numeric as anomaly_threshold_critical,
        trim(anomaly_threshold_high)::numeric as anomaly_threshold_high,
        trim(anomaly_threshold_medium)::numeric as anomaly_threshold_medium,
        trim(anomaly_threshold_low)::numeric as anomaly_threshold_low,
        trim(inflation_alert_threshold)::numeric as inflation_alert_threshold,
        lower(trim(price_average_method)) as price_average_method
    from pivoted

)

select * from final
