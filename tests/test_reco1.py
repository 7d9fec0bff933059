"""The reco1 rule grammar: the shipped rules pass, anything outside the grammar is refused."""

from __future__ import annotations

import pytest
from pt2qe.reco1 import (
    COLUMNS,
    Reco1Rule,
    Reco1RuleError,
    parse_condition,
    parse_rules,
    parse_target,
)

# The seed's table, as shipped in config/pt2qe_config.json (action and comment included:
# they are free text that never reaches SQL).
DEFAULT_RULES = [
    {"position": "ABOVE_PL1", "condition": "PRIX_TARIF_ACTUEL > NEW_BORNE_PL1_PL2",
     "action": "NO_CHANGE", "target": "PRIX_TARIF_ACTUEL",
     "comment": "Prix déjà en PL1, pas de changement"},
    {"position": "PL1_PL2", "condition": "PRIX_TARIF_ACTUEL > NEW_BORNE_PL2_PL3",
     "action": "TO_PL1", "target": "NEW_BORNE_PL1_PL2", "comment": "Remonter vers PL1"},
    {"position": "PL2_PL3", "condition": "PRIX_TARIF_ACTUEL > NEW_BORNE_PL3_PL4",
     "action": "TO_PL1", "target": "NEW_BORNE_PL1_PL2", "comment": "Remonter vers PL1"},
    {"position": "PL3_PL4", "condition": "PRIX_TARIF_ACTUEL > NEW_BORNE_PL4_PL5",
     "action": "TO_PL2", "target": "NEW_BORNE_PL2_PL3", "comment": "Remonter vers PL2"},
    {"position": "PL4_PL5", "condition": "PRIX_TARIF_ACTUEL > NEW_BORNE_PL5_PL6",
     "action": "TO_PL3", "target": "NEW_BORNE_PL3_PL4", "comment": "Remonter vers PL3"},
    {"position": "PL5_PL6", "condition": "PRIX_TARIF_ACTUEL > NEW_BORNE_PL6_PLX",
     "action": "TO_PL5", "target": "NEW_BORNE_PL5_PL6", "comment": "Remonter vers PL5"},
    {"position": "PL6_PLX", "condition": "PRIX_TARIF_ACTUEL >= NEW_PAS",
     "action": "TO_PL6", "target": "NEW_BORNE_PL6_PLX", "comment": "Remonter vers PL6"},
    {"position": "BELOW_PAS", "condition": "DEFAULT",
     "action": "TO_PAS", "target": "NEW_PAS", "comment": "Remonter au PAS minimum"},
]  # fmt: skip

KEY = "recommendations.reco1_rules[2].condition"


def test_default_rules_parse_to_the_seed_table():
    assert parse_rules(DEFAULT_RULES) == [
        Reco1Rule("ABOVE_PL1", "PRIX_TARIF_ACTUEL > NEW_BORNE_PL1_PL2", "PRIX_TARIF_ACTUEL"),
        Reco1Rule("PL1_PL2", "PRIX_TARIF_ACTUEL > NEW_BORNE_PL2_PL3", "NEW_BORNE_PL1_PL2"),
        Reco1Rule("PL2_PL3", "PRIX_TARIF_ACTUEL > NEW_BORNE_PL3_PL4", "NEW_BORNE_PL1_PL2"),
        Reco1Rule("PL3_PL4", "PRIX_TARIF_ACTUEL > NEW_BORNE_PL4_PL5", "NEW_BORNE_PL2_PL3"),
        Reco1Rule("PL4_PL5", "PRIX_TARIF_ACTUEL > NEW_BORNE_PL5_PL6", "NEW_BORNE_PL3_PL4"),
        Reco1Rule("PL5_PL6", "PRIX_TARIF_ACTUEL > NEW_BORNE_PL6_PLX", "NEW_BORNE_PL5_PL6"),
        Reco1Rule("PL6_PLX", "PRIX_TARIF_ACTUEL >= NEW_PAS", "NEW_BORNE_PL6_PLX"),
        Reco1Rule("BELOW_PAS", "DEFAULT", "NEW_PAS"),
    ]


def test_rule_as_dict_has_exactly_position_condition_target():
    rule = parse_rules(DEFAULT_RULES)[6]
    assert rule.as_dict() == {
        "position": "PL6_PLX",
        "condition": "PRIX_TARIF_ACTUEL >= NEW_PAS",
        "target": "NEW_BORNE_PL6_PLX",
    }
    assert not rule.is_default
    assert parse_rules(DEFAULT_RULES)[7].is_default


def test_seventeen_columns_are_allowed():
    assert len(COLUMNS) == 17
    assert {"PRIX_TARIF_ACTUEL", "PAS_ACTIF", "PRB_ACTIF", "NEW_PAS", "NEW_PRB"} <= COLUMNS
    assert "LC_ATTRIBUT" not in COLUMNS


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        # case, spacing and the seed's `ed.` prefix are normalised away
        ("ed.prix_tarif_actuel>=new_pas", "PRIX_TARIF_ACTUEL >= NEW_PAS"),
        ("  PRIX_TARIF_ACTUEL\t>\n1.5  ", "PRIX_TARIF_ACTUEL > 1.5"),
        # != is written <>
        ("PAS_ACTIF != 0", "PAS_ACTIF <> 0"),
        ("PAS_ACTIF<>0", "PAS_ACTIF <> 0"),
        # AND / OR / parentheses keep their structure
        (
            "(prix_tarif_actuel > borne_pl1_pl2 and prix_tarif_actuel <= prb_actif) "
            "or NEW_PRB < 10",
            "( PRIX_TARIF_ACTUEL > BORNE_PL1_PL2 AND PRIX_TARIF_ACTUEL <= PRB_ACTIF ) "
            "OR NEW_PRB < 10",
        ),
        ("((NEW_PAS = PAS_ACTIF))", "( ( NEW_PAS = PAS_ACTIF ) )"),
        ("0 < NEW_BORNE_PL6_PLX", "0 < NEW_BORNE_PL6_PLX"),
    ],
)
def test_condition_canonical_text(text, canonical):
    assert parse_condition(text, KEY) == canonical


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("new_borne_pl2_pl3", "NEW_BORNE_PL2_PL3"), ("ed.NEW_PAS", "NEW_PAS"), (" 12.50 ", "12.50")],
)
def test_target_canonical_text(text, canonical):
    assert parse_target(text, "recommendations.reco1_rules[0].target") == canonical


def refused_condition(text: str) -> Reco1RuleError:
    with pytest.raises(Reco1RuleError) as info:
        parse_condition(text, KEY)
    message = str(info.value)
    assert message.startswith(f"{KEY}: ")
    assert "expected" in message
    assert info.value.key_path == KEY
    return info.value


def test_error_is_a_value_error():
    assert issubclass(Reco1RuleError, ValueError)


def test_sql_injection_with_semicolon_is_refused():
    error = refused_condition("1=1; DROP TABLE x")
    assert error.position == 4
    assert "';'" in str(error)
    assert "statement separators" in str(error)
    assert "at character 4" in str(error)
    assert "'1=1; DROP TABLE x'" in str(error)


def test_sql_comment_is_refused():
    error = refused_condition("PRIX_TARIF_ACTUEL > 1 --")
    assert error.position == 23
    assert "comments (--)" in str(error)
    assert "comparison operators" in error.expected


def test_block_comment_is_refused():
    error = refused_condition("PRIX_TARIF_ACTUEL > 1 /* x */")
    assert error.position == 23
    assert "'/'" in error.found


def test_function_call_is_refused():
    error = refused_condition("pg_sleep(1)")
    assert error.position == 1
    assert "function call 'pg_sleep('" in str(error)
    assert "function calls are not allowed" in str(error)


def test_function_call_inside_a_comparison_is_refused():
    error = refused_condition("PRIX_TARIF_ACTUEL > ed.pg_sleep (1)")
    assert error.position == 21
    assert "function call" in error.found


def test_single_quotes_are_refused():
    error = refused_condition("PRIX_TARIF_ACTUEL > '1' OR '1'='1'")
    assert error.position == 21
    assert "quoted text is not allowed" in error.found


def test_double_quotes_are_refused():
    error = refused_condition('"PRIX_TARIF_ACTUEL" > 1')
    assert error.position == 1
    assert "quoted names" in error.found


def test_unknown_column_is_refused_and_the_allowed_ones_listed():
    error = refused_condition("PRIX_TARIF_ACTUEL > LC_ATTRIBUT")
    assert error.position == 21
    assert error.found == "the unknown name 'LC_ATTRIBUT'"
    assert "NEW_BORNE_PL6_PLX" in error.expected
    assert "PRIX_TARIF_ACTUEL" in error.expected


def test_sql_keyword_is_an_unknown_name():
    error = refused_condition("NOT PRIX_TARIF_ACTUEL > 1")
    assert error.found == "the unknown name 'NOT'"


def test_empty_condition_is_refused():
    error = refused_condition("   ")
    assert error.found == "an empty condition"
    assert "comparisons between price/bound columns and numbers" in error.expected


def test_unclosed_parenthesis_is_refused():
    error = refused_condition("(PRIX_TARIF_ACTUEL > 1")
    assert error.position == 23
    assert "')' to close the '(' at character 1" in error.expected
    assert "unbalanced parentheses" in error.found


def test_extra_closing_parenthesis_is_refused():
    error = refused_condition("PRIX_TARIF_ACTUEL > 1)")
    assert error.position == 22
    assert "without a matching '('" in error.found


def test_dangling_comparison_operator_is_refused():
    error = refused_condition("PRIX_TARIF_ACTUEL >")
    assert error.position == 20
    assert "dangling operator" in error.found
    assert error.expected.startswith("a price or bound column")


def test_dangling_and_is_refused():
    error = refused_condition("PRIX_TARIF_ACTUEL > 1 AND")
    assert "dangling operator" in error.found
    assert "to start a comparison" in error.expected


def test_comparison_between_two_booleans_is_refused():
    error = refused_condition("(PAS_ACTIF > 1) = (NEW_PAS > 2)")
    assert error.position == 17
    assert "comparing boolean conditions" in error.found
    assert error.expected == "AND, OR or the end of the condition"


def test_comparison_with_a_boolean_on_the_right_is_refused():
    error = refused_condition("PAS_ACTIF = (NEW_PAS > 2)")
    assert error.position == 13
    assert "not a parenthesised expression or a boolean condition" in error.found


def test_chained_comparison_is_refused():
    error = refused_condition("PAS_ACTIF > 1 > 0")
    assert error.position == 15
    assert "chaining comparisons" in error.found


def test_bare_column_is_not_a_condition():
    error = refused_condition("PAS_ACTIF")
    assert "a comparison operator" in error.expected
    assert error.found == "the end of the text"


def test_bare_number_is_not_a_condition():
    error = refused_condition("1")
    assert "a comparison operator" in error.expected


def test_arithmetic_is_refused():
    error = refused_condition("PRIX_TARIF_ACTUEL > NEW_PAS * 1.1")
    assert error.position == 29
    assert "arithmetic is not allowed" in error.found


def test_negative_number_is_refused():
    error = refused_condition("PRIX_TARIF_ACTUEL > -1")
    assert error.position == 21


def test_number_with_exponent_is_refused():
    error = refused_condition("PRIX_TARIF_ACTUEL > 1e5")
    assert error.found == "'1e5'"
    assert "unsigned decimal number" in error.expected


def test_decimal_comma_is_refused():
    error = refused_condition("PRIX_TARIF_ACTUEL > 1,5")
    assert "write decimals with a dot" in error.found


def test_non_ascii_lookalike_operator_is_refused():
    error = refused_condition("PRIX_TARIF_ACTUEL ＞ 1")
    assert error.position == 19


def test_default_inside_a_condition_is_refused():
    error = refused_condition("PAS_ACTIF > 1 OR DEFAULT")
    assert "DEFAULT must be the whole condition" in error.found


def rules_with(condition: str, target: str = "NEW_PAS") -> list[dict]:
    rules = [dict(rule) for rule in DEFAULT_RULES]
    rules[2]["condition"] = condition
    rules[2]["target"] = target
    return rules


def test_parse_rules_names_the_rule_in_the_key_path():
    with pytest.raises(Reco1RuleError) as info:
        parse_rules(rules_with("1=1; DROP TABLE x"))
    assert str(info.value).startswith(
        "recommendations.reco1_rules[2].condition: '1=1; DROP TABLE x' at character 4: expected "
    )


@pytest.mark.parametrize(
    ("target", "found"),
    [
        ("NEW_PAS + 1", "arithmetic is not allowed"),
        ("NEW_PAS NEW_PRB", "more after 'NEW_PAS'"),
        ("", "an empty target"),
        ("DEFAULT", "'DEFAULT'"),
        ("(NEW_PAS)", "'('"),
        ("PRIX_TARIF_ACTUEL > 1", "more after 'PRIX_TARIF_ACTUEL'"),
        ("upper(NEW_PAS)", "function call"),
        ("'x'", "quoted text"),
    ],
)
def test_bad_target_is_refused(target, found):
    with pytest.raises(Reco1RuleError) as info:
        parse_rules(rules_with("PAS_ACTIF > 0", target))
    assert info.value.key_path == "recommendations.reco1_rules[2].target"
    assert found in info.value.found
    assert str(info.value).startswith("recommendations.reco1_rules[2].target: ")
    assert "expected" in str(info.value)


def test_last_rule_must_be_default():
    rules = [dict(rule) for rule in DEFAULT_RULES]
    rules[7]["condition"] = "PRIX_TARIF_ACTUEL > 0"
    with pytest.raises(Reco1RuleError) as info:
        parse_rules(rules)
    assert info.value.key_path == "recommendations.reco1_rules[7].condition"
    assert "the condition DEFAULT on the last rule" in info.value.expected
    assert info.value.found == "'PRIX_TARIF_ACTUEL > 0'"


def test_default_only_on_the_last_rule():
    with pytest.raises(Reco1RuleError) as info:
        parse_rules(rules_with("DEFAULT"))
    assert info.value.key_path == "recommendations.reco1_rules[2].condition"
    assert "only allowed as the whole condition of the last rule" in info.value.found


def test_default_is_case_insensitive_on_the_last_rule():
    rules = [{"position": "ALL", "condition": " default ", "target": "new_pas"}]
    assert parse_rules(rules) == [Reco1Rule("ALL", "DEFAULT", "NEW_PAS")]


def test_empty_rule_list_is_refused():
    with pytest.raises(Reco1RuleError) as info:
        parse_rules([])
    assert info.value.key_path == "recommendations.reco1_rules"
    assert "at least one rule" in info.value.expected


def test_missing_target_is_refused():
    rules = [dict(rule) for rule in DEFAULT_RULES]
    del rules[1]["target"]
    with pytest.raises(Reco1RuleError) as info:
        parse_rules(rules)
    assert info.value.key_path == "recommendations.reco1_rules[1].target"


def test_non_text_condition_is_refused():
    with pytest.raises(Reco1RuleError) as info:
        parse_rules(rules_with(1))  # type: ignore[arg-type]
    assert info.value.key_path == "recommendations.reco1_rules[2].condition"
    assert info.value.found == "a value of type int: 1"


def test_position_name_is_checked():
    rules = [dict(rule) for rule in DEFAULT_RULES]
    rules[0]["position"] = "X'); DROP TABLE y; --"
    with pytest.raises(Reco1RuleError) as info:
        parse_rules(rules)
    assert info.value.key_path == "recommendations.reco1_rules[0].position"
    assert "letters, digits and '_'" in info.value.expected


def test_overlong_condition_is_refused():
    with pytest.raises(Reco1RuleError) as info:
        parse_condition("PAS_ACTIF > 1 AND " * 100 + "PAS_ACTIF > 1", KEY)
    assert "at most 1000 characters" in info.value.expected
