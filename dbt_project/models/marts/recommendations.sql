{#-
    Every recommendation, for BI, the analyses and the exports (one table: the cascade is
    written once, in the mart, not computed into an intermediate table and copied).
    Phase 3, the seed's PT2QE_RECOMMENDATIONS (QUOTE_ENGINE_RULES.md section 5, and the
    section 7 columns TYPE_HAUSSE, HAUSSE_EUROS, VALIDATION_STATUS): one row per offer
    with a corridor (MATCH_TYPE MASTER or NATIONAL). Exact numeric throughout; rounding
    only happens when a file is written.

    Note on `offset 0`: each step reuses the columns of the step before. PostgreSQL
    inlines CTEs and, without a fence, substitutes every expression into the next step,
    so the final CASEs would re-evaluate the whole cascade many times over (measured:
    16.7 s instead of 7.3 s on 1.2 million offers). `offset 0` keeps each step a
    streamed subquery whose columns are computed once per row; it changes no result.
-#}
{%- set selection_rule = pt2qe_selection_rule() | trim -%}
{%- set greatest_or_least = 'greatest' if selection_rule == 'max' else 'least' -%}
{%- set reco1_wins = '>=' if selection_rule == 'max' else '<=' -%}
with

enriched_offers as (

    select * from {{ ref('int_price_offers__enriched') }}

),

capping_cubes as (

    select * from {{ ref('int_capping_cubes') }}

),

offers_with_corridor as (

    select
        enriched_offers.*,
        -- a NATIONAL-matched offer uses the NATIONAL cube whatever its own TYPE_CLIENT
        case when match_type = 'NATIONAL' then 'NATIONAL' else type_client end as cube_type_client,
        case when match_type = 'NATIONAL' then 'NATIONAL' else type_restaurant end as cube_type_restaurant,
        case when match_type = 'NATIONAL' then null else geo end as cube_geo
    from enriched_offers
    where has_corridor = 1

),

-- ENRICHED_DATA: caps of the offer's cube and the decision-tree flags
enriched_data as (

    select
        offers_with_corridor.*,
        capping_cubes.capping_high,
        capping_cubes.capping_medium,
        capping_cubes.capping_low,
        capping_cubes.capping_source,
        -- 5.1: a NULL sensitivity uses MEDIUM
        case offers_with_corridor.price_sensitivity
            when 'HIGH' then capping_cubes.capping_high
            when 'LOW' then capping_cubes.capping_low
            else capping_cubes.capping_medium
        end as capping_sensitivity,
        coalesce(offers_with_corridor.new_pas < offers_with_corridor.pas_actif, false) as is_pas_baisse,
        coalesce(
            offers_with_corridor.borne_pl1_pl2 < offers_with_corridor.prix_tarif_actuel
            and offers_with_corridor.prix_tarif_actuel <= offers_with_corridor.prb_actif,
            false
        ) as is_pl1_anciennes
    from offers_with_corridor
    inner join capping_cubes
        on offers_with_corridor.univers = capping_cubes.univers
        and offers_with_corridor.cube_type_client = capping_cubes.type_client
        and offers_with_corridor.cube_type_restaurant = capping_cubes.type_restaurant
        and offers_with_corridor.cube_geo is not distinct from capping_cubes.geo
    offset 0  -- evaluation fence, see the note above

),

-- RECO_CALC: 5.2 RECO1_BASE from the configured rules, 5.3 RECO2
reco_calc as (

    select
        enriched_data.*,
        {{ reco1_case() }} as reco1_base,
        -- trim_scale: a numeric division carries 20 decimals (15.60000000000000000000);
        -- trimming the zeros keeps the value and keeps the derived prices readable
        case
            when pas_actif = 0 or pas_actif is null then prix_tarif_actuel
            else trim_scale(prix_tarif_actuel * (1 + (new_pas - pas_actif) / pas_actif))
        end as reco2
    from enriched_data
    offset 0  -- evaluation fence, see the note above

),

-- 5.4 sensitivity cap on RECO1
reco_with_capping_sensitivity as (

    select
        reco_calc.*,
        least(reco1_base, prix_tarif_actuel * (1 + capping_sensitivity)) as reco1_apres_capping_sensibilite,
        case
            when prix_tarif_actuel * (1 + capping_sensitivity) < reco1_base then 1 else 0
        end as capping_sensibilite_applied
    from reco_calc
    offset 0  -- evaluation fence, see the note above

),

-- 5.5 basics cap, in cascade
reco_with_capping_basiques as (

    select
        reco_with_capping_sensitivity.*,
        case
            when lc_attribut = 'Basiques'
                then least(
                    reco1_apres_capping_sensibilite,
                    prix_tarif_actuel * (1 + {{ pt2qe_number('capping_basiques') }})
                )
            else reco1_apres_capping_sensibilite
        end as reco1_avec_capping,
        case
            when
                lc_attribut = 'Basiques'
                and prix_tarif_actuel * (1 + {{ pt2qe_number('capping_basiques') }}) < reco1_apres_capping_sensibilite
                then 1
            else 0
        end as capping_basiques_applied
    from reco_with_capping_sensitivity
    offset 0  -- evaluation fence, see the note above

),

-- 5.6 and 5.8: three paths, first true (selection_rule = {{ selection_rule }})
decision_tree as (

    select
        reco_with_capping_basiques.*,
        case
            when is_pas_baisse then 'PAS_BAISSE_GEL_PRIX'
            when is_pl1_anciennes then 'PL1_CONSERVATION_PREMIUM'
            else 'OPTIMISATION_STANDARD'
        end as decision_path,
        case
            when is_pas_baisse then prix_tarif_actuel
            when is_pl1_anciennes then greatest(prix_tarif_actuel, new_borne_pl2_pl3)
            else {{ greatest_or_least }}(reco1_avec_capping, reco2)
        end as prix_avant_capping_prb,
        case
            when not is_pas_baisse and is_pl1_anciennes and new_borne_pl2_pl3 > prix_tarif_actuel then 1
            else 0
        end as plancher_pl2_applied,
        case
            when is_pas_baisse then 'GEL_PRIX_ACTUEL'
            when is_pl1_anciennes and new_borne_pl2_pl3 > prix_tarif_actuel then 'PLANCHER_PL2_PL3'
            when is_pl1_anciennes then 'PRIX_ACTUEL'
            -- ties go to RECO1
            when reco1_avec_capping {{ reco1_wins }} reco2 then 'RECO1'
            else 'RECO2'
        end as reco_selectionnee,
        case
            when is_pas_baisse then 'GEL_PRIX'
            when is_pl1_anciennes then 'CONSERVATION_PREMIUM'
            when reco1_avec_capping {{ reco1_wins }} reco2 then 'RECO1'
            else 'RECO2'
        end as reco_type
    from reco_with_capping_basiques
    offset 0  -- evaluation fence, see the note above

),

-- FINAL_PRICES: 5.7 PRB cap on every path
final_prices as (

    select
        decision_tree.*,
        least(prix_avant_capping_prb, new_prb) as prix_recommande,
        case when new_prb < prix_avant_capping_prb then 1 else 0 end as capping_prb_applied
    from decision_tree
    offset 0  -- evaluation fence, see the note above

),

-- FINAL_PRICES_WITH_CAPPING: 5.9 the most binding cap, 5.10 the increase
final_prices_with_capping as (

    select
        final_prices.*,
        case
            when decision_path = 'PAS_BAISSE_GEL_PRIX' then 'GEL_PAS'
            when capping_prb_applied = 1 then 'PRB_FINAL'
            when decision_path = 'PL1_CONSERVATION_PREMIUM' and plancher_pl2_applied = 1 then 'PLANCHER_PL2_PL3'
            when
                decision_path = 'OPTIMISATION_STANDARD' and reco_selectionnee = 'RECO1'
                and capping_basiques_applied = 1
                then 'BASIQUES_50PCT'
            when
                decision_path = 'OPTIMISATION_STANDARD' and reco_selectionnee = 'RECO1'
                and capping_sensibilite_applied = 1
                then 'SENSIBILITE'
            else 'NONE'
        end as capping_applied,
        case
            when prix_tarif_actuel > 0 then trim_scale((prix_recommande - prix_tarif_actuel) / prix_tarif_actuel)
            else 0
        end as pct_hausse_finale
    from final_prices
    offset 0  -- evaluation fence, see the note above

),

-- 5.11 positions and the section 7 analysis columns
positions_and_impact as (

    select
        final_prices_with_capping.*,
        {{ position_label('prix_tarif_actuel') }} as position_tarif_actuel_dans_anciennes_bornes,
        {{ position_label('prix_tarif_actuel', 'new_') }} as palier_tarif_actuel_vs_nouvelles_bornes,
        {{ position_label('prix_recommande', 'new_') }} as position_nouveau_prix_dans_nouvelles_bornes,
        (prix_recommande - prix_tarif_actuel) * vol_uf_4q as hausse_euros,
        -- a band holds values above its lower bound up to and including its upper bound
        case
            when pct_hausse_finale < 0 then '<0%'
            when pct_hausse_finale = 0 then '0%'
            when pct_hausse_finale <= 0.02 then '0-2%'
            when pct_hausse_finale <= 0.05 then '2-5%'
            when pct_hausse_finale <= 0.07 then '5-7%'
            when pct_hausse_finale <= 0.10 then '7-10%'
            when pct_hausse_finale <= 0.15 then '10-15%'
            when pct_hausse_finale <= 0.20 then '15-20%'
            else '>20%'
        end as type_hausse,
        case
            when pct_hausse_finale < 0 then 'ANOMALIE'
            when pct_hausse_finale > {{ pt2qe_number('validation_max_increase') }} then 'A_VERIFIER'
            else 'VALIDE'
        end as validation_status
    from final_prices_with_capping
    offset 0  -- evaluation fence, see the note above

),

final as (

    select
        -- identifiers and condition
        id_cnd,
        id_cln,
        id_art,
        id_typ_cnd,
        id_seq,
        dt_deb_condition,
        dt_fin_condition,
        -- dimensions
        univers,
        type_client,
        type_restaurant,
        geo,
        id_kam,
        lc_cln,
        id_tc_cg,
        id_tc_cible,
        id_segment,
        fg_hm,
        lc_art,
        id_gmm,
        lc_hic_sysco_n1,
        lc_hic_sysco_n2,
        lc_attribut,
        -- current price and history
        prix_tarif_actuel,
        id_origine_prix,
        type_prix,
        ca_4q,
        vol_uf_4q,
        vol_kg_4q,
        nb_lignes_4q,
        ca_prix_fermes_4q,
        ca_prix_indexes_4q,
        last_qt_uf,
        -- corridor
        match_type,
        has_corridor,
        cube_type,
        pas_actif,
        prb_actif,
        borne_pl1_pl2,
        borne_pl2_pl3,
        borne_pl3_pl4,
        borne_pl4_pl5,
        borne_pl5_pl6,
        borne_pl6_plx,
        new_pas,
        new_prb,
        new_borne_pl1_pl2,
        new_borne_pl2_pl3,
        new_borne_pl3_pl4,
        new_borne_pl4_pl5,
        new_borne_pl5_pl6,
        new_borne_pl6_plx,
        price_sensitivity,
        ecart_type,
        pct_hausse_pas,
        -- caps of the cube
        capping_high,
        capping_medium,
        capping_low,
        capping_source,
        capping_sensitivity,
        -- the cascade (trim_scale drops the trailing zeros numeric arithmetic adds,
        -- e.g. 0.10 -> 0.1: same values, stable text for BI and the unit tests)
        reco1_base,
        reco2,
        trim_scale(reco1_apres_capping_sensibilite) as reco1_apres_capping_sensibilite,
        capping_sensibilite_applied,
        trim_scale(reco1_avec_capping) as reco1_avec_capping,
        capping_basiques_applied,
        decision_path,
        trim_scale(prix_avant_capping_prb) as prix_avant_capping_prb,
        plancher_pl2_applied,
        trim_scale(prix_recommande) as prix_recommande,
        capping_prb_applied,
        reco_selectionnee,
        reco_type,
        capping_applied,
        pct_hausse_finale,
        position_tarif_actuel_dans_anciennes_bornes,
        palier_tarif_actuel_vs_nouvelles_bornes,
        position_nouveau_prix_dans_nouvelles_bornes,
        -- analysis
        trim_scale(hausse_euros) as hausse_euros,
        type_hausse,
        validation_status,
        -- run
        {{ pt2qe_date('as_of') }} as as_of,
        {{ pt2qe_text('run_id') }}::text as run_id
    from positions_and_impact

)

select * from final
