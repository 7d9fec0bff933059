"""`pt2qe outputs prune --keep N`: old run folders become verified, reproducible zips.

Output folders are built by hand in tmp folders. The warehouse part is tested on its
decision (`superseded`) and on the Airflow metadata read (`active_runs`, on SQLite);
the CLI runs with --no-warehouse.
"""

from __future__ import annotations

import os
import sqlite3
import zipfile
from datetime import UTC, datetime

import pytest
from pt2qe import prune
from pt2qe.cli import main
from pt2qe.prune import (
    Drop,
    PruneError,
    WarehouseFacts,
    active_runs,
    prune_outputs,
    run_folders,
    superseded,
)


def _run_folder(root, name, files=None):
    folder = root / name
    (folder / "quality").mkdir(parents=True)
    files = files or {
        "recommendations_detail.csv": f"ID_CND;PRIX\n{name};1,5\n",
        "export_summary.txt": f"run {name}\n",
        "quality/source.json": '{"ok": true}\n',
    }
    for rel, text in files.items():
        (folder / rel).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture()
def outputs(tmp_path):
    root = tmp_path / "outputs"
    for name in (
        "run_20250101_080000",
        "run_20250102_080000",
        "run_20250103_080000",
        "run_20250104_080000",
        "corrections_20250102_090000",
        "corrections_20250103_090000",
        "final_20250104_100000",
    ):
        _run_folder(root, name)
    # never touched: a run's hidden staging folder, other folders, a file named like a run
    _run_folder(root, ".run_20241231_235959.tmp")
    _run_folder(root, "bench_20250101_000000")
    _run_folder(root, "run_2025_notes")
    _run_folder(root, "run_20251399_000000")  # not a date
    (root / "run_20241201_000000").write_text("not a folder", encoding="utf-8")
    return root


def _names(root):
    return sorted(p.name for p in root.iterdir())


def test_keeps_the_newest_per_kind_and_archives_the_rest(outputs):
    done = prune_outputs(outputs, keep=2)
    assert [a.folder.name for a in done] == ["run_20250101_080000", "run_20250102_080000"]
    assert _names(outputs) == [
        ".run_20241231_235959.tmp",
        "archive",
        "bench_20250101_000000",
        "corrections_20250102_090000",
        "corrections_20250103_090000",
        "final_20250104_100000",
        "run_20241201_000000",
        "run_20250103_080000",
        "run_20250104_080000",
        "run_20251399_000000",
        "run_2025_notes",
    ]
    assert _names(outputs / "archive") == ["run_20250101_080000.zip", "run_20250102_080000.zip"]
    assert all(a.files == 3 and not a.reused for a in done)


def test_zip_unpacks_to_the_folder_with_its_content(outputs, tmp_path):
    original = {
        p.relative_to(outputs).as_posix(): p.read_bytes()
        for p in (outputs / "run_20250101_080000").rglob("*")
        if p.is_file()
    }
    prune_outputs(outputs, keep=3)
    with zipfile.ZipFile(outputs / "archive" / "run_20250101_080000.zip") as zf:
        assert zf.namelist() == [
            "run_20250101_080000/",
            "run_20250101_080000/export_summary.txt",
            "run_20250101_080000/quality/",
            "run_20250101_080000/quality/source.json",
            "run_20250101_080000/recommendations_detail.csv",
        ]
        # dated with the run's own timestamp, whatever the clock says
        assert {i.date_time for i in zf.infolist()} == {(2025, 1, 1, 8, 0, 0)}
        zf.extractall(tmp_path / "unpacked")
    unpacked = {
        p.relative_to(tmp_path / "unpacked").as_posix(): p.read_bytes()
        for p in (tmp_path / "unpacked").rglob("*")
        if p.is_file()
    }
    assert unpacked == original


def test_zips_are_reproducible(tmp_path):
    zips = []
    for attempt in ("a", "b"):
        root = tmp_path / attempt
        _run_folder(root, "final_20250101_080000")
        _run_folder(root, "final_20250102_080000")
        # different file times must not change the bytes
        for p in (root / "final_20250101_080000").rglob("*"):
            stamp = 1_700_000_000 + (0 if attempt == "a" else 86_400)
            os.utime(p, (stamp, stamp))
        prune_outputs(root, keep=1)
        zips.append((root / "archive" / "final_20250101_080000.zip").read_bytes())
    assert zips[0] == zips[1]


def test_a_second_prune_changes_nothing(outputs):
    prune_outputs(outputs, keep=1)
    before = {p: p.read_bytes() for p in (outputs / "archive").iterdir()}
    names = _names(outputs)
    assert prune_outputs(outputs, keep=1) == []
    assert _names(outputs) == names
    assert {p: p.read_bytes() for p in (outputs / "archive").iterdir()} == before


def test_dry_run_changes_nothing(outputs):
    names = _names(outputs)
    would = prune_outputs(outputs, keep=1, dry_run=True)
    assert [f.name for f in would] == [
        "run_20250101_080000",
        "run_20250102_080000",
        "corrections_20250102_090000",  # oldest first, all kinds together
        "run_20250103_080000",
    ]
    assert _names(outputs) == names


def test_keep_must_be_at_least_one(outputs):
    with pytest.raises(ValueError, match="at least 1"):
        prune_outputs(outputs, keep=0)


def test_a_zip_that_does_not_verify_keeps_the_folder(outputs, monkeypatch):
    real = prune.write_zip

    def lossy(folder, target):
        n = real(folder, target)
        with zipfile.ZipFile(target, "a") as zf:  # an entry the folder does not have
            zf.writestr(f"{folder.name}/stray.txt", "x")
        return n

    monkeypatch.setattr(prune, "write_zip", lossy)
    with pytest.raises(PruneError, match=r"does not match .*extra run_20250101_080000/stray\.txt"):
        prune_outputs(outputs, keep=3)
    assert (outputs / "run_20250101_080000" / "export_summary.txt").exists()
    assert list((outputs / "archive").iterdir()) == []  # no zip, no temporary file


def test_an_interrupted_prune_is_finished(outputs):
    """The zip was renamed into place but the folder not deleted yet."""
    folder = prune.RunFolder(outputs / "run_20250101_080000", "run", datetime(2025, 1, 1, 8))
    (outputs / "archive").mkdir()
    prune.write_zip(folder, outputs / "archive" / "run_20250101_080000.zip")
    done = prune_outputs(outputs, keep=3)
    assert [(a.folder.name, a.reused) for a in done] == [("run_20250101_080000", True)]
    assert not (outputs / "run_20250101_080000").exists()


def test_an_existing_zip_that_differs_is_never_overwritten(outputs):
    (outputs / "archive").mkdir()
    stale = outputs / "archive" / "run_20250101_080000.zip"
    with zipfile.ZipFile(stale, "w") as zf:
        zf.writestr("run_20250101_080000/other.csv", "other")
    with pytest.raises(PruneError, match="does not match"):
        prune_outputs(outputs, keep=3)
    assert stale.read_bytes().startswith(b"PK")
    assert (outputs / "run_20250101_080000").is_dir()


def test_run_folders_lists_only_run_folders(outputs):
    assert [(f.kind, f.name) for f in run_folders(outputs)] == [
        ("run", "run_20250101_080000"),
        ("run", "run_20250102_080000"),
        ("run", "run_20250103_080000"),
        ("run", "run_20250104_080000"),
        ("corrections", "corrections_20250102_090000"),
        ("corrections", "corrections_20250103_090000"),
        ("final", "final_20250104_100000"),
    ]
    assert run_folders(outputs / "missing") == []


def test_cli_prints_what_it_archived(outputs, capsys):
    argv = ["outputs", "prune", "--keep", "2", "--output-folder", str(outputs), "--no-warehouse"]
    left = f"run folders left in {outputs}: run 2, corrections 2, final 1"
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    first_zip = outputs / "archive" / "run_20250101_080000.zip"
    assert out[0].startswith(f"archived run_20250101_080000 → {first_zip} (3 files, ")
    assert out[1].startswith("archived run_20250102_080000 → ")
    assert out[2] == f"outputs: 2 folder(s) archived; {left}"
    assert len(out) == 3
    # again: nothing to do
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines() == [f"outputs: 0 folder(s) archived; {left}"]


def test_cli_refuses_keep_zero(outputs, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["outputs", "prune", "--keep", "0", "--output-folder", str(outputs), "--no-warehouse"])
    assert exc.value.code == 2
    assert "expected at least 1" in capsys.readouterr().err


# ------------------------------------------------------------------ warehouse

T0 = datetime(2025, 1, 10, 12, tzinfo=UTC)
T1 = datetime(2025, 1, 11, 12, tzinfo=UTC)


def _facts(**kw):
    base = dict(
        schemas=frozenset(),
        leftovers=(),
        snapshot_exists=False,
        last_full=None,
        last_corrections=None,
    )
    return WarehouseFacts(**{**base, **kw})


def test_nothing_to_drop_in_a_clean_warehouse():
    assert superseded(_facts(last_full=T0)) == []


def test_staging_schemas_and_interrupted_builds_are_dropped():
    drops = superseded(
        _facts(
            schemas=frozenset({"raw__next", "marts_next"}),
            leftovers=(
                ("inputs.capping_type_client__next", "table"),
                ("marts_next.recommendations__dbt_tmp", "table"),  # goes with its schema
                ("intermediate.int_price_offers__dbt_backup", "table"),
                ("staging.stg_source__client__dbt_tmp", "view"),
            ),
        )
    )
    assert [(d.kind, d.name, d.cascade) for d in drops] == [
        ("schema", "raw__next", True),
        ("schema", "marts_next", True),
        ("table", "inputs.capping_type_client__next", False),
        ("table", "intermediate.int_price_offers__dbt_backup", False),
        ("view", "staging.stg_source__client__dbt_tmp", False),
    ]


@pytest.mark.parametrize(
    ("last_full", "last_corrections", "dropped"),
    [
        (T0, None, True),  # a corrections run that never finished took it
        (T1, T0, True),  # a full run replaced the recommendations it was taken from
        (T0, T1, False),  # the latest corrections run: its comparison still stands
    ],
)
def test_recommendations_snapshot_goes_once_superseded(last_full, last_corrections, dropped):
    drops = superseded(
        _facts(snapshot_exists=True, last_full=last_full, last_corrections=last_corrections)
    )
    assert [d.name for d in drops] == (["control.recommendations_before"] if dropped else [])


def test_drop_statements():
    assert Drop("schema", "raw__next", "", cascade=True).sql().as_string(None) == (
        'drop schema if exists "raw__next" cascade'
    )
    assert Drop("view", "staging.v__dbt_tmp", "").sql().as_string(None) == (
        'drop view if exists "staging"."v__dbt_tmp"'
    )


def test_active_runs_read_the_airflow_metadata(tmp_path, monkeypatch):
    db = tmp_path / "airflow.db"
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{db}")
    sqlite3.connect(db).close()
    assert active_runs() == []  # no dag_run table yet: Airflow never ran
    con = sqlite3.connect(db)
    con.execute("create table dag_run (dag_id text, run_id text, state text)")
    con.executemany(
        "insert into dag_run values (?, ?, ?)",
        [
            ("pt2qe", "manual__1", "success"),
            ("pt2qe", "manual__2", "running"),
            ("other", "m3", "running"),
        ],
    )
    con.commit()
    con.close()
    assert active_runs() == ["manual__2"]
