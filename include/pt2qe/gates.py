"""Great Expectations gates: suites as JSON files in `expectations/<gate>/`, validated
against warehouse tables (SQL pushdown: GX sends queries, nothing is loaded into
pandas) or against small data frames (the pricing team's files, before they are loaded).

A suite file is a GX 1.x ExpectationSuite (`{"name", "expectations": [{"type", "kwargs"}],
"meta"}`). `meta.key` names the key columns used to show offending rows. A kwarg whose
value is `"${name}"` takes the run parameter `name` (e.g. the reference date or the
number of exported rows); parameters are typed values from the run's plan, never text
from a person.

A failed gate raises GateError whose message names the gate, the suite file, the table,
each failed expectation and a sample of the offending rows. GX's validation results
(JSON, the source of truth) are written to `quality_dir/<gate>/`, with the pages people
read, rendered from them by `pt2qe.quality_docs` (offline HTML, one index across gates).
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pt2qe.paths import expectations_dir
from pt2qe.plain import pairs, plain

SAMPLE_ROWS = 5
_PARAM = re.compile(r"\$\{([a-z_]+)\}")
_SAFE_PARAM = re.compile(r"^[A-Za-z0-9_.\- :]*$")


class GateError(RuntimeError):
    """A gate failed; nothing downstream of it runs."""


@dataclass
class Target:
    """One suite validated against one table (schema.table) or one data frame."""

    suite: Path
    schema: str | None = None
    table: str | None = None
    dataframe: Any = None
    label: str | None = None  # what the message calls the data (file name, table)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        return f"{self.schema}.{self.table}" if self.table else "data frame"


@dataclass
class Failure:
    target: str
    suite: str
    expectation: str
    detail: str


def suite_path(gate: str, name: str) -> Path:
    return expectations_dir() / gate / f"{name}.json"


def load_suite(path: Path, params: dict[str, Any]) -> dict:
    try:
        suite = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GateError(f"suite file {path} is missing") from None
    except json.JSONDecodeError as exc:
        raise GateError(f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}") from None

    def subst(value: Any) -> Any:
        if isinstance(value, str):
            whole = _PARAM.fullmatch(value)
            if whole:
                return _param(params, whole.group(1), path)
            return _PARAM.sub(lambda m: str(_param(params, m.group(1), path)), value)
        if isinstance(value, list):
            return [subst(v) for v in value]
        if isinstance(value, dict):
            return {k: subst(v) for k, v in value.items()}
        return value

    suite["expectations"] = [subst(e) for e in suite.get("expectations", [])]
    return suite


def _param(params: dict[str, Any], name: str, path: Path) -> Any:
    if name not in params:
        raise GateError(f"{path}: the suite uses ${{{name}}} but the gate gives no such parameter")
    value = params[name]
    if isinstance(value, str) and not _SAFE_PARAM.match(value):
        raise GateError(f"{path}: parameter {name} has an unsafe value {value!r}")
    return value


# GX's unexpected_rows_expectation computes two metrics, the rows and their count, and
# each one runs the whole query: every rule scanned its table twice (the uniqueness of the
# 1.6 million recommendations: 2 x 2.6 s). The suites keep GX's standard type; the gate
# validates them with this subclass, which runs the query once and counts the rows it
# fetched (GX fetches at most MAX_RESULT_RECORDS of them). Same success rule: no row.
ONE_QUERY_TYPE = "unexpected_rows_one_query_expectation"
_ONE_QUERY_CLASS = None


def _one_query_expectation_class():
    global _ONE_QUERY_CLASS
    if _ONE_QUERY_CLASS is None:
        from great_expectations.expectations import UnexpectedRowsExpectation

        class UnexpectedRowsOneQueryExpectation(UnexpectedRowsExpectation):
            """unexpected_rows_expectation whose query runs once."""

            metric_dependencies = ("unexpected_rows_query.table",)

            def _validate(self, metrics, runtime_configuration=None, execution_engine=None):
                rows = metrics["unexpected_rows_query.table"]
                return {
                    "success": not rows,
                    "result": {"observed_value": len(rows), "details": {"unexpected_rows": rows}},
                }

        _ONE_QUERY_CLASS = UnexpectedRowsOneQueryExpectation
    return _ONE_QUERY_CLASS


def _one_query(expectations: list[dict]) -> list[dict]:
    """The suite's unexpected_rows expectations, validated by the one-query subclass."""
    _one_query_expectation_class()
    return [
        {**e, "type": ONE_QUERY_TYPE} if e.get("type") == "unexpected_rows_expectation" else e
        for e in expectations
    ]


def _describe(config) -> str:
    kwargs = {k: v for k, v in (config.kwargs or {}).items() if k not in ("batch_id", "result_format")}
    if config.type in ("unexpected_rows_expectation", ONE_QUERY_TYPE):
        return config.description or "unexpected rows"
    return f"{config.type}({pairs(kwargs)})"


def _sample(result: dict) -> str:
    """Up to SAMPLE_ROWS offending rows, as a person reads them: `ID_CND=O17, PRIX=-4.3`."""
    rows = result.get("partial_unexpected_index_list") or []
    if rows:
        # SQL: the key columns of the row (and the checked one); data frame: its file line
        return "; ".join(pairs(row, upper=True) if isinstance(row, dict) else f"line {plain(row)}" for row in rows[:SAMPLE_ROWS])
    details = result.get("details")
    rows = details.get("unexpected_rows") if isinstance(details, dict) else None
    if rows:
        return "; ".join(pairs(dict(r), upper=True) for r in rows[:SAMPLE_ROWS])
    values = result.get("partial_unexpected_list") or []
    if values:
        return "values " + ", ".join(plain(v) for v in values[:SAMPLE_ROWS])
    return ""


def _detail(res) -> str:
    """What a failed expectation found: how many rows and a sample of them, or the
    observed value, or why it could not run."""
    if res.exception_info and res.exception_info.get("raised_exception"):
        return "could not run: " + str(res.exception_info.get("exception_message"))[:300]
    result = res.result or {}
    count = result.get("unexpected_count")
    if count is None and res.expectation_config.type == ONE_QUERY_TYPE:
        from great_expectations.constants import MAX_RESULT_RECORDS  # the most rows it fetches

        count = result.get("observed_value")
        if count == MAX_RESULT_RECORDS:
            count = f"{count} or more"
    if count is not None:
        sample = _sample(result)
        return f"{count} unexpected" + (f"; e.g. {sample}" if sample else "")
    if "observed_value" in result:
        return f"observed {plain(result['observed_value'])}"
    return "failed"


def _unique(names: list[str], again: str = " ({})") -> list[str]:
    """The names, each once: a repeated one gets ` (2)`, ` (3)`, … (or `again`'s form)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else name + again.format(seen[name]))
    return out


def _file_stem(target: Target) -> str:
    """The name of a target's results and page: schema.table, or the file's name."""
    base = f"{target.schema}.{target.table}" if target.table else Path(target.name).name
    return re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "data"


def _run_identifier(gate: str, run_id: str | None):
    from datetime import UTC, datetime

    from great_expectations.core.run_identifier import RunIdentifier

    return RunIdentifier(run_name=run_id or f"gate {gate}", run_time=datetime.now(UTC))


def run_gate(gate: str, targets: list[Target], url: str | None, quality_dir: Path | None, run_id: str | None = None) -> dict:
    """Validate every target; raise GateError listing every failure. Returns a summary.

    With a quality_dir, writes `<gate>/<table or file>.json` (GX's validation result),
    `<gate>/summary.json`, a page per validation and the index across the gates
    (`pt2qe.quality_docs`). GX names everything after the table or file, the gate and
    the run (`run_id`, the pipeline's run)."""
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    out = None
    if quality_dir is not None:
        out = quality_dir / gate
        if out.exists():  # a retried gate task: its own earlier pages go, the other gates' stay
            shutil.rmtree(out)
        out.mkdir(parents=True)
    run = _run_identifier(gate, run_id)
    sql_source = context.data_sources.add_postgres("warehouse", connection_string=url) if url else None
    frames = None
    failures: list[Failure] = []
    summary: dict[str, Any] = {"gate": gate, "run_id": run.run_name, "targets": []}
    results: dict[str, dict] = {}
    names = _unique([t.name for t in targets])
    stems = _unique([_file_stem(t) for t in targets], "-{}")
    shared = {t.suite for t in targets if sum(u.suite == t.suite for u in targets) > 1}
    for target, name, stem in zip(targets, names, stems, strict=True):
        spec = load_suite(target.suite, target.params)
        key = [k for k in spec.get("meta", {}).get("key", []) if k]
        suite_name = f"{spec['name']} on {name}" if target.suite in shared else spec["name"]
        suite = context.suites.add(
            gx.ExpectationSuite(name=suite_name, expectations=_one_query(spec["expectations"]), meta=spec.get("meta", {}))
        )
        if target.dataframe is not None:
            frames = frames or context.data_sources.add_pandas("files")
            asset = frames.add_dataframe_asset(name=name)
            batch_def = asset.add_batch_definition_whole_dataframe("whole file")
            batch_params = {"dataframe": target.dataframe}
        else:
            if sql_source is None:
                raise GateError(f"gate {gate}: no warehouse to validate {target.name}")
            asset = sql_source.add_table_asset(name, table_name=target.table, schema_name=target.schema)
            batch_def = asset.add_batch_definition_whole_table("whole table")
            batch_params = None
        what = f"gate {gate}: {name}"
        definition = context.validation_definitions.add(gx.ValidationDefinition(name=what, data=batch_def, suite=suite))
        result_format = {"result_format": "COMPLETE", "partial_unexpected_count": SAMPLE_ROWS}
        if key and target.dataframe is None:
            result_format["unexpected_index_column_names"] = key
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(name=what, validation_definitions=[definition], result_format=result_format)
        )
        checkpoint_result = checkpoint.run(batch_parameters=batch_params, run_id=run)
        for validation in checkpoint_result.run_results.values():
            stats = validation.statistics
            entry = {"target": target.name, "suite": str(target.suite.name), "success": validation.success,
                     "evaluated": stats.get("evaluated_expectations"), "failed": stats.get("unsuccessful_expectations")}
            if out is not None:
                document = validation.to_json_dict()
                (out / f"{stem}.json").write_text(
                    json.dumps(document, indent=2, default=str, ensure_ascii=False), encoding="utf-8"
                )
                entry.update(results=f"{stem}.json", page=f"{stem}.html", notes=spec.get("meta", {}).get("notes", ""))
                results[stem] = document
            summary["targets"].append(entry)
            failures += [
                Failure(target.name, target.suite.name, _describe(res.expectation_config), _detail(res))
                for res in validation.results
                if not res.success
            ]
    summary["success"] = not failures
    index = None
    if out is not None:
        from pt2qe.quality_docs import write_gate_docs

        index = write_gate_docs(quality_dir, gate, summary, results)
    if failures:
        lines = [f"GX gate '{gate}' failed ({len(failures)} expectation(s)):"]
        lines += [f"  - {f.target} [suite {gate}/{f.suite}]: {f.expectation}: {f.detail}" for f in failures]
        if index is not None:
            lines.append(f"  validation results and Data Docs: {index}")
        raise GateError("\n".join(lines))
    return summary


def gx_url(libpq_url: str) -> str:
    """GX's SQL pushdown goes through SQLAlchemy with psycopg2."""
    return "postgresql+psycopg2://" + libpq_url.split("://", 1)[1]
