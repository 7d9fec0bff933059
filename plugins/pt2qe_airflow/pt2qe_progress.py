"""Listener that reports every task of a run as it ends (for `pt2qe run`).

When `PT2QE_RUN_JOURNAL` names a file, each finished task appends one JSON line:
{"task", "state", "seconds", "error"}. The CLI prints the lines as they come and, when a
task fails, exits with its error.
"""

from __future__ import annotations

import json
import os
import time

from airflow.listeners import hookimpl

_started: dict[str, float] = {}


def _key(ti) -> str:
    return f"{ti.dag_id}.{ti.task_id}.{getattr(ti, 'map_index', -1)}"


def _write(ti, state: str, error=None) -> None:
    path = os.environ.get("PT2QE_RUN_JOURNAL")
    if not path:
        return
    seconds = time.monotonic() - _started.pop(_key(ti), time.monotonic())
    record = {"kind": "task", "task": ti.task_id, "state": state, "seconds": round(seconds, 2)}
    if error is not None:
        record["error"] = str(error)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False) + "\n")


@hookimpl
def on_task_instance_running(previous_state, task_instance):
    _started[_key(task_instance)] = time.monotonic()


@hookimpl
def on_task_instance_success(previous_state, task_instance):
    _write(task_instance, "success")


@hookimpl
def on_task_instance_failed(previous_state, task_instance, error):
    # called for a failure that will be retried too: tell them apart
    retries = getattr(getattr(task_instance, "task", None), "retries", 0) or 0
    state = "retry" if getattr(task_instance, "try_number", 1) <= retries else "failed"
    _write(task_instance, state, error if error is not None else state)


@hookimpl
def on_task_instance_skipped(previous_state, task_instance):
    _write(task_instance, "skipped")
