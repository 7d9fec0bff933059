{{ config(tags=['corrections_only']) }}
{#- corrections_comparison.csv (Option 2, QUOTE_ENGINE_RULES.md section 6): before/after
    of a corrections run, per capping cube then one TOTAL row. "Before" is
    control.recommendations_before, the snapshot of marts.recommendations the pipeline
    takes before the run; "after" is recommendations, the rows the run publishes as
    marts.recommendations; offers are paired on ID_CND.
    The cube of an offer is keyed as int_capping_cubes / recommendations key it:
    (UNIVERS, TYPE_CLIENT, TYPE_RESTAURANT, GEO) for a MASTER cube, (UNIVERS, 'NATIONAL',
    'NATIONAL', NULL) for a NATIONAL one. A corrections run keeps the same offers; an
    offer found on one side only (an earlier snapshot) still counts, in the cube of the
    side that has it, as modified. Only cubes with offers appear. `ordre` is the export
    order (cubes by UNIVERS, TYPE_CLIENT, TYPE_RESTAURANT, GEO compared by code point,
    TOTAL last); the exporter orders by it and drops it.
    The cubes and the TOTAL row are one aggregate (GROUPING SETS): one pass over the
    paired offers, where a cube aggregate plus a total aggregate read them twice and so
    buffered all of them (seed scale: 6.8 s -> 3.9 s). -#}
with

recommendations_before as (

    select * from {{ source('control', 'recommendations_before') }}

),

recommendations_after as (

    select * from {{ ref('recommendations') }}

),

compared_offers as (

    select
        coalesce(recommendations_after.id_cnd, recommendations_before.id_cnd) as id_cnd,
        -- the side that has the offer gives its cube (after first)
        case
            when recommendations_after.id_cnd is not null then recommendations_after.univers
            else recommendations_before.univers
        end as univers,
        case
            when recommendations_after.id_cnd is not null then recommendations_after.cube_type
            else recommendations_before.cube_type
        end as cube_type,
        case
            when recommendations_after.id_cnd is not null then recommendations_after.type_client
            else recommendations_before.type_client
        end as type_client,
        case
            when recommendations_after.id_cnd is not null then recommendations_after.type_restaurant
            else recommendations_before.type_restaurant
        end as type_restaurant,
        case
            when recommendations_after.id_cnd is not null then recommendations_after.geo
            else recommendations_before.geo
        end as geo,
        recommendations_before.prix_recommande as prix_recommande_avant,
        recommendations_after.prix_recommande as prix_recommande_apres,
        recommendations_before.pct_hausse_finale as pct_hausse_finale_avant,
        recommendations_after.pct_hausse_finale as pct_hausse_finale_apres,
        recommendations_before.hausse_euros as hausse_euros_avant,
        recommendations_after.hausse_euros as hausse_euros_apres,
        recommendations_before.ca_4q as ca_4q_avant,
        recommendations_after.ca_4q as ca_4q_apres
    from recommendations_after
    full outer join recommendations_before
        on recommendations_after.id_cnd = recommendations_before.id_cnd

),

-- the capping cube of each offer: a NATIONAL offer uses the NATIONAL cube of its UNIVERS
offers_with_cube as (

    select
        compared_offers.*,
        case
            when compared_offers.cube_type = 'NATIONAL' then 'NATIONAL' else compared_offers.type_client
        end as cube_type_client,
        case
            when compared_offers.cube_type = 'NATIONAL' then 'NATIONAL' else compared_offers.type_restaurant
        end as cube_type_restaurant,
        case when compared_offers.cube_type = 'NATIONAL' then null else compared_offers.geo end as cube_geo
    from compared_offers

),

-- grouping(univers) is 1 on the TOTAL row (the empty grouping set), which exists even
-- when there is no offer
comparison as (

    select
        grouping(univers) as is_total,
        case when grouping(univers) = 1 then 'TOTAL'::text else univers end as univers,
        case when grouping(univers) = 1 then 'TOTAL'::text else cube_type_client end as type_client,
        case when grouping(univers) = 1 then 'TOTAL'::text else cube_type_restaurant end as type_restaurant,
        case when grouping(univers) = 1 then null::text else cube_geo end as geo,
        count(*) as nb_offres,
        count(*) filter (
            where prix_recommande_avant is distinct from prix_recommande_apres
        ) as nb_offres_modifiees,
        avg(pct_hausse_finale_avant) as pct_hausse_moy_avant,
        avg(pct_hausse_finale_apres) as pct_hausse_moy_apres,
        coalesce(sum(hausse_euros_avant), 0) as hausse_euros_avant,
        coalesce(sum(hausse_euros_apres), 0) as hausse_euros_apres,
        coalesce(sum(ca_4q_avant), 0) as ca_4q_avant,
        coalesce(sum(ca_4q_apres), 0) as ca_4q_apres
    from offers_with_cube
    group by grouping sets ((univers, cube_type_client, cube_type_restaurant, cube_geo), ())

),

final as (

    select
        row_number() over (
            order by
                is_total,
                univers collate "C",
                type_client collate "C",
                type_restaurant collate "C",
                geo collate "C"
        )::integer as ordre,
        univers,
        type_client,
        type_restaurant,
        geo,
        nb_offres,
        nb_offres_modifiees,
        trim_scale(pct_hausse_moy_avant) as pct_hausse_moy_avant,
        trim_scale(pct_hausse_moy_apres) as pct_hausse_moy_apres,
        hausse_euros_avant,
        hausse_euros_apres,
        case when ca_4q_avant = 0 then 0 else trim_scale(hausse_euros_avant / ca_4q_avant) end as pct_impact_ca_avant,
        case when ca_4q_apres = 0 then 0 else trim_scale(hausse_euros_apres / ca_4q_apres) end as pct_impact_ca_apres
    from comparison

)

select * from final
