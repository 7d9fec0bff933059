{{ config(tags=['final', 'price_book']) }}
{#- Price book conflicts (PRICE_BOOK_RULES.md, Resolution), a data-quality mart: two
    items of different lists that resolve_price could both pick for the same request,
    because they are on the same level (list type) for the same article and the same
    customer / group / channel (base: any), with the same MIN_QUANTITY and the same
    list PRIORITY, both active in active lists, with validity windows (list and item
    bounds together) that overlap on at least one date that is not before the
    reference date. resolve_price keeps the lowest list code (KEPT_LIST_CODE) and
    ignores the other (IGNORED_LIST_CODE); one row per pair, so three tied lists give
    three rows. OVERLAP_FROM / OVERLAP_UNTIL: the dates both apply (NULL = open).
    Export order: price_source, id_art, id_cln, customer_group, channel, min_quantity,
    kept_list_code, ignored_list_code. -#}
with

lists as (

    select * from {{ ref('price_lists') }}

),

items as (

    select * from {{ ref('price_list_items') }}

),

candidates as (

    select
        lists.list_type as price_source,
        items.price_list_code,
        items.id_art,
        items.id_cln,
        items.customer_group,
        items.channel,
        coalesce(
            case lists.list_type
                when 'customer' then items.id_cln
                when 'group' then items.customer_group
                when 'channel' then items.channel
            end,
            ''
        ) as scope_value,
        items.min_quantity,
        lists.priority,
        items.price_ht,
        greatest(lists.valid_from, items.valid_from) as window_from,
        least(lists.valid_until, items.valid_until) as window_until
    from items
    inner join lists on items.price_list_code = lists.code
    where lists.is_active and items.is_active

),

possible as (

    select *
    from candidates
    where window_from is null or window_until is null or window_from <= window_until

),

pairs as (

    select
        kept.price_source,
        kept.id_art,
        kept.id_cln,
        kept.customer_group,
        kept.channel,
        kept.min_quantity,
        kept.priority,
        kept.price_list_code as kept_list_code,
        ignored.price_list_code as ignored_list_code,
        kept.price_ht as kept_price_ht,
        ignored.price_ht as ignored_price_ht,
        greatest(kept.window_from, ignored.window_from) as overlap_from,
        least(kept.window_until, ignored.window_until) as overlap_until
    from possible as kept
    inner join possible as ignored
        on
            kept.price_source = ignored.price_source
            and kept.id_art = ignored.id_art
            and kept.scope_value = ignored.scope_value
            and kept.min_quantity = ignored.min_quantity
            and kept.priority = ignored.priority
            and kept.price_list_code < ignored.price_list_code

),

final as (

    select *
    from pairs
    where
        (overlap_from is null or overlap_until is null or overlap_from <= overlap_until)
        and (overlap_until is null or overlap_until >= {{ pt2qe_date('as_of') }})

)

select * from final
