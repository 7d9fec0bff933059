"""
### PT2QE — corrections watch

Every 5 minutes: when `corrections/capping_cubes_corrections.csv` is new or changed —
its SHA-256 is not the one of the corrections file applied last
(`control.corrections_applied` in the warehouse) — trigger the `pt2qe` DAG in corrections
mode (Option 2) on it. Nothing is triggered while a `pt2qe` run is queued or running, nor
twice for the same file after a failed run (fix the file, or trigger the corrections run
from the `pt2qe` form). Pause this DAG to stop the watch. The Params (scheduled checks use
their defaults) are passed on to the corrections run.
"""

from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Param, dag, task

WATCHED_DAG = "pt2qe"

PARAMS = {
    "corrections_folder": Param("corrections", type="string", description="Folder of capping_cubes_corrections.csv (watched)"),
    "capping_file": Param("inputs/capping_type_client.csv", type="string", description="Caps per customer type (French CSV)"),
    "output_folder": Param("outputs", type="string", description="Root folder of the run folders"),
}


@dag(
    dag_id="pt2qe_corrections_watch",
    schedule="*/5 * * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    # retries: the API server may still be starting when the scheduler runs the first check
    default_args={"owner": "pricing", "retries": 2, "retry_delay": pendulum.duration(seconds=30)},
    params=PARAMS,
    tags=["pricing", "pt2qe"],
    doc_md=__doc__,
)
def pt2qe_corrections_watch():
    @task.short_circuit
    def check_corrections(**context) -> dict | None:
        """Trigger or skip, and why (in the log); the decision when it is trigger."""
        from pt2qe.corrections_watch import TRIGGER, check

        ti = context["ti"]
        decision = check(
            context["params"]["corrections_folder"],
            active_runs=ti.get_dr_count(dag_id=WATCHED_DAG, states=["queued", "running"]),
            run_exists=lambda run_id: ti.get_dr_count(dag_id=WATCHED_DAG, run_ids=[run_id]) > 0,
        )
        print(f"{decision.action}: {decision.reason}")
        return decision.as_dict() if decision.action == TRIGGER else None

    trigger = TriggerDagRunOperator(
        task_id="trigger_corrections_run",
        trigger_dag_id=WATCHED_DAG,
        trigger_run_id="{{ ti.xcom_pull(task_ids='check_corrections')['run_id'] }}",
        conf={
            "mode": "corrections",
            "corrections_folder": "{{ params.corrections_folder }}",
            "capping_file": "{{ params.capping_file }}",
            "output_folder": "{{ params.output_folder }}",
            "triggered_by": "corrections_watch",
        },
        skip_when_already_exists=True,
    )
    check_corrections() >> trigger


pt2qe_corrections_watch()
