{#-
    RECO1_BASE (QUOTE_ENGINE_RULES.md section 5.2): the first matching rule of the dbt var
    `reco1_rules` (the configuration's recommendations.reco1_rules), rendered as a CASE.

    A rule is {position, condition, target}. `condition` is "DEFAULT" (last rule only, and
    the last rule must be it) or a comparison expression; `target` is one column or a
    number. Every token is checked against a whitelist before any SQL is written:
      columns   prix_tarif_actuel, pas_actif, prb_actif, borne_pl1_pl2 .. borne_pl6_plx,
                new_pas, new_prb, new_borne_pl1_pl2 .. new_borne_pl6_plx (any case)
      operators >  >=  <  <=  =  <>
      logic     AND  OR  (  )
      numbers   ^[0-9]+(\.[0-9]+)?$
    and the tokens must follow the grammar
      expr := term { (AND | OR) term } ;  term := "(" expr ")" | operand op operand
    Anything else (e.g. "1=1; DROP TABLE x") stops the compilation with an error.
-#}

{% macro reco1_allowed_columns() -%}
    {%- set bounds = ['pl1_pl2', 'pl2_pl3', 'pl3_pl4', 'pl4_pl5', 'pl5_pl6', 'pl6_plx'] -%}
    {%- set columns = ['prix_tarif_actuel', 'pas_actif', 'prb_actif', 'new_pas', 'new_prb'] -%}
    {%- for bound in bounds -%}
        {%- do columns.append('borne_' ~ bound) -%}
        {%- do columns.append('new_borne_' ~ bound) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- One operand (column or number) as SQL, or none when the token is not an operand. -#}
{% macro reco1_operand(token, relation_alias) -%}
    {%- if token | lower in reco1_allowed_columns() -%}
        {{ return((relation_alias ~ '.' if relation_alias else '') ~ token | lower) }}
    {%- elif modules.re.fullmatch('[0-9]+([.][0-9]+)?', token) -%}
        {{ return(token) }}
    {%- else -%}
        {{ return(none) }}
    {%- endif -%}
{%- endmacro %}

{#- A validated condition, as SQL text. -#}
{% macro reco1_condition(condition, rule_label, relation_alias) -%}
    {%- set tokens = modules.re.findall('>=|<=|<>|[()<>=]|[^\\s()<>=]+', condition) -%}
    {%- set comparators = ['>', '>=', '<', '<=', '=', '<>'] -%}
    {%- set ns = namespace(state='term', depth=0, sql=[]) -%}
    {%- if tokens | length == 0 -%}
        {{ exceptions.raise_compiler_error(rule_label ~ ": the condition is empty") }}
    {%- endif -%}
    {%- for token in tokens -%}
        {%- set operand = reco1_operand(token, relation_alias) -%}
        {%- set word = token | upper -%}
        {%- if ns.state == 'term' and token == '(' -%}
            {%- set ns.depth = ns.depth + 1 -%}
            {%- do ns.sql.append('(') -%}
        {%- elif ns.state == 'term' and operand is not none -%}
            {%- set ns.state = 'comparator' -%}
            {%- do ns.sql.append(operand) -%}
        {%- elif ns.state == 'comparator' and token in comparators -%}
            {%- set ns.state = 'right' -%}
            {%- do ns.sql.append(token) -%}
        {%- elif ns.state == 'right' and operand is not none -%}
            {%- set ns.state = 'after' -%}
            {%- do ns.sql.append(operand) -%}
        {%- elif ns.state == 'after' and word in ('AND', 'OR') -%}
            {%- set ns.state = 'term' -%}
            {%- do ns.sql.append(word | lower) -%}
        {%- elif ns.state == 'after' and token == ')' and ns.depth > 0 -%}
            {%- set ns.depth = ns.depth - 1 -%}
            {%- do ns.sql.append(')') -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error(
                rule_label ~ ": token " ~ loop.index ~ " '" ~ token ~ "' is not allowed here in condition '"
                ~ condition ~ "' (allowed: " ~ reco1_allowed_columns() | join(', ')
                ~ ", numbers, > >= < <= = <>, AND, OR, parentheses)") }}
        {%- endif -%}
    {%- endfor -%}
    {%- if ns.state != 'after' or ns.depth != 0 -%}
        {{ exceptions.raise_compiler_error(rule_label ~ ": condition '" ~ condition ~ "' is incomplete (unbalanced parentheses or a missing operand)") }}
    {%- endif -%}
    {{ return(ns.sql | join(' ')) }}
{%- endmacro %}

{% macro reco1_target(target, rule_label, relation_alias) -%}
    {%- set text = target | string | trim -%}
    {%- set operand = reco1_operand(text, relation_alias) -%}
    {%- if target is none or target is boolean or operand is none -%}
        {{ exceptions.raise_compiler_error(
            rule_label ~ ": target '" ~ (target | string) ~ "' must be one column ("
            ~ reco1_allowed_columns() | join(', ') ~ ") or a number") }}
    {%- endif -%}
    {{ return(operand) }}
{%- endmacro %}

{% macro reco1_case(relation_alias=none, rules=none) -%}
    {%- set rules = var('reco1_rules') if rules is none else rules -%}
    {%- if rules is string or rules is mapping or rules is not iterable or rules | length == 0 -%}
        {{ exceptions.raise_compiler_error("dbt var 'reco1_rules' must be a non-empty list of {position, condition, target}") }}
    {%- endif -%}
    {%- set whens = [] -%}
    {%- set ns = namespace(default=none) -%}
    {%- for rule in rules -%}
        {%- set rule_label = "reco1_rules[" ~ loop.index ~ "]" -%}
        {%- if rule is not mapping or 'condition' not in rule or 'target' not in rule -%}
            {{ exceptions.raise_compiler_error(rule_label ~ " must have a condition and a target, got: " ~ (rule | string)) }}
        {%- endif -%}
        {%- if rule['condition'] is not string -%}
            {{ exceptions.raise_compiler_error(rule_label ~ ": the condition must be text, got: " ~ (rule['condition'] | string)) }}
        {%- endif -%}
        {%- set target_sql = reco1_target(rule['target'], rule_label, relation_alias) -%}
        {%- if rule['condition'] | trim | upper == 'DEFAULT' -%}
            {%- if not loop.last -%}
                {{ exceptions.raise_compiler_error(rule_label ~ ": DEFAULT is only allowed as the last rule") }}
            {%- endif -%}
            {%- set ns.default = target_sql -%}
        {%- else -%}
            {%- if loop.last -%}
                {{ exceptions.raise_compiler_error(rule_label ~ ": the last rule must be DEFAULT") }}
            {%- endif -%}
            {%- do whens.append('when ' ~ reco1_condition(rule['condition'], rule_label, relation_alias) ~ ' then ' ~ target_sql) -%}
        {%- endif -%}
    {%- endfor -%}
    (case
        {%- for when in whens %}
        {{ when }}
        {%- endfor %}
        else {{ ns.default }}
    end)::numeric
{%- endmacro %}
