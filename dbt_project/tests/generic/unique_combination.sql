{#- The combination of `columns` is unique, NULL compared equal to NULL (a cube key with
    GEO NULL appears once). -#}
{% test unique_combination(model, columns) %}
select
    {{ columns | join(', ') }},
    count(*) as nb_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
