{{ config(tags=['final', 'price_book']) }}
{#- Which final offers a final run publishes (PRICE_BOOK_RULES.md, Publication): every
    offer of final_price_offers, with the customer list it goes to (PT2QE_<as_of>, the
    reference date of the published recommendations) and, when it is held back, why:
    - VALIDATION_STATUS: its status is not in price_book.publish_statuses (dbt var
      publish_statuses, default ['VALIDE']): A_VERIFIER and ANOMALIE by default;
    - PRICE_NOT_POSITIVE: NOUVEAU_PRIX is NULL or <= 0 (PRICE_HT must be > 0);
    - DUPLICATE_CUSTOMER_ARTICLE: another publishable offer of the same customer and
      article is published instead (one item per customer x article x MIN_QUANTITY):
      the latest DT_DEB_CONDITION, then the latest DT_FIN_CONDITION, then the highest
      ID_CND.
    Published offers become items: PRICE_HT = NOUVEAU_PRIX, COST_PRICE = NEW_PAS of the
    recommendation, validity = the condition's dates, SOURCE_RUN_ID = the run that
    computed the recommendations. -#}
with

final_offers as (

    select * from {{ ref('final_price_offers') }}

),

recommendations as (

    select * from {{ source('published', 'recommendations') }}

),

offers as (

    select
        final_offers.id_cnd,
        final_offers.id_cln,
        final_offers.id_art,
        final_offers.validation_status,
        final_offers.prix_tarif_actuel,
        final_offers.nouveau_prix,
        final_offers.pct_hausse,
        final_offers.dt_deb_condition,
        final_offers.dt_fin_condition,
        recommendations.new_pas,
        recommendations.as_of,
        recommendations.run_id,
        recommendations.lc_hic_sysco_n1
    from final_offers
    left join recommendations on final_offers.id_cnd = recommendations.id_cnd

),

screened as (

    select
        *,
        coalesce(validation_status = any({{ pt2qe_publish_statuses() }}), false) as has_publish_status,
        coalesce(nouveau_prix > 0, false) as has_positive_price
    from offers

),

ranked as (

    select
        *,
        row_number() over (
            partition by id_cln, id_art, (has_publish_status and has_positive_price)
            order by dt_deb_condition desc nulls last, dt_fin_condition desc nulls last, id_cnd desc
        ) as rank_in_customer_article
    from screened

),

final as (

    select
        id_cnd,
        id_cln,
        id_art,
        'PT2QE_' || to_char(as_of, 'YYYY-MM-DD') as price_list_code,
        as_of,
        run_id as source_run_id,
        validation_status,
        prix_tarif_actuel,
        nouveau_prix,
        new_pas,
        pct_hausse,
        dt_deb_condition,
        dt_fin_condition,
        lc_hic_sysco_n1,
        case
            when not has_publish_status then 'VALIDATION_STATUS'
            when not has_positive_price then 'PRICE_NOT_POSITIVE'
            when rank_in_customer_article > 1 then 'DUPLICATE_CUSTOMER_ARTICLE'
        end as hold_reason
    from ranked

)

select
    *,
    hold_reason is null as is_published
from final
