{#-
    TREND per item x context (PRICE_REGISTRY_RULES.md): over the last 12 months, i.e.
    the 12 calendar months ending with the month of the reference date (observations up
    to that date), the monthly average prices y against the month index x (0 = the
    first month of the window; months without data are left out), ordinary least
    squares slope = (n Sxy - Sx Sy) / (n Sxx - Sx^2), RATE = slope x 12 / mean of the
    monthly averages (annualised relative change, a fraction: 0.05 = 5 %);
    `increasing` when RATE > 0.05, `decreasing` when RATE < -0.05, else `stable`;
    fewer than 2 months with data: `insufficient_data` (no slope, no rate).
-#}
with

monthly_averages as (

    select * from {{ ref('price_monthly_averages') }}

),

trend_window as (

    select
        -- timestamp (not timestamptz) arithmetic: constants, folded once
        (date_trunc('month', {{ pt2qe_date('as_of') }}::timestamp) - interval '11 months')::date as first_month,
        date_trunc('month', {{ pt2qe_date('as_of') }}::timestamp)::date as last_month

),

indexed_months as (

    select
        monthly_averages.item_key,
        monthly_averages.context_key,
        monthly_averages.month_start,
        monthly_averages.average_price as y,
        (
            (extract(year from monthly_averages.month_start) - extract(year from trend_window.first_month)) * 12
            + extract(month from monthly_averages.month_start) - extract(month from trend_window.first_month)
        )::numeric as x
    from monthly_averages
    cross join trend_window
    where monthly_averages.month_start between trend_window.first_month and trend_window.last_month

),

sums as (

    select
        item_key,
        context_key,
        count(*) as months_with_data,
        min(month_start) as first_month,
        max(month_start) as last_month,
        sum(x) as sum_x,
        sum(y) as sum_y,
        sum(x * y) as sum_xy,
        sum(x * x) as sum_xx
    from indexed_months
    group by item_key, context_key

),

regression as (

    select
        sums.*,
        sum_y / months_with_data as mean_monthly_average,
        case
            when months_with_data >= 2
                then (months_with_data * sum_xy - sum_x * sum_y) / (months_with_data * sum_xx - sum_x * sum_x)
        end as slope
    from sums

),

rated as (

    select
        regression.*,
        slope * 12 / nullif(mean_monthly_average, 0) as trend_rate
    from regression

),

final as (

    select
        item_key,
        context_key,
        months_with_data,
        first_month,
        last_month,
        trim_scale(mean_monthly_average) as mean_monthly_average,
        trim_scale(slope) as slope,
        trim_scale(trend_rate) as trend_rate,
        case
            when months_with_data < 2 then 'insufficient_data'
            when trend_rate > 0.05 then 'increasing'
            when trend_rate < -0.05 then 'decreasing'
            else 'stable'
        end as trend
    from rated

)

select * from final
