{#- A corridor's bounds are ordered PRB >= PL1_PL2 >= ... >= PL6_PLX >= PAS, old
    (prefix '') and new (prefix 'new_') alike (SOURCE_CONTRACT.md, PT1CE_OPTIMAL_ZOOM1). -#}
{% test bounds_ordered(model, prefix='') %}
{%- set prb = 'new_prb' if prefix == 'new_' else 'prb_actif' -%}
{%- set pas = 'new_pas' if prefix == 'new_' else 'pas_actif' -%}
select *
from {{ model }}
where not (
    {{ prb }} >= {{ prefix }}borne_pl1_pl2
    and {{ prefix }}borne_pl1_pl2 >= {{ prefix }}borne_pl2_pl3
    and {{ prefix }}borne_pl2_pl3 >= {{ prefix }}borne_pl3_pl4
    and {{ prefix }}borne_pl3_pl4 >= {{ prefix }}borne_pl4_pl5
    and {{ prefix }}borne_pl4_pl5 >= {{ prefix }}borne_pl5_pl6
    and {{ prefix }}borne_pl5_pl6 >= {{ prefix }}borne_pl6_plx
    and {{ prefix }}borne_pl6_plx >= {{ pas }}
)
{% endtest %}
