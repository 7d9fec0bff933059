"""Running the `pt2qe` DAG through Airflow, embedded.

`pt2qe run` does not compute anything itself: it prepares the embedded stack (warehouse,
Airflow home with SQLite metadata, dbt manifest) and runs `airflow dags test pt2qe`
(through `pt2qe.airflow_cli`, the same CLI) with the run's conf — the same DAG the UI triggers. While the DAG runs, the run journal
(one JSON line per stage and task) is followed and printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pt2qe import paths

DAG_ID = "pt2qe"


def airflow_environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of an embedded Airflow: SQLite metadata under .pt2qe/airflow."""
    home = paths.airflow_home()
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("AIRFLOW_HOME", str(home))
    env.update(
        {
            "AIRFLOW__CORE__DAGS_FOLDER": str(paths.dags_dir()),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(paths.plugins_dir()),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "AIRFLOW__COSMOS__PROPAGATE_LOGS": "False",
            "DO_NOT_TRACK": "1",
            "SCARF_ANALYTICS": "false",
            "AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES_REGEXP": "",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(paths.plugins_dir()), env.get("PYTHONPATH", "")) if p
            ),
        }
    )
    if "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in os.environ:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{Path(env['AIRFLOW_HOME']) / 'airflow.db'}"
    env.update(extra or {})
    return env


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def ensure_airflow_db(env: dict[str, str]) -> None:
    marker = Path(env["AIRFLOW_HOME"]) / ".migrated"
    if marker.exists():
        return
    proc = subprocess.run([_bin("airflow"), "db", "migrate"], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    marker.touch()


def _newest_mtime(folder: Path) -> float:
    newest = 0.0
    for sub in ("models", "macros", "seeds", "snapshots", "tests"):
        for p in (folder / sub).rglob("*"):
            if p.is_file():
                newest = max(newest, p.stat().st_mtime)
    for name in ("dbt_project.yml", "profiles.yml"):
        p = folder / name
        if p.exists():
            newest = max(newest, p.stat().st_mtime)
    return newest


def ensure_manifest(env: dict[str, str] | None = None) -> Path:
    """`dbt parse` when the manifest is missing or older than the dbt project files."""
    project = paths.dbt_project_dir()
    manifest = project / "target" / "manifest.json"
    if manifest.exists() and manifest.stat().st_mtime >= _newest_mtime(project):
        return manifest
    run_env = dict(env or os.environ)
    # parsing needs no warehouse; the profile only has to render
    for key, default in (("PT2QE_PG_HOST", "127.0.0.1"), ("PT2QE_PG_PORT", "5432"), ("PT2QE_PG_USER", "postgres"), ("PT2QE_PG_DBNAME", "pt2qe")):
        run_env.setdefault(key, default)
    proc = subprocess.run(
        [_bin("dbt"), "parse", "--project-dir", str(project), "--profiles-dir", str(project), "--quiet"],
        env=run_env,
        capture_output=True,
        text=True,
        cwd=project,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return manifest


@dataclass
class RunResult:
    ok: bool
    events: list[dict] = field(default_factory=list)
    log_file: Path | None = None

    def errors(self) -> list[dict]:
        return [e for e in self.events if e.get("kind") == "task" and e.get("state") == "failed"]

    def first(self, kind: str) -> dict | None:
        return next((e for e in self.events if e.get("kind") == kind), None)


def run_dag(conf: dict, on_event: Callable[[dict], None] | None = None, log_file: Path | None = None) -> RunResult:
    """Run the DAG once with `conf`; call `on_event` for each journal line as it comes."""
    from pt2qe.warehouse import get_warehouse

    wh = get_warehouse()
    state = paths.state_dir()
    runs = state / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    fd, journal_path = tempfile.mkstemp(prefix="journal_", suffix=".jsonl", dir=runs)
    os.close(fd)
    log_file = log_file or Path(journal_path).with_suffix(".log")
    env = airflow_environ({**wh.dbt_env(), "PT2QE_RUN_JOURNAL": journal_path})
    if wh.embedded:
        env.setdefault("PT2QE_WAREHOUSE_URL", wh.url)
    ensure_airflow_db(env)
    ensure_manifest(env)

    events: list[dict] = []
    stop = threading.Event()

    def follow() -> None:
        offset = 0
        while True:
            done = stop.is_set()
            with open(journal_path, "rb") as fh:
                fh.seek(offset)
                data = fh.read()
            complete = data[: data.rfind(b"\n") + 1]
            offset += len(complete)
            for line in complete.decode("utf-8").splitlines():
                event = json.loads(line)
                events.append(event)
                if on_event:
                    on_event(event)
            if done:
                return
            time.sleep(0.1)

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    with open(log_file, "w", encoding="utf-8") as log:
        proc = subprocess.run(
            # the airflow CLI without the interpreter's teardown (pt2qe.airflow_cli)
            [sys.executable, "-m", "pt2qe.airflow_cli", "dags", "test", DAG_ID, "-c", json.dumps(conf)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=paths.project_root(),
        )
    time.sleep(0.2)
    stop.set()
    follower.join()
    failed = any(e.get("kind") == "task" and e.get("state") == "failed" for e in events)
    return RunResult(ok=proc.returncode == 0 and not failed, events=events, log_file=log_file)
