"""The dbt project on its own: every unit test (each business rule stated with a few
hand-written rows) passes, on a scratch database of the test warehouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pt2qe.paths import dbt_project_dir

pytestmark = pytest.mark.warehouse

DB = "pt2qe_unit"
VARS = '{as_of: "2025-07-15", period_start: "2024-07-01", period_end: "2025-06-29"}'


@pytest.fixture(scope="module")
def dbt(warehouse, tmp_path_factory):
    with warehouse.connect(autocommit=True) as conn:
        conn.execute(f"drop database if exists {DB} with (force)")
        conn.execute(f"create database {DB}")
    target = tmp_path_factory.mktemp("dbt_target")
    env = {**os.environ, **warehouse.dbt_env(), "PT2QE_PG_DBNAME": DB, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    project = dbt_project_dir()

    def run(*args: str, extra_env: dict | None = None) -> tuple[subprocess.CompletedProcess, dict]:
        cmd = [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(project),
               "--profiles-dir", str(project), "--target-path", str(target)]
        proc = subprocess.run(cmd, env={**env, **(extra_env or {})}, capture_output=True, text=True, timeout=900, cwd=project)
        results = target / "run_results.json"
        return proc, json.loads(results.read_text()) if results.exists() else {}

    proc, _ = run("run-operation", "create_source_tables")
    assert proc.returncode == 0, proc.stdout[-3000:]
    # the parents of every unit-tested model must exist (empty is enough)
    proc, _ = run("seed")
    assert proc.returncode == 0, proc.stdout[-3000:]
    proc, _ = run("run", "--empty", "--vars", VARS, "--exclude", "tag:final")
    assert proc.returncode == 0, proc.stdout[-5000:]
    # the final export reads the published recommendations (a source), built just above
    proc, _ = run("run", "--empty", "--vars", VARS, "--select", "tag:final")
    assert proc.returncode == 0, proc.stdout[-5000:]
    run.target = target
    return run


def test_every_dbt_unit_test_passes(dbt):
    proc, results = dbt("test", "--select", "test_type:unit", "--vars", VARS)
    statuses = {r["unique_id"]: r["status"] for r in results.get("results", [])}
    failed = {k: v for k, v in statuses.items() if v != "pass"}
    assert proc.returncode == 0 and not failed, (failed, proc.stdout[-5000:])
    # one unit test per rule branch: the suite must not silently shrink
    assert len(statuses) >= 35, sorted(statuses)
    rules = " ".join(statuses)
    for rule in ("recommendations__", "int_capping_cubes", "int_offers__screened", "int_invoice_history__aggregated",
                 "int_price_offers", "price_increase_distribution", "run_reconciliation", "corrections_comparison"):
        assert rule in rules, rule


def test_run_values_come_from_the_environment_when_a_node_executes(dbt):
    """The pipeline passes the values that change every run as PT2QE_RUN_<NAME>
    (pt2qe_cosmos.RUN_VALUES) and keeps --vars the same from run to run, so that dbt parses
    only what changed; without the environment variable, the dbt var is used."""
    compiled = dbt.target / "compiled" / "pt2qe" / "models" / "intermediate" / "int_capping_cubes.sql"
    proc, _ = dbt("compile", "--select", "int_capping_cubes", "--vars", VARS)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "where false" in compiled.read_text()  # apply_corrections: the dbt default
    proc, _ = dbt("compile", "--select", "int_capping_cubes", "--vars", VARS, extra_env={"PT2QE_RUN_APPLY_CORRECTIONS": "true"})
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "where true" in compiled.read_text()
    # a changed run value does not make dbt parse the whole project again
    assert "Unable to do partial parsing" not in proc.stdout, proc.stdout[-3000:]

    recommendations = dbt.target / "compiled" / "pt2qe" / "models" / "marts" / "recommendations.sql"
    proc, _ = dbt("compile", "--select", "recommendations", "--vars", VARS,
                  extra_env={"PT2QE_RUN_AS_OF": "2026-01-05", "PT2QE_RUN_RUN_ID": "manual__2026-01-05"})
    assert proc.returncode == 0, proc.stdout[-3000:]
    text = recommendations.read_text()
    assert "date '2026-01-05' as as_of" in text and "'manual__2026-01-05'::text as run_id" in text
    assert "Unable to do partial parsing" not in proc.stdout, proc.stdout[-3000:]


# information_schema spells some types in full
PG_TYPE_NAMES = {"timestamp": "timestamp without time zone"}


def _declared_columns(node: dict) -> list[tuple[str, str, str]]:
    """(name, type, is_nullable) of each column of a contracted model, in its order."""
    return [
        (
            c["name"],
            PG_TYPE_NAMES.get(c["data_type"], c["data_type"]),
            "NO" if any(k["type"] in ("not_null", "primary_key") for k in c["constraints"]) else "YES",
        )
        for c in node["columns"].values()
    ]


def test_contracted_tables_have_their_declared_columns_and_constraints(dbt, warehouse):
    """A model with an enforced contract is written by CREATE TABLE AS, then its
    constraints are added (macros/create_table_as.sql): the table must still have the
    contract's columns in order, their types, NOT NULL and every named CHECK, and a
    primary key where one is declared, and PostgreSQL must refuse a row that breaks them."""
    import psycopg

    manifest = json.loads((dbt.target / "manifest.json").read_text())
    contracted = [
        n for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["config"]["contract"]["enforced"]
    ]
    assert len(contracted) >= 20, len(contracted)
    with warehouse.connect(dbname=DB) as conn:
        for node in contracted:
            schema, table = node["schema"], node["alias"]
            rows = conn.execute(
                "select column_name, data_type, is_nullable from information_schema.columns"
                " where table_schema = %s and table_name = %s order by ordinal_position",
                (schema, table),
            ).fetchall()
            assert [(n, t.split("(")[0], null) for n, t, null in rows] == _declared_columns(node), table
            kinds = dict(conn.execute(
                "select conname, contype from pg_constraint where conrelid = %s::regclass",
                (f'"{schema}"."{table}"',),
            ).fetchall())
            for constraint in node["constraints"]:
                if constraint["type"] == "check":
                    assert kinds.get(constraint["name"]) == "c", (table, constraint["name"], kinds)
            declares_key = any(
                k["type"] == "primary_key" for c in node["columns"].values() for k in c["constraints"]
            )
            assert ("p" in kinds.values()) == declares_key, (table, kinds)

        # PostgreSQL enforces them: a NULL key, a severity outside the accepted ones
        with pytest.raises(psycopg.errors.NotNullViolation, match="observation_id"):
            conn.execute(
                "insert into marts.price_observations (observation_id, item_key, context_key)"
                " values (null, 'A', 'B')"
            )
        conn.rollback()
        with pytest.raises(psycopg.errors.CheckViolation, match="price_observations_severity_accepted"):
            conn.execute(
                "insert into marts.price_observations (observation_id, item_key, context_key, unit_price,"
                " recorded_at, source_type, is_anomaly, status_reason, severity)"
                " values ('X', 'A', 'B', 1, date '2025-01-01', 'auto', false, 'EVALUATED', 'huge')"
            )
        conn.rollback()
