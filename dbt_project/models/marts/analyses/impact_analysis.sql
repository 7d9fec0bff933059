{#- impact_analysis.csv (analysis 3, seed section 5; QUOTE_ENGINE_RULES.md section 7):
    revenue impact of the recommended offers per TYPE_CLIENT x UNIVERS (NULL labelled
    '(non renseigné)'), with the number of offers in each increase band (TYPE_HAUSSE),
    then one TOTAL row over every recommended offer. `ordre` is the export order (groups
    by TYPE_CLIENT then UNIVERS, compared by code point; TOTAL last); the exporter
    orders by it and drops it. -#}
{%- set bands = [
    ('nb_baisse', '<0%'), ('nb_0', '0%'), ('nb_0_2', '0-2%'), ('nb_2_5', '2-5%'),
    ('nb_5_7', '5-7%'), ('nb_7_10', '7-10%'), ('nb_10_15', '10-15%'),
    ('nb_15_20', '15-20%'), ('nb_plus_20', '>20%'),
] -%}
{#- the same measures for a group and for the TOTAL row -#}
{%- set measures -%}
        count(*) as nb_offres,
        coalesce(sum(ca_4q), 0) as ca_4q,
        coalesce(sum(hausse_euros), 0) as hausse_euros,
        avg(pct_hausse_finale) as pct_hausse_moy,
    {%- for column, band in bands %}
        count(*) filter (where type_hausse = '{{ band }}') as {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endset -%}
with

recommendations as (

    select * from {{ ref('recommendations') }}

),

-- read twice: NOT MATERIALIZED scans for each read instead of buffering every row
offers as not materialized (

    select
        coalesce(type_client, '(non renseigné)') as type_client,
        coalesce(univers, '(non renseigné)') as univers,
        ca_4q,
        hausse_euros,
        pct_hausse_finale,
        type_hausse
    from recommendations

),

impact_by_type_client_univers as (

    select
        0 as is_total,
        type_client,
        univers,
        {{ measures }}
    from offers
    group by type_client, univers

),

-- one row even when there is no recommended offer
impact_total as (

    select
        1 as is_total,
        'TOTAL'::text as type_client,
        'TOTAL'::text as univers,
        {{ measures }}
    from offers

),

impact as (

    select * from impact_by_type_client_univers
    union all
    select * from impact_total

),

final as (

    select
        row_number() over (
            order by is_total, type_client collate "C", univers collate "C"
        )::integer as ordre,
        type_client,
        univers,
        nb_offres,
        ca_4q,
        hausse_euros,
        case when ca_4q = 0 then 0 else trim_scale(hausse_euros / ca_4q) end as pct_impact_ca,
        trim_scale(pct_hausse_moy) as pct_hausse_moy,
    {%- for column, band in bands %}
        {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
    from impact

)

select * from final
