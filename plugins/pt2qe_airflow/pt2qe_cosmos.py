"""The dbt stages of a PT2QE run, as Cosmos operators.

Each stage is one Cosmos `DbtBuildLocalOperator`: a single `dbt build` of the nodes the
run's mode rebuilds, in dependency order, with the profile's threads (the registry and the
quote engine run side by side), each model followed by its data tests. One Airflow task
per stage instead of one per dbt node: at ~1.7 s of Airflow overhead per task, the
70-odd nodes of the project cost two minutes before any SQL ran (see the README, Speed).
dbt still reports every node: a dbt-runner callback writes one journal line per finished
node (`pt2qe run -v` prints them) and the task log holds dbt's own output.

Run-time variables (period, caps, RECO1 rules, corrections switch) come from the
`prepare` task through an interceptor, and the warehouse connection from the
environment, so the same DAG serves every run.

dbt parses the project once and then only what changed (partial parsing, its
`partial_parse.msgpack` kept by Cosmos in the state folder): a full parse took ~5 s of
each run. dbt parses everything again when its `--vars` change, so the values that change
from one run to the next (RUN_VALUES: reference date, period, run id, run date,
corrections switch) travel as environment variables `PT2QE_RUN_<NAME>`, which the macro
`pt2qe_run_var` reads only when a node executes; `--vars` carries the configuration.
"""

from __future__ import annotations

from typing import Any

from pt2qe.paths import dbt_project_dir, state_dir

PREPARE_TASK_ID = "prepare"

# dbt vars that change from run to run, passed as PT2QE_RUN_<NAME> (see the docstring)
RUN_VALUES = ("as_of", "period_start", "period_end", "quarters", "run_id", "run_date", "apply_corrections")


def run_env(dbt_vars: dict) -> dict[str, str]:
    """The run values of `dbt_vars` as environment variables (JSON booleans as true/false)."""
    env = {}
    for name in RUN_VALUES:
        if name in dbt_vars:
            value = dbt_vars[name]
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, (list, tuple)):
                value = ",".join(map(str, value))
            env[f"PT2QE_RUN_{name.upper()}"] = str(value)
    return env

# dbt tags that say which modes rebuild a node (see dbt_project.yml)
CAP_INDEPENDENT_TAG = "phase1"  # offers, history, price registry: reused by corrections runs
FINAL_TAG = "final"  # final export and price book: built by final runs, and only them
CORRECTIONS_TAG = "corrections_only"  # before/after comparison: corrections runs only
HISTORY_TAG = "price_book_history"  # the snapshot of the published prices, after publication


def skip_reason(mode: str, tags: set[str]) -> str | None:
    """Why a node with `tags` is not rebuilt in `mode` (None: it is rebuilt)."""
    if CORRECTIONS_TAG in tags and mode != "corrections":
        return "the before/after comparison belongs to corrections runs"
    if FINAL_TAG in tags and mode != "final":
        return "the final export is built by final runs (Option 3) only"
    if mode == "final" and FINAL_TAG not in tags:
        return "final mode builds only the final export"
    if mode == "corrections" and CAP_INDEPENDENT_TAG in tags:
        return "corrections mode reuses the extracted offers"
    return None


def build_selection(mode: str) -> tuple[str, str]:
    """dbt --select / --exclude of the `dbt build` of the models stage: the same rule as
    skip_reason, written as node selectors."""
    if mode == "full":
        return "path:models path:seeds", f"tag:{FINAL_TAG} tag:{CORRECTIONS_TAG}"
    if mode == "corrections":
        return "path:models path:seeds", f"tag:{FINAL_TAG} tag:{CAP_INDEPENDENT_TAG}"
    if mode == "final":
        return f"tag:{FINAL_TAG}", f"tag:{HISTORY_TAG}"
    raise ValueError(f"unknown mode {mode!r}")


def _journal_node(event) -> None:
    """dbt-runner callback: one journal line per finished node (model, seed, test)."""
    if event.info.name != "NodeFinished":
        return
    from pt2qe import journal

    info = event.data.node_info
    started, finished = info.node_started_at, info.node_finished_at
    seconds = None
    if started and finished:
        from datetime import datetime

        seconds = round((datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds(), 2)
    journal.emit("node", node=info.node_name, resource=info.resource_type, status=info.node_status, seconds=seconds)


def _stage_interceptor(stage: str):
    def intercept(context: Any, operator: Any) -> None:
        """Cosmos interceptor: dbt --vars from the prepare task, the warehouse from the
        environment, the nodes this mode rebuilds (or a skip)."""
        from airflow.exceptions import AirflowSkipException

        from pt2qe.warehouse import get_warehouse

        plan = context["ti"].xcom_pull(task_ids=PREPARE_TASK_ID)
        mode = plan["mode"]
        if stage == "models":
            operator.select, operator.exclude = build_selection(mode)
        elif mode != "final":
            raise AirflowSkipException("the price history is kept by final runs (Option 3) only")
        operator.vars = {k: v for k, v in plan["dbt_vars"].items() if k not in RUN_VALUES}
        operator.env = {**(operator.env or {}), **get_warehouse().dbt_env(), **run_env(plan["dbt_vars"])}
        operator.append_env = True

    return intercept


def dbt_build(task_id: str, stage: str, select: str = "", **kwargs):
    """A `dbt build` task of the project: stage "models" (selection by mode) or
    "history" (`select`, final runs only)."""
    from cosmos import ProfileConfig
    from cosmos.constants import InvocationMode
    from cosmos.operators.local import DbtBuildLocalOperator

    project = dbt_project_dir()
    return DbtBuildLocalOperator(
        task_id=task_id,
        project_dir=str(project),
        profile_config=ProfileConfig(
            profile_name="pt2qe",
            target_name="embedded",
            profiles_yml_filepath=project / "profiles.yml",
        ),
        invocation_mode=InvocationMode.DBT_RUNNER,
        select=select or None,
        install_deps=False,
        partial_parse=True,
        cache_dir=state_dir() / "dbt_parse_cache",
        # Cosmos' own asset events would name the staged tables (marts_next.*), which BI
        # never reads; the publish task emits the assets of the published marts (~1 s)
        emit_datasets=False,
        interceptors=[_stage_interceptor(stage)],
        dbt_runner_callbacks=[_journal_node],
        # unit tests run in `make test`; a run builds models, seeds and their data tests
        dbt_cmd_flags=["--exclude-resource-type", "unit_test"],
        **kwargs,
    )
