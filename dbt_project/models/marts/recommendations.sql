{#- Every recommendation (QUOTE_ENGINE_RULES.md section 5), one row per offer with a
    corridor (id_cnd), with the whole cascade, for BI and the analyses; as_of and run_id
    say which run produced it. -#}
with

recommendations as (

    select * from {{ ref('int_recommendations') }}

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
        -- the cascade
        reco1_base,
        reco2,
        reco1_apres_capping_sensibilite,
        capping_sensibilite_applied,
        reco1_avec_capping,
        capping_basiques_applied,
        decision_path,
        prix_avant_capping_prb,
        plancher_pl2_applied,
        prix_recommande,
        capping_prb_applied,
        reco_selectionnee,
        reco_type,
        capping_applied,
        pct_hausse_finale,
        position_tarif_actuel_dans_anciennes_bornes,
        palier_tarif_actuel_vs_nouvelles_bornes,
        position_nouveau_prix_dans_nouvelles_bornes,
        -- analysis
        hausse_euros,
        type_hausse,
        validation_status,
        -- run
        {{ pt2qe_date('as_of') }} as as_of,
        {{ pt2qe_text('run_id') }}::text as run_id
    from recommendations

)

select * from final
