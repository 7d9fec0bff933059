{#- recommendations_detail.csv (QUOTE_ENGINE_RULES.md section 7): every recommended offer,
    the export's columns in the export's order, plus sort_order, the export order
    (PCT_HAUSSE_FINALE descending, then ID_CLN, ID_ART, ID_CND), which the exporter
    orders by and drops. -#}
with

recommendations as (

    select * from {{ ref('recommendations') }}

),

final as (

    select
        id_cln,
        id_art,
        id_cnd,
        type_client,
        type_restaurant,
        geo,
        univers,
        id_kam,
        match_type,
        cube_type,
        price_sensitivity,
        prix_tarif_actuel,
        reco1_base,
        reco1_apres_capping_sensibilite,
        reco1_avec_capping,
        reco2,
        prix_avant_capping_prb,
        decision_path,
        reco_type,
        reco_selectionnee,
        capping_applied,
        prix_recommande,
        pct_hausse_finale,
        position_tarif_actuel_dans_anciennes_bornes,
        palier_tarif_actuel_vs_nouvelles_bornes,
        position_nouveau_prix_dans_nouvelles_bornes,
        ca_4q,
        vol_uf_4q,
        row_number() over (
            -- ids ordered by code point (collation "C"), as Python orders text
            order by pct_hausse_finale desc, id_cln collate "C", id_art collate "C", id_cnd collate "C"
        )::integer as sort_order
    from recommendations

)

select * from final
