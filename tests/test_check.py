"""`pt2qe check SOURCE`: each missing prerequisite is named on its own line.

Sources are the hand-made world of tests/hand_world.py (CSV files), the demo generator's
Parquet files, and a SQLite database loaded from the hand-made world. The reference date
2025-01-15 leaves exactly four complete quarters in the hand-made calendar (2024_Q01 …
2024_Q04, 13 weeks each from 2024-01-01, the last ending 2024-12-29). No Airflow, no
warehouse.
"""

from __future__ import annotations

import csv
import sqlite3
from datetime import date

import pytest
from hand_world import write_world
from pt2qe.check import run_checks
from pt2qe.cli import main
from pt2qe.contract import TABLES
from pt2qe.sources import FileSource, SqlSource

AS_OF = "2025-01-15"


@pytest.fixture()
def world(tmp_path):
    return write_world(tmp_path / "source")


def _rewrite(folder, name, keep_row=lambda row: True, drop_column=None):
    """Rewrite <name>.csv keeping the rows `keep_row` accepts and without `drop_column`."""
    path = folder / f"{name}.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
        header = [h for h in (rows[0].keys() if rows else []) if h != drop_column]
    if not rows:
        with open(path, encoding="utf-8") as fh:
            header = [h for h in fh.readline().strip().split(",") if h != drop_column]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header, extrasaction="ignore")
        w.writeheader()
        w.writerows(r for r in rows if keep_row(r))


def _check(capsys, *args):
    code = main(["check", *map(str, args), "--as-of", AS_OF])
    lines = capsys.readouterr().out.splitlines()
    return code, lines


def _missing(lines):
    return [line for line in lines if line.startswith("MISSING")]


def test_a_complete_source_passes_every_check(world, capsys):
    code, lines = _check(capsys, world, "--check-pt1ce", "--check-mappings")
    assert code == 0, lines
    assert _missing(lines) == []
    assert lines[0].startswith("OK       connection: folder ")
    assert sum(line.startswith("OK       table ") for line in lines) == len(TABLES)
    assert "OK       rows PT1CE_OPTIMAL_ZOOM1: " in "\n".join(lines)
    assert "OK       rows PT0CE_TYPE_CLIENT_MAPPING: 6 rows" in lines
    assert "OK       rows PT0CE_TYPE_RESTAURANT_MAPPING: 2 rows" in lines
    assert (
        "OK       calendar: 4 complete fiscal quarters up to 2025-01-15 (given): "
        "2024_Q01, 2024_Q02, 2024_Q03, 2024_Q04 (2024-01-01 → 2024-12-29)"
    ) in lines
    assert lines[-1] == "every prerequisite is met"


def test_missing_table_is_named(world, capsys):
    (world / "SYS_MD_ARTICLE.csv").unlink()
    code, lines = _check(capsys, world)
    assert code == 1
    assert _missing(lines) == [
        "MISSING  table SYS_MD_ARTICLE: missing file SYS_MD_ARTICLE.csv or SYS_MD_ARTICLE.parquet"
    ]
    assert lines[-1] == "1 prerequisite(s) missing"


def test_missing_columns_are_named(world, capsys):
    _rewrite(world, "SYS_MD_CLIENT", drop_column="ID_SEGMENT")
    _rewrite(world, "SYS_FACTURE_LIGNE", drop_column="ID_FOURNISSEUR")
    code, lines = _check(capsys, world)
    assert code == 1
    assert _missing(lines) == [
        "MISSING  table SYS_MD_CLIENT: missing column(s) ID_SEGMENT",
        "MISSING  table SYS_FACTURE_LIGNE: missing column(s) ID_FOURNISSEUR",
    ]


def test_empty_mapping_is_missing_only_when_mappings_are_checked(world, capsys):
    _rewrite(world, "PT0CE_TYPE_RESTAURANT_MAPPING", keep_row=lambda row: False)
    code, lines = _check(capsys, world)
    assert code == 0 and _missing(lines) == []  # present, with its columns
    code, lines = _check(capsys, world, "--check-mappings")
    assert code == 1
    assert _missing(lines) == ["MISSING  rows PT0CE_TYPE_RESTAURANT_MAPPING: 0 rows"]
    assert "OK       rows PT0CE_TYPE_CLIENT_MAPPING: 6 rows" in lines
    assert not any("PT1CE" in line and "rows" in line for line in lines)


def test_empty_corridors_are_missing_with_check_pt1ce(world, capsys):
    _rewrite(world, "PT1CE_OPTIMAL_ZOOM1", keep_row=lambda row: False)
    code, lines = _check(capsys, world, "--check-pt1ce")
    assert code == 1
    assert _missing(lines) == ["MISSING  rows PT1CE_OPTIMAL_ZOOM1: 0 rows"]


def test_corridor_table_without_its_file_is_not_counted(world, capsys):
    (world / "PT1CE_OPTIMAL_ZOOM1.csv").unlink()
    code, lines = _check(capsys, world, "--check-pt1ce")
    assert code == 1
    assert _missing(lines) == [
        "MISSING  table PT1CE_OPTIMAL_ZOOM1: missing file PT1CE_OPTIMAL_ZOOM1.csv or "
        "PT1CE_OPTIMAL_ZOOM1.parquet",
        "MISSING  rows PT1CE_OPTIMAL_ZOOM1: not counted: the table is missing or incomplete",
    ]


def test_a_dropped_quarter_leaves_three(world, capsys):
    _rewrite(
        world,
        "SYS_MD_CALENDRIER_SYSCO",
        keep_row=lambda row: row["ID_TRIMESTRE_FISCAL"] != "2024_Q01",
    )
    code, lines = _check(capsys, world)
    assert code == 1
    assert _missing(lines) == [
        "MISSING  calendar: only 3 complete fiscal quarters up to 2025-01-15 (given) "
        "(2024_Q02, 2024_Q03, 2024_Q04); 4 are needed"
    ]


def test_reference_date_defaults_to_the_flagged_week(world):
    def flag(row):
        row["FG_SEM_EN_COURS"] = "X" if row["ID_SEM"] == "2024-10-07" else ""
        return True

    _rewrite(world, "SYS_MD_CALENDRIER_SYSCO", keep_row=flag)
    checks = run_checks(FileSource(world), today=date(2030, 1, 1))
    assert checks[-1].line() == (
        "MISSING  calendar: only 3 complete fiscal quarters up to 2024-10-07 (the current week) "
        "(2024_Q01, 2024_Q02, 2024_Q03); 4 are needed"
    )


def test_a_missing_folder_stops_at_the_connection(tmp_path, capsys):
    code, lines = _check(capsys, tmp_path / "nowhere")
    assert code == 1
    assert len(lines) == 2
    assert (
        lines[0].startswith("MISSING  connection: ")
        and "the source folder does not exist" in lines[0]
    )


def test_bad_as_of_is_refused(world, capsys):
    assert main(["check", str(world), "--as-of", "15/01/2025"]) == 2
    assert "expected a date YYYY-MM-DD" in capsys.readouterr().err


def test_parquet_source_from_the_demo_generator(tmp_path):
    import pyarrow.parquet as pq
    from pt2qe.demo import generate

    folder = tmp_path / "demo"
    generate(folder, offers=50, fmt="parquet")
    checks = run_checks(FileSource(folder), pt1ce=True, mappings=True)
    assert [c.line() for c in checks if not c.ok] == []
    # remove a column and empty a mapping, in Parquet
    t = pq.read_table(folder / "SYS_MD_ARTICLE.parquet")
    pq.write_table(t.drop_columns(["LC_ATTRIBUT"]), folder / "SYS_MD_ARTICLE.parquet")
    m = pq.read_table(folder / "PT0CE_TYPE_CLIENT_MAPPING.parquet")
    pq.write_table(m.slice(0, 0), folder / "PT0CE_TYPE_CLIENT_MAPPING.parquet")
    checks = run_checks(FileSource(folder), pt1ce=True, mappings=True)
    assert [c.line() for c in checks if not c.ok] == [
        "MISSING  table SYS_MD_ARTICLE: missing column(s) LC_ATTRIBUT",
        "MISSING  rows PT0CE_TYPE_CLIENT_MAPPING: 0 rows",
    ]


# ------------------------------------------------------------------ a SQLAlchemy URL source


def _sqlite_from_folder(folder, path, skip_table=None, drop_column=None, empty=None) -> str:
    """Load every CSV of `folder` into a SQLite database (lower-case names, as a
    non-Oracle source holds them), leaving out what the test removes."""
    con = sqlite3.connect(path)
    for t in TABLES:
        if t.name == skip_table:
            continue
        with open(folder / f"{t.name}.csv", newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = [h.lower() for h in next(reader)]
            rows = [] if t.name == empty else list(reader)
        keep = [i for i, h in enumerate(header) if h != (drop_column or "").lower()]
        cols = [header[i] for i in keep]
        con.execute(f"create table {t.pg_name} ({', '.join(cols)})")
        con.executemany(
            f"insert into {t.pg_name} values ({', '.join('?' * len(cols))})",
            [[r[i] or None for i in keep] for r in rows],
        )
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_sqlite_url_source(world, tmp_path, capsys):
    ok = _sqlite_from_folder(world, tmp_path / "ok.db")
    code, lines = _check(capsys, ok, "--check-pt1ce", "--check-mappings")
    assert code == 0, lines
    assert lines[0] == f"OK       connection: database {ok}"

    broken = _sqlite_from_folder(
        world,
        tmp_path / "broken.db",
        skip_table="SYS_TARIF_SIMULATION",
        drop_column="GEO",  # in SYS_MD_CLIENT and PT1CE_OPTIMAL_ZOOM1
        empty="PT0CE_TYPE_CLIENT_MAPPING",
    )
    code, lines = _check(capsys, broken, "--check-pt1ce", "--check-mappings")
    assert code == 1
    assert _missing(lines) == [
        "MISSING  table SYS_MD_CLIENT: missing column(s) GEO",
        "MISSING  table SYS_TARIF_SIMULATION: missing table or not readable "
        "(no such table: sys_tarif_simulation)",
        "MISSING  table PT1CE_OPTIMAL_ZOOM1: missing column(s) GEO",
        "MISSING  rows PT1CE_OPTIMAL_ZOOM1: not counted: the table is missing or incomplete",
        "MISSING  rows PT0CE_TYPE_CLIENT_MAPPING: 0 rows",
    ]


def test_unreachable_database_is_a_missing_connection(tmp_path):
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}"
    checks = run_checks(SqlSource(url))
    assert len(checks) == 1 and not checks[0].ok
    assert checks[0].line().startswith("MISSING  connection: database sqlite:///")
    assert "cannot connect" in checks[0].line()
