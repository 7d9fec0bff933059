"""The DAG file imports cleanly, cheaply, and declares the run's stages and Params."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from pt2qe.runner import airflow_environ, ensure_manifest


def test_dagbag_imports_pt2qe_without_errors():
    env = airflow_environ()
    ensure_manifest(env)
    code = textwrap.dedent(
        """
        import json, time
        from airflow.dag_processing.dagbag import DagBag
        t0 = time.monotonic()
        bag = DagBag()
        dag = bag.dags["pt2qe"]
        print(json.dumps({
            "errors": {k: str(v) for k, v in bag.import_errors.items()},
            "tasks": sorted(dag.task_ids),
            "params": sorted(dag.params.keys()),
            "seconds": time.monotonic() - t0,
        }))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    tasks = result["tasks"]
    assert {"prepare", "proceed", "extract", "export"} <= set(tasks)
    assert {"transform", "gate_recommendations", "gate_exports", "publish", "price_history", "notify"} <= set(tasks)
    assert {"mode", "source", "as_of", "capping_file", "output_folder", "dry_run"} <= set(result["params"])


def test_dag_file_has_no_heavy_imports_at_top_level():
    import ast

    path = os.path.join(os.path.dirname(__file__), "..", "dags", "pt2qe.py")
    tree = ast.parse(open(path, encoding="utf-8").read())
    roots = set()
    for node in tree.body:  # module level only; tasks import inside their bodies
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    assert roots == {"__future__", "pendulum", "airflow", "pt2qe_airflow"}
