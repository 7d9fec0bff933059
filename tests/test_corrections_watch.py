"""The corrections watch: its DAG parses cheaply, its decision says trigger for a new or
changed corrections file and skip for the one applied last, and the lookup of the applied
hashes reads control.corrections_applied of the real warehouse."""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from pt2qe.corrections_watch import (
    CORRECTIONS_FILE,
    SKIP,
    TRIGGER,
    check,
    decide,
    last_applied_sha256,
    run_id_for,
)
from pt2qe.runner import airflow_environ, ensure_manifest

DAG_FILE = Path(__file__).resolve().parents[1] / "dags" / "pt2qe_corrections_watch.py"
CORRECTIONS = "TYPE_CLIENT;TYPE_RESTAURANT;GEO;CAPPING_HIGH;CAPPING_MEDIUM;CAPPING_LOW\r\nRCI PI GI;TRADITIONNEL;NORD;0,05;0,1;0,15\r\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_dagbag_imports_the_watch_and_the_marts_assets():
    env = airflow_environ()
    ensure_manifest(env)
    code = textwrap.dedent(
        """
        import json
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag()
        watch = bag.dags["pt2qe_corrections_watch"]
        trigger = watch.get_task("trigger_corrections_run")
        publish = bag.dags["pt2qe"].get_task("publish")
        print(json.dumps({
            "errors": {k: str(v) for k, v in bag.import_errors.items()},
            "tasks": sorted(watch.task_ids),
            "upstream": sorted(trigger.upstream_task_ids),
            "trigger_dag_id": trigger.trigger_dag_id,
            "conf": trigger.conf,
            "outlets": sorted(o.uri for o in publish.outlets),
        }))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert result["tasks"] == ["check_corrections", "trigger_corrections_run"]
    assert result["upstream"] == ["check_corrections"]
    assert result["trigger_dag_id"] == "pt2qe"
    assert result["conf"]["mode"] == "corrections"
    assert result["conf"]["corrections_folder"] == "{{ params.corrections_folder }}"
    assert "pt2qe://warehouse/marts/recommendations" in result["outlets"]
    assert "pt2qe://warehouse/marts/final_price_offers" in result["outlets"]


def test_watch_dag_has_no_heavy_imports_at_top_level():
    tree = ast.parse(DAG_FILE.read_text(encoding="utf-8"))
    roots = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    assert roots == {"__future__", "pendulum", "airflow"}


def test_decision_new_changed_applied_missing(tmp_path):
    path = tmp_path / CORRECTIONS_FILE
    missing = decide(path, None)
    assert missing.action == SKIP and "no corrections file" in missing.reason

    path.write_bytes(b"")
    assert decide(path, None).action == SKIP  # an empty file is no correction

    path.write_bytes(CORRECTIONS.encode("cp1252"))
    v1 = sha(path.read_bytes())
    new = decide(path, None)
    assert (new.action, new.sha256, new.run_id) == (TRIGGER, v1, run_id_for(v1, None))

    assert decide(path, v1).action == SKIP  # already applied

    path.write_bytes(CORRECTIONS.replace("0,15", "0,2").encode("cp1252"))
    v2 = sha(path.read_bytes())
    changed = decide(path, v1)
    assert (changed.action, changed.sha256) == (TRIGGER, v2)
    assert changed.run_id != new.run_id

    # back to an earlier version: it is not the one in effect, so it runs again
    path.write_bytes(CORRECTIONS.encode("cp1252"))
    assert decide(path, v2).action == TRIGGER


def test_decision_waits_for_active_runs_and_never_retries_a_failed_file(tmp_path):
    path = tmp_path / CORRECTIONS_FILE
    path.write_bytes(CORRECTIONS.encode("cp1252"))
    busy = decide(path, None, active_runs=1)
    assert busy.action == SKIP and "queued or running" in busy.reason
    tried = {run_id_for(sha(path.read_bytes()), None)}
    again = decide(path, None, run_exists=tried.__contains__)
    assert again.action == SKIP and "already tried" in again.reason
    assert decide(path, "0" * 64, run_exists=tried.__contains__).action == TRIGGER


def test_run_id_is_a_valid_airflow_run_id():
    import re

    assert re.fullmatch(r"[A-Za-z0-9_.~:+-]+", run_id_for("ab" * 32, None))


@pytest.mark.warehouse
def test_last_applied_lookup_on_the_warehouse(warehouse):
    """Inside one transaction rolled back at the end: the shared test warehouse keeps its
    audit rows."""
    with warehouse.connect() as conn:
        try:
            conn.execute("set local lock_timeout = '10s'")
            conn.execute("create schema if not exists control")
            conn.execute("drop table if exists control.corrections_applied")
            assert last_applied_sha256(conn) is None  # no corrections run ever recorded
            conn.execute(
                """
                create table control.corrections_applied (
                    run_id text not null, file_name text not null, sha256 text not null,
                    rows integer not null, applied_at timestamptz not null, triggered_by text
                )
                """
            )
            assert last_applied_sha256(conn) is None
            rows = [
                ("r1", "/x/corrections/capping_cubes_corrections.csv", "a" * 64, "2031-01-01"),
                ("r2", "/y/corrections/capping_cubes_corrections.csv", "b" * 64, "2031-01-02"),
                # a full run's registry audit lands in the same table: not a corrections file
                ("r3", "price_registry/imports/prices.csv", "c" * 64, "2031-01-03"),
                ("r4", "/y/corrections/capping_cubesXcorrections.csv", "d" * 64, "2031-01-04"),
            ]
            for run_id, name, digest, when in rows:
                conn.execute(
                    "insert into control.corrections_applied values (%s, %s, %s, 4, %s, 'test')",
                    (run_id, name, digest, when),
                )
            assert last_applied_sha256(conn) == "b" * 64
        finally:
            conn.rollback()


@pytest.mark.warehouse
def test_check_on_the_warehouse_triggers_for_a_file_never_applied(warehouse, tmp_path):
    folder = tmp_path / "corrections"
    assert check(str(folder)).action == SKIP  # no file yet
    folder.mkdir()
    (folder / CORRECTIONS_FILE).write_text(CORRECTIONS + f"# {uuid.uuid4()}\r\n", encoding="cp1252")
    decision = check(str(folder))
    assert decision.action == TRIGGER, decision.reason
    assert check(str(folder), active_runs=1).action == SKIP
