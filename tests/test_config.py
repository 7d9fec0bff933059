"""The configuration file: the shipped one loads; every kind of mistake names its key."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from pt2qe.config import (
    Config,
    ConfigError,
    CsvDialect,
    default_config_path,
    load_config,
    project_root,
)
from pt2qe.reco1 import Reco1Rule

SHIPPED = Path(__file__).resolve().parents[1] / "config" / "pt2qe_config.json"

EXPECTED_DBT_VARS = {
    "capping_default_high": 0.05,
    "capping_default_medium": 0.15,
    "capping_default_low": 0.20,
    "capping_basiques": 0.50,
    "selection_rule": "max",
    "validation_max_increase": 0.20,
    "filter_condition_types": ["ZFAP", "ZFSP", "ZIAP", "ZISP"],
    "filter_sequences": ["A305", "A565"],
    "filter_excluded_customer_groups": ["AUTRES"],
    "filter_excluded_gmm": ["PSN"],
    "filter_excluded_hierarchy_n2": ["Divers", "Freezer"],
    "reco1_rules": [
        {"position": "ABOVE_PL1", "condition": "PRIX_TARIF_ACTUEL > NEW_BORNE_PL1_PL2",
         "target": "PRIX_TARIF_ACTUEL"},
        {"position": "PL1_PL2", "condition": "PRIX_TARIF_ACTUEL > NEW_BORNE_PL2_PL3",
         "target": "NEW_BORNE_PL1_PL2"},
        {"position": "PL2_PL3", "condition": "PRIX_TARIF_ACTUEL > NEW_BORNE_PL3_PL4",
         "target": "NEW_BORNE_PL1_PL2"},
        {"position": "PL3_PL4", "condition": "PRIX_TARIF_ACTUEL > NEW_BORNE_PL4_PL5",
         "target": "NEW_BORNE_PL2_PL3"},
        {"position": "PL4_PL5", "condition": "PRIX_TARIF_ACTUEL > NEW_BORNE_PL5_PL6",
         "target": "NEW_BORNE_PL3_PL4"},
        {"position": "PL5_PL6", "condition": "PRIX_TARIF_ACTUEL > NEW_BORNE_PL6_PLX",
         "target": "NEW_BORNE_PL5_PL6"},
        {"position": "PL6_PLX", "condition": "PRIX_TARIF_ACTUEL >= NEW_PAS",
         "target": "NEW_BORNE_PL6_PLX"},
        {"position": "BELOW_PAS", "condition": "DEFAULT", "target": "NEW_PAS"},
    ],
    "publish_statuses": ["VALIDE"],
}  # fmt: skip


@pytest.fixture
def shipped_raw() -> dict:
    return json.loads(SHIPPED.read_text(encoding="utf-8"))


def write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "pt2qe_config.json"
    path.write_text(json.dumps(raw, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def refused(tmp_path: Path, raw: dict) -> ConfigError:
    path = write(tmp_path, raw)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: ")
    assert info.value.file == str(path)
    return info.value


# --- the shipped file -------------------------------------------------------------------


def test_shipped_file_loads_with_typed_sections():
    config = load_config(SHIPPED)
    assert isinstance(config, Config)
    assert config.processing.batch_size == 100000
    assert config.processing.parallel_degree == 8
    assert config.extraction.fetch_size == 50000
    assert config.extraction.condition_types == ("ZFAP", "ZFSP", "ZIAP", "ZISP")
    assert config.capping.default_high == 0.05
    assert config.capping.allow_overrides is True
    assert config.recommendations.selection_rule == "max"
    assert config.recommendations.reco1_rules[0] == Reco1Rule(
        "ABOVE_PL1", "PRIX_TARIF_ACTUEL > NEW_BORNE_PL1_PL2", "PRIX_TARIF_ACTUEL"
    )
    assert config.output.decimal_places == 3
    assert config.output.percentage_format == 2
    assert config.raw["capping"]["basiques"] == 0.50


def test_shipped_dbt_vars_are_the_expected_plain_json():
    vars_ = load_config(SHIPPED).dbt_vars()
    assert vars_ == EXPECTED_DBT_VARS
    assert list(vars_) == list(EXPECTED_DBT_VARS)
    assert all(type(v) is float for k, v in vars_.items() if k.startswith("capping_"))
    assert json.loads(json.dumps(vars_)) == vars_


def test_csv_dialect_comes_from_output():
    config = load_config(SHIPPED)
    assert config.csv_dialect == CsvDialect(separator=";", decimal=",", encoding="cp1252")
    assert config.output.dialect == config.csv_dialect


def test_config_is_frozen():
    config = load_config(SHIPPED)
    with pytest.raises(AttributeError):
        config.capping.default_high = 0.9  # type: ignore[misc]


def test_default_path_is_the_project_config(monkeypatch):
    monkeypatch.delenv("PT2QE_CONFIG", raising=False)
    assert default_config_path() == project_root() / "config" / "pt2qe_config.json"
    assert default_config_path().resolve() == SHIPPED
    assert load_config().dbt_vars() == EXPECTED_DBT_VARS


def test_environment_variable_chooses_the_file(tmp_path, monkeypatch, shipped_raw):
    shipped_raw["capping"]["default_high"] = 0.07
    path = write(tmp_path, shipped_raw)
    monkeypatch.setenv("PT2QE_CONFIG", str(path))
    assert load_config().capping.default_high == 0.07


def test_error_for_the_shipped_file_shows_the_project_relative_path(monkeypatch):
    # Errors on the project's own file read `config/pt2qe_config.json: ...`.
    from pt2qe import config as config_module

    monkeypatch.setattr(
        config_module, "_schema_problems", lambda raw: [("capping.default_high", "boom")]
    )
    with pytest.raises(ConfigError) as info:
        load_config(SHIPPED)
    assert str(info.value) == "config/pt2qe_config.json: capping.default_high: boom"


# --- refused files ----------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert (
        str(info.value) == f"{path}: configuration file not found (set PT2QE_CONFIG or create it)"
    )


def test_json_syntax_error_names_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        '{\n  "processing": {\n    "batch_size": 100000\n    "parallel_degree": 8\n', "utf-8"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (f"{path}: line 4, column 5: invalid JSON: Expecting ',' delimiter")


def test_nan_is_not_a_number(tmp_path):
    path = tmp_path / "nan.json"
    path.write_text(
        SHIPPED.read_text("utf-8").replace('"default_high": 0.05', '"default_high": NaN')
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "NaN is not a valid JSON number" in str(info.value)


def test_duplicate_key_is_refused(tmp_path):
    path = tmp_path / "dup.json"
    text = SHIPPED.read_text("utf-8").replace(
        '"default_high": 0.05,', '"default_high": 0.05,\n    "default_high": 0.9,'
    )
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key_path == "default_high"
    assert "appears twice" in str(info.value)


def test_unknown_top_level_key(tmp_path, shipped_raw):
    shipped_raw["procesing"] = {}
    error = refused(tmp_path, shipped_raw)
    assert error.problems == [
        (
            "procesing",
            "unknown key 'procesing'; expected one of: capping, extraction, notifications, "
            "output, price_book, price_registry, processing, recommendations",
        )
    ]


def test_unknown_nested_key(tmp_path, shipped_raw):
    shipped_raw["capping"]["default_hihg"] = 0.1
    error = refused(tmp_path, shipped_raw)
    assert error.key_path == "capping.default_hihg"
    assert "unknown key 'default_hihg'" in str(error)


def test_unknown_key_in_a_rule(tmp_path, shipped_raw):
    shipped_raw["recommendations"]["reco1_rules"][3]["sql"] = "DROP TABLE x"
    error = refused(tmp_path, shipped_raw)
    assert error.key_path == "recommendations.reco1_rules[3].sql"
    assert "unknown key 'sql'" in str(error)


def test_missing_key(tmp_path, shipped_raw):
    del shipped_raw["extraction"]["fetch_size"]
    error = refused(tmp_path, shipped_raw)
    assert error.problems == [("extraction.fetch_size", "missing required key 'fetch_size'")]


def test_wrong_type(tmp_path, shipped_raw):
    shipped_raw["processing"]["batch_size"] = "100000"
    error = refused(tmp_path, shipped_raw)
    assert error.problems == [
        ("processing.batch_size", 'expected an integer, found "100000" (a string)')
    ]


def test_boolean_is_not_a_number(tmp_path, shipped_raw):
    shipped_raw["capping"]["basiques"] = True
    error = refused(tmp_path, shipped_raw)
    assert error.problems == [("capping.basiques", "expected a number, found true (true or false)")]


def test_list_expected(tmp_path, shipped_raw):
    shipped_raw["extraction"]["sequences"] = "A305"
    error = refused(tmp_path, shipped_raw)
    assert error.key_path == "extraction.sequences"
    assert 'expected a list, found "A305"' in str(error)


def test_cap_above_one(tmp_path, shipped_raw):
    shipped_raw["capping"]["default_high"] = 1.5
    path = write(tmp_path, shipped_raw)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: capping.default_high: 1.5 is greater than the maximum of 1"


def test_negative_cap(tmp_path, shipped_raw):
    shipped_raw["capping"]["default_low"] = -0.1
    error = refused(tmp_path, shipped_raw)
    assert error.problems == [("capping.default_low", "-0.1 is less than the minimum of 0")]


def test_decimal_places_out_of_range(tmp_path, shipped_raw):
    shipped_raw["output"]["decimal_places"] = 7
    shipped_raw["output"]["percentage_format"] = -1
    error = refused(tmp_path, shipped_raw)
    assert error.problems == [
        ("output.decimal_places", "7 is greater than the maximum of 6"),
        ("output.percentage_format", "-1 is less than the minimum of 0"),
    ]


def test_selection_rule_enum(tmp_path, shipped_raw):
    shipped_raw["recommendations"]["selection_rule"] = "avg"
    error = refused(tmp_path, shipped_raw)
    assert error.problems == [
        ("recommendations.selection_rule", 'expected one of "max", "min", found "avg"')
    ]


def test_separator_must_be_one_of_the_known(tmp_path, shipped_raw):
    shipped_raw["output"]["csv_separator"] = ";;"
    error = refused(tmp_path, shipped_raw)
    assert error.key_path == "output.csv_separator"
    assert 'expected one of ";", ",", "|", "\\t", found ";;"' in str(error)


def test_encoding_enum(tmp_path, shipped_raw):
    shipped_raw["output"]["csv_encoding"] = "latin-1"
    error = refused(tmp_path, shipped_raw)
    assert error.key_path == "output.csv_encoding"
    assert '"cp1252", "utf-8-sig", "utf-8"' in str(error)


def test_decimal_separator_different_from_separator(tmp_path, shipped_raw):
    shipped_raw["output"]["csv_separator"] = ","
    error = refused(tmp_path, shipped_raw)
    assert error.key_path == "output.decimal_separator"
    assert "different from the CSV separator" in str(error)


def test_dot_decimal_with_comma_separator_is_fine(tmp_path, shipped_raw):
    shipped_raw["output"].update(csv_separator=",", decimal_separator=".", csv_encoding="utf-8-sig")
    config = load_config(write(tmp_path, shipped_raw))
    assert config.csv_dialect == CsvDialect(",", ".", "utf-8-sig")


def test_filter_value_with_sql_characters(tmp_path, shipped_raw):
    shipped_raw["extraction"]["excluded_gmm"] = ["PSN", "x') OR 1=1 --"]
    error = refused(tmp_path, shipped_raw)
    assert error.key_path == "extraction.excluded_gmm[1]"
    assert "characters that are not allowed" in str(error)


def test_empty_inclusion_filter_is_refused(tmp_path, shipped_raw):
    shipped_raw["extraction"]["condition_types"] = []
    error = refused(tmp_path, shipped_raw)
    assert error.key_path == "extraction.condition_types"
    assert "should be non-empty" in str(error)


def test_empty_exclusion_list_is_fine(tmp_path, shipped_raw):
    shipped_raw["extraction"]["excluded_gmm"] = []
    assert load_config(write(tmp_path, shipped_raw)).dbt_vars()["filter_excluded_gmm"] == []


def test_several_problems_are_all_reported(tmp_path, shipped_raw):
    shipped_raw["capping"]["default_high"] = 2
    shipped_raw["output"]["colour"] = "red"
    error = refused(tmp_path, shipped_raw)
    assert [key for key, _ in error.problems] == ["capping.default_high", "output.colour"]
    assert len(str(error).splitlines()) == 2


def test_top_level_must_be_an_object(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("[]", "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: (top level): expected an object, found [] (a list)"


def test_bad_reco1_condition_names_the_rule(tmp_path, shipped_raw):
    shipped_raw["recommendations"]["reco1_rules"][2]["condition"] = "1=1; DROP TABLE x"
    error = refused(tmp_path, shipped_raw)
    assert error.key_path == "recommendations.reco1_rules[2].condition"
    assert str(error).startswith(
        f"{tmp_path / 'pt2qe_config.json'}: recommendations.reco1_rules[2].condition: "
        "'1=1; DROP TABLE x' at character 4: expected only price/bound columns"
    )


def test_bad_reco1_target_names_the_rule(tmp_path, shipped_raw):
    shipped_raw["recommendations"]["reco1_rules"][0]["target"] = "pg_sleep(10)"
    error = refused(tmp_path, shipped_raw)
    assert error.key_path == "recommendations.reco1_rules[0].target"
    assert "function call" in str(error)


def test_last_rule_not_default(tmp_path, shipped_raw):
    shipped_raw["recommendations"]["reco1_rules"].pop()
    error = refused(tmp_path, shipped_raw)
    assert error.key_path == "recommendations.reco1_rules[6].condition"
    assert "the condition DEFAULT on the last rule" in str(error)


def test_rule_condition_must_be_text(tmp_path, shipped_raw):
    shipped_raw["recommendations"]["reco1_rules"][1]["condition"] = 1
    error = refused(tmp_path, shipped_raw)
    assert error.problems == [
        ("recommendations.reco1_rules[1].condition", "expected a string, found 1 (an integer)")
    ]


def test_custom_rules_reach_dbt_vars_in_canonical_form(tmp_path, shipped_raw):
    raw = copy.deepcopy(shipped_raw)
    raw["recommendations"]["reco1_rules"][2]["condition"] = "ed.prix_tarif_actuel != 0"
    vars_ = load_config(write(tmp_path, raw)).dbt_vars()
    assert vars_["reco1_rules"][2] == {
        "position": "PL2_PL3",
        "condition": "PRIX_TARIF_ACTUEL <> 0",
        "target": "NEW_BORNE_PL1_PL2",
    }


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("condition_types", "ZFSP\n", 'expected text without control characters, found "ZFSP\\n" (a line feed at character 5)'),
        ("sequences", " A305", 'expected a code without spaces at either end, found " A305" (a space at the start)'),
        ("excluded_gmm", "PSN ", 'expected a code without spaces at either end, found "PSN " (a space at the end)'),
        ("excluded_hierarchy_n2", "Di\x00vers", 'found "Di\\u0000vers" (the control character U+0000 at character 3)'),
    ],
)
def test_a_filter_value_with_spaces_or_control_characters_at_its_ends_is_refused(
    tmp_path, shipped_raw, key, value, expected
):
    shipped_raw["extraction"][key][0] = value
    error = refused(tmp_path, shipped_raw)
    assert error.problems == [
        (f"extraction.{key}[0]", error.problems[0][1])
    ]  # one problem, not two
    assert error.key_path == f"extraction.{key}[0]"
    assert expected in str(error)


def test_a_control_character_is_refused_in_any_text_but_line_breaks_in_rules(tmp_path, shipped_raw):
    shipped_raw["notifications"]["webhooks"] = [{"name": "bi", "url": "https://hooks.example/p\n"}]
    error = refused(tmp_path, shipped_raw)
    assert error.key_path == "notifications.webhooks[0].url"
    assert "(a line feed at character 24)" in str(error)
    shipped_raw["notifications"]["webhooks"] = []
    shipped_raw["recommendations"]["reco1_rules"][0]["comment"] = (
        "Prix déjà en PL1,\n\tpas de changement"
    )
    assert (
        load_config(write(tmp_path, shipped_raw)).recommendations.reco1_rules[0].position
        == "ABOVE_PL1"
    )
