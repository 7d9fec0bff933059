"""The corrections watch: does `corrections/capping_cubes_corrections.csv` need a run?

The `pt2qe_corrections_watch` DAG asks this every few minutes. A corrections run records
the SHA-256 of the file it applied in `control.corrections_applied` (pipeline.record_run).
The file needs a run when it exists, holds something, and its SHA-256 is not the one of
the corrections file applied last — a new file, an edited one, or a return to an earlier
version. Nothing is triggered while a `pt2qe` run is queued or running (the run the
watch triggered may not have recorded its hash yet); the next check decides.

Each triggered run gets the id `corrections_watch__<new hash>__after__<last applied hash>`:
a file whose run failed is not tried again every few minutes (fix the file, or trigger
the corrections run by hand), while going back to an earlier version still triggers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from pt2qe.pipeline import CORRECTIONS_FILE  # light: the stages import inside their functions

TRIGGER = "trigger"
SKIP = "skip"


@dataclass(frozen=True)
class Decision:
    action: str  # "trigger" or "skip"
    reason: str
    sha256: str | None = None
    run_id: str | None = None  # of the corrections run to trigger

    def as_dict(self) -> dict:
        return asdict(self)


def file_sha256(path: Path) -> str | None:
    """SHA-256 of the file's bytes (the hash record_run stores), None when it is absent."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def last_applied_sha256(conn, file_name: str = CORRECTIONS_FILE) -> str | None:
    """SHA-256 of the corrections file applied last, whatever its folder, from
    control.corrections_applied (which also audits the registry files of full runs);
    None when no corrections run was ever recorded."""
    exists = conn.execute("select to_regclass('control.corrections_applied') is not null").fetchone()[0]
    if not exists:
        return None
    row = conn.execute(
        """
        select sha256 from control.corrections_applied
        where file_name = %(name)s or file_name like %(suffix)s
        order by applied_at desc, run_id desc limit 1
        """,
        {"name": file_name, "suffix": "%/" + file_name.replace("_", r"\_")},
    ).fetchone()
    return row[0] if row else None


def run_id_for(sha: str, last_applied: str | None) -> str:
    return f"corrections_watch__{sha[:16]}__after__{(last_applied or 'none')[:16]}"


def decide(
    path: Path,
    last_applied: str | None,
    active_runs: int = 0,
    run_exists: Callable[[str], bool] | None = None,
) -> Decision:
    """"trigger" when the file at `path` should be applied by a corrections run, else
    "skip", with the reason. `active_runs`: pt2qe runs queued or running; `run_exists`:
    whether a pt2qe run of that id was already triggered."""
    if not path.is_file():
        return Decision(SKIP, f"no corrections file {path}")
    if path.stat().st_size == 0:
        return Decision(SKIP, f"{path} is empty")
    sha = file_sha256(path)
    if sha == last_applied:
        return Decision(SKIP, f"{path.name} ({sha[:12]}) is already applied", sha)
    if active_runs:
        return Decision(SKIP, f"{path.name} ({sha[:12]}) is new, but a pt2qe run is queued or running", sha)
    run_id = run_id_for(sha, last_applied)
    if run_exists is not None and run_exists(run_id):
        return Decision(SKIP, f"{path.name} ({sha[:12]}) was already tried by run {run_id}, which did not apply it", sha, run_id)
    why = "no corrections applied yet" if last_applied is None else f"last applied {last_applied[:12]}"
    return Decision(TRIGGER, f"{path.name} ({sha[:12]}) is new or changed ({why})", sha, run_id)


def check(
    corrections_folder: str = "corrections",
    active_runs: int = 0,
    run_exists: Callable[[str], bool] | None = None,
) -> Decision:
    """The decision for a corrections folder (relative to the project root, as the DAG's
    `corrections_folder` Param), against the warehouse in use."""
    from pt2qe.pipeline import resolve_path
    from pt2qe.warehouse import get_warehouse

    path = resolve_path(corrections_folder, "corrections_folder") / CORRECTIONS_FILE
    if not path.is_file():  # no need to reach the warehouse
        return decide(path, None, active_runs, run_exists)
    with get_warehouse().connect() as conn:
        last = last_applied_sha256(conn)
    return decide(path, last, active_runs, run_exists)
