"""The values a source delivers, checked against the contract batch by batch.

Every column arrives as text (a typed Parquet column is turned into text first); a value
that is not what its contract type expects — a malformed number or date, a day that does
not exist, a number beyond what the warehouse type holds, an empty required cell, a list
in a cell — raises SourceError naming the file or table, the line (or the row's key) and
the column. The fast paths are one vectorised pass over the column; only when it finds
something is the first offending row looked for.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.compute as pc

from pt2qe.contract import (
    INTEGER_MAX,
    INTEGER_MIN,
    NUMERIC_MAX_DIGITS_AFTER_POINT,
    NUMERIC_MAX_DIGITS_BEFORE_POINT,
    Column,
    Table,
)

_DECIMAL = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
# NUMERIC values are checked against the plain form first (one regex, the usual case);
# only the values it refuses are tried with an exponent (1.5E+3)
_PLAIN_NUMERIC = f"^{_DECIMAL}$"
_EXPONENT_NUMERIC = f"^{_DECIMAL}[eE][+-]?[0-9]+$"
_PATTERNS = {
    "INTEGER": r"^[+-]?[0-9]+$",
    "DATE": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
}
_EXPECTED = {
    "NUMERIC": "a decimal number written with '.' (like 12.5)",
    "INTEGER": "a whole number",
    "DATE": "a date written YYYY-MM-DD",
    "TEXT": "text",
}
_RANGE = {
    "NUMERIC": (
        f"a decimal number of at most {NUMERIC_MAX_DIGITS_BEFORE_POINT:,} digits before the"
        f" decimal point and {NUMERIC_MAX_DIGITS_AFTER_POINT:,} after"
        " (what the warehouse's numeric type holds)"
    ),
    "INTEGER": (
        f"a whole number between {INTEGER_MIN:,} and {INTEGER_MAX:,}"
        " (what the warehouse's bigint type holds)"
    ),
}
# a text of at most this many characters holds no number beyond the numeric range
_SHORT_NUMERIC = NUMERIC_MAX_DIGITS_AFTER_POINT
# ... and of at most this many characters (sign included), no whole number beyond bigint
_SHORT_INTEGER = 18


class SourceError(ValueError):
    """A source table or file breaks the contract."""

    def __init__(
        self, where: str, message: str, line: int | None = None, column: str | None = None
    ):
        self.where, self.line, self.column = where, line, column
        loc = (
            where
            + (f", line {line}" if line is not None else "")
            + (f", column {column}" if column else "")
        )
        super().__init__(f"{loc}: {message}")


def shown(value, limit: int = 40) -> str:
    """A source value as a message quotes it: a long one is cut, with its length."""
    if value is None:
        return "(empty)"
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} characters)"


def check_batch(
    batch: pa.RecordBatch, table: Table, where: str, first_line: int | None, first_row: int
) -> pa.RecordBatch:
    """Check a batch of columns against the contract; return it as text in contract order.

    `first_line` is the file line of the batch's first row (None for a database table,
    where the error names the row's key instead). Column names are matched without
    case and without surrounding spaces.
    """
    names = {n.strip().upper(): i for i, n in enumerate(batch.schema.names)}

    def fail(idx: int, col: Column, message: str):
        _fail(batch, names, table, where, first_line, first_row, idx, col, message)

    arrays = []
    for col in table.columns:
        arr = batch.column(names[col.name])
        if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
            if pa.types.is_nested(arr.type):
                idx = _first(pc.is_valid(arr)) if arr.null_count < len(arr) else 0
                fail(
                    idx,
                    col,
                    f"expected {_EXPECTED[col.type]} in each cell, found a column of type"
                    f" {arr.type} (several values in a cell)",
                )
            arr = _to_text(arr, col, where)
        # empty or blank text is NULL
        arr = pc.if_else(pc.equal(pc.utf8_trim_whitespace(arr), ""), pa.scalar(None, arr.type), arr)
        if not col.nullable and arr.null_count:
            fail(
                _first(pc.is_null(arr)),
                col,
                "a value is required (the column is not nullable), found an empty cell",
            )
        if col.type != "TEXT":
            arr = pc.utf8_trim_whitespace(arr)
            problem = _first_problem(arr, col.type)
            if problem is not None:
                idx, expected = problem
                fail(idx, col, f"expected {expected}, found {shown(arr[idx].as_py())}")
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, names=[c.pg_name for c in table.columns])


def _first_problem(arr: pa.Array, kind: str) -> tuple[int, str] | None:
    """(index, what was expected) of the first value of a DATE, NUMERIC or INTEGER
    column (trimmed text) that its type refuses, or None."""
    if kind == "NUMERIC":
        return _first_numeric_problem(arr)
    bad = pc.and_(pc.invert(pc.match_substring_regex(arr, _PATTERNS[kind])), pc.is_valid(arr))
    if pc.any(bad).as_py():
        return _first(bad), _EXPECTED[kind]
    if kind == "DATE":
        idx = _first_impossible_day(arr)
        return None if idx is None else (idx, _EXPECTED[kind])
    idx = _first_beyond(arr, _SHORT_INTEGER, _integer_in_range)
    return None if idx is None else (idx, _RANGE[kind])


def _first_numeric_problem(arr: pa.Array) -> tuple[int, str] | None:
    plain = pc.match_substring_regex(arr, _PLAIN_NUMERIC)
    other = pc.and_(pc.invert(plain), pc.is_valid(arr))
    exponent_rows: list[int] = []
    malformed = None
    if pc.any(other).as_py():
        rows = pc.indices_nonzero(other)
        with_exponent = pc.match_substring_regex(arr.take(rows), _EXPONENT_NUMERIC)
        if not pc.all(with_exponent).as_py():
            malformed = rows[_first(pc.invert(with_exponent))].as_py()
        exponent_rows = pc.filter(rows, with_exponent).to_pylist()
    beyond = _first_beyond(arr, _SHORT_NUMERIC, _numeric_in_range, exponent_rows)
    found = [
        (i, e)
        for i, e in ((malformed, _EXPECTED["NUMERIC"]), (beyond, _RANGE["NUMERIC"]))
        if i is not None
    ]
    return min(found) if found else None


def _first_beyond(arr: pa.Array, short: int, in_range, also: list[int] = ()) -> int | None:
    """The first index among the values longer than `short` characters and the rows
    `also` (well-formed values) that `in_range` refuses, or None. The lengths are one
    pass over Arrow's offsets; only the long values are read in Python."""
    rows = list(also)
    lengths = pc.binary_length(arr)
    if (pc.max(lengths).as_py() or 0) > short:
        rows.extend(pc.indices_nonzero(pc.fill_null(pc.greater(lengths, short), False)).to_pylist())
    for idx in sorted(set(rows)):
        if not in_range(arr[idx].as_py()):
            return idx
    return None


def _numeric_in_range(text: str) -> bool:
    """Does PostgreSQL's numeric hold this well-formed decimal (checked against it:
    1e131071 fits, 1.5e131072 and 1e-16384 do not)?"""
    try:
        value = Decimal(text)
    except InvalidOperation:  # an exponent beyond what Python's decimal holds
        return False
    if value.as_tuple().exponent < -NUMERIC_MAX_DIGITS_AFTER_POINT:
        return False
    return not value or value.adjusted() < NUMERIC_MAX_DIGITS_BEFORE_POINT


def _integer_in_range(text: str) -> bool:
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > len(str(INTEGER_MAX)):
        return False
    return INTEGER_MIN <= int(text) <= INTEGER_MAX


def _first_impossible_day(arr: pa.Array) -> int | None:
    """Dates already shaped YYYY-MM-DD: the index of the first day that does not exist
    (2025-02-30, month 13), or None. Arrow's cast to date32 checks the calendar at once;
    only when it refuses is the round trip text -> timestamp -> text run to find the row
    (strptime rolls 2025-02-30 over to 2025-03-02). The round trip alone, through
    strftime, cost 5 s of the seed's 10 million invoice lines."""
    try:
        pc.cast(arr, pa.date32())
        return None
    except pa.ArrowInvalid:
        pass
    parsed = pc.strptime(arr, format="%Y-%m-%d", unit="s", error_is_null=True)
    back = pc.strftime(parsed, format="%Y-%m-%d")
    bad = pc.and_(pc.is_valid(arr), pc.invert(pc.fill_null(pc.equal(back, arr), False)))
    return _first(bad) if pc.any(bad).as_py() else None


def _to_text(arr: pa.Array, col: Column, where: str) -> pa.Array:
    if pa.types.is_timestamp(arr.type):
        arr = pc.cast(arr, pa.date32())
    if pa.types.is_date(arr.type):
        return pc.strftime(arr, format="%Y-%m-%d")
    if (
        pa.types.is_decimal(arr.type)
        or pa.types.is_integer(arr.type)
        or pa.types.is_floating(arr.type)
    ):
        return pc.cast(arr, pa.string())
    if pa.types.is_dictionary(arr.type):
        return pc.cast(pc.dictionary_decode(arr), pa.string())
    try:
        return pc.cast(arr, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise SourceError(
            where,
            f"expected {_EXPECTED[col.type]}, found a column of type {arr.type}"
            " that cannot be read as text",
            column=col.name,
        ) from exc


def _first(mask: pa.Array) -> int:
    return pc.index(mask, True).as_py()


def key_text(value) -> str | None:
    """A key value as the loaded text holds it (a date as YYYY-MM-DD, a number as its
    digits), for messages and for finding a key's rows in the source."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value)


def _fail(batch, names, table: Table, where, first_line, first_row, idx, col: Column, message):
    if first_line is not None:
        raise SourceError(where, message, line=first_line + idx, column=col.name)
    key = ", ".join(
        f"{k}={shown(key_text(batch.column(names[k])[idx].as_py()))}" for k in table.key
    )
    raise SourceError(where, f"row {first_row + idx + 1} ({key}): {message}", column=col.name)
