"""The run journal: one JSON line per event of a run, read by `pt2qe run` as it goes.

Tasks call `emit`; the Airflow listener writes one line per finished task. The file is
named by the environment variable PT2QE_RUN_JOURNAL (set by the CLI); without it the
events only go to the task log.
"""

from __future__ import annotations

import json
import logging
import os

log = logging.getLogger("pt2qe")


def emit(kind: str, **data) -> None:
    record = {"kind": kind, **data}
    log.info("%s %s", kind, json.dumps(data, ensure_ascii=False, default=str))
    path = os.environ.get("PT2QE_RUN_JOURNAL")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def fault_point(name: str) -> None:
    """A place where the fault-injection tests pause a run to kill it: with
    PT2QE_FAULT_PAUSE=name:seconds, the run announces the point and sleeps there."""
    spec = os.environ.get("PT2QE_FAULT_PAUSE", "")
    point, _, seconds = spec.partition(":")
    if point == name:
        import time

        emit("fault_point", point=name)
        time.sleep(float(seconds or 30))
