{{ config(tags=['final']) }}
{#- final_price_offers.csv (Option 3, seed section 6; QUOTE_ENGINE_RULES.md section 7):
    every recommended offer of the current recommendations (marts.recommendations, so a
    final run exports what the last full or corrections run left), with the seed's
    columns in the seed's order. NOUVEAU_PRIX = PRIX_RECOMMANDE, PCT_HAUSSE =
    PCT_HAUSSE_FINALE (a fraction), DATE_CALCUL = the dbt var run_date (the pipeline
    passes the run's date). Export order: id_cln, id_art, id_cnd. -#}
{#- run_date is passed as text; its quotes are doubled, so the literal below stays one
    literal, and the database refuses anything that is not a date when it casts it. -#}
{%- set run_date = pt2qe_run_var('run_date', '2025-01-01') | string | trim | replace("'", "''") -%}
with

recommendations as (

    select * from {{ source('published', 'recommendations') }}

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
        dt_deb_condition,
        dt_fin_condition,
        prix_tarif_actuel,
        prix_recommande as nouveau_prix,
        pct_hausse_finale as pct_hausse,
        hausse_euros,
        position_tarif_actuel_dans_anciennes_bornes,
        palier_tarif_actuel_vs_nouvelles_bornes,
        position_nouveau_prix_dans_nouvelles_bornes,
        price_sensitivity,
        type_hausse,
        validation_status,
        '{{ run_date }}'::date as date_calcul
    from recommendations

)

select * from final
