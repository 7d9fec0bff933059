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


def inject_run_vars(context: Any, operator: Any) -> None:
    """Cosmos interceptor: dbt --vars from the prepare task; warehouse from the env."""
    from pt2qe.warehouse import get_warehouse

    plan = context["ti"].xcom_pull(task_ids=PREPARE_TASK_ID)
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
        ),
        operator_args={
            "interceptors": [inject_run_vars],
            "dbt_cmd_flags": ["--exclude-resource-type", "unit_test"],
            "install_deps": False,
        },
        **kwargs,
    )
