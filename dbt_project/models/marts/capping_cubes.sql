{#- The capping cubes as BI and capping_cubes_generated.csv read them (the layout a
    corrections file accepts: keys, three caps, then the informative columns). -#}
with

capping_cubes as (

    select * from {{ ref('int_capping_cubes') }}

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
    from capping_cubes

)

select * from final
