{#-
    INFLATION per category and month (PRICE_REGISTRY_RULES.md): for each item x context
    with a monthly average (price_monthly_averages) in month M, its change vs month M - 1
    and vs month M - 3 (PREVIOUS_MONTH_AVERAGE, THREE_MONTHS_BEFORE_AVERAGE), (avg(M) - avg(earlier)) / avg(earlier) x 100, when that earlier
    month has an average too; per CATEGORY (NON_CLASSE when unknown) and month, the
    mean of those changes over the items x contexts that have one. INFLATION_ALERT when
    the three-month change exceeds inflation_alert_threshold (a percent, 15 = 15 %).
-#}
with

monthly_averages as (

    select * from {{ ref('price_monthly_averages') }}

),

parameters as (

    select * from {{ ref('int_registry__parameters') }}

),

changes as (

    select
        coalesce(category, 'NON_CLASSE') as category,
        month_start,
        (average_price - previous_month_average) * 100
            / nullif(previous_month_average, 0) as change_1_month_percent,
        (average_price - three_months_before_average) * 100
            / nullif(three_months_before_average, 0) as change_3_months_percent
    from monthly_averages

),

per_category as (

    select
        category,
        month_start,
        count(*) as series,
        count(change_1_month_percent) as series_with_previous_month,
        avg(change_1_month_percent) as inflation_1_month_percent,
        count(change_3_months_percent) as series_with_three_months_before,
        avg(change_3_months_percent) as inflation_3_months_percent
    from changes
    group by category, month_start

),

final as (

    select
        per_category.category,
        per_category.month_start,
        extract(year from per_category.month_start)::integer as year,
        extract(month from per_category.month_start)::integer as month,
        per_category.series,
        per_category.series_with_previous_month,
        trim_scale(per_category.inflation_1_month_percent) as inflation_1_month_percent,
        per_category.series_with_three_months_before,
        trim_scale(per_category.inflation_3_months_percent) as inflation_3_months_percent,
        coalesce(per_category.inflation_3_months_percent > parameters.inflation_alert_threshold, false)
            as inflation_alert
    from per_category
    cross join parameters

)

select * from final
