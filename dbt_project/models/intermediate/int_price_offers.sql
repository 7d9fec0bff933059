{#-
    Phase 1, the seed's PT2QE_PRICE_OFFERS (QUOTE_ENGINE_RULES.md section 2): the kept
    offers with their 4-quarter history (zero sums when there is none), TYPE_CLIENT and
    TYPE_RESTAURANT from the Tier 0 mappings (NULL when unmapped) and ID_KAM defaulted.
-#}
with

screened_offers as (

    select * from {{ ref('int_offers__screened') }}

),

invoice_history as (

    select * from {{ ref('int_invoice_history__aggregated') }}

),

type_client_mapping as (

    select * from {{ ref('stg_source__type_client_mapping') }}

),

type_restaurant_mapping as (

    select * from {{ ref('stg_source__type_restaurant_mapping') }}

),

current_offers as (

    select * from screened_offers
    where filter_reason is null

),

offers_with_history as (

    select
        current_offers.*,
        coalesce(invoice_history.ca_4q, 0) as ca_4q,
        coalesce(invoice_history.vol_uf_4q, 0) as vol_uf_4q,
        coalesce(invoice_history.vol_kg_4q, 0) as vol_kg_4q,
        coalesce(invoice_history.nb_lignes_4q, 0) as nb_lignes_4q,
        coalesce(invoice_history.ca_prix_fermes_4q, 0) as ca_prix_fermes_4q,
        coalesce(invoice_history.ca_prix_indexes_4q, 0) as ca_prix_indexes_4q,
        -- no invoice line in the period: '0' (mercuriale)
        coalesce(invoice_history.fg_hm, '0') as fg_hm,
        invoice_history.last_qt_uf
    from current_offers
    left join invoice_history
        on current_offers.id_cln = invoice_history.id_cln
        and current_offers.id_art = invoice_history.id_art

),

enriched_dimensions as (

    select
        offers_with_history.*,
        type_client_mapping.type_client,
        type_restaurant_mapping.type_restaurant
    from offers_with_history
    left join type_client_mapping
        on offers_with_history.id_tc_cg = type_client_mapping.id_tc_cg
        and offers_with_history.id_tc_cible = type_client_mapping.id_tc_cible
        and offers_with_history.fg_hm = type_client_mapping.fg_hm
    left join type_restaurant_mapping
        on offers_with_history.id_segment = type_restaurant_mapping.id_segment

),

final as (

    select
        id_cnd,
        id_cln,
        id_art,
        id_typ_cnd,
        id_seq,
        dt_deb_condition,
        dt_fin_condition,
        prix_tarif_actuel,
        id_origine_prix,
        type_prix,
        univers,
        type_client,
        type_restaurant,
        geo,
        case when nullif(trim(id_kam), '') is null then 'NO_KAM' else id_kam end as id_kam,
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
        ca_4q,
        vol_uf_4q,
        vol_kg_4q,
        nb_lignes_4q,
        ca_prix_fermes_4q,
        ca_prix_indexes_4q,
        last_qt_uf
    from enriched_dimensions

)

select * from final
