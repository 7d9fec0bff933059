{#-
    Monthly average price per item x context (PRICE_REGISTRY_RULES.md, trend and
    inflation): the reference observations (no catalog, no promotion, no exception or
    rejected review) of each calendar month up to the reference date. The series behind
    the trend and inflation marts, and the "évolution des prix" chart of BI.
    CATEGORY is the item's category in that month (the greatest one when its
    observations disagree). PREVIOUS_MONTH_AVERAGE and THREE_MONTHS_BEFORE_AVERAGE are
    the averages of the calendar months M - 1 and M - 3 of the same series (NULL when
    that month has no price): RANGE frames of exactly one month, no self-join.
-#}
{{ config(pre_hook="set local work_mem = '1GB'", post_hook='analyze {{ this }}') }}

with

observations as (

    select * from {{ ref('price_observations') }}

),

reference_prices as (

    select
        hashtext(item_key || '|' || context_key) as series_hash,
        item_key,
        context_key,
        category,
        unit_price,
        date_trunc('month', recorded_at::timestamp)::date as month_start
    from observations
    where is_reference

),

monthly as (

    select
        series_hash,
        item_key,
        context_key,
        month_start,
        max(category) as category,
        count(*) as sample_size,
        avg(unit_price) as average_price,
        min(unit_price) as min_price,
        max(unit_price) as max_price
    from reference_prices
    group by series_hash, item_key, context_key, month_start

),

compared as (

    select
        monthly.*,
        max(average_price) over (
            partition by series_hash, item_key, context_key order by month_start
            range between interval '1 month' preceding and interval '1 month' preceding
        ) as previous_month_average,
        max(average_price) over (
            partition by series_hash, item_key, context_key order by month_start
            range between interval '3 months' preceding and interval '3 months' preceding
        ) as three_months_before_average
    from monthly

),

final as (

    select
        item_key,
        context_key,
        month_start,
        category,
        sample_size,
        trim_scale(average_price) as average_price,
        min_price,
        max_price,
        trim_scale(previous_month_average) as previous_month_average,
        trim_scale(three_months_before_average) as three_months_before_average
    from compared

)

select * from final
