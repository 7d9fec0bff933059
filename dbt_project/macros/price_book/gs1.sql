{#- GS1 identifiers of packs (PRICE_BOOK_RULES.md, Packs; seed 001 rule R006).

    The GS1 mod-10 check digit of a string of digits `body` of `length` digits: from
    the right, the digits are weighted 3, 1, 3, 1, ...; check = (10 - sum mod 10) mod 10.
    Worked example, body 400638133393 (GTIN-13 4006381333931): weights from the left
    1,3,1,3,... give 4+0+0+18+3+24+1+9+3+9+9+9 = 89, check = (10 - 9) mod 10 = 1.
    The sum is written out digit by digit (no subquery): it runs on millions of rows.
    Call it only on a body already known to be `length` digits. -#}
{% macro pt2qe_gs1_check_digit(body, length) -%}
    ((10 - ((
        {%- for position in range(1, length + 1) %}
        substr({{ body }}, {{ position }}, 1)::integer * {{ 3 if (length - position) % 2 == 0 else 1 }}
        {%- if not loop.last %} +{% endif %}
        {%- endfor %}
    ) % 10)) % 10)
{%- endmacro %}


{#- Status of a unit GTIN-13: VALID, MISSING (NULL or empty), WRONG_LENGTH (not 13
    characters), NOT_DIGITS (13 characters that are not all digits) or
    WRONG_CHECK_DIGIT (13 digits whose last is not the GS1 check digit of the first 12).
    Anything but VALID gives no GTIN-14 and is flagged. -#}
{% macro pt2qe_gtin13_status(gtin13) -%}
    case
        when {{ gtin13 }} is null or {{ gtin13 }} = '' then 'MISSING'
        when length({{ gtin13 }}) <> 13 then 'WRONG_LENGTH'
        when {{ gtin13 }} !~ '^[0-9]{13}$' then 'NOT_DIGITS'
        when substr({{ gtin13 }}, 13, 1)::integer <> {{ pt2qe_gs1_check_digit('left(' ~ gtin13 ~ ', 12)', 12) }}
            then 'WRONG_CHECK_DIGIT'
        else 'VALID'
    end
{%- endmacro %}


{#- GTIN-14 indicator digit of a pack (R006): 1 for 3 units, 2 for 6, 3 for 12; NULL for
    any other size (no GTIN-14). -#}
{% macro pt2qe_gtin14_indicator(pack_units) -%}
    case {{ pack_units }} when 3 then '1' when 6 then '2' when 12 then '3' end
{%- endmacro %}


{#- GTIN-14 of a pack: indicator digit, the first 12 digits of the unit's GTIN-13, then
    the GS1 check digit of those 13 digits. NULL unless the GTIN-13 is VALID and the
    pack size has an indicator. -#}
{% macro pt2qe_gtin14(gtin13, pack_units) -%}
    {%- set body = '(' ~ pt2qe_gtin14_indicator(pack_units) ~ ' || left(' ~ gtin13 ~ ', 12))' -%}
    case
        when ({{ pt2qe_gtin13_status(gtin13) }}) = 'VALID' and {{ pt2qe_gtin14_indicator(pack_units) }} is not null
            then {{ body }} || {{ pt2qe_gs1_check_digit(body, 13) }}::text
    end
{%- endmacro %}
