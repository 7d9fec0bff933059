"""The stages of a run, as plain functions the DAG's tasks call.

prepare_run → extract_source → (dbt, in Airflow through Cosmos) → export_run.
Everything a person edits or a source delivers is checked in prepare_run, before any
table or file changes.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path

from pt2qe import journal
from pt2qe.paths import project_root

MODES = ("full", "corrections", "final")


class RunError(ValueError):
    """A run parameter is wrong; the message says which and what was expected."""


def resolve_path(value: str, what: str) -> Path:
    if not value:
        raise RunError(f"{what}: a path is required")
    path = Path(value)
    return path if path.is_absolute() else (project_root() / path).resolve()


def _parse_as_of(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RunError(f"as_of: expected a date written YYYY-MM-DD, found {value!r}") from None


def prepare_run(params: dict, run_id: str, now: datetime | None = None) -> dict:
    """Check configuration, inputs and source prerequisites; return the run's plan."""
    from pt2qe.config import load_config
    from pt2qe.contract import table
    from pt2qe.exports import new_folder_name
    from pt2qe.frenchcsv import read_capping_type_client
    from pt2qe.periods import calendar_weeks, last_four_quarters, reference_date
    from pt2qe.sources import open_source

    mode = params.get("mode") or "full"
    if mode not in MODES:
        raise RunError(f"mode: expected one of {', '.join(MODES)}, found {mode!r}")
    config = load_config()
    dialect = config.csv_dialect
    capping_file = resolve_path(params.get("capping_file") or "inputs/capping_type_client.csv", "capping_file")
    output_root = resolve_path(params.get("output_folder") or "outputs", "output_folder")
    as_of_param = _parse_as_of(params.get("as_of") or "")

    capping_rows = read_capping_type_client(capping_file, dialect)

    source_spec = params.get("source") or ""
    if mode == "full":
        if not source_spec:
            raise RunError("source: full mode needs a source (a folder of files, a SQLAlchemy URL or an Airflow connection id)")
        source = open_source(source_spec, fetch_size=config.extraction.fetch_size)
        weeks = calendar_weeks(source.read_small(table("SYS_MD_CALENDRIER_SYSCO")))
        source_desc = source.describe()
    else:
        raise RunError(f"mode {mode!r} is not available yet")

    as_of = reference_date(weeks, as_of_param, today=(now or datetime.now()).date())
    period = last_four_quarters(weeks, as_of)
    kind = {"full": "run", "corrections": "corrections", "final": "final"}[mode]
    folder = new_folder_name(kind, now)

    plan = {
        "mode": mode,
        "dry_run": bool(params.get("dry_run")),
        "run_id": run_id,
        "source": source_spec,
        "source_desc": source_desc,
        **period.as_dict(),
        "capping_file": str(capping_file),
        "output_root": str(output_root),
        "output_folder": folder,
        "output": asdict(config.output),
        "reads": [source_desc, str(capping_file)],
        "writes": [str(output_root / folder / name) for name in RUN_FILES],
        "dbt_vars": {
            **config.dbt_vars(),
            **period.as_dict(),
            "run_id": run_id,
            "apply_corrections": mode == "corrections",
        },
    }
    journal.emit("plan", **{k: plan[k] for k in ("mode", "source_desc", "as_of", "period_start", "period_end", "quarters", "reads", "writes", "dry_run")})
    if not plan["dry_run"]:
        _load_capping(capping_rows)
    return plan


def _load_capping(rows) -> None:
    from pt2qe.load import replace_table
    from pt2qe.warehouse import get_warehouse

    with get_warehouse().connect() as conn:
        n = replace_table(
            conn,
            "inputs",
            "capping_type_client",
            [("type_client", "text"), ("capping_high", "numeric"), ("capping_medium", "numeric"), ("capping_low", "numeric")],
            ((r.type_client, r.capping_high, r.capping_medium, r.capping_low) for r in rows),
        )
        conn.execute(
            """
            create table if not exists inputs.capping_corrections (
                univers text, type_client text, type_restaurant text, geo text,
                capping_high numeric, capping_medium numeric, capping_low numeric
            )
            """
        )
        conn.commit()
    journal.emit("stage", stage="capping file", rows=n)


def extract_source(plan: dict) -> dict:
    from pt2qe.sources import open_source
    from pt2qe.load import load_source
    from pt2qe.warehouse import get_warehouse

    if plan["mode"] != "full":
        return {"rows": 0, "skipped": True}
    t0 = time.monotonic()
    source = open_source(plan["source"])
    stats = load_source(
        get_warehouse(),
        source,
        progress=lambda st: journal.emit("table", table=st.table, rows=st.rows, seconds=round(st.seconds, 2)),
    )
    total = sum(s.rows for s in stats)
    journal.emit("stage", stage="extract", rows=total, seconds=round(time.monotonic() - t0, 2))
    return {"rows": total, "tables": {s.table: s.rows for s in stats}}


# file name → (mart, order by, dropped columns)
RUN_FILES = {
    "recommendations_detail.csv": ("recommendations_detail", ["sort_order"], ("sort_order",)),
    "capping_cubes_generated.csv": ("capping_cubes", ["univers", "type_client", "type_restaurant", "geo"], ()),
}


def export_run(plan: dict) -> dict:
    from pt2qe.exports import ExportFormat, export_relation, publish_folder, staging_folder
    from pt2qe.warehouse import get_warehouse

    t0 = time.monotonic()
    out = plan["output"]
    fmt = ExportFormat(
        separator=out["csv_separator"],
        decimal=out["decimal_separator"],
        encoding=out["csv_encoding"],
        decimal_places=out["decimal_places"],
        percentage_format=out["percentage_format"],
    )
    root = Path(plan["output_root"])
    tmp = staging_folder(root, plan["output_folder"])
    counts = {}
    with get_warehouse().connect() as conn:
        for name, (mart, order, drop) in RUN_FILES.items():
            counts[name] = export_relation(conn, "marts", mart, tmp / name, fmt, order, drop)
    final = publish_folder(tmp, root, plan["output_folder"])
    journal.emit("stage", stage="export", rows=sum(counts.values()), seconds=round(time.monotonic() - t0, 2), files=counts)
    journal.emit("outputs", folder=str(final))
    return {"folder": str(final), "files": counts}
