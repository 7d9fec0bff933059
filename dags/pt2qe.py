"""
### PT2QE — quote engine run

Recommends a new price for every customer × article offer from the Tier 1 corridors
(QUOTE_ENGINE_RULES.md): extraction → dbt (offers, corridor matching, capping cubes,
recommendations, price registry, price book, marts) → CSV exports and report.html in
`outputs/<kind>_YYYYMMDD_HHMMSS/` → (final runs) price history and change notifications.

Write-audit-publish: the source lands in `raw__next`, the marts in `marts_next`, the files
in a hidden folder; a Great Expectations gate follows each stage, and only when every
gate passed do they replace `raw`, `marts` (what BI reads) and appear in `outputs/`.

Trigger it from the form (the Params below) or with `pt2qe run SOURCE …`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, Param, dag, task

from pt2qe_airflow.pt2qe_cosmos import dbt_build
from pt2qe_airflow.pt2qe_gx_gate import GxGateOperator

DEFAULT_ARGS = {"owner": "pricing", "retries": 1, "retry_delay": pendulum.duration(seconds=10)}

PARAMS = {
    "mode": Param("full", enum=["full", "corrections", "final"], description="full = Option 1; corrections = Option 2; final = Option 3"),
    "source": Param("", type="string", description="Folder of source files, SQLAlchemy URL or Airflow connection id (full mode)"),
    "as_of": Param("", type="string", description="Reference date YYYY-MM-DD; empty = the calendar's current week"),
    "capping_file": Param("inputs/capping_type_client.csv", type="string", description="Caps per customer type (French CSV)"),
    "inputs_folder": Param("inputs", type="string", description="Folder of the pricing team's input files"),
    "corrections_folder": Param("corrections", type="string", description="Folder of capping_cubes_corrections.csv"),
    "output_folder": Param("outputs", type="string", description="Root folder of the run folders"),
    "dry_run": Param(False, type="boolean", description="Print the plan and change nothing"),
}


@dag(
    dag_id="pt2qe",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params=PARAMS,
    tags=["pricing", "pt2qe"],
    doc_md=__doc__,
)
def pt2qe():
    @task(retries=0)
    def prepare(**context) -> dict:
        """Validate configuration and inputs, fix the period, plan the run."""
        from pt2qe.pipeline import prepare_run

        return prepare_run(context["params"], run_id=context["run_id"])

    @task.short_circuit(ignore_downstream_trigger_rules=True)
    def proceed(plan: dict) -> bool:
        """A dry run stops here: the plan was printed, nothing was changed."""
        return not plan["dry_run"]

    @task
    def extract(plan: dict) -> dict:
        """Load the source tables into schema raw__next (COPY in batches)."""
        from pt2qe.pipeline import extract_source

        return extract_source(plan)

    gate_source = GxGateOperator(task_id="gate_source", gate="source")

    @task
    def swap_raw(plan: dict) -> None:
        """The checked extraction replaces schema raw, all tables at once."""
        from pt2qe.pipeline import swap_raw

        swap_raw(plan)

    gate_recommendations = GxGateOperator(task_id="gate_recommendations", gate="recommendations", trigger_rule="none_failed")

    @task(trigger_rule="none_failed")
    def export(plan: dict) -> dict:
        """Write the run's files into a temporary folder."""
        from pt2qe.pipeline import export_run

        return export_run(plan)

    gate_exports = GxGateOperator(task_id="gate_exports", gate="exports", exported_task_id="export")

    # the main marts BI reads, as Airflow assets: BI-facing DAGs can be scheduled on them
    # (schedule=[Asset("pt2qe://warehouse/marts/recommendations")]); each event's extra
    # holds the run's mode, run id, output folder and the marts it replaced
    marts_assets = [
        Asset(f"pt2qe://warehouse/marts/{name}")
        for name in ("recommendations", "recommendations_detail", "capping_cubes", "final_price_offers", "price_list_items")
    ]

    @task(outlets=marts_assets)
    def publish(plan: dict, exported: dict, **context) -> dict:
        """Every gate passed: publish the marts and rename the output folder into place."""
        from pt2qe.pipeline import publish_run

        published = publish_run(plan, exported)
        for asset in marts_assets:
            context["outlet_events"][asset].extra = {
                "mode": plan["mode"],
                "run_id": plan["run_id"],
                "folder": published["folder"],
                "replaced": asset.uri.rsplit("/", 1)[1] in published["marts"],
            }
        return published

    @task(trigger_rule="none_failed")
    def notify(plan: dict) -> dict:
        """Price changes of a final run's publication to the configured webhooks (outbox)."""
        from pt2qe.pipeline import notify_price_changes

        return notify_price_changes(plan)

    plan = prepare()
    go = proceed(plan)
    loaded = extract(plan)
    swapped = swap_raw(plan)
    # dbt build of the nodes this mode rebuilds: offers, price registry, quote engine,
    # analyses (full, corrections) or final export and price book (final)
    transform = dbt_build("transform", stage="models")
    # history of the published prices: the dbt snapshot of marts.price_list_items (final runs)
    history = dbt_build("price_history", stage="history", select="tag:price_book_history", trigger_rule="none_failed")
    exported = export(plan)
    published = publish(plan, exported)
    go >> loaded >> gate_source >> swapped >> transform >> gate_recommendations >> exported >> gate_exports >> published
    published >> history >> notify(plan)


pt2qe()
