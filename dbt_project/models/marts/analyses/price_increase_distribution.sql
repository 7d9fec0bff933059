{#- price_increase_distribution.csv (analysis 4, seed section 5; QUOTE_ENGINE_RULES.md
    section 7): the recommended offers per increase band (TYPE_HAUSSE: a band holds
    values above its lower bound up to and including its upper bound), always the nine
    bands in their order, an empty band with 0 offers and NULL statistics. pct_offres is
    the band's share of the recommended offers, pct_cumule the running share in band
    order. `ordre` is the export order; the exporter orders by it and drops it. -#}
with

-- read more than once: NOT MATERIALIZED scans the table for each read instead of first
-- copying all its rows into a CTE buffer (2 s -> 0.7 s for an analysis at seed scale)
recommendations as not materialized (

    select * from {{ ref('recommendations') }}

),

bands as (

    select * from (
        values
        (1, '<0%'),
        (2, '0%'),
        (3, '0-2%'),
        (4, '2-5%'),
        (5, '5-7%'),
        (6, '7-10%'),
        (7, '10-15%'),
        (8, '15-20%'),
        (9, '>20%')
    ) as bands (ordre, tranche)

),

offers_by_band as (

    select
        type_hausse as tranche,
        count(*) as nb_offres,
        min(pct_hausse_finale) as pct_hausse_min,
        max(pct_hausse_finale) as pct_hausse_max,
        avg(pct_hausse_finale) as pct_hausse_moy,
        sum(hausse_euros) as hausse_euros
    from recommendations
    group by type_hausse

),

recommended_total as (

    select count(*) as nb_total
    from recommendations

),

distribution as (

    select
        bands.ordre,
        bands.tranche,
        coalesce(offers_by_band.nb_offres, 0) as nb_offres,
        sum(coalesce(offers_by_band.nb_offres, 0)) over (order by bands.ordre) as nb_cumule,
        recommended_total.nb_total,
        offers_by_band.pct_hausse_min,
        offers_by_band.pct_hausse_max,
        offers_by_band.pct_hausse_moy,
        coalesce(offers_by_band.hausse_euros, 0) as hausse_euros
    from bands
    cross join recommended_total
    left join offers_by_band
        on bands.tranche = offers_by_band.tranche

),

final as (

    select
        ordre::integer as ordre,
        tranche::text as tranche,
        nb_offres,
        case when nb_total = 0 then 0 else trim_scale(nb_offres::numeric / nb_total) end as pct_offres,
        case when nb_total = 0 then 0 else trim_scale(nb_cumule / nb_total) end as pct_cumule,
        pct_hausse_min,
        pct_hausse_max,
        trim_scale(pct_hausse_moy) as pct_hausse_moy,
        hausse_euros
    from distribution

)

select * from final
