"""Great Expectations gates: suites as JSON files in `expectations/<gate>/`, validated
against warehouse tables (SQL pushdown: GX sends queries, nothing is loaded into
pandas) or against small data frames (the pricing team's files, before they are loaded).

A suite file is a GX 1.x ExpectationSuite (`{"name", "expectations": [{"type", "kwargs"}],
"meta"}`). `meta.key` names the key columns used to show offending rows. A kwarg whose
value is `"${name}"` takes the run parameter `name` (e.g. the reference date or the
number of exported rows); parameters are typed values from the run's plan, never text
from a person.

A failed gate raises GateError whose message names the gate, the suite file, the table,
each failed expectation and a sample of the offending rows. The validation results (JSON)
and the GX Data Docs (HTML) are written to `quality_dir/<gate>/`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pt2qe.paths import expectations_dir

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
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"{config.type}({args})"


def _sample(result: dict) -> str:
    rows = result.get("partial_unexpected_index_list") or []
    if rows:
        # SQL: the key columns of the row; data frame: its index, the file line
        return "; ".join(
            ", ".join(f"{k}={v!r}" for k, v in row.items()) if isinstance(row, dict) else f"line {row}"
            for row in rows[:SAMPLE_ROWS]
        )
    rows = result.get("details", {}).get("unexpected_rows") if isinstance(result.get("details"), dict) else None
    if rows:
        return "; ".join(", ".join(f"{k}={v!r}" for k, v in dict(r).items()) for r in rows[:SAMPLE_ROWS])
    values = result.get("partial_unexpected_list") or []
    if values:
        return "values " + ", ".join(repr(v) for v in values[:SAMPLE_ROWS])
    if "observed_value" in result:
        return f"observed {result['observed_value']!r}"
    return ""


def run_gate(gate: str, targets: list[Target], url: str | None, quality_dir: Path | None) -> dict:
    """Validate every target; raise GateError listing every failure. Returns a summary."""
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    out = None
    if quality_dir is not None:
        out = quality_dir / gate
        out.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(
            site_name="pt2qe",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(out / "data_docs")},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    sql_source = context.data_sources.add_postgres("warehouse", connection_string=url) if url else None
    frames = None
    failures: list[Failure] = []
    summary: dict[str, Any] = {"gate": gate, "targets": []}
    for i, target in enumerate(targets):
        spec = load_suite(target.suite, target.params)
        key = [k for k in spec.get("meta", {}).get("key", []) if k]
        suite = context.suites.add(
            gx.ExpectationSuite(name=f"{i}_{spec['name']}", expectations=_one_query(spec["expectations"]), meta=spec.get("meta", {}))
        )
        if target.dataframe is not None:
            frames = frames or context.data_sources.add_pandas("frames")
            asset = frames.add_dataframe_asset(name=f"df_{i}")
            batch_def = asset.add_batch_definition_whole_dataframe("all")
            batch_params = {"dataframe": target.dataframe}
        else:
            if sql_source is None:
                raise GateError(f"gate {gate}: no warehouse to validate {target.name}")
            asset = sql_source.add_table_asset(f"t_{i}", table_name=target.table, schema_name=target.schema)
            batch_def = asset.add_batch_definition_whole_table("all")
            batch_params = None
        definition = context.validation_definitions.add(gx.ValidationDefinition(name=f"v_{i}", data=batch_def, suite=suite))
        result_format = {"result_format": "COMPLETE", "partial_unexpected_count": SAMPLE_ROWS}
        if key and target.dataframe is None:
            result_format["unexpected_index_column_names"] = key
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(name=f"c_{i}", validation_definitions=[definition], result_format=result_format)
        )
        run = checkpoint.run(batch_parameters=batch_params)
        for validation in run.run_results.values():
            if out is not None:
                (out / f"{target.suite.stem}.json").write_text(
                    json.dumps(validation.to_json_dict(), indent=2, default=str, ensure_ascii=False), encoding="utf-8"
                )
            stats = validation.statistics
            summary["targets"].append({"target": target.name, "suite": str(target.suite.name), "success": validation.success,
                                       "evaluated": stats.get("evaluated_expectations"), "failed": stats.get("unsuccessful_expectations")})
            for res in validation.results:
                if res.success:
                    continue
                detail = res.result or {}
                count = detail.get("unexpected_count")
                text = (f"{count} unexpected" if count is not None else "failed")
                if res.exception_info and res.exception_info.get("raised_exception"):
                    text = "could not run: " + str(res.exception_info.get("exception_message"))[:300]
                sample = _sample(detail)
                failures.append(Failure(target.name, target.suite.name, _describe(res.expectation_config), text + (f"; e.g. {sample}" if sample else "")))
    summary["success"] = not failures
    if out is not None:
        # once per gate, from the stored results: an UpdateDataDocsAction on each
        # checkpoint rebuilt the whole site once per suite (12 times in a full run)
        context.build_data_docs(site_names=["pt2qe"])
        (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    if failures:
        lines = [f"GX gate '{gate}' failed ({len(failures)} expectation(s)):"]
        lines += [f"  - {f.target} [suite {gate}/{f.suite}]: {f.expectation}: {f.detail}" for f in failures]
        if out is not None:
            lines.append(f"  validation results and Data Docs: {out}")
        raise GateError("\n".join(lines))
    return summary


def gx_url(libpq_url: str) -> str:
    """GX's SQL pushdown goes through SQLAlchemy with psycopg2."""
    return "postgresql+psycopg2://" + libpq_url.split("://", 1)[1]
