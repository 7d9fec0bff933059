{#- The counts behind export_summary.txt (QUOTE_ENGINE_RULES.md section 7), one row per
    indicator, in `ordre`. They reconcile by construction and the YAML tests check it:
      offres_lues = offres_conservees + offres_filtrees   (int_offers__screened)
      offres_filtrees = sum of the filtre_<REASON> rows    (every reason listed, 0 when none)
      offres_conservees = match_master + match_national + match_no_match
                                                            (int_price_offers__enriched)
      offres_recommandees = match_master + match_national  (recommendations)
    Each count is taken from the table that holds it, so a lost or duplicated offer
    between two steps breaks an identity instead of going unnoticed.
    `valeur` is the raw value: `unite` says how to print it ('nombre', 'euros', or
    'taux' for a fraction the summary shows x 100). -#}
with

-- read more than once: NOT MATERIALIZED scans the table for each read instead of first
-- copying all its rows into a CTE buffer (2 s -> 0.7 s for an analysis at seed scale)
screened_offers as not materialized (

    select * from {{ ref('int_offers__screened') }}

),

enriched_offers as (

    select * from {{ ref('int_price_offers__enriched') }}

),

recommendations as (

    select * from {{ ref('recommendations') }}

),

-- the reasons of int_offers__screened, in the order the filters are applied
filter_reasons as (

    select * from (
        values
        (1, 'CONDITION_INVALIDE'),
        (2, 'CONDITION_EXPIREE'),
        (3, 'TYPE_CONDITION'),
        (4, 'SEQUENCE'),
        (5, 'CLIENT_AUTRES'),
        (6, 'GAMME_PSN'),
        (7, 'HIERARCHIE_N2'),
        (8, 'PRIX_PROMO'),
        (9, 'UNIVERS')
    ) as filter_reasons (ordre, filter_reason)

),

volumes as (

    select
        count(*) as offres_lues,
        count(*) filter (where filter_reason is null) as offres_conservees,
        count(*) filter (where filter_reason is not null) as offres_filtrees
    from screened_offers

),

offers_by_filter as (

    select
        filter_reasons.ordre,
        filter_reasons.filter_reason,
        count(screened_offers.id_cnd) as nb_offres
    from filter_reasons
    left join screened_offers
        on filter_reasons.filter_reason = screened_offers.filter_reason
    group by filter_reasons.ordre, filter_reasons.filter_reason

),

matching as (

    select
        count(*) as nb_enriched,
        count(*) filter (where match_type = 'MASTER') as match_master,
        count(*) filter (where match_type = 'NATIONAL') as match_national,
        count(*) filter (where match_type = 'NO_MATCH') as match_no_match,
        count(distinct id_cln) as clients_uniques,
        count(distinct id_art) as articles_uniques,
        count(*) filter (where type_client is not null) as nb_type_client,
        count(*) filter (where type_restaurant is not null) as nb_type_restaurant,
        -- FG_HM comes from the history: known when the offer has an invoice line in the period
        count(*) filter (where nb_lignes_4q > 0) as nb_fg_hm
    from enriched_offers

),

increases as (

    select
        count(*) as offres_recommandees,
        avg(pct_hausse_finale) as pct_hausse_moy,
        -- exact median (= percentile_cont(0.5) without the float round trip): the mean of
        -- the lower and the upper middle values, equal when the count is odd
        (
            percentile_disc(0.5) within group (order by pct_hausse_finale)
            + percentile_disc(0.5) within group (order by pct_hausse_finale desc)
        ) / 2 as pct_hausse_mediane,
        coalesce(sum(hausse_euros), 0) as hausse_euros,
        coalesce(sum(ca_4q), 0) as ca_4q,
        count(*) filter (where validation_status = 'VALIDE') as nb_valide,
        count(*) filter (where validation_status = 'A_VERIFIER') as nb_a_verifier,
        count(*) filter (where validation_status = 'ANOMALIE') as nb_anomalie
    from recommendations

),

shares as (

    select
        matching.*,
        {%- for share, count_column in [
            ('taux_type_client', 'nb_type_client'),
            ('taux_type_restaurant', 'nb_type_restaurant'),
            ('taux_fg_hm', 'nb_fg_hm'),
            ('taux_match_master', 'match_master'),
            ('taux_match_national', 'match_national'),
            ('taux_no_match', 'match_no_match'),
        ] %}
        case
            when matching.nb_enriched = 0 then 0
            else trim_scale(matching.{{ count_column }}::numeric / matching.nb_enriched)
        end as {{ share }}{{ ',' if not loop.last }}
    {%- endfor %}
    from matching

),

summary_indicators as (

    select indicators.*
    from volumes
    cross join shares
    cross join increases
    cross join lateral (
        values
        (1, 'VOLUMES', 'offres_lues', volumes.offres_lues::numeric, 'nombre'),
        (2, 'VOLUMES', 'offres_conservees', volumes.offres_conservees::numeric, 'nombre'),
        (3, 'VOLUMES', 'offres_filtrees', volumes.offres_filtrees::numeric, 'nombre'),
        (4, 'VOLUMES', 'offres_recommandees', increases.offres_recommandees::numeric, 'nombre'),
        (5, 'VOLUMES', 'clients_uniques', shares.clients_uniques::numeric, 'nombre'),
        (6, 'VOLUMES', 'articles_uniques', shares.articles_uniques::numeric, 'nombre'),
        (20, 'MATCHING', 'match_master', shares.match_master::numeric, 'nombre'),
        (21, 'MATCHING', 'match_national', shares.match_national::numeric, 'nombre'),
        (22, 'MATCHING', 'match_no_match', shares.match_no_match::numeric, 'nombre'),
        (23, 'MATCHING', 'taux_match_master', shares.taux_match_master, 'taux'),
        (24, 'MATCHING', 'taux_match_national', shares.taux_match_national, 'taux'),
        (25, 'MATCHING', 'taux_no_match', shares.taux_no_match, 'taux'),
        (30, 'ENRICHISSEMENT', 'taux_type_client', shares.taux_type_client, 'taux'),
        (31, 'ENRICHISSEMENT', 'taux_type_restaurant', shares.taux_type_restaurant, 'taux'),
        (32, 'ENRICHISSEMENT', 'taux_fg_hm', shares.taux_fg_hm, 'taux'),
        (40, 'HAUSSES', 'pct_hausse_moy', trim_scale(increases.pct_hausse_moy), 'taux'),
        (41, 'HAUSSES', 'pct_hausse_mediane', trim_scale(increases.pct_hausse_mediane), 'taux'),
        (42, 'HAUSSES', 'hausse_euros', increases.hausse_euros, 'euros'),
        (43, 'HAUSSES', 'ca_4q', increases.ca_4q, 'euros'),
        (
            44, 'HAUSSES', 'pct_impact_ca',
            case when increases.ca_4q = 0 then 0 else trim_scale(increases.hausse_euros / increases.ca_4q) end,
            'taux'
        ),
        (50, 'VALIDATION', 'nb_valide', increases.nb_valide::numeric, 'nombre'),
        (51, 'VALIDATION', 'nb_a_verifier', increases.nb_a_verifier::numeric, 'nombre'),
        (52, 'VALIDATION', 'nb_anomalie', increases.nb_anomalie::numeric, 'nombre')
    ) as indicators (ordre, section, indicateur, valeur, unite)

),

filter_indicators as (

    select
        9 + ordre as ordre,
        'FILTRES' as section,
        'filtre_' || filter_reason as indicateur,
        nb_offres::numeric as valeur,
        'nombre' as unite
    from offers_by_filter

),

indicators as (

    select * from summary_indicators
    union all
    select * from filter_indicators

),

final as (

    select
        ordre::integer as ordre,
        section::text as section,
        indicateur::text as indicateur,
        valeur::numeric as valeur,
        unite::text as unite
    from indicators

)

select * from final
