{#-
    The run report's "Top 10 des augmentations": the ten observations furthest above their
    average (DEVIATION_PERCENT > 0, whole history), largest deviation first, then
    OBSERVATION_ID; `ordre` is that order. Kept as a mart so that the report of every run
    reads ten rows: it scanned the ten million observations for them (seed scale ~1 s),
    and a corrections or final run, which does not rebuild the registry, found the same
    ten rows as the full run before it.
-#}
with

observations as (

    select * from {{ ref('price_observations') }}

),

-- a top-N sort keeps ten rows in memory instead of sorting every positive deviation
top_increases as (

    select
        observation_id,
        category,
        item_key,
        context_key,
        description,
        recorded_at,
        unit_price,
        average_price,
        deviation_percent,
        severity
    from observations
    where deviation_percent > 0
    order by deviation_percent desc, observation_id
    limit 10

),

final as (

    select
        row_number() over (order by deviation_percent desc, observation_id)::integer as ordre,
        top_increases.*
    from top_increases

)

select * from final
