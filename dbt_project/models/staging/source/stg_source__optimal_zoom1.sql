with

source as (

    select * from {{ source('source', 'pt1ce_optimal_zoom1') }}

),

renamed as (

    select
        cube_type::text as cube_type,
        id_art::text as id_art,
        type_client::text as type_client,
        type_restaurant::text as type_restaurant,
        geo::text as geo,
        pas_actif::numeric as pas_actif,
        prb_actif::numeric as prb_actif,
        borne_pl1_pl2::numeric as borne_pl1_pl2,
        borne_pl2_pl3::numeric as borne_pl2_pl3,
        borne_pl3_pl4::numeric as borne_pl3_pl4,
        borne_pl4_pl5::numeric as borne_pl4_pl5,
        borne_pl5_pl6::numeric as borne_pl5_pl6,
        borne_pl6_plx::numeric as borne_pl6_plx,
        new_pas::numeric as new_pas,
        new_prb::numeric as new_prb,
        new_borne_pl1_pl2::numeric as new_borne_pl1_pl2,
        new_borne_pl2_pl3::numeric as new_borne_pl2_pl3,
        new_borne_pl3_pl4::numeric as new_borne_pl3_pl4,
        new_borne_pl4_pl5::numeric as new_borne_pl4_pl5,
        new_borne_pl5_pl6::numeric as new_borne_pl5_pl6,
        new_borne_pl6_plx::numeric as new_borne_pl6_plx,
        price_sensitivity::text as price_sensitivity,
        ecart_type::numeric as ecart_type,
        pct_hausse_pas::numeric as pct_hausse_pas
    from source

)

select * from renamed
