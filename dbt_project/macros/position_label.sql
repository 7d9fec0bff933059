{#- Position of a price in a corridor (QUOTE_ENGINE_RULES.md 5.11), first true:
    ABOVE_PRB (> prb), PL1 (> b12), PL2 (> b23), PL3 (> b34), PL4 (> b45), PL5 (> b56),
    PL6 (> b6x), PLX (>= pas), BELOW_PAS.
    `prefix` is '' for the old bounds (prb_actif, borne_*, pas_actif) and 'new_' for the
    new ones (new_prb, new_borne_*, new_pas). -#}
{% macro position_label(price, prefix='') -%}
    {%- set prb = 'new_prb' if prefix == 'new_' else 'prb_actif' -%}
    {%- set pas = 'new_pas' if prefix == 'new_' else 'pas_actif' -%}
    case
        when {{ price }} > {{ prb }} then 'ABOVE_PRB'
        when {{ price }} > {{ prefix }}borne_pl1_pl2 then 'PL1'
        when {{ price }} > {{ prefix }}borne_pl2_pl3 then 'PL2'
        when {{ price }} > {{ prefix }}borne_pl3_pl4 then 'PL3'
        when {{ price }} > {{ prefix }}borne_pl4_pl5 then 'PL4'
        when {{ price }} > {{ prefix }}borne_pl5_pl6 then 'PL5'
        when {{ price }} > {{ prefix }}borne_pl6_plx then 'PL6'
        when {{ price }} >= {{ pas }} then 'PLX'
        else 'BELOW_PAS'
    end
{%- endmacro %}
