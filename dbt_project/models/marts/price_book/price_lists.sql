{{ config(tags=['final', 'price_book']) }}
{#- The price lists BI and resolve_price read (PRICE_BOOK_RULES.md, Tables): the pricing
    team's lists (inputs/price_lists/price_lists.csv) and the quote engine's customer
    lists PT2QE_<as_of>, one per published reference date.

    The list of this final run's reference date is (re)published from its offers; the
    earlier ones are carried forward from the published price book. The PT2QE lists form
    a chain in time: each is valid until the day before the next reference date; the
    first has no start date, each later one starts on its reference date. So exactly one
    PT2QE list applies on any date, and publishing the same run again gives the same
    rows. PT2QE lists: type customer, PRIORITY 100, EUR, excluding tax, no approval
    (only offers in price_book.publish_statuses are published). -#}
with

input_lists as (

    select * from {{ ref('stg_price_book__price_lists') }}

),

published_lists as (

    select * from {{ ref('stg_price_book__published_lists') }}

),

publication as (

    select * from {{ ref('int_final_offers__publication') }}

),

current_list as (

    select distinct
        price_list_code as code,
        as_of
    from publication
    where price_list_code is not null

),

engine_lists as (

    select
        code,
        as_of
    from current_list

    union all

    select
        published_lists.code,
        published_lists.as_of
    from published_lists
    where published_lists.code not in (select current_list.code from current_list)

),

engine_lists_chained as (

    select
        code,
        'PT2QE quote engine prices as of ' || to_char(as_of, 'YYYY-MM-DD') as name,  -- noqa: RF04
        'customer' as list_type,
        100 as priority,
        'EUR' as currency,
        false as includes_tax,
        case when row_number() over (order by as_of) > 1 then as_of end as valid_from,
        lead(as_of) over (order by as_of) - 1 as valid_until,
        true as is_active,
        false as requires_approval
    from engine_lists

),

final as (

    select
        code,
        name,
        list_type,
        priority,
        currency,
        includes_tax,
        valid_from,
        valid_until,
        is_active,
        requires_approval
    from input_lists

    union all

    select
        code,
        name,
        list_type,
        priority,
        currency,
        includes_tax,
        valid_from,
        valid_until,
        is_active,
        requires_approval
    from engine_lists_chained

)

select * from final
