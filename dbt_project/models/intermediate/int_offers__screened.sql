{#-
    Offers read (QUOTE_ENGINE_RULES.md section 2): every row of SYS_TARIF_SIMULATION
    joined (inner) to its condition, customer and article, with its UNIVERS and the
    first filter it fails, NULL when the offer is kept. int_price_offers reads the kept
    offers; the reconciliation counts offers read = kept + filtered by reason.
-#}
with

tarifs as (

    select * from {{ ref('stg_source__tarif_simulation') }}

),

conditions as (

    select * from {{ ref('stg_source__condition') }}

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

univers_rules as (

    select * from {{ ref('univers_rules') }}

),

-- UNIVERS rules are evaluated once per article and once per customer, not per offer.
-- The attribute a rule reads comes from a fixed list (seed text never becomes SQL).
article_rule_values as (

    select
        articles.id_art,
        univers_rules.priority,
        univers_rules.match_type,
        univers_rules.value,
        case univers_rules.attribute
            when 'article.lc_hic_sysco_n1' then articles.lc_hic_sysco_n1
            when 'article.lc_hic_sysco_n2' then articles.lc_hic_sysco_n2
            when 'article.id_gmm' then articles.id_gmm
            when 'article.lc_attribut' then articles.lc_attribut
            when 'article.id_art' then articles.id_art
        end as attribute_value
    from articles
    inner join univers_rules
        on univers_rules.attribute like 'article.%'
        or univers_rules.match_type = 'always'

),

customer_rule_values as (

    select
        customers.id_cln,
        univers_rules.priority,
        univers_rules.match_type,
        univers_rules.value,
        case univers_rules.attribute
            when 'customer.id_kam' then customers.id_kam
            when 'customer.id_tc_cg' then customers.id_tc_cg
            when 'customer.id_tc_cible' then customers.id_tc_cible
            when 'customer.id_segment' then customers.id_segment
            when 'customer.geo' then customers.geo
            when 'customer.id_cln' then customers.id_cln
        end as attribute_value
    from customers
    inner join univers_rules
        on univers_rules.attribute like 'customer.%'
        or univers_rules.match_type = 'always'

),

-- best (smallest) matching priority on each side; `always` rules match both sides
article_univers_priority as (

    select
        id_art,
        min(priority) as univers_priority
    from article_rule_values
    where
        match_type = 'always'
        or (match_type = 'equals' and attribute_value = value)
        or (match_type = 'starts_with' and starts_with(attribute_value, value))
    group by id_art

),

customer_univers_priority as (

    select
        id_cln,
        min(priority) as univers_priority
    from customer_rule_values
    where
        match_type = 'always'
        or (match_type = 'equals' and attribute_value = value)
        or (match_type = 'starts_with' and starts_with(attribute_value, value))
    group by id_cln

),

current_offers as (

    select
        tarifs.id_cnd,
        conditions.id_cln,
        conditions.id_art,
        conditions.id_typ_cnd,
        conditions.id_seq,
        conditions.fg_cnd_vld,
        conditions.dt_deb as dt_deb_condition,
        conditions.dt_fin as dt_fin_condition,
        tarifs.prix_tarif_actuel,
        tarifs.id_origine_prix,
        price_origins.type_prix,
        price_origins.fg_promo,
        customers.lc_cln,
        customers.id_tc_cg,
        customers.id_tc_cible,
        customers.id_segment,
        customers.geo,
        customers.id_kam,
        articles.lc_art,
        articles.id_gmm,
        articles.lc_hic_sysco_n1,
        articles.lc_hic_sysco_n2,
        articles.lc_attribut
    from tarifs
    inner join conditions
        on tarifs.id_cnd = conditions.id_cnd
    inner join customers
        on conditions.id_cln = customers.id_cln
    inner join articles
        on conditions.id_art = articles.id_art
    left join price_origins
        on tarifs.id_origine_prix = price_origins.id_origine_prix

),

offers_with_univers as (

    select
        current_offers.*,
        univers_rules.univers
    from current_offers
    left join article_univers_priority
        on current_offers.id_art = article_univers_priority.id_art
    left join customer_univers_priority
        on current_offers.id_cln = customer_univers_priority.id_cln
    -- least() ignores NULL: a side with no matching rule does not block the other
    left join univers_rules
        on univers_rules.priority = least(
            article_univers_priority.univers_priority,
            customer_univers_priority.univers_priority
        )

),

screened as (

    select
        offers_with_univers.*,
        case
            when fg_cnd_vld is distinct from 'X' then 'CONDITION_INVALIDE'
            when dt_fin_condition <= {{ pt2qe_date('as_of') }} then 'CONDITION_EXPIREE'
            when not coalesce(id_typ_cnd = any({{ pt2qe_string_list('filter_condition_types') }}), false)
                then 'TYPE_CONDITION'
            when not coalesce(id_seq = any({{ pt2qe_string_list('filter_sequences') }}), false) then 'SEQUENCE'
            when id_tc_cg = any({{ pt2qe_string_list('filter_excluded_customer_groups') }}) then 'CLIENT_AUTRES'
            -- NULL passes the exclusions below (NULL = any(...) is not true)
            when id_gmm = any({{ pt2qe_string_list('filter_excluded_gmm') }}) then 'GAMME_PSN'
            when lc_hic_sysco_n2 = any({{ pt2qe_string_list('filter_excluded_hierarchy_n2') }}) then 'HIERARCHIE_N2'
            -- an offer without price origin passes
            when fg_promo = 'X' then 'PRIX_PROMO'
            when univers is distinct from 'ZOOM1' then 'UNIVERS'
        end as filter_reason
    from offers_with_univers

),

final as (

    select
        id_cnd,
        id_cln,
        id_art,
        id_typ_cnd,
        id_seq,
        fg_cnd_vld,
        dt_deb_condition,
        dt_fin_condition,
        prix_tarif_actuel,
        id_origine_prix,
        type_prix,
        fg_promo,
        lc_cln,
        id_tc_cg,
        id_tc_cible,
        id_segment,
        geo,
        id_kam,
        lc_art,
        id_gmm,
        lc_hic_sysco_n1,
        lc_hic_sysco_n2,
        lc_attribut,
        univers,
        filter_reason
    from screened

)

select * from final
