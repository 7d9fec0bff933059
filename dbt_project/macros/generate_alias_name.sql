{#- Test relations (store_failures views in schema audit) must fit PostgreSQL's 63-character
    names: a long test name is cut and suffixed with a hash of the whole name. -#}
{% macro generate_alias_name(custom_alias_name=none, node=none) -%}
    {%- if custom_alias_name -%}
        {{ custom_alias_name | trim }}
    {%- elif node.resource_type == 'test' and node.name | length > 60 -%}
        {{ node.name[:50] ~ '_' ~ local_md5(node.name)[:8] }}
    {%- elif node.version -%}
        {{ node.name ~ '_v' ~ (node.version | replace('.', '_')) }}
    {%- else -%}
        {{ node.name }}
    {%- endif -%}
{%- endmacro %}
