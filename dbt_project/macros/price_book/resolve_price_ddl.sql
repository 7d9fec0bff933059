{#- The DDL of the warehouse function `<schema>.resolve_price` (PRICE_BOOK_RULES.md,
    Resolution), over the tables price_lists, price_list_items and
    price_book_customer_groups of the same schema.

    Plain Jinja on purpose (no ref, var or adapter): dbt renders it in the pre-hook of
    the effective_prices mart, and pt2qe.pricebook.resolve_price_ddl() renders the same
    text in Python (tests, or installing the function by hand).

        resolve_price(article text, quantity integer default 1, customer text default
                      null, date date default current_date, channel text default null)
        returns table (price_ht, original_price, discount_rate, price_list_code,
                       price_source, min_quantity, max_quantity, currency)

    Levels, first that has a price: the customer's own items (customer lists), the
    items of its commercial group ID_TC_CG (group lists), the channel's items (channel
    lists), the base lists. A candidate item: list and item active, both valid on the
    date (NULL bounds are open), MIN_QUANTITY <= quantity <= MAX_QUANTITY (NULL = no
    limit). Within a level the largest MIN_QUANTITY wins, then the lowest PRIORITY, then
    the lowest list code (equal MIN_QUANTITY and PRIORITY is a conflict, listed by the
    mart price_book_conflicts). ORIGINAL_PRICE is the base level's price for the same
    quantity and date; DISCOUNT_RATE = 100 x (ORIGINAL_PRICE - PRICE_HT) / ORIGINAL_PRICE
    rounded to 2 decimals (16.67 for 100 against 120), NULL without a base price. No
    candidate: no row, never an error. A NULL quantity counts as 1, a NULL date as today.

    One SQL SELECT without CTE, STABLE, PARALLEL SAFE, not STRICT, no SET clause:
    PostgreSQL inlines it into the calling query, so `cross join lateral
    resolve_price(...)` over a table uses the indexes of price_list_items (one probe per
    level; a base item has no customer, so the base level probes (id_art, id_cln is
    null) and skips the customer items) and may run in parallel workers. -#}
{% macro pt2qe_resolve_price_ddl(schema) -%}
{%- set levels = [
    (1, 'customer', 'i.id_cln = $3'),
    (2, 'group', 'i.customer_group = g.customer_group'),
    (3, 'channel', 'i.channel = $5'),
    (4, 'base', 'i.id_cln is null'),
] -%}
create or replace function {{ schema }}.resolve_price(
    article text,
    quantity integer default 1,
    customer text default null,
    "date" date default current_date,
    channel text default null
)
returns table (
    price_ht numeric,
    original_price numeric,
    discount_rate numeric,
    price_list_code text,
    price_source text,
    min_quantity integer,
    max_quantity integer,
    currency text
)
language sql
stable
parallel safe
as $resolve_price$
    select
        best.price_ht,
        base.price_ht as original_price,
        case
            when base.price_ht > 0 then round(100 * (base.price_ht - best.price_ht) / base.price_ht, 2)
        end as discount_rate,
        best.code as price_list_code,
        best.price_source,
        best.min_quantity,
        best.max_quantity,
        best.currency
    from (
        {%- for level_rank, price_source, scope in levels %}
        {%- if not loop.first %}

        union all
        {%- endif %}

        {{ pt2qe_resolve_price_candidates(schema, level_rank, price_source, scope) }}
        {%- endfor %}

        order by level_rank asc, min_quantity desc, priority asc, code asc
        limit 1
    ) as best
    left join lateral (
        {{ pt2qe_resolve_price_candidates(schema, 4, 'base', 'i.id_cln is null') }}
        order by min_quantity desc, priority asc, code asc
        limit 1
    ) as base on true
$resolve_price$
{%- endmacro %}


{#- The candidate items of one level of resolve_price: an item of a list of that type,
    for the article and the level's scope, list and item active and valid on the date,
    the quantity within MIN_QUANTITY .. MAX_QUANTITY. -#}
{% macro pt2qe_resolve_price_candidates(schema, level_rank, price_source, scope) -%}
        select
            {{ level_rank }} as level_rank,
            '{{ price_source }}' as price_source,
            i.price_ht,
            i.min_quantity,
            i.max_quantity,
            l.priority,
            l.code,
            l.currency
        from {{ schema }}.price_list_items as i
        inner join {{ schema }}.price_lists as l on i.price_list_code = l.code
        {%- if price_source == 'group' %}
        inner join {{ schema }}.price_book_customer_groups as g on g.id_cln = $3
        {%- endif %}
        where
            i.id_art = $1
            and {{ scope }}
            and l.list_type = '{{ price_source }}'
            and l.is_active
            and i.is_active
            and (l.valid_from is null or l.valid_from <= coalesce($4, current_date))
            and (l.valid_until is null or l.valid_until >= coalesce($4, current_date))
            and (i.valid_from is null or i.valid_from <= coalesce($4, current_date))
            and (i.valid_until is null or i.valid_until >= coalesce($4, current_date))
            and i.min_quantity <= coalesce($2, 1)
            and (i.max_quantity is null or i.max_quantity >= coalesce($2, 1))
{%- endmacro %}


{#- What the pre-hook of the effective_prices mart runs (one hook, several statements):
    the function in the mart's own schema (marts_next during a run, read by the mart
    itself) and, when that is not `marts`, in `marts` too, over the published tables,
    for BI. The function body names its tables as text (PostgreSQL records no
    dependency), so it survives the publication that replaces those tables;
    check_function_bodies is off for the `marts` one because its tables may not exist
    before the first publication. The text is the same at every run, so re-creating it
    changes nothing for BI. -#}
{% macro pt2qe_install_resolve_price(schema) -%}
    {%- set published = var('published_marts_schema', 'marts') -%}
drop function if exists {{ schema }}.resolve_price(text, integer, text, date, text);
{{ pt2qe_resolve_price_ddl(schema) }};
{%- if schema != published %}
set local check_function_bodies = off;
{{ pt2qe_resolve_price_ddl(published) }};
{%- endif %}
{%- endmacro %}
