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


def escaping_target(path: Path, folder: Path | None = None) -> Path | None:
    """Where `path` really is (every symbolic link on the way resolved; nothing is
    opened) when that lies outside allowed_roots() and outside `folder`, else None.

    A file is checked with this before it is read, so that a link pointing elsewhere
    (`corrections/x.csv -> /etc/passwd`) is refused without a byte of it being read."""
    real = Path(path).resolve()
    if folder is not None:
        base = Path(folder).resolve()
        if real == base or real.is_relative_to(base):
            return None
    return None if inside_allowed_roots(real) else real


def escaping_links(folder: Path, depth: int = 2) -> list[tuple[Path, Path]]:
    """The symbolic links in `folder` and its real sub-folders (`depth` levels: the
    folders of the pricing team's files, like inputs/price_registry/) that point
    outside allowed_roots(), as (link, target), in name order. Only the links' names
    are looked at: no file is opened. A link to a folder is checked as a whole and not
    entered."""
    found: list[tuple[Path, Path]] = []
    folder = Path(folder).resolve()
    if depth < 1 or not folder.is_dir():
        return found
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            target = escaping_target(entry)
            if target is not None:
                found.append((entry, target))
        elif entry.is_dir():
            found.extend(escaping_links(entry, depth - 1))
    return found
