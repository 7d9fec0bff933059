{{ config(tags=['final', 'price_book']) }}
{#- Final offers a final run did not publish, for review (PRICE_BOOK_RULES.md,
    Publication): HOLD_REASON VALIDATION_STATUS (A_VERIFIER, ANOMALIE, or any status
    outside price_book.publish_statuses), PRICE_NOT_POSITIVE, or
    DUPLICATE_CUSTOMER_ARTICLE (another offer of the same customer and article was
    published). Export order: id_cln, id_art, id_cnd. -#}
with

publication as (

    select * from {{ ref('int_final_offers__publication') }}

),

final as (

    select
        id_cnd,
        id_cln,
        id_art,
        price_list_code,
        validation_status,
        hold_reason,
        prix_tarif_actuel,
        nouveau_prix,
        pct_hausse,
        dt_deb_condition,
        dt_fin_condition,
        as_of,
        source_run_id
    from publication
    where not is_published

)

select * from final
