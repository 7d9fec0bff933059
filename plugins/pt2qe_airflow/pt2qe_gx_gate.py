"""The Great Expectations gate operator.

airflow-provider-great-expectations 1.0 cannot be installed beside Airflow 3.3, so this
small operator calls GX 1.x directly (through `pt2qe.gates`). It validates the suites of
one gate (`expectations/<gate>/*.json`) against the warehouse tables the run's plan
names — SQL pushdown, nothing loaded into pandas — and fails the task with a message
naming the suite, the table, each failed expectation and a sample of the offending rows.
Validation results and Data Docs go to the run's quality folder, published with the
run's outputs.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator

PREPARE_TASK_ID = "prepare"


class GxGateOperator(BaseOperator):
    ui_color = "#ffcd80"

    def __init__(self, *, gate: str, exported_task_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate = gate
        self.exported_task_id = exported_task_id

    def execute(self, context: Any) -> dict:
        from pt2qe.pipeline import run_warehouse_gate

        ti = context["ti"]
        plan = ti.xcom_pull(task_ids=PREPARE_TASK_ID)
        exported = ti.xcom_pull(task_ids=self.exported_task_id) if self.exported_task_id else None
        return run_warehouse_gate(self.gate, plan, exported)
