"""`pt2qe outputs prune --keep N`: archive old run folders, drop superseded warehouse leftovers.

Output folders: the run folders are `<kind>_YYYYMMDD_HHMMSS` with kind run, corrections
or final. Per kind, the N most recent stay; each older one becomes
`<output root>/archive/<folder>.zip` and is then deleted. The zip is written under a
hidden temporary name, read back and compared with the folder (every file, its size
and CRC-32), then renamed into place; only then is the folder deleted. A zip is
reproducible: entries in sorted order, each dated with the run's own timestamp (the
folder name), fixed permissions. Hidden folders (a run's staging folder), the archive
folder and any other folder are never touched, so running prune twice changes nothing
the second time.

Warehouse (optional): what a finished or killed run leaves behind and no later run
reads — the staging schemas `raw__next` and `marts_next`, tables `*__next` left by an
interrupted replacement, and `control.recommendations_before` once a full run has
replaced the recommendations it was taken from. Nothing is dropped while a run of the
`pt2qe` DAG is queued or running.
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

KINDS = ("run", "corrections", "final")
RUN_FOLDER = re.compile(r"^(run|corrections|final)_(\d{8})_(\d{6})$")
ARCHIVE = "archive"
STAGING_SCHEMAS = ("raw__next", "marts_next")  # load.load_source, pipeline.STAGED_MARTS
SNAPSHOT = ("control", "recommendations_before")  # pipeline.snapshot_before
DAG_ID = "pt2qe"


class PruneError(RuntimeError):
    """A folder cannot be archived safely; it was left as it was."""


# ------------------------------------------------------------------ output folders


@dataclass(frozen=True)
class RunFolder:
    path: Path
    kind: str
    stamp: datetime

    @property
    def name(self) -> str:
        return self.path.name


def run_folders(output_root: Path) -> list[RunFolder]:
    """The run folders directly under `output_root`, newest first within each kind."""
    found = []
    if not output_root.is_dir():
        return found
    for path in output_root.iterdir():
        m = RUN_FOLDER.match(path.name)
        if not m or path.is_symlink() or not path.is_dir():
            continue
        try:
            stamp = datetime.strptime(m.group(2) + m.group(3), "%Y%m%d%H%M%S")
        except ValueError:  # 20251399_…: not a run folder
            continue
        found.append(RunFolder(path, m.group(1), stamp))
    return sorted(found, key=lambda f: (KINDS.index(f.kind), f.stamp, f.name))


def to_archive(folders: list[RunFolder], keep: int) -> list[RunFolder]:
    """The folders beyond the `keep` most recent of their kind, oldest first."""
    if keep < 1:
        raise ValueError("keep must be at least 1 (the latest folder of each kind stays)")
    old: list[RunFolder] = []
    for kind in KINDS:
        of_kind = sorted((f for f in folders if f.kind == kind), key=lambda f: (f.stamp, f.name))
        old.extend(of_kind[: max(len(of_kind) - keep, 0)])
    return sorted(old, key=lambda f: (f.stamp, f.name))


def _entries(folder: Path) -> list[tuple[str, Path]]:
    """(name in the zip, path) of every directory and file, sorted, names starting with
    the folder's own name so the zip unpacks to the folder."""
    entries = [(folder.name + "/", folder)]
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink():
            raise PruneError(f"{path}: a symbolic link in a run folder; archive {folder} by hand")
        if path.is_dir():
            entries.append((f"{folder.name}/{rel}/", path))
        elif path.is_file():
            entries.append((f"{folder.name}/{rel}", path))
        else:
            raise PruneError(f"{path}: not a regular file; archive {folder} by hand")
    return sorted(entries)


def _crc(path: Path) -> tuple[int, int]:
    crc, size = 0, 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
    return crc, size


def write_zip(folder: RunFolder, target: Path) -> int:
    """Write `folder` into the zip `target` reproducibly; returns the number of files."""
    stamp = folder.stamp.timetuple()[:6]
    files = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, path in _entries(folder.path):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 3  # unix, so the permissions below are read back
            if name.endswith("/"):
                info.external_attr = (0o40755 << 16) | 0x10
                zf.writestr(info, b"")
                continue
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as src, zf.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            files += 1
    with open(target, "rb") as fh:
        os.fsync(fh.fileno())
    return files


def verify_zip(zip_path: Path, folder: Path) -> None:
    """The zip holds exactly the folder's entries, every file with its size and CRC-32,
    and every member decompresses to its CRC (PruneError otherwise)."""
    expected = {}
    for name, path in _entries(folder):
        expected[name] = None if name.endswith("/") else _crc(path)
    try:
        with zipfile.ZipFile(zip_path) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise PruneError(f"{zip_path}: member {bad} is corrupt")
            found = {
                i.filename: None if i.is_dir() else (i.CRC, i.file_size) for i in zf.infolist()
            }
    except zipfile.BadZipFile as exc:
        raise PruneError(f"{zip_path}: not a readable zip ({exc})") from exc
    if found != expected:
        missing = sorted(set(expected) - set(found))
        extra = sorted(set(found) - set(expected))
        changed = sorted(n for n in set(expected) & set(found) if expected[n] != found[n])
        raise PruneError(
            f"{zip_path} does not match {folder}: "
            + "; ".join(
                f"{label} {', '.join(names[:5])}{' …' if len(names) > 5 else ''}"
                for label, names in (("missing", missing), ("extra", extra), ("different", changed))
                if names
            )
        )


@dataclass(frozen=True)
class Archived:
    folder: Path
    zip_path: Path
    files: int
    bytes: int
    reused: bool  # the zip was already there (an interrupted prune) and matched


def archive_folder(folder: RunFolder, archive_dir: Path) -> Archived:
    """Zip `folder` into `archive_dir`, verify, then delete the folder."""
    archive_dir.mkdir(exist_ok=True)
    final = archive_dir / f"{folder.name}.zip"
    reused = final.exists()
    if reused:
        # an earlier prune stopped between the rename and the deletion: the zip must
        # match the folder exactly, else both stay for a person to look at
        verify_zip(final, folder.path)
        files = sum(1 for name, _ in _entries(folder.path) if not name.endswith("/"))
    else:
        tmp = archive_dir / f".{folder.name}.zip.tmp"
        try:
            files = write_zip(folder, tmp)
            verify_zip(tmp, folder.path)
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                tmp.unlink()
    shutil.rmtree(folder.path)
    return Archived(folder.path, final, files, final.stat().st_size, reused)


def prune_outputs(
    output_root: Path,
    keep: int,
    dry_run: bool = False,
    on_archived: Callable[[Archived | RunFolder], None] | None = None,
) -> list[Archived | RunFolder]:
    """Archive the run folders beyond the `keep` most recent of each kind. With
    `dry_run`, return the folders that would be archived and change nothing."""
    old = to_archive(run_folders(output_root), keep)
    done: list[Archived | RunFolder] = []
    for folder in old:
        result = folder if dry_run else archive_folder(folder, output_root / ARCHIVE)
        done.append(result)
        if on_archived:
            on_archived(result)
    return done


# ------------------------------------------------------------------ warehouse


_RELKINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized view"}
# what an interrupted run leaves: load.replace_table builds `<name>__next`; dbt's table
# materialization builds `<name>__dbt_tmp` and keeps `<name>__dbt_backup` until the swap
LEFTOVER_SUFFIXES = ("__next", "__dbt_tmp", "__dbt_backup")


@dataclass(frozen=True)
class Drop:
    kind: str  # "schema", "table", "view" or "materialized view"
    name: str  # schema, or schema.relation
    reason: str
    cascade: bool = False  # a staging schema goes with everything in it

    def sql(self):
        from psycopg import sql

        if self.kind == "schema":
            target = sql.Identifier(self.name)
        else:
            schema, _, rel = self.name.partition(".")
            target = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(rel))
        return sql.SQL("drop {} if exists {}{}").format(
            sql.SQL(self.kind), target, sql.SQL(" cascade" if self.cascade else "")
        )


@dataclass(frozen=True)
class WarehouseFacts:
    schemas: frozenset[str]  # staging schemas present
    leftovers: tuple[tuple[str, str], ...]  # (schema.relation, kind) of interrupted builds
    snapshot_exists: bool
    last_full: datetime | None  # finished_at of the latest full / corrections run
    last_corrections: datetime | None


def superseded(facts: WarehouseFacts) -> list[Drop]:
    """What the warehouse holds that no later run reads (decide only when no run is
    active). Relations are dropped without CASCADE: one that something else depends on
    stays, and the error says what."""
    drops = [
        Drop("schema", s, "staging schema of an unfinished run (a run recreates it)", cascade=True)
        for s in STAGING_SCHEMAS
        if s in facts.schemas
    ]
    drops += [
        Drop(kind, name, "left by an interrupted build")
        for name, kind in sorted(facts.leftovers)
        if name.partition(".")[0] not in facts.schemas
    ]
    snapshot_old = facts.last_corrections is None or (
        facts.last_full is not None and facts.last_full > facts.last_corrections
    )
    if facts.snapshot_exists and snapshot_old:
        drops.append(
            Drop(
                "table",
                ".".join(SNAPSHOT),
                "snapshot of a corrections run superseded by a later full run "
                "(the next corrections run takes a new one)",
            )
        )
    return drops


def warehouse_facts(conn) -> WarehouseFacts:
    present = conn.execute(
        "select nspname from pg_namespace where nspname = any(%s)", (list(STAGING_SCHEMAS),)
    ).fetchall()
    # LIKE patterns; `_` is a wildcard unless escaped (PostgreSQL's escape is `\`)
    patterns = ["%" + suffix.replace("_", "\\_") for suffix in LEFTOVER_SUFFIXES]
    leftovers = conn.execute(
        """
        select n.nspname || '.' || c.relname, c.relkind
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p', 'v', 'm') and c.relname like any(%s)
          and n.nspname not in ('pg_catalog', 'information_schema')
        order by 1
        """,
        (patterns,),
    ).fetchall()
    snapshot = conn.execute("select to_regclass(%s) is not null", (".".join(SNAPSHOT),)).fetchone()
    last: dict[str, datetime] = {}
    if conn.execute("select to_regclass('control.runs') is not null").fetchone()[0]:
        last = dict(
            conn.execute(
                """
                select mode, max(finished_at) from control.runs
                where mode in ('full', 'corrections') group by mode
                """
            ).fetchall()
        )
    return WarehouseFacts(
        frozenset(r[0] for r in present),
        tuple((name, _RELKINDS[kind]) for name, kind in leftovers),
        bool(snapshot[0]),
        last.get("full"),
        last.get("corrections"),
    )


def active_runs() -> list[str]:
    """Run ids of the `pt2qe` DAG queued or running, from the Airflow metadata database
    (`AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`, else the embedded SQLite under the Airflow
    home). An unreadable metadata database counts as an active run: nothing is dropped
    on a guess."""
    from sqlalchemy import bindparam, create_engine, text
    from sqlalchemy import exc as sa_exc

    from pt2qe.paths import airflow_home

    url = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    if not url:
        db = airflow_home() / "airflow.db"
        if not db.exists():
            return []
        url = f"sqlite:///{db}"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            query = text("select run_id from dag_run where dag_id = :dag and state in :states")
            query = query.bindparams(bindparam("states", expanding=True))
            rows = conn.execute(query, {"dag": DAG_ID, "states": ["queued", "running"]}).fetchall()
    except sa_exc.NoSuchTableError:
        return []
    except sa_exc.DBAPIError as exc:
        if "no such table" in str(exc.orig) or "does not exist" in str(exc.orig):
            return []
        return [f"(cannot read the Airflow metadata database: {exc.orig})"]
    finally:
        engine.dispose()
    return [r[0] for r in rows]


def prune_warehouse(conn, dry_run: bool = False, lock_timeout: str = "5s") -> list[Drop]:
    """Drop what `superseded` lists, each in its own transaction that waits at most
    `lock_timeout` for a lock. Call only when `active_runs()` is empty."""
    drops = superseded(warehouse_facts(conn))
    conn.commit()
    if dry_run:
        return drops
    for drop in drops:
        try:
            with conn.transaction():
                conn.execute("select set_config('lock_timeout', %s, true)", (lock_timeout,))
                conn.execute(drop.sql())
        except Exception as exc:  # noqa: BLE001 - say which relation and why, then stop
            raise PruneError(f"{drop.kind} {drop.name} could not be dropped: {exc}") from exc
    conn.commit()
    return drops
