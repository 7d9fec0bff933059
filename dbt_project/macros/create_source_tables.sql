{#-
    Development / CI helper, never part of a pipeline run:
        dbt run-operation create_source_tables
    creates the schemas and tables of the sources (`raw`, `inputs`) when they do not
    exist, empty, with the column types declared in the sources YAML (the source
    contract). It lets `dbt run --empty` and the unit tests work on a database that has
    no loaded data. An existing table is never altered.
-#}
{% macro create_source_tables() %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set statements = [] -%}
    {%- set schemas = [] -%}
    {%- for source in graph.sources.values() if source.package_name == project_name -%}
        {%- if source.schema not in schemas -%}
            {%- do schemas.append(source.schema) -%}
            {%- do statements.append('create schema if not exists ' ~ adapter.quote(source.schema)) -%}
        {%- endif -%}
        {%- set columns = [] -%}
        {%- for column in source.columns.values() -%}
            {%- if not column.data_type -%}
                {{ exceptions.raise_compiler_error('source ' ~ source.source_name ~ '.' ~ source.name ~ ': column ' ~ column.name ~ ' has no data_type') }}
            {%- endif -%}
            {%- do columns.append(adapter.quote(column.name) ~ ' ' ~ column.data_type) -%}
        {%- endfor -%}
        {%- do statements.append('create table if not exists ' ~ adapter.quote(source.schema) ~ '.' ~ adapter.quote(source.identifier)
            ~ ' (' ~ columns | join(', ') ~ ')') -%}
    {%- endfor -%}
    {%- for statement in statements -%}
        {%- do run_query(statement) -%}
        {{ log(statement, info=True) }}
    {%- endfor -%}
    {%- do run_query('commit') -%}
{% endmacro %}
