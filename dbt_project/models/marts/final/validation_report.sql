{{ config(tags=['final']) }}
{#- validation_report.csv (Option 3, seed section 6): statistics of the final export, one
    row per indicator in four categories: GLOBAL (volumes, revenue and its impact),
    HAUSSES (increase statistics), TYPE_HAUSSE (offers per band, all nine bands, 0 when
    empty) and VALIDATION (offers per VALIDATION_STATUS, all three). `valeur` is raw;
    `unite` says how to read it ('nombre', 'euros', or 'taux' for a fraction). `ordre`
    is the export order; the exporter orders by it and drops it.
    CA_4Q is not a column of final_price_offers (the seed's layout): it is read from the
    same recommendations, by ID_CND, for the revenue and the impact %. -#}
with

final_price_offers as (

    select * from {{ ref('final_price_offers') }}

),

recommendations as (

    select * from {{ source('published', 'recommendations') }}

),

offers as (

    select
        final_price_offers.id_cln,
        final_price_offers.id_art,
        final_price_offers.pct_hausse,
        final_price_offers.hausse_euros,
        final_price_offers.type_hausse,
        final_price_offers.validation_status,
        recommendations.ca_4q
    from final_price_offers
    left join recommendations
        on final_price_offers.id_cnd = recommendations.id_cnd

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

validation_statuses as (

    select * from (
        values
        (1, 'VALIDE'),
        (2, 'A_VERIFIER'),
        (3, 'ANOMALIE')
    ) as validation_statuses (ordre, validation_status)

),

totals as (

    select
        count(*) as nb_offres,
        count(distinct id_cln) as nb_clients,
        count(distinct id_art) as nb_articles,
        coalesce(sum(ca_4q), 0) as ca_4q,
        coalesce(sum(hausse_euros), 0) as hausse_euros,
        avg(pct_hausse) as pct_hausse_moy,
        -- exact median (= percentile_cont(0.5) without the float round trip)
        (
            percentile_disc(0.5) within group (order by pct_hausse)
            + percentile_disc(0.5) within group (order by pct_hausse desc)
        ) / 2 as pct_hausse_mediane,
        min(pct_hausse) as pct_hausse_min,
        max(pct_hausse) as pct_hausse_max
    from offers

),

global_and_increase_indicators as (

    select indicators.*
    from totals
    cross join lateral (
        values
        (1, 'GLOBAL', 'nb_offres', totals.nb_offres::numeric, 'nombre'),
        (2, 'GLOBAL', 'nb_clients', totals.nb_clients::numeric, 'nombre'),
        (3, 'GLOBAL', 'nb_articles', totals.nb_articles::numeric, 'nombre'),
        (4, 'GLOBAL', 'ca_4q', totals.ca_4q, 'euros'),
        (5, 'GLOBAL', 'hausse_euros', totals.hausse_euros, 'euros'),
        (
            6, 'GLOBAL', 'pct_impact_ca',
            case when totals.ca_4q = 0 then 0 else trim_scale(totals.hausse_euros / totals.ca_4q) end,
            'taux'
        ),
        (7, 'HAUSSES', 'pct_hausse_moy', trim_scale(totals.pct_hausse_moy), 'taux'),
        (8, 'HAUSSES', 'pct_hausse_mediane', trim_scale(totals.pct_hausse_mediane), 'taux'),
        (9, 'HAUSSES', 'pct_hausse_min', totals.pct_hausse_min, 'taux'),
        (10, 'HAUSSES', 'pct_hausse_max', totals.pct_hausse_max, 'taux')
    ) as indicators (ordre, categorie, indicateur, valeur, unite)

),

band_indicators as (

    select
        10 + bands.ordre as ordre,
        'TYPE_HAUSSE' as categorie,
        bands.tranche as indicateur,
        count(offers.type_hausse)::numeric as valeur,
        'nombre' as unite
    from bands
    left join offers
        on bands.tranche = offers.type_hausse
    group by bands.ordre, bands.tranche

),

validation_indicators as (

    select
        19 + validation_statuses.ordre as ordre,
        'VALIDATION' as categorie,
        validation_statuses.validation_status as indicateur,
        count(offers.validation_status)::numeric as valeur,
        'nombre' as unite
    from validation_statuses
    left join offers
        on validation_statuses.validation_status = offers.validation_status
    group by validation_statuses.ordre, validation_statuses.validation_status

),

indicators as (

    select * from global_and_increase_indicators
    union all
    select * from band_indicators
    union all
    select * from validation_indicators

),

final as (

    select
        categorie::text as categorie,
        indicateur::text as indicateur,
        valeur::numeric as valeur,
        unite::text as unite,
        ordre::integer as ordre
    from indicators

)

select * from final
