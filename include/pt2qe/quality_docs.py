"""The gates' Data Docs: pages people open, rendered from GX's validation results.

GX's own site builder links its styles and scripts from CDNs (a blank page offline) and
copies 4 MB of static files per gate. These pages are written from the same validation
results (`<gate>/<table or file>.json`, the source of truth) with the Jinja2 templates
of `templates/quality/` (autoescaped, CSS inline, no script, no link outside the
folder), so they open from a disk, a mail attachment or a shared drive:

    quality/index.html                   every gate of the run: each table or file
                                         validated, its expectations evaluated, passed,
                                         failed, its state and time
    quality/<gate>/<table or file>.html  one validation: the failed expectations first,
                                         with a sample of the offending rows, then all
    quality/<gate>/<table or file>.json  GX's validation result
    quality/<gate>/summary.json          the gate's summary

Each gate runs in its own task: it writes its pages, then rebuilds the index from the
summaries of every gate that has run so far.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pt2qe.gates import ONE_QUERY_TYPE
from pt2qe.plain import pairs, plain

GATE_ORDER = ("inputs", "source", "recommendations", "exports")
PAGE_ROWS = 20  # offending rows shown per expectation (the JSON holds up to 200)
HIDDEN_KWARGS = ("batch_id", "result_format", "description", "unexpected_rows_query")
TEMPLATES = Path(__file__).parent / "templates" / "quality"
_ENV = None


def _env():
    global _ENV
    if _ENV is None:
        from jinja2 import Environment, FileSystemLoader, StrictUndefined

        _ENV = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
    return _ENV


def _render(template: str, path: Path, **values: Any) -> None:
    path.write_text(_env().get_template(template).render(**values), encoding="utf-8")


def when(iso: str | None) -> str:
    """GX's ISO timestamp as a person reads it: `2025-11-03 10:15:12 UTC`."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    zone = (
        "UTC"
        if moment.utcoffset() is not None and not moment.utcoffset()
        else moment.strftime("%z")
    )
    return f"{moment:%Y-%m-%d %H:%M:%S} {zone}".strip()


def _state(success: bool | None, error: bool = False) -> dict[str, str]:
    if error:
        return {"word": "could not run", "css": "error"}
    return {"word": "passed", "css": "passed"} if success else {"word": "failed", "css": "failed"}


def _rows(result: dict) -> tuple[list[str], list[list[str]]]:
    """The offending rows GX kept: (column headers, rows of plain values)."""
    index = result.get("unexpected_index_list") or result.get("partial_unexpected_index_list") or []
    details = result.get("details")
    if not index and isinstance(details, dict):
        index = details.get("unexpected_rows") or []
    if index and all(isinstance(r, dict) for r in index):
        columns = list(dict.fromkeys(k for r in index for k in r))
        return [c.upper() for c in columns], [
            [plain(r.get(c)) for c in columns] for r in index[:PAGE_ROWS]
        ]
    if index:  # a data frame: the lines of the file, and their values when GX kept them
        values = result.get("unexpected_list") or []
        if len(values) == len(index):
            return ["line", "value"], [
                [plain(i), plain(v)] for i, v in zip(index[:PAGE_ROWS], values, strict=False)
            ]
        return ["line"], [[plain(i)] for i in index[:PAGE_ROWS]]
    counts = result.get("partial_unexpected_counts") or []
    if counts:
        return ["value", "rows"], [
            [plain(c.get("value")), plain(c.get("count"))] for c in counts[:PAGE_ROWS]
        ]
    values = result.get("partial_unexpected_list") or []
    return (["value"], [[plain(v)] for v in values[:PAGE_ROWS]]) if values else ([], [])


def _found(result: dict) -> list[str]:
    """What the expectation measured, in words."""
    found = []
    if result.get("element_count") is not None:
        found.append(f"{plain(result['element_count'])} rows checked")
    if result.get("unexpected_count") is not None:
        pct = result.get("unexpected_percent")
        share = f" ({plain(round(pct, 2))} %)" if isinstance(pct, (int, float)) else ""
        found.append(f"{plain(result['unexpected_count'])} unexpected{share}")
    if result.get("missing_count"):
        found.append(f"{plain(result['missing_count'])} NULL (not checked)")
    observed = result.get("observed_value")
    if observed is not None:
        details = result.get("details")
        rows = isinstance(details, dict) and "unexpected_rows" in details
        found.append(
            f"{plain(observed)} unexpected row(s)" if rows else f"observed {plain(observed)}"
        )
    return found


def expectation_view(res: dict) -> dict[str, Any]:
    """One expectation of a validation result, every value already plain text."""
    config = res.get("expectation_config") or {}
    kwargs = config.get("kwargs") or {}
    exception = res.get("exception_info") or {}
    error = bool(exception.get("raised_exception"))
    result = res.get("result") or {}
    columns, rows = _rows(result) if not res.get("success") else ([], [])
    unexpected = result.get("unexpected_count")
    if unexpected is None:
        unexpected = (
            result.get("observed_value") if isinstance(result.get("details"), dict) else None
        )
    shown_all = not isinstance(unexpected, int) or unexpected <= len(rows)
    return {
        # the suite's own type (the gate validates unexpected_rows_expectation with a subclass)
        "type": "unexpected_rows_expectation"
        if config.get("type") == ONE_QUERY_TYPE
        else config.get("type", ""),
        "description": kwargs.get("description") or config.get("description") or "",
        "notes": str((config.get("meta") or {}).get("notes") or ""),
        "arguments": pairs({k: v for k, v in kwargs.items() if k not in HIDDEN_KWARGS}),
        "query": kwargs.get("unexpected_rows_query") or "",
        "state": _state(res.get("success"), error),
        "found": "; ".join(_found(result)),
        "error": str(exception.get("exception_message") or "")[:500] if error else "",
        "columns": columns,
        "rows": rows,
        "more": ""
        if shown_all
        else f"{plain(unexpected)} unexpected in all, {len(rows)} shown here",
    }


def validation_view(gate: str, entry: dict, document: dict) -> dict[str, Any]:
    meta = document.get("meta") or {}
    stats = document.get("statistics") or {}
    expectations = [expectation_view(r) for r in document.get("results", [])]
    return {
        "gate": gate,
        "target": entry["target"],
        "suite": f"{gate}/{entry['suite']}",
        "suite_name": document.get("suite_name", ""),
        "notes": entry.get("notes") or "",
        "run_id": (meta.get("run_id") or {}).get("run_name") or "",
        "validated_at": when(meta.get("validation_time")),
        "gx_version": meta.get("great_expectations_version", ""),
        "state": _state(document.get("success")),
        "evaluated": plain(stats.get("evaluated_expectations")),
        "passed": plain(stats.get("successful_expectations")),
        "failed": plain(stats.get("unsuccessful_expectations")),
        "failures": [e for e in expectations if e["state"]["css"] != "passed"],
        "expectations": expectations,
        "results": entry["results"],
    }


def _gates(quality_dir: Path) -> list[dict]:
    """Every gate that has run, from its summary.json, in the pipeline's order."""
    found = []
    for path in sorted(quality_dir.glob("*/summary.json")):
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    rank = {g: i for i, g in enumerate(GATE_ORDER)}
    return sorted(found, key=lambda s: (rank.get(s.get("gate"), len(rank)), s.get("gate", "")))


def index_view(quality_dir: Path) -> dict[str, Any]:
    gates = []
    for summary in _gates(quality_dir):
        gate = summary.get("gate", "")
        rows = [
            {
                "target": t.get("target", ""),
                "suite": f"{gate}/{t.get('suite', '')}",
                "evaluated": plain(t.get("evaluated")),
                "passed": plain((t.get("evaluated") or 0) - (t.get("failed") or 0)),
                "failed": plain(t.get("failed")),
                "state": _state(t.get("success")),
                "validated_at": when(t.get("validated_at")),
                "page": f"{gate}/{t['page']}" if t.get("page") else "",
            }
            for t in summary.get("targets", [])
        ]
        gates.append(
            {
                "gate": gate,
                "state": _state(summary.get("success")),
                "rows": rows,
                "run_id": summary.get("run_id") or "",
            }
        )
    run_ids = sorted({g["run_id"] for g in gates if g["run_id"]})
    return {
        "run_id": ", ".join(run_ids),
        "gates": gates,
        "state": _state(all(g["state"]["css"] == "passed" for g in gates)),
        "validations": sum(len(g["rows"]) for g in gates),
        "failed": sum(1 for g in gates for r in g["rows"] if r["state"]["css"] != "passed"),
    }


def write_gate_docs(quality_dir: Path, gate: str, summary: dict, results: dict[str, dict]) -> Path:
    """The gate's summary.json and pages (from `results`: GX's validation results by file
    stem), then the run's index across the gates. Returns the index's path."""
    out = quality_dir / gate
    for entry in summary["targets"]:
        document = results.get(Path(entry.get("results", "")).stem)
        if document is None:
            continue
        entry["validated_at"] = (document.get("meta") or {}).get("validation_time")
        _render("validation.html.j2", out / entry["page"], **validation_view(gate, entry, document))
    (out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    index = quality_dir / "index.html"
    _render("index.html.j2", index, **index_view(quality_dir))
    return index
