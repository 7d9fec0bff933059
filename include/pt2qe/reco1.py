"""The grammar of `recommendations.reco1_rules`, the only configuration that becomes SQL.

A rule's `condition` is a boolean expression and its `target` a single value:

    condition  := "DEFAULT"                       (the last rule, and only the last)
                | or_expr
    or_expr    := and_expr { "OR" and_expr }
    and_expr   := primary { "AND" primary }
    primary    := "(" or_expr ")" | comparison
    comparison := operand comp_op operand
    operand    := COLUMN | NUMBER
    comp_op    := ">" | ">=" | "<" | "<=" | "=" | "<>" | "!="
    target     := COLUMN | NUMBER

COLUMN is one of `COLUMNS` (any case, optionally behind a table prefix such as `ed.`,
which is dropped); NUMBER is an unsigned decimal (`12`, `0.5`). Nothing else is a token:
quotes, semicolons, comments, function calls and unknown names are refused with a
`Reco1RuleError` before any SQL is built. The parser returns canonical text (tokens
separated by one space, column names in upper case, `!=` written `<>`), which is what the
SQL receives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

OLD_COLUMNS: tuple[str, ...] = (
    "PRIX_TARIF_ACTUEL",
    "PAS_ACTIF",
    "PRB_ACTIF",
    "BORNE_PL1_PL2",
    "BORNE_PL2_PL3",
    "BORNE_PL3_PL4",
    "BORNE_PL4_PL5",
    "BORNE_PL5_PL6",
    "BORNE_PL6_PLX",
)
NEW_COLUMNS: tuple[str, ...] = (
    "NEW_PAS",
    "NEW_PRB",
    "NEW_BORNE_PL1_PL2",
    "NEW_BORNE_PL2_PL3",
    "NEW_BORNE_PL3_PL4",
    "NEW_BORNE_PL4_PL5",
    "NEW_BORNE_PL5_PL6",
    "NEW_BORNE_PL6_PLX",
)
#: The only names a rule may use: the offer's price and its old and new corridor bounds.
COLUMNS: frozenset[str] = frozenset(OLD_COLUMNS + NEW_COLUMNS)

DEFAULT = "DEFAULT"
COMPARISON_OPERATORS: frozenset[str] = frozenset({">", ">=", "<", "<=", "=", "<>"})
MAX_TEXT_LENGTH = 1000
POSITION_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}", re.ASCII)

_EXPECT_CONDITION = (
    "a condition made of comparisons between price/bound columns and numbers "
    "(operators > >= < <= = <>), combined with AND, OR and parentheses"
)
_EXPECT_OPERAND = "a price or bound column (like PRIX_TARIF_ACTUEL or NEW_PAS) or a number"
_EXPECT_TARGET = (
    "a single price or bound column (like NEW_BORNE_PL1_PL2) or a number, e.g. 'NEW_PAS' or '1.05'"
)

_SPACE = re.compile(r"\s+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)
_OPERATOR = re.compile(r">=|<=|<>|!=|>|<|=")

_CHARACTER_HINTS: dict[str, str] = {
    ";": "statement separators (;) are not allowed",
    "'": "quoted text is not allowed",
    '"': "quoted names are not allowed",
    "`": "quoted names are not allowed",
    "-": "minus signs, arithmetic and comments (--) are not allowed",
    "+": "arithmetic is not allowed",
    "*": "arithmetic is not allowed",
    "/": "arithmetic and comments (/* */) are not allowed",
    "%": "arithmetic is not allowed",
    "|": "operators other than comparisons are not allowed",
    ",": "lists and decimal commas are not allowed (write decimals with a dot, like 0.5)",
    "\\": "escape characters are not allowed",
    ".": "write decimals with a digit before the dot, like 0.5",
}


class Reco1RuleError(ValueError):
    """A reco1 rule outside the grammar.

    Attributes: `key_path` (e.g. `recommendations.reco1_rules[2].condition`), `text` (the
    offending condition or target), `position` (1-based character position in `text`, or
    None when the problem is the whole value), `expected` and `found` (plain words).
    """

    def __init__(
        self,
        key_path: str,
        text: str | None,
        position: int | None,
        expected: str,
        found: str,
    ) -> None:
        self.key_path = key_path
        self.text = text
        self.position = position
        self.expected = expected
        self.found = found
        where = f" at character {position}" if position is not None else ""
        shown = f" {text!r}" if text is not None else ""
        super().__init__(f"{key_path}:{shown}{where}: expected {expected}, found {found}")


@dataclass(frozen=True)
class Reco1Rule:
    """A checked rule. `condition` is canonical text or the literal "DEFAULT"."""

    position: str
    condition: str
    target: str

    @property
    def is_default(self) -> bool:
        return self.condition == DEFAULT

    def as_dict(self) -> dict[str, str]:
        return {"position": self.position, "condition": self.condition, "target": self.target}


@dataclass(frozen=True)
class _Token:
    kind: str  # COLUMN, NUMBER, OP, AND, OR, LPAREN, RPAREN, DEFAULT, END
    text: str  # canonical text
    start: int  # 1-based character position in the source text
    raw: str  # the text as written


def _describe(token: _Token) -> str:
    if token.kind == "END":
        return "the end of the text"
    return f"{token.raw!r}"


def tokenize(text: str, key_path: str) -> list[_Token]:
    """Split a condition or target into tokens; refuse any character outside the grammar."""
    tokens: list[_Token] = []
    i = 0
    n = len(text)
    while i < n:
        space = _SPACE.match(text, i)
        if space:
            i = space.end()
            continue
        ch = text[i]
        name = _NAME.match(text, i)
        if name:
            end = name.end()
            word = name.group()
            # An optional table prefix, e.g. `ed.PRIX_TARIF_ACTUEL`: the prefix is dropped.
            prefixed = end < n and text[end] == "."
            if prefixed:
                qualified = _NAME.match(text, end + 1)
                if not qualified:
                    raise Reco1RuleError(
                        key_path,
                        text,
                        end + 2,
                        f"a column name after the table prefix {word + '.'!r}",
                        _found_at(text, end + 1),
                    )
                end = qualified.end()
                column = qualified.group()
            else:
                column = word
            raw = text[i:end]
            upper = column.upper()
            if not prefixed and upper in {"AND", "OR", DEFAULT}:
                tokens.append(_Token(upper, upper, i + 1, raw))
            elif upper in COLUMNS:
                tokens.append(_Token("COLUMN", upper, i + 1, raw))
            else:
                rest = text[end:].lstrip()
                if rest.startswith("("):
                    raise Reco1RuleError(
                        key_path,
                        text,
                        i + 1,
                        _EXPECT_OPERAND,
                        f"a function call {raw + '('!r} (function calls are not allowed)",
                    )
                raise Reco1RuleError(
                    key_path,
                    text,
                    i + 1,
                    "one of the columns "
                    + ", ".join(OLD_COLUMNS + NEW_COLUMNS)
                    + ", a number, AND or OR",
                    f"the unknown name {raw!r}",
                )
            i = end
            continue
        number = _NUMBER.match(text, i)
        if number:
            end = number.end()
            if end < n and (text[end].isalnum() or text[end] in "._"):
                bad_end = end
                while bad_end < n and (text[bad_end].isalnum() or text[bad_end] in "._"):
                    bad_end += 1
                raise Reco1RuleError(
                    key_path,
                    text,
                    i + 1,
                    "an unsigned decimal number like 12 or 0.5",
                    f"{text[i:bad_end]!r}",
                )
            tokens.append(_Token("NUMBER", number.group(), i + 1, number.group()))
            i = end
            continue
        operator = _OPERATOR.match(text, i)
        if operator:
            raw = operator.group()
            tokens.append(_Token("OP", "<>" if raw == "!=" else raw, i + 1, raw))
            i = operator.end()
            continue
        if ch == "(":
            tokens.append(_Token("LPAREN", "(", i + 1, ch))
            i += 1
            continue
        if ch == ")":
            tokens.append(_Token("RPAREN", ")", i + 1, ch))
            i += 1
            continue
        hint = _CHARACTER_HINTS.get(ch)
        found = f"the character {ch!r}" + (f" ({hint})" if hint else "")
        raise Reco1RuleError(
            key_path,
            text,
            i + 1,
            "only price/bound columns, numbers, comparison operators (> >= < <= = <>), "
            "AND, OR and parentheses",
            found,
        )
    tokens.append(_Token("END", "", n + 1, ""))
    return tokens


def _found_at(text: str, index: int) -> str:
    if index >= len(text):
        return "the end of the text"
    return f"the character {text[index]!r}"


class _Parser:
    """Recursive descent over the token list; builds the canonical text as it goes."""

    def __init__(self, text: str, key_path: str) -> None:
        self.text = text
        self.key_path = key_path
        self.tokens = tokenize(text, key_path)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, token: _Token, expected: str, found: str | None = None) -> Reco1RuleError:
        return Reco1RuleError(
            self.key_path, self.text, token.start, expected, found or _describe(token)
        )

    # condition := or_expr END
    def condition(self) -> str:
        if self.current.kind == "END":
            raise Reco1RuleError(
                self.key_path, self.text, None, _EXPECT_CONDITION, "an empty condition"
            )
        parts = self.or_expr(depth=0)
        token = self.current
        if token.kind == "RPAREN":
            raise self.error(
                token,
                "AND, OR or the end of the condition",
                "')' without a matching '(' (unbalanced parentheses)",
            )
        if token.kind == "OP":
            raise self.error(
                token,
                "AND, OR or the end of the condition",
                f"{token.raw!r} after a comparison or parenthesised condition "
                "(comparing boolean conditions or chaining comparisons is not allowed)",
            )
        if token.kind != "END":
            raise self.error(token, "AND, OR or the end of the condition")
        return " ".join(parts)

    def or_expr(self, depth: int) -> list[str]:
        parts = self.and_expr(depth)
        while self.current.kind == "OR":
            parts.append(self.advance().text)
            parts.extend(self.and_expr(depth))
        return parts

    def and_expr(self, depth: int) -> list[str]:
        parts = self.primary(depth)
        while self.current.kind == "AND":
            parts.append(self.advance().text)
            parts.extend(self.primary(depth))
        return parts

    def primary(self, depth: int) -> list[str]:
        token = self.current
        if token.kind == "LPAREN":
            if depth >= 50:
                raise self.error(token, "at most 50 nested parentheses", "deeper nesting")
            self.advance()
            inner = self.or_expr(depth + 1)
            closing = self.current
            if closing.kind != "RPAREN":
                if closing.kind == "END":
                    raise self.error(
                        closing,
                        f"')' to close the '(' at character {token.start}",
                        "the end of the text (unbalanced parentheses)",
                    )
                if closing.kind == "OP":
                    raise self.error(
                        closing,
                        f"AND, OR or ')' to close the '(' at character {token.start}",
                        f"{closing.raw!r} after a comparison (comparing boolean conditions "
                        "or chaining comparisons is not allowed)",
                    )
                raise self.error(
                    closing, f"AND, OR or ')' to close the '(' at character {token.start}"
                )
            self.advance()
            return ["(", *inner, ")"]
        return self.comparison()

    def comparison(self) -> list[str]:
        left = self.operand(f"{_EXPECT_OPERAND} to start a comparison")
        op = self.current
        if op.kind != "OP":
            raise self.error(
                op,
                "a comparison operator (> >= < <= = <>) after "
                f"{left.raw!r}: a condition must compare values",
            )
        self.advance()
        right = self.operand(f"{_EXPECT_OPERAND} after {op.raw!r}")
        return [left.text, op.text, right.text]

    def operand(self, expected: str) -> _Token:
        token = self.current
        if token.kind in {"COLUMN", "NUMBER"}:
            return self.advance()
        if token.kind == "LPAREN":
            raise self.error(
                token,
                expected,
                "'(' (a comparison compares a column or number, not a parenthesised "
                "expression or a boolean condition)",
            )
        if token.kind == "END":
            raise self.error(token, expected, "the end of the text (dangling operator)")
        if token.kind == DEFAULT:
            raise self.error(token, expected, "'DEFAULT' (DEFAULT must be the whole condition)")
        raise self.error(token, expected)

    # target := COLUMN | NUMBER
    def target(self) -> str:
        token = self.current
        if token.kind == "END":
            raise Reco1RuleError(self.key_path, self.text, None, _EXPECT_TARGET, "an empty target")
        if token.kind not in {"COLUMN", "NUMBER"}:
            raise self.error(token, _EXPECT_TARGET)
        self.advance()
        extra = self.current
        if extra.kind != "END":
            raise self.error(extra, _EXPECT_TARGET, f"more after {token.raw!r}: {extra.raw!r}")
        return token.text


def _check_text(value: object, key_path: str, expected: str) -> str:
    if not isinstance(value, str):
        raise Reco1RuleError(
            key_path,
            None,
            None,
            f"text: {expected}",
            f"a value of type {type(value).__name__}: {value!r}",
        )
    if len(value) > MAX_TEXT_LENGTH:
        raise Reco1RuleError(
            key_path,
            value[:40] + "...",
            None,
            f"at most {MAX_TEXT_LENGTH} characters",
            f"{len(value)} characters",
        )
    return value


def parse_condition(text: str, key_path: str = "condition") -> str:
    """Canonical text of a boolean condition (not DEFAULT); raises Reco1RuleError."""
    text = _check_text(text, key_path, _EXPECT_CONDITION)
    parser = _Parser(text, key_path)
    first = parser.current
    if first.kind == DEFAULT:
        raise parser.error(
            first,
            _EXPECT_CONDITION,
            "'DEFAULT' (DEFAULT is only allowed as the whole condition of the last rule)",
        )
    return parser.condition()


def parse_target(text: str, key_path: str = "target") -> str:
    """Canonical text of a target (a single column or number); raises Reco1RuleError."""
    text = _check_text(text, key_path, _EXPECT_TARGET)
    return _Parser(text, key_path).target()


def _is_default(text: str) -> bool:
    return text.strip().upper() == DEFAULT


def parse_rules(
    rules: Sequence[Mapping[str, object]], key_path: str = "recommendations.reco1_rules"
) -> list[Reco1Rule]:
    """Check every rule and return them with canonical condition and target.

    The last rule must have the condition DEFAULT, and no other rule may.
    """
    if isinstance(rules, (str, bytes)) or not isinstance(rules, Sequence):
        raise Reco1RuleError(key_path, None, None, "a list of rules", f"a {type(rules).__name__}")
    if not rules:
        raise Reco1RuleError(
            key_path,
            None,
            None,
            "at least one rule, the last with condition DEFAULT",
            "an empty list",
        )
    parsed: list[Reco1Rule] = []
    last = len(rules) - 1
    for index, rule in enumerate(rules):
        rule_path = f"{key_path}[{index}]"
        if not isinstance(rule, Mapping):
            raise Reco1RuleError(
                rule_path,
                None,
                None,
                "an object with position, condition and target",
                f"a {type(rule).__name__}",
            )
        for key in ("position", "condition", "target"):
            if key not in rule:
                raise Reco1RuleError(
                    f"{rule_path}.{key}",
                    None,
                    None,
                    f"a {key} for every rule",
                    "no such key",
                )
        position = _check_text(rule["position"], f"{rule_path}.position", "a position name")
        if not POSITION_PATTERN.fullmatch(position):
            raise Reco1RuleError(
                f"{rule_path}.position",
                position,
                None,
                "a position name of letters, digits and '_' starting with a letter "
                "(at most 64 characters), like PL1_PL2",
                f"{position!r}",
            )
        condition_path = f"{rule_path}.condition"
        condition_text = _check_text(rule["condition"], condition_path, _EXPECT_CONDITION)
        if index == last:
            if not _is_default(condition_text):
                raise Reco1RuleError(
                    condition_path,
                    condition_text,
                    None,
                    "the condition DEFAULT on the last rule (the ELSE of the rules)",
                    f"{condition_text!r}",
                )
            condition = DEFAULT
        else:
            condition = parse_condition(condition_text, condition_path)
        target = parse_target(rule["target"], f"{rule_path}.target")
        parsed.append(Reco1Rule(position=position, condition=condition, target=target))
    return parsed
