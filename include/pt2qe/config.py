"""The JSON configuration (`config/pt2qe_config.json`), loaded and checked once at start.

The file is validated against `config_schema.json` (JSON Schema 2020-12, every object
closed, so an unknown key is an error), then the `reco1_rules` are checked against their
grammar (`pt2qe.reco1`). Any problem raises `ConfigError`, whose message names the file
and the key path (`capping.default_high`, `recommendations.reco1_rules[2].condition`).
The result is a frozen `Config`; `Config.dbt_vars()` is what dbt receives.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pt2qe.paths import project_root
from pt2qe.reco1 import Reco1Rule, Reco1RuleError, parse_rules

SCHEMA_PATH = Path(__file__).resolve().with_name("config_schema.json")
CONFIG_ENV = "PT2QE_CONFIG"


def default_config_path() -> Path:
    """`$PT2QE_CONFIG` when set, else `<project root>/config/pt2qe_config.json`."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    return project_root() / "config" / "pt2qe_config.json"


class ConfigError(ValueError):
    """The configuration file is unreadable or invalid.

    Attributes: `file` (the path as shown), `problems` (list of (key_path, message); the
    key path is "" for problems with the whole file) and `key_path` (the first one).
    """

    def __init__(self, file: str, problems: list[tuple[str, str]]) -> None:
        self.file = file
        self.problems = problems
        self.key_path = problems[0][0] if problems else ""
        lines = [f"{file}: {key}: {msg}" if key else f"{file}: {msg}" for key, msg in problems]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class CsvDialect:
    """How the pricing team's CSV files are written and read (from `output`)."""

    separator: str = ";"
    decimal: str = ","
    encoding: str = "cp1252"


@dataclass(frozen=True)
class ProcessingConfig:
    batch_size: int
    parallel_degree: int


@dataclass(frozen=True)
class ExtractionConfig:
    condition_types: tuple[str, ...]
    sequences: tuple[str, ...]
    excluded_customer_groups: tuple[str, ...]
    excluded_gmm: tuple[str, ...]
    excluded_hierarchy_n2: tuple[str, ...]
    fetch_size: int
    # database sources: also extract the 4-quarter history aggregated by the source
    pushdown_aggregation: bool = False


@dataclass(frozen=True)
class CappingConfig:
    default_high: float
    default_medium: float
    default_low: float
    basiques: float
    allow_overrides: bool


@dataclass(frozen=True)
class RecommendationsConfig:
    reco1_rules: tuple[Reco1Rule, ...]
    selection_rule: Literal["max", "min"]
    validation_max_increase: float


@dataclass(frozen=True)
class OutputConfig:
    csv_separator: str
    decimal_separator: str
    csv_encoding: str
    decimal_places: int
    percentage_format: int

    @property
    def dialect(self) -> CsvDialect:
        return CsvDialect(
            separator=self.csv_separator,
            decimal=self.decimal_separator,
            encoding=self.csv_encoding,
        )


@dataclass(frozen=True)
class Webhook:
    name: str
    url: str  # http(s) URL or env:VARIABLE

    def resolve(self) -> str:
        if self.url.startswith("env:"):
            value = os.environ.get(self.url[4:], "")
            if not value:
                raise ConfigError("notifications", [(f"webhooks.{self.name}", f"environment variable {self.url[4:]} is not set")])
            return value
        return self.url


@dataclass(frozen=True)
class PriceRegistryConfig:
    import_mode: Literal["continue", "all_or_nothing"] = "continue"


@dataclass(frozen=True)
class PriceBookConfig:
    publish_statuses: tuple[str, ...] = ("VALIDE",)


@dataclass(frozen=True)
class NotificationsConfig:
    min_change_pct: float = 5.0
    categories: tuple[str, ...] = ()
    batch_size: int = 500
    max_attempts: int = 5
    webhooks: tuple[Webhook, ...] = ()


@dataclass(frozen=True)
class Config:
    processing: ProcessingConfig
    extraction: ExtractionConfig
    capping: CappingConfig
    recommendations: RecommendationsConfig
    output: OutputConfig
    source: Path
    raw: dict[str, Any] = field(compare=False, hash=False, repr=False)
    price_registry: PriceRegistryConfig = PriceRegistryConfig()
    price_book: PriceBookConfig = PriceBookConfig()
    notifications: NotificationsConfig = NotificationsConfig()

    @property
    def csv_dialect(self) -> CsvDialect:
        return self.output.dialect

    def dbt_vars(self) -> dict[str, Any]:
        """The dbt `--vars`: plain JSON values (numbers, strings, lists, objects)."""
        return {
            "capping_default_high": self.capping.default_high,
            "capping_default_medium": self.capping.default_medium,
            "capping_default_low": self.capping.default_low,
            "capping_basiques": self.capping.basiques,
            "selection_rule": self.recommendations.selection_rule,
            "validation_max_increase": self.recommendations.validation_max_increase,
            "filter_condition_types": list(self.extraction.condition_types),
            "filter_sequences": list(self.extraction.sequences),
            "filter_excluded_customer_groups": list(self.extraction.excluded_customer_groups),
            "filter_excluded_gmm": list(self.extraction.excluded_gmm),
            "filter_excluded_hierarchy_n2": list(self.extraction.excluded_hierarchy_n2),
            "reco1_rules": [rule.as_dict() for rule in self.recommendations.reco1_rules],
            "publish_statuses": list(self.price_book.publish_statuses),
        }


def _display(path: Path) -> str:
    """The path relative to the project root when it is inside, else as given."""
    try:
        return path.resolve().relative_to(project_root()).as_posix()
    except ValueError:
        return str(path)


def _key_path(parts: Iterable[str | int]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


_FRIENDLY_TYPES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


def _schema_problems(instance: Any) -> list[tuple[str, str]]:
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema)
    problems: list[tuple[str, str]] = []
    for error in validator.iter_errors(instance):
        path = list(error.absolute_path)
        kind = error.validator
        if kind == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            for key in sorted(k for k in error.instance if k not in allowed):
                problems.append(
                    (
                        _key_path([*path, key]),
                        f"unknown key {key!r}; expected one of: {', '.join(allowed)}",
                    )
                )
        elif kind == "required":
            for key in error.validator_value:
                if key not in error.instance:
                    problems.append((_key_path([*path, key]), f"missing required key {key!r}"))
        elif kind == "type":
            wanted = error.validator_value
            wanted_list = wanted if isinstance(wanted, list) else [wanted]
            expected = " or ".join(_FRIENDLY_TYPES.get(w, w) for w in wanted_list)
            found = _json_type(error.instance)
            problems.append(
                (
                    _key_path(path),
                    f"expected {expected}, found {json.dumps(error.instance)} "
                    f"({_FRIENDLY_TYPES.get(found, found)})",
                )
            )
        elif kind == "enum":
            options = ", ".join(json.dumps(v) for v in error.validator_value)
            problems.append(
                (_key_path(path), f"expected one of {options}, found {json.dumps(error.instance)}")
            )
        elif kind == "pattern":
            problems.append(
                (
                    _key_path(path),
                    f"{json.dumps(error.instance)} has characters that are not allowed; "
                    f"expected text matching {error.validator_value}",
                )
            )
        else:
            problems.append((_key_path(path) or "(top level)", error.message))
    unique = sorted(set(problems), key=lambda p: (p[0], p[1]))
    return [(key or "(top level)", msg) for key, msg in unique]


# lists of codes the extraction compares with source values: "ZFAP " or "ZFAP\n" would
# match nothing, so spaces at either end are refused as well as control characters
_CODE_LISTS = {
    ("extraction", "condition_types"),
    ("extraction", "sequences"),
    ("extraction", "excluded_customer_groups"),
    ("extraction", "excluded_gmm"),
    ("extraction", "excluded_hierarchy_n2"),
    ("notifications", "categories"),
}
# free texts that may hold line breaks and tabs (a reco1 rule written on several lines)
_MULTILINE_KEYS = {"condition", "target", "comment"}
_CONTROL_NAMES = {"\n": "a line feed", "\r": "a carriage return", "\t": "a tab"}


def _control_name(char: str) -> str:
    return _CONTROL_NAMES.get(char, f"the control character U+{ord(char):04X}")


def _text_problems(value: Any, parts: tuple = ()) -> list[tuple[str, str]]:
    """Every text of the configuration: no control character (JSON's schema patterns
    end with `$`, which Python lets match before a final line feed); the codes of the
    filter lists without spaces at either end."""
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _text_problems(item, (*parts, key))]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _text_problems(item, (*parts, i))]
    if not isinstance(value, str):
        return []
    allowed = "\t\n\r" if parts and parts[-1] in _MULTILINE_KEYS else ""
    for position, char in enumerate(value, start=1):
        if (char < " " or "\x7f" <= char <= "\x9f") and char not in allowed:
            found = f"{json.dumps(value)} ({_control_name(char)} at character {position})"
            return [(_key_path(parts), f"expected text without control characters, found {found}")]
    if tuple(parts[:2]) in _CODE_LISTS and value != value.strip():
        where = "at the start" if value[:1].isspace() else "at the end"
        found = f"{json.dumps(value)} (a space {where})"
        return [(_key_path(parts), f"expected a code without spaces at either end, found {found}")]
    return []


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a valid JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a number")
    return value


def read_json(path: Path) -> Any:
    """Parse the file; syntax errors become ConfigError naming line and column."""
    shown = _display(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            shown, [("", f"configuration file not found (set {CONFIG_ENV} or create it)")]
        ) from None
    except OSError as exc:
        raise ConfigError(shown, [("", f"cannot read the configuration file: {exc}")]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            shown,
            [("", f"line {line}: expected UTF-8 text, found the byte 0x{data[exc.start]:02X}")],
        ) from None
    try:
        return json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
        )
    except json.JSONDecodeError as exc:
        raise ConfigError(
            shown, [("", f"line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}")]
        ) from None
    except _DuplicateKey as exc:
        raise ConfigError(
            shown, [(str(exc.args[0]), f"the key {exc.args[0]!r} appears twice in the same object")]
        ) from None
    except ValueError as exc:  # NaN, Infinity, 1e400
        raise ConfigError(shown, [("", f"invalid JSON: {exc}")]) from None


def parse_config(raw: Any, source: Path) -> Config:
    """Validate an already parsed configuration and build the Config."""
    shown = _display(source)
    texts = _text_problems(raw)
    # a text refused here is not reported again by its schema pattern
    flagged = {key for key, _ in texts}
    problems = sorted(texts + [p for p in _schema_problems(raw) if p[0] not in flagged])
    if problems:
        raise ConfigError(shown, problems)
    output = raw["output"]
    if output["decimal_separator"] == output["csv_separator"]:
        raise ConfigError(
            shown,
            [
                (
                    "output.decimal_separator",
                    f"{output['decimal_separator']!r} is also output.csv_separator; "
                    "expected a decimal mark different from the CSV separator",
                )
            ],
        )
    try:
        rules = parse_rules(raw["recommendations"]["reco1_rules"])
    except Reco1RuleError as exc:
        raise ConfigError(
            shown, [(exc.key_path, str(exc).removeprefix(f"{exc.key_path}: "))]
        ) from None

    processing = raw["processing"]
    extraction = raw["extraction"]
    capping = raw["capping"]
    recommendations = raw["recommendations"]
    return Config(
        processing=ProcessingConfig(
            batch_size=int(processing["batch_size"]),
            parallel_degree=int(processing["parallel_degree"]),
        ),
        extraction=ExtractionConfig(
            condition_types=tuple(extraction["condition_types"]),
            sequences=tuple(extraction["sequences"]),
            excluded_customer_groups=tuple(extraction["excluded_customer_groups"]),
            excluded_gmm=tuple(extraction["excluded_gmm"]),
            excluded_hierarchy_n2=tuple(extraction["excluded_hierarchy_n2"]),
            fetch_size=int(extraction["fetch_size"]),
            pushdown_aggregation=bool(extraction.get("pushdown_aggregation", False)),
        ),
        capping=CappingConfig(
            default_high=float(capping["default_high"]),
            default_medium=float(capping["default_medium"]),
            default_low=float(capping["default_low"]),
            basiques=float(capping["basiques"]),
            allow_overrides=bool(capping["allow_overrides"]),
        ),
        recommendations=RecommendationsConfig(
            reco1_rules=tuple(rules),
            selection_rule=recommendations["selection_rule"],
            validation_max_increase=float(recommendations["validation_max_increase"]),
        ),
        output=OutputConfig(
            csv_separator=output["csv_separator"],
            decimal_separator=output["decimal_separator"],
            csv_encoding=output["csv_encoding"],
            decimal_places=int(output["decimal_places"]),
            percentage_format=int(output["percentage_format"]),
        ),
        source=source,
        raw=raw,
        price_registry=PriceRegistryConfig(**raw.get("price_registry", {})),
        price_book=PriceBookConfig(
            publish_statuses=tuple(raw.get("price_book", {}).get("publish_statuses", ("VALIDE",)))
        ),
        notifications=_notifications(raw.get("notifications", {})),
    )


def _notifications(raw: dict[str, Any]) -> NotificationsConfig:
    defaults = NotificationsConfig()
    return NotificationsConfig(
        min_change_pct=float(raw.get("min_change_pct", defaults.min_change_pct)),
        categories=tuple(raw.get("categories", ())),
        batch_size=int(raw.get("batch_size", defaults.batch_size)),
        max_attempts=int(raw.get("max_attempts", defaults.max_attempts)),
        webhooks=tuple(Webhook(w["name"], w["url"]) for w in raw.get("webhooks", ())),
    )


def load_config(path: Path | None = None) -> Config:
    """Load and check the configuration; raises ConfigError naming the file and key."""
    source = Path(path) if path is not None else default_config_path()
    return parse_config(read_json(source), source)
