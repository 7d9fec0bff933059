"""`pt2qe check SOURCE`: can a run start from this source? (the seed's test_connection.py)

The source is opened as a run opens it (`sources.open_source`: a folder of files, a
SQLAlchemy URL or an Airflow connection id) and checked without being loaded:

- the connection (the folder exists, the database answers);
- every table of the source contract is present with all its columns;
- with `pt1ce`: the Tier 1 corridor tables (PT1CE_*) hold rows;
- with `mappings`: the customer and restaurant type mappings (PT0CE_*) hold rows;
- the calendar gives four complete fiscal quarters before the reference date.

Each check gives one `Check`; its line says OK or MISSING and exactly what is missing
(a table, a column, "0 rows", how many complete quarters there are).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from pt2qe.contract import TABLES, Table, table

CORRIDOR_TABLES: tuple[Table, ...] = tuple(t for t in TABLES if t.name.startswith("PT1CE_"))
MAPPING_TABLES: tuple[Table, ...] = tuple(t for t in TABLES if t.name.startswith("PT0CE_"))
CALENDAR = table("SYS_MD_CALENDRIER_SYSCO")


@dataclass(frozen=True)
class Check:
    what: str  # "connection", "table SYS_MD_CLIENT", "rows PT1CE_OPTIMAL_ZOOM1", "calendar"
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'OK' if self.ok else 'MISSING':<8} {self.what}: {self.detail}"


def run_checks(
    source,
    pt1ce: bool = False,
    mappings: bool = False,
    as_of: date | None = None,
    today: date | None = None,
    on_check: Callable[[Check], None] | None = None,
) -> list[Check]:
    """Every check of `source` (a FileSource or SqlSource), in the order printed."""
    from pt2qe.sources import SourceError

    checks: list[Check] = []

    def add(check: Check) -> None:
        checks.append(check)
        if on_check:
            on_check(check)

    probe = _probe(source)
    try:
        probe.connect()
    except SourceError as exc:
        add(Check("connection", False, str(exc)))
        return checks
    add(Check("connection", True, source.describe()))

    present: set[str] = set()
    for t, found in zip(TABLES, probe.columns(TABLES), strict=True):
        if isinstance(found, str):  # the table cannot be found or read: why
            add(Check(f"table {t.name}", False, found))
            continue
        missing = [c for c in t.column_names if c not in found]
        if missing:
            add(Check(f"table {t.name}", False, f"missing column(s) {', '.join(missing)}"))
        else:
            present.add(t.name)
            add(Check(f"table {t.name}", True, f"{len(t.columns)} contract columns"))

    wanted = (CORRIDOR_TABLES if pt1ce else ()) + (MAPPING_TABLES if mappings else ())
    for t in wanted:
        if t.name not in present:
            add(Check(f"rows {t.name}", False, "not counted: the table is missing or incomplete"))
            continue
        try:
            n = probe.count(t)
        except SourceError as exc:
            add(Check(f"rows {t.name}", False, str(exc)))
            continue
        add(Check(f"rows {t.name}", n > 0, f"{n:,} rows"))

    if CALENDAR.name in present:
        add(_calendar_check(source, as_of, today or date.today()))
    else:
        add(Check("calendar", False, f"cannot be read: {CALENDAR.name} is missing or incomplete"))
    return checks


def _calendar_check(source, as_of: date | None, today: date) -> Check:
    from pt2qe.periods import PeriodError, calendar_weeks, last_four_quarters, reference_date
    from pt2qe.sources import SourceError

    try:
        weeks = calendar_weeks(source.read_small(CALENDAR))
    except SourceError as exc:
        return Check("calendar", False, str(exc))
    ref = reference_date(weeks, as_of, today)
    flagged = any((w[3] or "").strip() == "X" for w in weeks)
    how = "given" if as_of else ("the current week" if flagged else "today")
    try:
        period = last_four_quarters(weeks, ref)
    except PeriodError:
        complete = _complete_quarters(weeks, ref)
        listed = f" ({', '.join(complete)})" if complete else ""
        return Check(
            "calendar",
            False,
            f"only {len(complete)} complete fiscal quarter{'s' if len(complete) != 1 else ''} "
            f"up to {ref.isoformat()} ({how}){listed}; 4 are needed",
        )
    codes = [q.code for q in period.quarters]
    return Check(
        "calendar",
        True,
        f"4 complete fiscal quarters up to {ref.isoformat()} ({how}): {', '.join(codes)} "
        f"({period.start.isoformat()} → {period.end.isoformat()})",
    )


def _complete_quarters(weeks, as_of: date) -> list[str]:
    """The codes of the complete quarters, oldest first (periods.last_four_quarters's
    rule: a quarter ends on its last week's DT_FIN_SEM and is complete before as_of)."""
    ends: dict[str, date] = {}
    for _start, end, code, _flag in weeks:
        ends[code] = max(ends.get(code, end), end)
    ordered = sorted(ends.items(), key=lambda kv: (kv[1], kv[0]))
    return [code for code, end in ordered if end < as_of]


# ------------------------------------------------------------------ probes per kind of source


class _FileProbe:
    def __init__(self, source):
        self.source = source

    def connect(self) -> None:
        from pt2qe.sources import SourceError

        if not self.source.folder.is_dir():
            raise SourceError(str(self.source.folder), "the source folder does not exist")

    def columns(self, tables: tuple[Table, ...]) -> list[list[str] | str]:
        from pt2qe.sources import SourceError

        found: list[list[str] | str] = []
        for t in tables:
            try:
                found.append([name.upper() for name in self.source.header(t)])
            except SourceError as exc:
                if "missing file" in str(exc):
                    found.append(f"missing file {t.name}.csv or {t.name}.parquet")
                else:
                    found.append(str(exc))
            except (OSError, ValueError) as exc:
                found.append(f"cannot be read: {exc}")
        return found

    def count(self, t: Table) -> int:
        path = self.source.file_for(t)
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        rows = -1  # the header
        with open(path, "rb") as fh:
            for line in fh:
                if line.strip():
                    rows += 1
        return max(rows, 0)


class _SqlProbe:
    def __init__(self, source):
        self.source = source

    def connect(self) -> None:
        self.source.ping()

    def columns(self, tables: tuple[Table, ...]) -> list[list[str] | str]:
        found = self.source.table_columns(tables)
        return [found[t.name] for t in tables]

    def count(self, t: Table) -> int:
        from sqlalchemy import exc as sa_exc

        from pt2qe.sources import SourceError

        try:
            return self.source.row_counts((t,))[t.name]
        except sa_exc.DBAPIError as exc:
            raise SourceError(f"table {t.name}", f"cannot be counted: {exc.orig}") from exc


def _probe(source):
    from pt2qe.sources import FileSource

    return _FileProbe(source) if isinstance(source, FileSource) else _SqlProbe(source)
