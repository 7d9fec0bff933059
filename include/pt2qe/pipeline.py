"""The stages of a run, as plain functions the DAG's tasks call.

prepare_run → extract_source → (dbt, in Airflow through Cosmos) → export_run.
Everything a person edits or a source delivers is checked in prepare_run, before any
table or file changes.

Modes (the seed's options):
- full: extract the source, compute everything, write `outputs/run_*`;
- corrections: reuse the extracted offers, apply `capping_cubes_corrections.csv` first in
  the cap order, recompute, write `outputs/corrections_*` with a before/after comparison;
- final: write `outputs/final_*` from the current recommendations.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import asdict
from datetime import date, datetime, timezone
from pathlib import Path

from pt2qe import journal
from pt2qe.diskfull import on_full_disk
from pt2qe.paths import project_root

MODES = ("full", "corrections", "final")
PUBLISHED_MARTS = "marts"  # what BI reads
STAGED_MARTS = "marts_next"  # where a run builds its marts until every gate passed
FOLDER_KIND = {"full": "run", "corrections": "corrections", "final": "final"}
CORRECTIONS_FILE = "capping_cubes_corrections.csv"


class RunError(ValueError):
    """A run parameter or prerequisite is wrong; the message says which and what was expected."""


def resolve_path(value: str, what: str, *, check_links: bool = False) -> Path:
    """`value` (relative to the project root) with its links resolved, refused when it
    lies outside the configured folders. With `check_links` (a folder whose files the
    run reads), a link inside it that points outside them is refused too, before any
    file is read."""
    if not value:
        raise RunError(f"{what}: a path is required")
    path = Path(value)
    path = path.resolve() if path.is_absolute() else (project_root() / path).resolve()
    _refuse_outside_roots(path, what, value)
    if check_links:
        _refuse_escaping_links(path, what)
    return path


def _refuse_outside_roots(path: Path, what: str, value: str) -> None:
    from pt2qe.paths import allowed_roots, inside_allowed_roots

    if not inside_allowed_roots(path):
        roots = ", ".join(str(r) for r in allowed_roots())
        raise RunError(f"{what}: {value!r} is outside the configured folders ({roots}); add its folder to PT2QE_ALLOWED_ROOTS to allow it")


def _refuse_escaping_links(folder: Path, what: str, shown: int = 10) -> None:
    from pt2qe.paths import allowed_roots, escaping_links

    links = escaping_links(folder)
    if links:
        listed = "; ".join(f"{link.relative_to(folder)} -> {to}" for link, to in links[:shown])
        more = f"; and {len(links) - shown} more" if len(links) > shown else ""
        roots = ", ".join(str(r) for r in allowed_roots())
        raise RunError(
            f"{what}: {folder} holds {len(links)} link(s) to files outside the configured"
            f" folders ({roots}): {listed}{more}; nothing was read: put the files themselves"
            " there, or add their folder to PT2QE_ALLOWED_ROOTS"
        )


def _parse_as_of(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RunError(f"as_of: expected a date written YYYY-MM-DD, found {value!r}") from None


# --------------------------------------------------------------------------- prepare


def prepare_run(params: dict, run_id: str, now: datetime | None = None) -> dict:
    """Check configuration, inputs and prerequisites; return the run's plan."""
    from pt2qe.config import load_config
    from pt2qe.exports import new_folder_name
    from pt2qe.frenchcsv import read_capping_type_client
    from pt2qe.periods import last_four_quarters, reference_date

    mode = params.get("mode") or "full"
    if mode not in MODES:
        raise RunError(f"mode: expected one of {', '.join(MODES)}, found {mode!r}")
    dry_run = bool(params.get("dry_run"))
    config = load_config()
    dialect = config.csv_dialect
    capping_file = resolve_path(params.get("capping_file") or "inputs/capping_type_client.csv", "capping_file")
    output_root = resolve_path(params.get("output_folder") or "outputs", "output_folder")
    corrections_dir = resolve_path(
        params.get("corrections_folder") or "corrections", "corrections_folder", check_links=True
    )
    inputs_dir = resolve_path(
        params.get("inputs_folder") or "inputs", "inputs_folder", check_links=True
    )
    as_of_param = _parse_as_of(params.get("as_of") or "")
    now = now or datetime.now()

    reads: list[str] = []
    capping_rows = None
    corrections_rows = None
    if mode == "full":
        source_spec = params.get("source") or ""
        if not source_spec:
            raise RunError("source: full mode needs a source (a folder of files, a SQLAlchemy URL or an Airflow connection id)")
        _check_source_folder(source_spec)
        weeks, source_desc = _source_calendar(source_spec, config)
        last = None
    else:
        source_spec = ""
        last = last_run()
        if last is None:
            raise RunError(f"{mode} mode needs the offers of an earlier full run: run the full mode (Option 1) first")
        weeks, source_desc = _warehouse_calendar(), f"offers extracted by run {last['run_id']} (schema raw)"
        if as_of_param is None:
            as_of_param = date.fromisoformat(last["as_of"])
    reads.append(source_desc)

    if mode in ("full", "corrections"):
        capping_rows = read_capping_type_client(capping_file, dialect)
        reads.append(str(capping_file))
    if mode == "corrections":
        from pt2qe.frenchcsv import check_known_cubes, read_capping_corrections

        corrections_file = corrections_dir / CORRECTIONS_FILE
        corrections_rows = read_capping_corrections(corrections_file, dialect)
        check_known_cubes(corrections_rows, current_cubes(), corrections_file)
        reads.append(str(corrections_file))

    # an SQL source (Oracle) can compute the 4-quarter aggregate itself
    history_pushdown = mode == "full" and config.extraction.pushdown_aggregation and _is_sql_source(source_spec)
    as_of = reference_date(weeks, as_of_param, today=now.date())
    period = last_four_quarters(weeks, as_of)
    registry = price_lists = None
    if mode == "full":
        registry = _read_registry_inputs(inputs_dir, corrections_dir, dialect, as_of, config)
        reads.extend(f.display for f in registry.imports.files)
        if registry.reviews_file:
            reads.append(registry.reviews_file)
    if mode == "final":
        from pt2qe.pricebook import read_price_lists

        price_lists = read_price_lists(inputs_dir / "price_lists", dialect)
        reads.extend(price_lists.files)
    folder = new_folder_name(FOLDER_KIND[mode], now)
    writes = [str(output_root / folder / name) for name in files_for(mode)]

    plan = {
        "mode": mode,
        "dry_run": dry_run,
        "run_id": run_id,
        "triggered_by": params.get("triggered_by") or "airflow",
        "started_at": now.isoformat(timespec="seconds"),
        "source": source_spec,
        "source_desc": source_desc,
        **period.as_dict(),
        "quarter_bounds": [[q.code, q.start.isoformat(), q.end.isoformat()] for q in period.quarters],
        "capping_file": str(capping_file),
        "corrections_file": str(corrections_dir / CORRECTIONS_FILE) if mode == "corrections" else None,
        "output_root": str(output_root),
        "output_folder": folder,
        "output": asdict(config.output),
        "reads": reads,
        "writes": writes,
        "dbt_vars": {
            **config.dbt_vars(),
            **period.as_dict(),
            "run_id": run_id,
            "run_date": now.date().isoformat(),
            "apply_corrections": mode == "corrections",
            "history_pushdown": history_pushdown,
            "marts_schema": STAGED_MARTS,
        },
    }
    journal.emit("plan", **{k: plan[k] for k in ("mode", "source_desc", "as_of", "period_start", "period_end", "quarters", "reads", "writes", "dry_run")})
    if capping_rows is not None:
        gate_inputs(plan, capping_rows, corrections_rows, registry)
    if dry_run:
        return plan
    reset_staging_marts()
    if capping_rows is not None:
        _load_capping(capping_rows, corrections_rows if mode == "corrections" else [])
    if registry is not None:
        _load_registry_inputs(registry)
    if price_lists is not None:
        _load_price_lists(price_lists)
    if mode == "corrections":
        snapshot_before(run_id)
    return plan


def _check_source_folder(spec: str) -> None:
    """A source given as a folder must lie in the configured folders (a URL or an
    Airflow connection id is not a path)."""
    if "://" not in spec and (os.sep in spec or Path(spec).exists()):
        _refuse_outside_roots(Path(spec), "source", spec)


def _read_registry_inputs(inputs_dir: Path, corrections_dir: Path, dialect, as_of: date, config):
    """The price registry's imports (inputs/price_registry/) and reviews
    (corrections/price_anomaly_reviews.csv), read and checked; nothing is loaded yet."""
    from pt2qe.registry import read_registry_inputs
    from pt2qe.warehouse import get_warehouse

    with get_warehouse().connect() as conn:
        return read_registry_inputs(
            conn,
            inputs_dir,
            corrections_dir,
            dialect=dialect,
            as_of=as_of,
            mode=config.price_registry.import_mode,
            display_root=project_root(),
        )


def _load_registry_inputs(registry) -> None:
    from pt2qe.registry import load_registry_inputs
    from pt2qe.warehouse import get_warehouse

    with get_warehouse().connect() as conn:
        counts = load_registry_inputs(conn, registry)
    journal.emit("stage", stage=f"price registry: {counts['imported']} prices imported, {counts['rejected']} rejected, {counts['reviews']} reviews", rows=counts["imported"])


def _load_price_lists(price_lists) -> None:
    from pt2qe.pricebook import load_price_lists
    from pt2qe.warehouse import get_warehouse

    with get_warehouse().connect() as conn:
        n_lists, n_items = load_price_lists(conn, price_lists)
        conn.commit()
    journal.emit("stage", stage=f"price lists: {n_lists} lists, {n_items} items", rows=n_items)


def _source_calendar(spec: str, config):
    from pt2qe.contract import table
    from pt2qe.periods import calendar_weeks
    from pt2qe.sources import open_source

    source = open_source(spec, fetch_size=config.extraction.fetch_size)
    return calendar_weeks(source.read_small(table("SYS_MD_CALENDRIER_SYSCO"))), source.describe()


def _warehouse_calendar():
    from pt2qe.warehouse import get_warehouse

    with get_warehouse().connect() as conn:
        rows = conn.execute(
            "select id_sem, dt_fin_sem, id_trimestre_fiscal, fg_sem_en_cours from raw.sys_md_calendrier_sysco"
        ).fetchall()
    return rows


def _relation_exists(conn, schema: str, name: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (f"{schema}.{name}",)).fetchone()[0]


def last_run(modes: tuple[str, ...] = ("full",)) -> dict | None:
    """The latest successful run of one of `modes`, from control.runs."""
    from pt2qe.warehouse import get_warehouse

    with get_warehouse().connect() as conn:
        if not _relation_exists(conn, "control", "runs"):
            return None
        row = conn.execute(
            """
            select run_id, mode, as_of, output_folder from control.runs
            where mode = any(%s) order by finished_at desc, run_id desc limit 1
            """,
            (list(modes),),
        ).fetchone()
    if row is None:
        return None
    return {"run_id": row[0], "mode": row[1], "as_of": row[2].isoformat(), "output_folder": row[3]}


def current_cubes() -> set[tuple]:
    """The capping cubes of the current offers (they do not depend on caps)."""
    from pt2qe.warehouse import get_warehouse

    with get_warehouse().connect() as conn:
        if not _relation_exists(conn, "marts", "capping_cubes"):
            raise RunError("corrections mode needs the capping cubes of an earlier full run: run the full mode first")
        return set(conn.execute("select univers, type_client, type_restaurant, geo from marts.capping_cubes").fetchall())


def _load_capping(rows, corrections) -> None:
    from pt2qe.load import replace_table
    from pt2qe.warehouse import get_warehouse

    caps = [("capping_high", "numeric"), ("capping_medium", "numeric"), ("capping_low", "numeric")]
    with get_warehouse().connect() as conn:
        n = replace_table(
            conn,
            "inputs",
            "capping_type_client",
            [("type_client", "text"), *caps],
            ((r.type_client, r.capping_high, r.capping_medium, r.capping_low) for r in rows),
        )
        m = replace_table(
            conn,
            "inputs",
            "capping_corrections",
            [("univers", "text"), ("type_client", "text"), ("type_restaurant", "text"), ("geo", "text"), *caps],
            ((r.univers, r.type_client, r.type_restaurant, r.geo, r.capping_high, r.capping_medium, r.capping_low) for r in corrections),
        )
    journal.emit("stage", stage="capping file", rows=n)
    if corrections:
        journal.emit("stage", stage="corrections file", rows=m)


BEFORE_COLUMNS = "id_cnd, univers, type_client, type_restaurant, geo, cube_type, prix_tarif_actuel, prix_recommande, pct_hausse_finale, hausse_euros, ca_4q"


def snapshot_before(run_id: str) -> None:
    """Keep the recommendations as they are before a corrections run, for the comparison."""
    from pt2qe.warehouse import get_warehouse

    with get_warehouse().connect() as conn:
        conn.execute("create schema if not exists control")
        conn.execute("drop table if exists control.recommendations_before")
        conn.execute(f"create table control.recommendations_before as select {BEFORE_COLUMNS} from marts.recommendations")
        conn.commit()


# --------------------------------------------------------------------------- extract


def extract_source(plan: dict) -> dict:
    from pt2qe.load import load_source
    from pt2qe.sources import open_source
    from pt2qe.warehouse import get_warehouse

    if plan["mode"] != "full":
        journal.emit("stage", stage="extract (skipped: offers of the last full run are reused)", rows=0)
        return {"rows": 0, "skipped": True}
    t0 = time.monotonic()
    from pt2qe.config import load_config

    source = open_source(plan["source"], fetch_size=load_config().extraction.fetch_size)
    stats = load_source(
        get_warehouse(),
        source,
        progress=lambda st: journal.emit("table", table=st.table, rows=st.rows, seconds=round(st.seconds, 2)),
        swap=False,  # raw__next replaces raw only once the source gate passed
    )
    total = sum(s.rows for s in stats)
    if plan["dbt_vars"].get("history_pushdown"):
        total += _extract_aggregated_history(source, plan)
    journal.emit("stage", stage="extract", rows=total, seconds=round(time.monotonic() - t0, 2))
    return {"rows": total, "tables": {s.table: s.rows for s in stats}}


def _is_sql_source(spec: str) -> bool:
    from pt2qe.sources import SqlSource, open_source

    return isinstance(open_source(spec), SqlSource)


def _extract_aggregated_history(source, plan: dict) -> int:
    """extraction.pushdown_aggregation: the source computes the 4-quarter history (one
    row per customer x article) and it lands beside the lines as raw__next.invoice_history_4q."""
    from pt2qe.config import load_config
    from pt2qe.load import copy_batches, create_table_sql
    from pt2qe.oracle import AGGREGATED_HISTORY as history
    from pt2qe.periods import Period
    from pt2qe.warehouse import get_warehouse

    t0 = time.monotonic()
    period = Period(date.fromisoformat(plan["as_of"]), date.fromisoformat(plan["period_start"]), date.fromisoformat(plan["period_end"]), ())
    with get_warehouse().connect() as conn:
        conn.execute(create_table_sql("raw__next", history))
        rows = copy_batches(
            conn,
            "raw__next",
            history.pg_name,
            [c.pg_name for c in history.columns],
            source.aggregated_history(period, parallel_degree=load_config().processing.parallel_degree),
        )
        conn.execute("analyze raw__next.invoice_history_4q")
        conn.commit()
    journal.emit("table", table=history.name, rows=rows, seconds=round(time.monotonic() - t0, 2))
    return rows


def swap_raw(plan: dict) -> None:
    """The checked extraction replaces schema raw, all tables at once."""
    from pt2qe.load import swap_schema
    from pt2qe.warehouse import get_warehouse

    if plan["mode"] != "full":
        return
    with get_warehouse().connect() as conn:
        swap_schema(conn, "raw__next", "raw")


def reset_staging_marts() -> None:
    from pt2qe.warehouse import get_warehouse

    with get_warehouse().connect() as conn:
        conn.execute(f"drop schema if exists {STAGED_MARTS} cascade")
        conn.execute(f"create schema {STAGED_MARTS}")
        conn.commit()


# --------------------------------------------------------------------------- gates


def quality_dir(plan: dict) -> Path:
    from pt2qe.paths import state_dir

    return state_dir() / "quality" / plan["run_id"].replace(":", "_").replace("+", "_")


def gate_inputs(plan: dict, capping_rows, corrections_rows, registry=None) -> None:
    """The pricing team's files, as parsed, against expectations/inputs/*.json."""
    import pandas as pd

    from pt2qe.gates import Target, run_gate, suite_path

    caps = ("CAPPING_HIGH", "CAPPING_MEDIUM", "CAPPING_LOW")

    def frame(rows, keys):
        data = [{**{k.upper(): getattr(r, k) for k in keys}, **{c: float(getattr(r, c.lower())) for c in caps}} for r in rows]
        return pd.DataFrame(data, index=[r.line for r in rows], columns=[k.upper() for k in keys] + list(caps))

    targets = [Target(suite_path("inputs", "capping_type_client"), dataframe=frame(capping_rows, ["type_client"]), label=plan["capping_file"])]
    if corrections_rows is not None:
        targets.append(
            Target(
                suite_path("inputs", "capping_corrections"),
                dataframe=frame(corrections_rows, ["univers", "type_client", "type_restaurant", "geo"]),
                label=plan["corrections_file"],
            )
        )
    if registry is not None:
        from pt2qe.registry import gate_frames

        params = {"as_of": plan["as_of"], "max_year": int(plan["as_of"][:4]) + 1}
        for label, frame_ in gate_frames(registry):
            targets.append(Target(suite_path("inputs", "registry_inputs"), dataframe=frame_, label=label, params=params))
    run_gate("inputs", targets, None, quality_dir(plan), run_id=plan["run_id"])


def gate_targets(gate: str, plan: dict, exported: dict | None = None) -> list:
    """What each warehouse gate validates for this run (empty: nothing to check)."""
    from pt2qe.contract import TABLES
    from pt2qe.gates import Target, suite_path

    mode = plan["mode"]
    if gate == "source":
        if mode != "full":
            return []
        return [Target(suite_path("source", t.pg_name), "raw__next", t.pg_name, params={"as_of": plan["as_of"]}) for t in TABLES]
    if gate == "recommendations":
        if mode == "final":
            return []
        return [
            Target(suite_path("recommendations", "recommendations"), STAGED_MARTS, "recommendations"),
            Target(suite_path("recommendations", "int_price_offers"), "intermediate", "int_price_offers"),
        ]
    if gate == "exports":
        targets = []
        for name, (mart, _order, _drop) in FILES[mode].items():
            schema = exported["schemas"][name]
            targets.append(
                Target(
                    suite_path("exports", "exports"),
                    schema,
                    mart,
                    label=f"{schema}.{mart} → {name}",
                    params={"exported_rows": exported["files"][name], "key": EXPORT_KEYS[mart]},
                )
            )
        return targets
    raise ValueError(f"unknown gate {gate!r}")


def run_warehouse_gate(gate: str, plan: dict, exported: dict | None = None) -> dict:
    from pt2qe.gates import gx_url, run_gate
    from pt2qe.warehouse import get_warehouse

    targets = gate_targets(gate, plan, exported)
    if not targets:
        journal.emit("stage", stage=f"gate {gate} (nothing to check in {plan['mode']} mode)", rows=0)
        return {"gate": gate, "skipped": True}
    t0 = time.monotonic()
    summary = run_gate(gate, targets, gx_url(get_warehouse().url), quality_dir(plan), run_id=plan["run_id"])
    checked = sum(t.get("evaluated") or 0 for t in summary["targets"])
    journal.emit("stage", stage=f"gate {gate}: {checked} expectations passed", rows=len(targets), seconds=round(time.monotonic() - t0, 2))
    return summary


# --------------------------------------------------------------------------- export

# file name → (mart, order by, dropped columns); the first file of each mode holds one
# row per recommended offer (reconciled in export_summary.txt)
ANALYSES = {
    "recommendations_detail.csv": ("recommendations_detail", ["sort_order"], ("sort_order",)),
    "statistics_by_dimension.csv": ("statistics_by_dimension", ["dimension", "valeur"], ()),
    "impact_analysis.csv": ("impact_analysis", ["ordre", "type_client", "univers"], ("ordre",)),
    "price_increase_distribution.csv": ("price_increase_distribution", ["ordre"], ("ordre",)),
    "decision_path_analysis.csv": ("decision_path_analysis", ["decision_path", "reco_selectionnee"], ()),
    "capping_distribution.csv": ("capping_distribution", ["capping_applied", "decision_path", "reco_selectionnee"], ()),
    "capping_cubes_generated.csv": ("capping_cubes", ["univers", "type_client", "type_restaurant", "geo"], ()),
}
# the price registry (full runs: it does not depend on caps)
REGISTRY_FILES = {
    "price_registry_anomalies.csv": ("price_registry_anomalies", ["sort_order"], ("sort_order",)),
    "price_suggestions.csv": ("price_suggestions", ["item_key", "context_key"], ()),
}
FILES = {
    "full": {**ANALYSES, **REGISTRY_FILES},
    "corrections": {
        **ANALYSES,
        "corrections_comparison.csv": (
            "corrections_comparison", ["ordre", "univers", "type_client", "type_restaurant", "geo"], ("ordre",)
        ),
    },
    "final": {
        "final_price_offers.csv": ("final_price_offers", ["id_cln", "id_art", "id_cnd"], ()),
        "validation_report.csv": ("validation_report", ["ordre"], ("ordre",)),
        "price_book_held_offers.csv": ("price_book_held_offers", ["id_cln", "id_art", "id_cnd"], ()),
    },
}
SUMMARY_FILE = "export_summary.txt"
REPORT_FILE = "report.html"
# the column the exports gate checks for NULLs, per exported mart
EXPORT_KEYS = {
    "recommendations_detail": "id_cnd",
    "statistics_by_dimension": "dimension",
    "impact_analysis": "type_client",
    "price_increase_distribution": "tranche",
    "decision_path_analysis": "decision_path",
    "capping_distribution": "capping_applied",
    "capping_cubes": "univers",
    "corrections_comparison": "univers",
    "final_price_offers": "id_cnd",
    "validation_report": "indicateur",
    "price_registry_anomalies": "observation_id",
    "price_suggestions": "item_key",
    "price_book_held_offers": "id_cnd",
}


def files_for(mode: str) -> list[str]:
    names = [*FILES[mode], SUMMARY_FILE, REPORT_FILE]
    if mode == "corrections":
        names.append(CORRECTIONS_FILE)
    return names


def _export_format(plan: dict):
    from pt2qe.exports import ExportFormat

    out = plan["output"]
    return ExportFormat(
        separator=out["csv_separator"],
        decimal=out["decimal_separator"],
        encoding=out["csv_encoding"],
        decimal_places=out["decimal_places"],
        percentage_format=out["percentage_format"],
    )


def export_run(plan: dict) -> dict:
    """Write the run's files into a hidden temporary folder, from the staged marts (or
    the published ones for marts this mode does not rebuild)."""
    from pt2qe.config import CsvDialect
    from pt2qe.exports import staging_folder
    from pt2qe.registry import REJECTS_FILE as REGISTRY_REJECTS
    from pt2qe.registry import REPORT_FILE as REGISTRY_REPORT
    from pt2qe.registry import write_registry_outputs
    from pt2qe.report import write_report
    from pt2qe.summary import write_summary
    from pt2qe.warehouse import get_warehouse

    t0 = time.monotonic()
    fmt = _export_format(plan)
    root = Path(plan["output_root"])
    with on_full_disk(f"the run folder {plan['output_folder']} (in {root})", NOT_PUBLISHED):
        tmp = staging_folder(root, plan["output_folder"])
    files = FILES[plan["mode"]]
    wh = get_warehouse()
    try:
        with wh.connect() as conn:
            schemas = {
                name: STAGED_MARTS if _relation_exists(conn, STAGED_MARTS, mart) else PUBLISHED_MARTS
                for name, (mart, _order, _drop) in files.items()
            }
            counts = _export_files(wh, files, schemas, tmp, fmt)
            first = counts[next(iter(files))]
            with on_full_disk(_output_file(tmp, SUMMARY_FILE), NOT_PUBLISHED):
                write_summary(conn, tmp / SUMMARY_FILE, plan, first, counts, _marts_schema(conn))
            written = {}
            if plan["mode"] == "full":
                out = plan["output"]
                dialect = CsvDialect(
                    separator=out["csv_separator"],
                    decimal=out["decimal_separator"],
                    encoding=out["csv_encoding"],
                )
                registry_files = f"{REGISTRY_REPORT} or {REGISTRY_REJECTS}"
                with on_full_disk(_output_file(tmp, registry_files), NOT_PUBLISHED):
                    written = write_registry_outputs(conn, tmp, dialect)
            if plan["mode"] == "corrections":
                with on_full_disk(_output_file(tmp, CORRECTIONS_FILE), NOT_PUBLISHED):
                    shutil.copyfile(plan["corrections_file"], tmp / CORRECTIONS_FILE)
            with on_full_disk(_output_file(tmp, REPORT_FILE), NOT_PUBLISHED):
                write_report(conn, tmp, plan)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # no half-written run folder stays
        raise
    counts_all = {**counts, **written}
    journal.emit("stage", stage="export", rows=sum(counts_all.values()), seconds=round(time.monotonic() - t0, 2), files=counts_all)
    return {"folder": str(tmp), "files": counts, "schemas": schemas}


def _export_files(wh, files: dict, schemas: dict, folder: Path, fmt) -> dict[str, int]:
    """Export the files two at a time (`Warehouse.each_on_connections`); the detail file,
    the largest, comes first in FILES."""
    from pt2qe.exports import export_relation

    def export_one(conn, name: str) -> int:
        mart, order, drop = files[name]
        with on_full_disk(_output_file(folder, name), NOT_PUBLISHED):
            rows = export_relation(conn, schemas[name], mart, folder / name, fmt, order, drop)
        journal.fault_point("export")
        return rows

    return dict(zip(files, wh.each_on_connections(files, export_one), strict=True))


NOT_PUBLISHED = "nothing was published and the run's unfinished folder was removed"


def _output_file(folder: Path, name: str) -> str:
    return f"the output file {name} (in {folder})"


def _marts_schema(conn) -> str:
    return STAGED_MARTS if _relation_exists(conn, STAGED_MARTS, "run_reconciliation") else PUBLISHED_MARTS


def publish_run(plan: dict, exported: dict) -> dict:
    """Every gate passed: the staged marts replace the published ones in one
    transaction, then the output folder is renamed into place."""
    from pt2qe.exports import publish_folder
    from pt2qe.warehouse import get_warehouse

    t0 = time.monotonic()
    tmp = Path(exported["folder"])
    quality = quality_dir(plan)
    if quality.exists():
        shutil.copytree(quality, tmp / "quality", dirs_exist_ok=True)
    with get_warehouse().connect() as conn:
        moved = publish_marts(conn)
    final = publish_folder(tmp, Path(plan["output_root"]), plan["output_folder"])
    record_run(plan, final)
    journal.emit("stage", stage=f"publish: {len(moved)} marts", rows=len(moved), seconds=round(time.monotonic() - t0, 2))
    journal.emit("outputs", folder=str(final))
    return {"folder": str(final), "marts": moved}


def publish_marts(conn) -> list[str]:
    """Move every relation of marts_next into marts, replacing its namesake, and grant
    the BI role read access, all in one transaction."""
    from psycopg import sql

    from pt2qe.warehouse import ensure_bi_role

    with conn.transaction():
        conn.execute(f"create schema if not exists {PUBLISHED_MARTS}")
        relations = conn.execute(
            """
            select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = %s and c.relkind in ('r', 'v', 'm') order by c.relname
            """,
            (STAGED_MARTS,),
        ).fetchall()
        for name, kind in relations:
            what = sql.SQL({"r": "table", "v": "view", "m": "materialized view"}[kind])
            current = conn.execute(
                "select c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = %s and c.relname = %s",
                (PUBLISHED_MARTS, name),
            ).fetchone()
            if current:
                old = sql.SQL({"r": "table", "v": "view", "m": "materialized view"}[current[0]])
                conn.execute(sql.SQL("drop {} {}.{} cascade").format(old, sql.Identifier(PUBLISHED_MARTS), sql.Identifier(name)))
            conn.execute(sql.SQL("alter {} {}.{} set schema {}").format(what, sql.Identifier(STAGED_MARTS), sql.Identifier(name), sql.Identifier(PUBLISHED_MARTS)))
        ensure_bi_role(conn)
        conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(STAGED_MARTS)))
    return [name for name, _ in relations]


def record_run(plan: dict, folder: Path) -> None:
    """control.runs (what ran, when, on which period) and, for corrections, the audit."""
    from pt2qe.warehouse import get_warehouse

    finished = datetime.now(timezone.utc)
    with get_warehouse().connect() as conn:
        conn.execute("create schema if not exists control")
        conn.execute(
            """
            create table if not exists control.runs (
                run_id text primary key, mode text not null, as_of date not null,
                period_start date not null, period_end date not null, quarters text not null,
                source text, output_folder text not null, triggered_by text,
                started_at timestamp, finished_at timestamptz not null
            )
            """
        )
        conn.execute(
            """
            insert into control.runs values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (run_id) do update set output_folder = excluded.output_folder, finished_at = excluded.finished_at
            """,
            (
                plan["run_id"], plan["mode"], plan["as_of"], plan["period_start"], plan["period_end"],
                ",".join(plan["quarters"]), plan["source_desc"], str(folder), plan["triggered_by"],
                plan["started_at"], finished,
            ),
        )
        if plan["mode"] == "corrections":
            data = (folder / CORRECTIONS_FILE).read_bytes()
            conn.execute(
                """
                create table if not exists control.corrections_applied (
                    run_id text not null, file_name text not null, sha256 text not null,
                    rows integer not null, applied_at timestamptz not null, triggered_by text
                )
                """
            )
            rows = conn.execute("select count(*) from inputs.capping_corrections").fetchone()[0]
            conn.execute(
                "insert into control.corrections_applied values (%s, %s, %s, %s, %s, %s)",
                (plan["run_id"], plan["corrections_file"], hashlib.sha256(data).hexdigest(), rows, finished, plan["triggered_by"]),
            )
        conn.commit()
        if plan["mode"] == "full":
            from pt2qe.registry import audit_applied_files

            audit_applied_files(conn, plan["run_id"], plan["triggered_by"], finished)


# --------------------------------------------------------------------------- notify


def notify_price_changes(plan: dict) -> dict:
    """After a final run's publication: the price changes above
    notifications.min_change_pct go to each configured webhook (outbox, batches,
    retries). Other modes only retry what an earlier run left pending. Never fails the
    run: what could not be delivered stays in control.price_change_outbox."""
    from pt2qe.config import load_config
    from pt2qe.notify import deliver_pending, notify_run
    from pt2qe.warehouse import get_warehouse

    settings = load_config().notifications
    t0 = time.monotonic()
    with get_warehouse().connect() as conn:
        if plan["mode"] == "final":
            enqueued, report = notify_run(conn, plan["run_id"], settings)
            queued = enqueued.enqueued if enqueued else 0
        else:
            report, queued = deliver_pending(conn, settings), 0
    delivered = report.delivered
    journal.emit(
        "stage",
        stage=f"notifications: {queued} changes queued, {delivered} deliveries, {len(report.errors)} errors",
        rows=delivered,
        seconds=round(time.monotonic() - t0, 2),
    )
    for error in report.errors:
        journal.emit("warning", message=error)
    return {"queued": queued, "delivered": delivered, "errors": report.errors}
