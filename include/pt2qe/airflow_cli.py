"""`python -m pt2qe.airflow_cli ...`: the `airflow` command, minus the interpreter's teardown.

A run is `airflow dags test pt2qe` in a child process. Once the DAG run is over, the
standard interpreter shutdown of that process (tearing down Airflow, dbt, Great
Expectations, pandas and their caches object by object) took 3.8 s of CPU on the bench
machine, after everything was written. This entry point runs the same CLI, then the
registered exit handlers (log handlers flushed and closed, Airflow's ORM disposed, as a
normal exit does), flushes the standard streams and leaves with the CLI's own exit code
through `os._exit`, which skips only the object-by-object teardown.
"""

from __future__ import annotations

import atexit
import os
import sys
import traceback


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def main() -> None:
    from airflow.__main__ import main as airflow_main

    sys.argv[0] = "airflow"
    try:
        airflow_main()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException:  # noqa: BLE001 - reported like the interpreter would, then exit 1
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a closed stream has nothing left to flush
                pass
        os._exit(code)


if __name__ == "__main__":
    main()
