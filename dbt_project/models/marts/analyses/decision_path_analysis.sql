{#- decision_path_analysis.csv (analysis 5, seed section 5; QUOTE_ENGINE_RULES.md
    sections 5.6-5.8): the recommended offers per DECISION_PATH x RECO_SELECTIONNEE, their
    share of all recommended offers, the increases and how many offers had each cap or
    the PL2 floor applied. Export order: decision_path, reco_selectionnee. -#}
with

-- read more than once: NOT MATERIALIZED scans the table for each read instead of first
-- copying all its rows into a CTE buffer (2 s -> 0.7 s for an analysis at seed scale)
recommendations as not materialized (

    select * from {{ ref('recommendations') }}

),

recommended_total as (

    select count(*) as nb_total
    from recommendations

),

offers_by_path as (

    select
        decision_path,
        reco_selectionnee,
        count(*) as nb_offres,
        avg(pct_hausse_finale) as pct_hausse_moy,
        min(pct_hausse_finale) as pct_hausse_min,
        max(pct_hausse_finale) as pct_hausse_max,
        sum(hausse_euros) as hausse_euros,
        count(*) filter (where capping_sensibilite_applied = 1) as nb_capping_sensibilite,
        count(*) filter (where capping_basiques_applied = 1) as nb_capping_basiques,
        count(*) filter (where capping_prb_applied = 1) as nb_capping_prb,
        count(*) filter (where plancher_pl2_applied = 1) as nb_plancher_pl2
    from recommendations
    group by decision_path, reco_selectionnee

),

final as (

    select
        offers_by_path.decision_path,
        offers_by_path.reco_selectionnee,
        offers_by_path.nb_offres,
        -- a group exists only when there are offers: nb_total > 0
        trim_scale(offers_by_path.nb_offres::numeric / recommended_total.nb_total) as pct_offres,
        trim_scale(offers_by_path.pct_hausse_moy) as pct_hausse_moy,
        offers_by_path.pct_hausse_min,
        offers_by_path.pct_hausse_max,
        offers_by_path.hausse_euros,
        offers_by_path.nb_capping_sensibilite,
        offers_by_path.nb_capping_basiques,
        offers_by_path.nb_capping_prb,
        offers_by_path.nb_plancher_pl2
    from offers_by_path
    cross join recommended_total

)

select * from final
