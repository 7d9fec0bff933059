{#-
    Run parameters (dbt vars) rendered into SQL. Every value is checked before it
    becomes SQL text: configuration never reaches the database unvalidated.
-#}

{#- A run value (reference date, period, run id, run date, corrections switch): from the
    environment variable PT2QE_RUN_<NAME> when the pipeline sets it, else the dbt var.
    The environment is read only while a node executes (`execute`): dbt records the
    environment variables read while parsing and parses again when they change, and these
    change every run (pt2qe_cosmos.RUN_VALUES). -#}
{% macro pt2qe_run_var(name, default=none) -%}
    {%- if execute -%}
        {%- set from_env = env_var('PT2QE_RUN_' ~ (name | upper), '') -%}
        {%- if from_env != '' -%}
            {{ return(from_env) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(var(name, default)) }}
{%- endmacro %}

{#- A required ISO date var, rendered as a date literal: date '2025-01-15'. -#}
{% macro pt2qe_date(name) -%}
    {%- set value = pt2qe_run_var(name, none) -%}
    {%- if value is none or (value is string and value | trim == '') -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error(
                "dbt var '" ~ name ~ "' is required (an ISO date 'YYYY-MM-DD'): pass it with "
                ~ "--vars '{as_of: ..., period_start: ..., period_end: ...}'") }}
        {%- endif -%}
        {%- set value = '1900-01-01' -%}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) -%}
        {{ exceptions.raise_compiler_error(
            "dbt var '" ~ name ~ "' must be an ISO date 'YYYY-MM-DD', got: " ~ (value | string)) }}
    {%- endif -%}
    {%- do modules.datetime.date.fromisoformat(text) -%}
    date '{{ text }}'
{%- endmacro %}

{#- A numeric var (int, float or decimal text), rendered as an exact numeric literal. -#}
{% macro pt2qe_number(name) -%}
    {%- set value = var(name) -%}
    {%- if value is boolean or value is none -%}
        {{ exceptions.raise_compiler_error("dbt var '" ~ name ~ "' must be a number, got: " ~ (value | string)) }}
    {%- endif -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.fullmatch('-?[0-9]+([.][0-9]+)?', text) -%}
        {{ exceptions.raise_compiler_error("dbt var '" ~ name ~ "' must be a decimal number such as 0.05, got: " ~ text) }}
    {%- endif -%}
    {{ text }}::numeric
{%- endmacro %}

{#- A boolean var: true/false, or the strings 'true'/'false' (any case), for --vars from a CLI. -#}
{% macro pt2qe_bool(name) -%}
    {%- set value = pt2qe_run_var(name) -%}
    {%- if value is boolean -%}
        {%- set text = 'true' if value else 'false' -%}
    {%- else -%}
        {%- set text = value | string | trim | lower -%}
    {%- endif -%}
    {%- if text not in ('true', 'false') -%}
        {{ exceptions.raise_compiler_error("dbt var '" ~ name ~ "' must be true or false, got: " ~ (value | string)) }}
    {%- endif -%}
    {{ text }}
{%- endmacro %}

{#- The RECO1/RECO2 selection rule, 'max' (default) or 'min', returned as text for Jinja. -#}
{% macro pt2qe_selection_rule() -%}
    {%- set value = var('selection_rule') | string | trim | lower -%}
    {%- if value not in ('max', 'min') -%}
        {{ exceptions.raise_compiler_error("dbt var 'selection_rule' must be 'max' or 'min', got: " ~ (var('selection_rule') | string)) }}
    {%- endif -%}
    {{ value }}
{%- endmacro %}

{#- A list of codes (filter lists) rendered as a text array, usable with = any(...).
    Each item must match ^[A-Za-z0-9 _.-]+$ ; quotes are doubled all the same. An empty
    list is allowed: `x = any(array[]::text[])` is false for every x. -#}
{% macro pt2qe_string_list(name) -%}
    {%- set values = var(name) -%}
    {%- if values is string or values is mapping or values is not iterable -%}
        {{ exceptions.raise_compiler_error("dbt var '" ~ name ~ "' must be a list of codes, got: " ~ (values | string)) }}
    {%- endif -%}
    {%- set literals = [] -%}
    {%- for value in values -%}
        {%- if value is not string or not modules.re.fullmatch('[A-Za-z0-9 _.-]+', value) -%}
            {{ exceptions.raise_compiler_error(
                "dbt var '" ~ name ~ "': item " ~ loop.index ~ " must match ^[A-Za-z0-9 _.\\-]+$, got: " ~ (value | string)) }}
        {%- endif -%}
        {%- do literals.append("'" ~ value | replace("'", "''") ~ "'") -%}
    {%- endfor -%}
    {%- if literals | length == 0 -%}
        array[]::text[]
    {%- else -%}
        array[{{ literals | join(', ') }}]::text[]
    {%- endif -%}
{%- endmacro %}

{#- A free text var (run_id) as a string literal: quotes doubled, control characters refused. -#}
{% macro pt2qe_text(name) -%}
    {%- set value = pt2qe_run_var(name) | string -%}
    {%- if modules.re.search('[\x00-\x1f\x7f\\\\]', value) -%}
        {{ exceptions.raise_compiler_error("dbt var '" ~ name ~ "' holds a control character or a backslash: " ~ value) }}
    {%- endif -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}
