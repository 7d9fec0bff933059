{#- Every row satisfies `expression` (a business rule written as a boolean SQL
    expression over the model's columns). Rows where it is false or NULL fail. -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
