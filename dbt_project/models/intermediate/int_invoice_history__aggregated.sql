{#-
    Invoice history of the analysis period per (id_cln, id_art) (QUOTE_ENGINE_RULES.md
    section 2): lines dated inside [period_start, period_end] (bounds included) whose
    price origin is not promotional (FG_PROMO = 'X' excluded, a line without origin
    passes). One sorted pass over the lines, no correlated subquery: the sums and the
    latest line (DT_FACTURE, then ID_FACTURE, then NO_LIGNE, all descending) come out of
    the same GROUP BY, the latest line through ordered aggregates that share one sort.
-#}
{%- if var('history_pushdown', false) %}
-- extraction.pushdown_aggregation with an SQL source (Oracle): the source computed this
-- aggregate with the same rules (pt2qe.oracle.aggregated_history_select, one row per
-- customer x article) and the extraction loaded it as raw.invoice_history_4q
select
    id_cln,
    id_art,
    ca_4q,
    vol_uf_4q,
    vol_kg_4q,
    nb_lignes_4q,
    ca_prix_fermes_4q,
    ca_prix_indexes_4q,
    fg_hm,
    last_qt_uf
from {{ api.Relation.create(database=target.database, schema=var('raw_schema', 'raw'), identifier='invoice_history_4q') }}
{%- else %}
with

invoice_lines as (

    select * from {{ ref('stg_source__facture_ligne') }}

),

price_origins as (

    select * from {{ ref('stg_source__origine_prix') }}

),

-- the seed's PRP_LABELS: promotional lines are left out of every metric
period_lines as (

    select
        -- byte-wise collation: the same grouping, a faster sort, and ID_FACTURE ordered
        -- by code point (as Python orders text) whatever the database collation
        invoice_lines.id_cln collate "C" as id_cln,
        invoice_lines.id_art collate "C" as id_art,
        invoice_lines.id_facture collate "C" as id_facture,
        invoice_lines.no_ligne,
        invoice_lines.dt_facture,
        invoice_lines.qt_uf,
        invoice_lines.qt_kg,
        invoice_lines.mt_ca,
        invoice_lines.fg_hm,
        price_origins.type_prix
    from invoice_lines
    left join price_origins
        on invoice_lines.id_origine_prix = price_origins.id_origine_prix
    where
        invoice_lines.dt_facture between {{ pt2qe_date('period_start') }} and {{ pt2qe_date('period_end') }}
        and price_origins.fg_promo is distinct from 'X'

),

-- HISTORICAL_PERFORMANCE, LAST_FG_HM and LAST_QT_UF of the seed in one aggregation
historical_performance as (

    select
        id_cln,
        id_art,
        sum(mt_ca) as ca_4q,
        sum(qt_uf) as vol_uf_4q,
        coalesce(sum(qt_kg), 0) as vol_kg_4q,
        count(*) as nb_lignes_4q,
        coalesce(sum(mt_ca) filter (where type_prix = 'FERME'), 0) as ca_prix_fermes_4q,
        coalesce(sum(mt_ca) filter (where type_prix = 'INDEXE'), 0) as ca_prix_indexes_4q,
        (array_agg(fg_hm order by dt_facture desc, id_facture desc, no_ligne desc))[1] as last_line_fg_hm,
        (array_agg(qt_uf order by dt_facture desc, id_facture desc, no_ligne desc))[1] as last_qt_uf
    from period_lines
    group by id_cln, id_art

),

final as (

    select
        id_cln collate "default" as id_cln,
        id_art collate "default" as id_art,
        ca_4q,
        vol_uf_4q,
        vol_kg_4q,
        nb_lignes_4q,
        ca_prix_fermes_4q,
        ca_prix_indexes_4q,
        case when last_line_fg_hm = 'X' then '1' else '0' end as fg_hm,
        last_qt_uf
    from historical_performance

)

select * from final
{%- endif %}
