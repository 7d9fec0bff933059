{{ config(tags=['final', 'price_book']) }}
{#- Each customer's commercial group (ID_TC_CG of SYS_MD_CLIENT): the key of the group
    level in resolve_price. In marts so that BI, which reads only marts, can call
    resolve_price. -#}
with

customers as (

    select * from {{ ref('stg_source__client') }}

),

final as (

    select
        id_cln,
        id_tc_cg as customer_group
    from customers

)

select * from final
