{#- statistics_by_dimension.csv (analysis 2, seed section 5; QUOTE_ENGINE_RULES.md
    section 7): the recommended offers (MATCH_TYPE MASTER or NATIONAL) grouped by each of
    TYPE_CLIENT, TYPE_RESTAURANT and UNIVERS in turn; an offer counts once under each
    dimension. An unmapped value (NULL) is labelled '(non renseigné)'. Percentages are
    fractions; the standard deviation of a single offer is 0. Export order: dimension,
    valeur. -#}
with

recommendations as (

    select * from {{ ref('recommendations') }}

),

-- one row per offer and dimension, read three times: NOT MATERIALIZED recomputes it
-- from recommendations for each read rather than buffering its seven million
-- rows (7.9 s -> 3.3 s at seed scale)
offers_by_dimension as not materialized (

    select
        dimensions.dimension,
        coalesce(dimensions.valeur, '(non renseigné)') as valeur,
        recommendations.id_cln,
        recommendations.id_art,
        recommendations.prix_tarif_actuel,
        recommendations.prix_recommande,
        recommendations.pct_hausse_finale,
        recommendations.ca_4q,
        recommendations.hausse_euros
    from recommendations
    cross join lateral (
        values
        ('TYPE_CLIENT'::text, recommendations.type_client),
        ('TYPE_RESTAURANT'::text, recommendations.type_restaurant),
        ('UNIVERS'::text, recommendations.univers)
    ) as dimensions (dimension, valeur)

),

-- distinct customers and articles per value through hashed DISTINCTs: count(distinct)
-- inside the main aggregate would sort the seven million rows once per value
customers_by_value as (

    select dimension, valeur, count(*) as nb_clients
    from (select distinct dimension, valeur, id_cln from offers_by_dimension) as pairs
    group by dimension, valeur

),

articles_by_value as (

    select dimension, valeur, count(*) as nb_articles
    from (select distinct dimension, valeur, id_art from offers_by_dimension) as pairs
    group by dimension, valeur

),

figures_by_value as (

    select
        dimension,
        valeur,
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
    from offers_by_dimension
    group by dimension, valeur

),

statistics_by_value as (

    select
        figures_by_value.*,
        customers_by_value.nb_clients,
        articles_by_value.nb_articles
    from figures_by_value
    inner join customers_by_value using (dimension, valeur)
    inner join articles_by_value using (dimension, valeur)

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
