"""A run killed during load, during dbt and during export leaves no partial table
visible to BI and no partial file in outputs/; the next run succeeds with the same
result (byte-identical files)."""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hand_world

pytestmark = pytest.mark.e2e
PT2QE = str(Path(sys.executable).parent / "pt2qe")


def marts_state(warehouse) -> str:
    with warehouse.connect() as conn:
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()
        reco = conn.execute("select id_cnd, prix_recommande from marts.recommendations order by 1").fetchall()
        raw = conn.execute("select count(*) from raw.sys_tarif_simulation").fetchone()
    return hashlib.sha256(repr((tables, reco, raw)).encode()).hexdigest()


def newest_journal(after: float) -> Path | None:
    runs = Path(os.environ["PT2QE_STATE_DIR"]) / "runs"
    journals = [p for p in runs.glob("journal_*.jsonl") if p.stat().st_mtime >= after]
    return max(journals, key=lambda p: p.stat().st_mtime) if journals else None


def kill_when(args: list[str], predicate, env: dict, timeout: float = 600) -> None:
    """Start `pt2qe run`, kill its whole process group when a journal event matches."""
    start = time.time()
    proc = subprocess.Popen([PT2QE, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **env}, start_new_session=True)
    try:
        while time.time() - start < timeout:
            journal = newest_journal(start)
            if journal:
                events = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines() if line.strip()]
                if any(predicate(e) for e in events):
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(30)
                    return
            if proc.poll() is not None:
                pytest.fail(f"the run ended (rc={proc.returncode}) before the kill point")
            time.sleep(0.2)
        pytest.fail("kill point never reached")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("faults")
    source = hand_world.write_world(base / "source")
    caps = hand_world.write_capping(base / "capping_type_client.csv")
    out = base / "outputs"
    args = ["run", str(source), "--as-of", hand_world.AS_OF, "--capping-file", str(caps), "--output-folder", str(out)]
    proc = subprocess.run([PT2QE, *args], capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (reference,) = out.glob("run_*")
    return {"args": args, "out": out, "reference": reference}


KILL_POINTS = {
    "load": ({"PT2QE_FAULT_PAUSE": "load:60"}, lambda e: e.get("kind") == "fault_point" and e["point"] == "load"),
    "dbt": ({}, lambda e: e.get("kind") == "node" and e.get("node") == "int_offers__screened"),
    "export": ({"PT2QE_FAULT_PAUSE": "export:60"}, lambda e: e.get("kind") == "fault_point" and e["point"] == "export"),
}


@pytest.mark.parametrize("stage", list(KILL_POINTS))
def test_a_killed_run_leaves_nothing_half_written_and_the_next_run_converges(stage, world, warehouse):
    env, predicate = KILL_POINTS[stage]
    folders_before = sorted(p.name for p in world["out"].iterdir())
    state_before = marts_state(warehouse)

    kill_when(world["args"], predicate, env)

    # nothing visible changed: no new or partial folder, the same marts and raw tables
    assert sorted(p.name for p in world["out"].iterdir()) == folders_before
    assert marts_state(warehouse) == state_before

    # the next run succeeds and writes the same files
    proc = subprocess.run([PT2QE, *world["args"]], capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    new = sorted(set(world["out"].glob("run_*")) - {world["out"] / n for n in folders_before})
    assert len(new) == 1
    csvs = sorted(p.name for p in world["reference"].glob("*.csv"))
    _match, mismatch, errors = filecmp.cmpfiles(world["reference"], new[0], csvs, shallow=False)
    assert (mismatch, errors) == ([], [])
    assert marts_state(warehouse) == state_before
