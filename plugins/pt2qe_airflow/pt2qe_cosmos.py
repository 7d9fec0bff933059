"""Cosmos task groups of the PT2QE dbt project.

The project is rendered from its manifest (`dbt parse` writes it; `pt2qe` refreshes it
when a model changes), so parsing the DAG file never runs dbt. Each model runs as a
`dbt build` of that node (model + its data tests; unit tests stay in `make test`).
Run-time variables (period, caps, RECO1 rules, corrections switch) come from the
`prepare` task through an interceptor, and the warehouse connection from the
environment, so the same rendered DAG serves every run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pt2qe.paths import dbt_project_dir

PREPARE_TASK_ID = "prepare"


def manifest_path() -> Path:
    return dbt_project_dir() / "target" / "manifest.json"


# dbt tags that say which modes rebuild a node (see dbt_project.yml)
CAP_INDEPENDENT_TAG = "phase1"  # offers and history: reused by corrections runs
FINAL_TAG = "final"  # final export marts: built by final runs, and only them
CORRECTIONS_TAG = "corrections_only"  # before/after comparison: corrections runs only


def skip_reason(mode: str, tags: set[str]) -> str | None:
    if CORRECTIONS_TAG in tags and mode != "corrections":
        return "the before/after comparison belongs to corrections runs"
    if FINAL_TAG in tags and mode != "final":
        return "the final export is built by final runs (Option 3) only"
    if mode == "final" and FINAL_TAG not in tags:
        return "final mode builds only the final export"
    if mode == "corrections" and CAP_INDEPENDENT_TAG in tags:
        return "corrections mode reuses the extracted offers"
    return None


def inject_run_vars(context: Any, operator: Any) -> None:
    """Cosmos interceptor: dbt --vars from the prepare task; warehouse from the env;
    nodes the run's mode does not rebuild are skipped."""
    from airflow.exceptions import AirflowSkipException

    from pt2qe.warehouse import get_warehouse

    plan = context["ti"].xcom_pull(task_ids=PREPARE_TASK_ID)
    node = (getattr(operator, "extra_context", None) or {}).get("dbt_node_config") or {}
    reason = skip_reason(plan["mode"], set(node.get("tags") or []))
    if reason:
        raise AirflowSkipException(reason)
    operator.vars = dict(plan["dbt_vars"])
    operator.env = {**(operator.env or {}), **get_warehouse().dbt_env()}
    operator.append_env = True


def dbt_task_group(group_id: str, select: list[str], exclude: list[str] | None = None, **kwargs):
    from cosmos import (
        DbtTaskGroup,
        ExecutionConfig,
        ProfileConfig,
        ProjectConfig,
        RenderConfig,
    )
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    project = dbt_project_dir()
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=project,
            manifest_path=manifest_path(),
            project_name="pt2qe",
            partial_parse=True,
        ),
        profile_config=ProfileConfig(
            profile_name="pt2qe",
            target_name="embedded",
            profiles_yml_filepath=project / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            select=select,
            exclude=exclude or [],
            emit_datasets=True,
            # a test that reads several models runs once, after all of them
            should_detach_multiple_parents_tests=True,
        ),
        operator_args={
            "interceptors": [inject_run_vars],
            "dbt_cmd_flags": ["--exclude-resource-type", "unit_test"],
            "install_deps": False,
            "indirect_selection": "cautious",
            # a node skipped by the run's mode must not skip what depends on it
            "trigger_rule": "none_failed",
        },
        **kwargs,
    )
