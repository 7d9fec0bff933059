{#- The VALIDATION_STATUS values whose offers are published (config
    price_book.publish_statuses, passed as the dbt var `publish_statuses`; default
    ['VALIDE']), rendered as a text array for `= any(...)`. Each value must match
    ^[A-Za-z0-9 _.-]+$ (checked before it becomes SQL); an empty list publishes nothing. -#}
{% macro pt2qe_publish_statuses() -%}
    {%- set values = var('publish_statuses', ['VALIDE']) -%}
    {%- if values is string or values is mapping or values is not iterable -%}
        {{ exceptions.raise_compiler_error("dbt var 'publish_statuses' must be a list of statuses, got: " ~ (values | string)) }}
    {%- endif -%}
    {%- set literals = [] -%}
    {%- for value in values -%}
        {%- if value is not string or not modules.re.fullmatch('[A-Za-z0-9 _.-]+', value) -%}
            {{ exceptions.raise_compiler_error(
                "dbt var 'publish_statuses': item " ~ loop.index ~ " must match ^[A-Za-z0-9 _.\\-]+$, got: " ~ (value | string)) }}
        {%- endif -%}
        {%- do literals.append("'" ~ value ~ "'") -%}
    {%- endfor -%}
    {%- if literals | length == 0 -%}
        array[]::text[]
    {%- else -%}
        array[{{ literals | join(', ') }}]::text[]
    {%- endif -%}
{%- endmacro %}
