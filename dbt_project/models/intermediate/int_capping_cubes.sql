{#-
    The seed's PT2QE_CAPPING_CUBES (QUOTE_ENGINE_RULES.md section 4): one cube per
    distinct (UNIVERS, TYPE_CLIENT, TYPE_RESTAURANT, GEO) of the MASTER-matched offers,
    plus one NATIONAL cube per UNIVERS with NATIONAL-matched offers, keyed
    (UNIVERS, 'NATIONAL', 'NATIONAL', NULL). The three caps come together from the first
    source that has the cube: corrections (only when var apply_corrections is true) ->
    capping_type_client by TYPE_CLIENT -> configuration defaults.
-#}
with

-- read more than once: NOT MATERIALIZED scans the table for each read instead of first
-- copying all its rows into a CTE buffer (2 s -> 0.7 s for an analysis at seed scale)
enriched_offers as not materialized (

    select * from {{ ref('int_price_offers__enriched') }}

),

capping_type_client as (

    select * from {{ ref('stg_inputs__capping_type_client') }}

),

capping_corrections as (

    select * from {{ ref('stg_inputs__capping_corrections') }}
    -- outside the corrections mode the corrections table is ignored
    where {{ pt2qe_bool('apply_corrections') }}

),

master_cubes as (

    select
        univers,
        type_client,
        type_restaurant,
        geo,
        'MASTER' as cube_type,
        count(*) as nb_offres
    from enriched_offers
    where match_type = 'MASTER'
    group by univers, type_client, type_restaurant, geo

),

national_cubes as (

    select
        univers,
        'NATIONAL' as type_client,
        'NATIONAL' as type_restaurant,
        null::text as geo,
        'NATIONAL' as cube_type,
        count(*) as nb_offres
    from enriched_offers
    where match_type = 'NATIONAL'
    group by univers

),

cubes as (

    select * from master_cubes
    union all
    select * from national_cubes

),

cubes_with_caps as (

    select
        cubes.*,
        case
            when capping_corrections.univers is not null then 'CORRECTION'
            when capping_type_client.type_client is not null then 'TYPE_CLIENT_FILE'
            else 'DEFAULT'
        end as capping_source,
        case
            when capping_corrections.univers is not null then capping_corrections.capping_high
            when capping_type_client.type_client is not null then capping_type_client.capping_high
            else {{ pt2qe_number('capping_default_high') }}
        end as capping_high,
        case
            when capping_corrections.univers is not null then capping_corrections.capping_medium
            when capping_type_client.type_client is not null then capping_type_client.capping_medium
            else {{ pt2qe_number('capping_default_medium') }}
        end as capping_medium,
        case
            when capping_corrections.univers is not null then capping_corrections.capping_low
            when capping_type_client.type_client is not null then capping_type_client.capping_low
            else {{ pt2qe_number('capping_default_low') }}
        end as capping_low
    from cubes
    left join capping_corrections
        on cubes.univers = capping_corrections.univers
        and cubes.type_client = capping_corrections.type_client
        and cubes.type_restaurant = capping_corrections.type_restaurant
        and cubes.geo is not distinct from capping_corrections.geo
    -- a NATIONAL cube has type_client 'NATIONAL': it takes the file's NATIONAL line
    left join capping_type_client
        on cubes.type_client = capping_type_client.type_client

),

final as (

    select
        univers,
        type_client,
        type_restaurant,
        geo,
        capping_high,
        capping_medium,
        capping_low,
        cube_type,
        capping_source,
        nb_offres
    from cubes_with_caps

)

select * from final
