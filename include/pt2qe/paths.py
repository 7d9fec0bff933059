"""Where things live. Every path of the project comes from here.

The project root is the folder holding `dags/`, `dbt_project/`, `include/`; it can be
moved with the environment variable PT2QE_HOME. Generated things live under the
git-ignored `.pt2qe/` (warehouse data, Airflow home) and `outputs/`.
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    env = os.environ.get("PT2QE_HOME")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


def state_dir() -> Path:
    """Git-ignored folder for generated state (embedded warehouse, Airflow home)."""
    env = os.environ.get("PT2QE_STATE_DIR")
    return Path(env).resolve() if env else project_root() / ".pt2qe"


def dbt_project_dir() -> Path:
    return project_root() / "dbt_project"


def dags_dir() -> Path:
    return project_root() / "dags"


def plugins_dir() -> Path:
    return project_root() / "plugins"


def expectations_dir() -> Path:
    return project_root() / "expectations"


def default_inputs_dir() -> Path:
    return project_root() / "inputs"


def default_corrections_dir() -> Path:
    return project_root() / "corrections"


def default_output_dir() -> Path:
    return project_root() / "outputs"


def airflow_home() -> Path:
    env = os.environ.get("AIRFLOW_HOME")
    return Path(env) if env else state_dir() / "airflow"


def allowed_roots() -> list[Path]:
    """The folders a run may read its files from and write its outputs to: the project
    (inputs/, corrections/, outputs/ live there), the state folder, and the folders
    listed in PT2QE_ALLOWED_ROOTS (separated by the OS path separator, e.g. a shared
    drive of the pricing team)."""
    roots = [project_root(), state_dir()]
    for item in os.environ.get("PT2QE_ALLOWED_ROOTS", "").split(os.pathsep):
        if item.strip():
            roots.append(Path(item.strip()).resolve())
    return roots


def inside_allowed_roots(path: Path) -> bool:
    """True when `path` (symbolic links resolved) lies in one of allowed_roots()."""
    real = Path(path).resolve()
    return any(real == root or real.is_relative_to(root) for root in allowed_roots())
