"""Reference date and analysis period (QUOTE_ENGINE_RULES.md section 1).

The run parameters need the period before anything is loaded (the dry run prints it,
and a source with fewer than four complete quarters must be refused before it touches
the warehouse), so it is computed here from the small calendar table; dbt receives it
as variables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


class PeriodError(ValueError):
    """The calendar cannot give four complete fiscal quarters before the reference date."""


@dataclass(frozen=True)
class Quarter:
    code: str
    start: date
    end: date


@dataclass(frozen=True)
class Period:
    as_of: date
    start: date
    end: date
    quarters: tuple[Quarter, ...]  # oldest first

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "period_start": self.start.isoformat(),
            "period_end": self.end.isoformat(),
            "quarters": [q.code for q in self.quarters],
        }


def reference_date(weeks: Iterable[tuple[date, date, str, str | None]], as_of: date | None, today: date) -> date:
    """`as_of` when given; else the ID_SEM of the week flagged 'X'; else today."""
    if as_of is not None:
        return as_of
    flagged = sorted(w[0] for w in weeks if (w[3] or "").strip() == "X")
    return flagged[-1] if flagged else today


def last_four_quarters(weeks: Iterable[tuple[date, date, str, str | None]], as_of: date) -> Period:
    """weeks: (ID_SEM, DT_FIN_SEM, ID_TRIMESTRE_FISCAL, FG_SEM_EN_COURS)."""
    bounds: dict[str, list[date]] = {}
    for start, end, code, _flag in weeks:
        b = bounds.setdefault(code, [start, end])
        b[0] = min(b[0], start)
        b[1] = max(b[1], end)
    complete = sorted(
        (Quarter(code, s, e) for code, (s, e) in bounds.items() if e < as_of),
        key=lambda q: (q.end, q.code),
    )
    if len(complete) < 4:
        raise PeriodError(f"Impossible de trouver 4 trimestres complets avant {as_of.isoformat()}")
    last = tuple(complete[-4:])
    return Period(as_of=as_of, start=last[0].start, end=last[-1].end, quarters=last)


def calendar_weeks(table) -> list[tuple[date, date, str, str | None]]:
    """Rows of the SYS_MD_CALENDRIER_SYSCO contract table (pyarrow, string columns)."""
    cols = {n.lower(): table.column(n).to_pylist() for n in table.column_names}
    return [
        (date.fromisoformat(s), date.fromisoformat(e), q, f)
        for s, e, q, f in zip(cols["id_sem"], cols["dt_fin_sem"], cols["id_trimestre_fiscal"], cols["fg_sem_en_cours"], strict=True)
    ]
