{#- statistics_by_dimension.csv (analysis 2, seed section 5; QUOTE_ENGINE_RULES.md
    section 7): the recommended offers (MATCH_TYPE MASTER or NATIONAL) grouped by each of
    TYPE_CLIENT, TYPE_RESTAURANT and UNIVERS in turn; an offer counts once under each
    dimension. An unmapped value (NULL) is labelled '(non renseigné)'. Percentages are
    fractions; the standard deviation of a single offer is 0. Export order: dimension,
    valeur. -#}
{#- the dimension and the value of a row of an aggregate over GROUPING SETS of
    TYPE_CLIENT, TYPE_RESTAURANT or UNIVERS (each set holds exactly one of them) -#}
{%- set dimension_and_value -%}
        case
            when grouping(type_client) = 0 then 'TYPE_CLIENT'
            when grouping(type_restaurant) = 0 then 'TYPE_RESTAURANT'
            else 'UNIVERS'
        end as dimension,
        case
            when grouping(type_client) = 0 then type_client
            when grouping(type_restaurant) = 0 then type_restaurant
            else univers
        end as valeur
{%- endset %}
with

recommendations as (

    select * from {{ ref('recommendations') }}

),

-- the three dimensions of each offer, an unmapped value labelled; read twice, each time
-- by one aggregate over GROUPING SETS: two passes over the offers instead of three passes
-- over three copies of them (seed scale: 5.1 s on one core, where the earlier form took
-- 5.0 s on three)
offers as not materialized (

    select
        coalesce(type_client, '(non renseigné)') as type_client,
        coalesce(type_restaurant, '(non renseigné)') as type_restaurant,
        coalesce(univers, '(non renseigné)') as univers,
        id_cln,
        id_art,
        prix_tarif_actuel,
        prix_recommande,
        pct_hausse_finale,
        ca_4q,
        hausse_euros
    from recommendations

),

figures_by_value as (

    select
        {{ dimension_and_value }},
        count(*) as nb_offres,
        avg(prix_tarif_actuel) as prix_moy_actuel,
        avg(prix_recommande) as prix_moy_recommande,
        min(pct_hausse_finale) as pct_hausse_min,
        max(pct_hausse_finale) as pct_hausse_max,
        avg(pct_hausse_finale) as pct_hausse_moy,
        -- stddev_samp is NULL for a single offer: its spread is 0
        coalesce(stddev_samp(pct_hausse_finale), 0) as pct_hausse_ecart_type,
        sum(ca_4q) as ca_4q,
        sum(hausse_euros) as hausse_euros
    from offers
    group by grouping sets ((type_client), (type_restaurant), (univers))

),

-- the distinct (value, customer) and (value, article) pairs of the three dimensions, by
-- hashing: count(distinct) inside the aggregate above would sort the offers per value
pairs as (

    select
        {{ dimension_and_value }},
        grouping(id_cln) = 0 as is_customer
    from offers
    group by grouping sets (
        (type_client, id_cln), (type_restaurant, id_cln), (univers, id_cln),
        (type_client, id_art), (type_restaurant, id_art), (univers, id_art)
    )

),

distinct_counts as (

    select
        dimension,
        valeur,
        count(*) filter (where is_customer) as nb_clients,
        count(*) filter (where not is_customer) as nb_articles
    from pairs
    group by dimension, valeur

),

statistics_by_value as (

    select
        figures_by_value.*,
        distinct_counts.nb_clients,
        distinct_counts.nb_articles
    from figures_by_value
    inner join distinct_counts using (dimension, valeur)

),

final as (

    select
        dimension,
        valeur,
        nb_offres,
        nb_clients,
        nb_articles,
        -- trim_scale drops the zeros a numeric division pads (0.15000000000000000000)
        trim_scale(prix_moy_actuel) as prix_moy_actuel,
        trim_scale(prix_moy_recommande) as prix_moy_recommande,
        pct_hausse_min,
        pct_hausse_max,
        trim_scale(pct_hausse_moy) as pct_hausse_moy,
        trim_scale(pct_hausse_ecart_type) as pct_hausse_ecart_type,
        ca_4q,
        hausse_euros,
        case when ca_4q = 0 then 0 else trim_scale(hausse_euros / ca_4q) end as pct_impact_ca
    from statistics_by_value

)

select * from final
