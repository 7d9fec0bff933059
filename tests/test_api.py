"""The Airflow UI's stack (`pt2qe ui`: airflow standalone on the embedded warehouse) runs
the DAG when triggered through the REST API v2: token, trigger, poll, files. One run on
the hand-made world."""

from __future__ import annotations

import csv
import time
from pathlib import Path
from urllib.parse import quote

import hand_world
import pytest
from pt2qe import paths
from pt2qe.ui import api_call, free_port, start

pytestmark = pytest.mark.e2e
RUN_TIMEOUT = 600


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="cp1252", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


@pytest.fixture(scope="module")
def server():
    # its own Airflow home under the test state dir: the standalone scheduler must not
    # pick up the `airflow dags test` runs of the other tests
    home = paths.state_dir() / "airflow_api"
    srv = start(port=free_port(), airflow_home=home, log_file=home / "standalone_test.log")
    try:
        srv.wait_ready(timeout=300)
        yield srv
    finally:
        srv.stop()
        assert not srv.alive()


def test_trigger_a_full_run_through_the_rest_api(server, tmp_path):
    source = hand_world.write_world(tmp_path / "source")
    caps = hand_world.write_capping(tmp_path / "capping_type_client.csv")
    out = tmp_path / "outputs"
    token = server.token()

    # the watch would only add runs on a shared folder: pause it through the API
    status, body = api_call(server.url, "PATCH", "/api/v2/dags/pt2qe_corrections_watch", {"is_paused": True}, token=token)
    assert status in (200, 404), body

    conf = {
        "mode": "full",
        "source": str(source),
        "as_of": hand_world.AS_OF,
        "capping_file": str(caps),
        "output_folder": str(out),
        "triggered_by": "test_api",
    }
    status, body = api_call(server.url, "POST", "/api/v2/dags/pt2qe/dagRuns", {"logical_date": None, "conf": conf}, token=token)
    assert status == 200, body
    run_id = body["dag_run_id"]
    assert body["conf"] == conf

    deadline = time.monotonic() + RUN_TIMEOUT
    state = body["state"]
    while state not in ("success", "failed"):
        assert time.monotonic() < deadline, f"run {run_id} still {state} after {RUN_TIMEOUT} s"
        assert server.alive(), server.log_tail()
        time.sleep(5)
        status, body = api_call(server.url, "GET", f"/api/v2/dags/pt2qe/dagRuns/{quote(run_id, safe='')}", token=server.token())
        assert status == 200, body
        state = body["state"]
    if state != "success":
        _status, tis = api_call(server.url, "GET", f"/api/v2/dags/pt2qe/dagRuns/{quote(run_id, safe='')}/taskInstances", token=server.token())
        failed = [t["task_id"] for t in tis.get("task_instances", []) if t["state"] == "failed"]
        pytest.fail(f"run {run_id} {state}; failed tasks {failed}; log {server.log_file}")

    folders = sorted(out.glob("run_*"))
    assert len(folders) == 1
    rows = {r["ID_CND"]: r for r in read_csv(folders[0] / "recommendations_detail.csv")}
    assert sorted(rows) == sorted(hand_world.EXPECTED)

    # the publish task's outlets: one asset event per published mart
    status, body = api_call(server.url, "GET", f"/api/v2/assets/events?source_run_id={quote(run_id, safe='')}", token=server.token())
    assert status == 200, body
    events = {e["uri"]: e for e in body["asset_events"]}
    assert "pt2qe://warehouse/marts/recommendations" in events
    assert events["pt2qe://warehouse/marts/recommendations"]["extra"]["mode"] == "full"
