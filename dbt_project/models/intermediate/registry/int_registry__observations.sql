{#-
    Every price observation of the registry as of the run's reference date
    (PRICE_REGISTRY_RULES.md, "Observations"), with its review:
    - auto: each invoice line with QT_UF > 0 dated on or before as_of. ITEM_KEY = ID_ART,
      CONTEXT_KEY = TYPE_CLIENT of the customer mapped with the line's own FG_HM ('X' ->
      '1', anything else -> '0'; 'NON_MAPPE' when the customer or its mapping is
      missing), UNIT_PRICE = MT_CA / QT_UF, TOTAL_PRICE = MT_CA, CATEGORY =
      LC_HIC_SYSCO_N1, SUPPLIER = ID_FOURNISSEUR; a promotional origin sets IS_PROMO.
    - import / manual / catalog: the accepted lines of the files of inputs/price_registry/.
    IS_REFERENCE: the observation may enter baselines and averages, i.e. it is neither a
    catalog price, nor promotional, nor reviewed as exception or rejected.

    A view: its only reader is the mart price_observations, which sorts it once for its
    windows (writing these tens of millions of rows twice would double the cost).
-#}
{{ config(materialized='view') }}
with

invoice_lines as (

    select * from {{ ref('stg_source__facture_ligne') }}

),

customers as (

    select * from {{ ref('stg_source__client') }}

),

articles as (

    select * from {{ ref('stg_source__article') }}

),

price_origins as (

    select * from {{ ref('stg_source__origine_prix') }}

),

type_client_mapping as (

    select * from {{ ref('stg_source__type_client_mapping') }}

),

imported_prices as (

    select * from {{ ref('stg_registry__imports') }}

),

reviews as (

    select * from {{ ref('stg_registry__reviews') }}

),

-- TYPE_CLIENT of each customer for both values of the line's FG_HM ('1' for 'X'):
-- one small lookup, one join per invoice line
customer_contexts as (

    select
        customers.id_cln,
        type_client_mapping.fg_hm,
        type_client_mapping.type_client
    from customers
    inner join type_client_mapping
        on customers.id_tc_cg = type_client_mapping.id_tc_cg
        and customers.id_tc_cible = type_client_mapping.id_tc_cible

),

auto_observations as (

    select
        'FL:' || invoice_lines.id_facture || ':' || invoice_lines.no_ligne as observation_id,
        invoice_lines.id_art as item_key,
        coalesce(customer_contexts.type_client, 'NON_MAPPE') as context_key,
        articles.lc_art as description,
        articles.lc_hic_sysco_n1 as category,
        trim_scale(invoice_lines.mt_ca / invoice_lines.qt_uf) as unit_price,
        invoice_lines.qt_uf as quantity,
        invoice_lines.mt_ca as total_price,
        'EUR'::text as currency,
        invoice_lines.dt_facture as recorded_at,
        null::date as valid_from,
        null::date as valid_until,
        'auto'::text as source_type,
        invoice_lines.id_fournisseur as supplier,
        null::text as notes,
        -- the promotional origins, read once (FG_PROMO = 'X')
        coalesce(
            invoice_lines.id_origine_prix = any(
                array(select id_origine_prix from price_origins where fg_promo = 'X')
            ),
            false
        ) as is_promo,
        null::integer as context_year,
        null::text as source_file,
        null::integer as source_line
    from invoice_lines
    left join customer_contexts
        on invoice_lines.id_cln = customer_contexts.id_cln
        and (case when invoice_lines.fg_hm = 'X' then '1' else '0' end) = customer_contexts.fg_hm
    left join articles
        on invoice_lines.id_art = articles.id_art
    where invoice_lines.qt_uf > 0
        and invoice_lines.dt_facture <= {{ pt2qe_date('as_of') }}

),

file_observations as (

    select
        observation_id,
        item_key,
        context_key,
        coalesce(description, item_key) as description,
        category,
        unit_price,
        quantity,
        unit_price * quantity as total_price,
        coalesce(currency, 'EUR') as currency,
        recorded_at,
        valid_from,
        valid_until,
        source_type,
        supplier,
        notes,
        false as is_promo,
        context_year,
        source_file,
        source_line
    from imported_prices
    where recorded_at <= {{ pt2qe_date('as_of') }}

),

all_observations as (

    select * from auto_observations
    union all
    select * from file_observations

),

reviewed as (

    select
        all_observations.*,
        reviews.status as review_status,
        reviews.reason as review_reason,
        reviews.reviewer
    from all_observations
    left join reviews
        on all_observations.observation_id = reviews.observation_id

),

final as (

    select
        observation_id,
        item_key,
        context_key,
        description,
        category,
        unit_price,
        quantity,
        total_price,
        currency,
        recorded_at,
        extract(year from recorded_at)::integer as recorded_year,
        extract(month from recorded_at)::integer as recorded_month,
        valid_from,
        valid_until,
        source_type,
        supplier,
        notes,
        is_promo,
        context_year,
        source_file,
        source_line,
        review_status,
        review_reason,
        reviewer,
        (
            source_type <> 'catalog'
            and not is_promo
            and coalesce(review_status, '') not in ('exception', 'rejected')
        ) as is_reference
    from reviewed

)

select * from final
