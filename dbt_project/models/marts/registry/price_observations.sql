{#-
    Baseline and anomaly of every observation (PRICE_REGISTRY_RULES.md, "Baseline and
    anomaly of an observation"), as window functions over (ITEM_KEY, CONTEXT_KEY) ordered
    by RECORDED_AT with RANGE frames: one sort, no per-row lookup. The partitions lead
    with hashtext(item|context): an integer compares faster than the long common prefix
    of article ids (ART0000...); the partitions are the same.

    Baseline of an observation recorded on day D: the reference observations (IS_REFERENCE:
    not catalog, not promotional, not reviewed exception / rejected) of the same item and
    context recorded in [D - price_history_months months, D - 1 day], i.e. strictly
    earlier days. Month arithmetic is PostgreSQL's (2025-08-31 - 6 months = 2025-02-28).
    BASELINE_COUNT is their number; below price_minimum_samples there is no average, no
    deviation, no rank, STATUS_REASON INSUFFICIENT_DATA, never an anomaly.

    AVERAGE_PRICE = AVERAGE_NUMERATOR / AVERAGE_DENOMINATOR:
      simple    sum / count
      weighted  weights 3 (D - 1 month < day), 2 (D - 3 months < day <= D - 1 month),
                1 (older, within the window): sum of the three nested frames
                (whole window + last 3 months + last month) over their counts
      median    median of the baseline prices
    DEVIATION_PERCENT = (UNIT_PRICE x DENOMINATOR - NUMERATOR) x 100 / NUMERATOR, one
    exact division, so the thresholds compare on the exact value (46.15... for the
    battery). One branch per method; the WHERE on the method is a one-time filter, so
    only the chosen branch reads and sorts the observations. Average and deviation are
    computed once per row, before the classification reads them.
    Computed numbers are written with trim_scale (65000, not 65000.000000000000).
-#}
{{ config(pre_hook="set local work_mem = '4GB'", post_hook='analyze {{ this }}') }}

with

observations as (

    select * from {{ ref('int_registry__observations') }}

),

observations_for_weighted as (

    select * from {{ ref('int_registry__observations') }}

),

observations_for_median as (

    select * from {{ ref('int_registry__observations') }}

),

parameters as (

    select * from {{ ref('int_registry__parameters') }}

),

-- the frame offsets: RANGE ... PRECEDING takes an interval computed once from the seed.
-- The coalesce only serves an empty build (dbt --empty has no parameter row; a missing
-- key fails the tests of int_registry__parameters before this model runs).
frame_offsets as (

    select
        price_average_method,
        price_minimum_samples,
        make_interval(months => price_history_months) as history_window,
        -- last 3 months: day > D - 3 months, i.e. day >= D - 3 months + 1 day
        case
            when price_history_months >= 3 then interval '3 months -1 day'
            else make_interval(months => price_history_months)
        end as last_3_months_window,
        case
            when price_history_months >= 1 then interval '1 month -1 day'
            else make_interval(months => price_history_months)
        end as last_month_window
    from parameters

),

simple_windows as (

    select
        observations.*,
        count(*) filter (where is_reference) over history as baseline_count,
        sum(unit_price) filter (where is_reference) over history as average_numerator,
        count(*) filter (where is_reference) over history as average_denominator
    from observations
    where (select price_average_method from frame_offsets) = 'simple'
    window history as (
        partition by hashtext(item_key || '|' || context_key), item_key, context_key order by recorded_at
        range between coalesce((select history_window from frame_offsets), interval '6 months') preceding and interval '1 day' preceding
    )

),

-- weights 3 / 2 / 1 = the whole window, plus the last 3 months, plus the last month
weighted_windows as (

    select
        observations_for_weighted.*,
        count(*) filter (where is_reference) over history as baseline_count,
        sum(unit_price) filter (where is_reference) over history
            + coalesce(sum(unit_price) filter (where is_reference) over last_3_months, 0)
            + coalesce(sum(unit_price) filter (where is_reference) over last_month, 0) as average_numerator,
        count(*) filter (where is_reference) over history
            + count(*) filter (where is_reference) over last_3_months
            + count(*) filter (where is_reference) over last_month as average_denominator
    from observations_for_weighted
    where (select price_average_method from frame_offsets) = 'weighted'
    window
        history as (
            partition by hashtext(item_key || '|' || context_key), item_key, context_key order by recorded_at
            range between coalesce((select history_window from frame_offsets), interval '6 months') preceding and interval '1 day' preceding
        ),
        last_3_months as (
            partition by hashtext(item_key || '|' || context_key), item_key, context_key order by recorded_at
            range between coalesce((select last_3_months_window from frame_offsets), interval '3 months -1 day') preceding and interval '1 day' preceding
        ),
        last_month as (
            partition by hashtext(item_key || '|' || context_key), item_key, context_key order by recorded_at
            range between coalesce((select last_month_window from frame_offsets), interval '1 month -1 day') preceding and interval '1 day' preceding
        )

),

-- median: the baseline prices themselves (SQL has no moving median)
median_windows as (

    select
        observations_for_median.*,
        count(*) filter (where is_reference) over history as baseline_count,
        array_agg(unit_price) filter (where is_reference) over history as baseline_prices
    from observations_for_median
    where (select price_average_method from frame_offsets) = 'median'
    window history as (
        partition by hashtext(item_key || '|' || context_key), item_key, context_key order by recorded_at
        range between coalesce((select history_window from frame_offsets), interval '6 months') preceding and interval '1 day' preceding
    )

),

median_of_baselines as (

    select
        median_windows.*,
        (
            select avg(middle.price)
            from (
                select baseline.price
                from unnest(median_windows.baseline_prices) as baseline (price)
                order by baseline.price
                offset (cardinality(median_windows.baseline_prices) - 1) / 2
                limit 2 - cardinality(median_windows.baseline_prices) % 2
            ) as middle
        ) as average_numerator,
        1::bigint as average_denominator
    from median_windows

),

baselines as (

    select * from simple_windows
    union all
    select * from weighted_windows
    union all
    select
        observation_id, item_key, context_key, description, category, unit_price, quantity,
        total_price, currency, recorded_at, recorded_year, recorded_month, valid_from,
        valid_until, source_type, supplier, notes, is_promo, context_year, source_file,
        source_line, review_status, review_reason, reviewer, is_reference,
        baseline_count, average_numerator, average_denominator
    from median_of_baselines

),

-- each branch is a subquery with window functions, never inlined: the two divisions
-- below are computed once per row, then read by the classification
deviations as (

    select
        baselines.*,
        case
            when baseline_count >= (select price_minimum_samples from frame_offsets)
                then average_numerator / average_denominator
        end as average_price,
        case
            when baseline_count >= (select price_minimum_samples from frame_offsets)
                then (unit_price * average_denominator - average_numerator) * 100 / nullif(average_numerator, 0)
        end as deviation_percent
    from baselines
    -- OFFSET 0 keeps PostgreSQL from inlining this step into the next one, where the
    -- deviation is read eight times
    offset 0

),

thresholds as (

    select
        price_minimum_samples,
        anomaly_threshold_critical as critical,
        anomaly_threshold_high as high,
        anomaly_threshold_medium as medium,
        anomaly_threshold_low as low
    from parameters

),

final as (

    select
        observation_id,
        item_key,
        context_key,
        description,
        category,
        unit_price,
        quantity,
        total_price,
        currency,
        recorded_at,
        recorded_year,
        recorded_month,
        valid_from,
        valid_until,
        source_type,
        supplier,
        notes,
        is_promo,
        context_year,
        is_reference,
        baseline_count,
        trim_scale(average_price) as average_price,
        trim_scale(deviation_percent) as deviation_percent,
        case
            when deviation_percent is null then null
            when abs(deviation_percent) > (select high from thresholds)
                then case when deviation_percent > 0 then 'very_high' else 'very_low' end
            when abs(deviation_percent) > (select medium from thresholds)
                then case when deviation_percent > 0 then 'high' else 'low' end
            when abs(deviation_percent) > (select low from thresholds)
                then case when deviation_percent > 0 then 'above_average' else 'below_average' end
            else 'average'
        end as price_rank,
        case
            when abs(deviation_percent) > (select critical from thresholds) then 'critical'
            when abs(deviation_percent) > (select high from thresholds) then 'high'
            when abs(deviation_percent) > (select medium from thresholds) then 'medium'
            when abs(deviation_percent) > (select low from thresholds) then 'low'
        end as severity,
        coalesce(
            abs(deviation_percent) > (select medium from thresholds) and source_type <> 'catalog' and not is_promo,
            false
        ) as is_anomaly,
        case
            when baseline_count < (select price_minimum_samples from thresholds) then 'INSUFFICIENT_DATA'
            when deviation_percent is null then 'ZERO_AVERAGE'
            when source_type = 'catalog' then 'CATALOG_REFERENCE'
            when is_promo then 'PROMOTION'
            else 'EVALUATED'
        end as status_reason,
        coalesce(
            review_status,
            case
                when abs(deviation_percent) > (select medium from thresholds) and source_type <> 'catalog' and not is_promo
                    then 'pending'
            end
        ) as review_status,
        review_reason,
        reviewer,
        source_file,
        source_line
    from deviations

)

select * from final
