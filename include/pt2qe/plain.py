"""Values as a person writes them, for messages and pages people read.

The gates' samples come from the warehouse (Decimal, date, None) and from GX's JSON
results (float, ISO text); a person reads `-4.3533`, `2025-02-03` and `NULL`, never
`Decimal('-4.3533')`, `datetime.date(2025, 2, 3)` or `None`. Numbers keep the decimal
point of the source tables and of the suites (the pricing team's own files are checked,
and their messages written, by `pt2qe.frenchcsv`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

NULL = "NULL"
EMPTY = "(empty)"


def _number(value: Decimal) -> str:
    if not value.is_finite():
        return "NaN" if value.is_nan() else ("-" if value < 0 else "") + "infinity"
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def plain(value: Any) -> str:
    """One value: plain digits, ISO dates, text as it is, NULL for a missing value."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return NULL  # pandas' missing value
        return _number(Decimal(repr(value))) if math.isfinite(value) else _number(Decimal(value))
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, dt.date) and value != value:  # pandas' missing date (NaT)
        return NULL
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds" if value.microsecond == 0 else "auto")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value if value else EMPTY
    if isinstance(value, Mapping):
        return pairs(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return "[" + ", ".join(plain(v) for v in items) + "]"
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return plain(value.item())
    return str(value)


def pairs(row: Mapping[str, Any], *, upper: bool = False) -> str:
    """`NAME=value, …` — a row's columns (upper: as the source contract names them)."""
    return ", ".join(f"{str(k).upper() if upper else k}={plain(v)}" for k, v in row.items())
