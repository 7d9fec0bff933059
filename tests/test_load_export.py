"""COPY loading (atomic swap) and French-dialect exports on the embedded warehouse."""

import time
from decimal import Decimal

import pytest
from pt2qe.contract import table
from pt2qe.exports import ExportError, ExportFormat, export_relation
from pt2qe.load import load_source
from pt2qe.sources import FileSource, SourceError

pytestmark = pytest.mark.warehouse

TARIF = table("SYS_TARIF_SIMULATION")


def _tarif(folder, body):
    (folder / "SYS_TARIF_SIMULATION.csv").write_text("ID_CND,PRIX_TARIF_ACTUEL,ID_ORIGINE_PRIX\n" + body, encoding="utf-8")
    return FileSource(folder)


def _mart(pg, name, columns, rows):
    """test_marts.<name> with its columns and rows (SQL text), in a fresh schema."""
    pg.execute("drop schema if exists test_marts cascade")
    pg.execute("create schema test_marts")
    pg.execute(f"create table test_marts.{name} ({columns})")
    pg.execute(f"insert into test_marts.{name} values {rows}")


def test_load_types_values_and_replaces_atomically(tmp_path, warehouse, pg):
    stats = load_source(warehouse, _tarif(tmp_path, "C1,12.3456,P1\nC2,0.5,\n"), tables=(TARIF,), target="test_raw")
    assert [(s.table, s.rows) for s in stats] == [("SYS_TARIF_SIMULATION", 2)]
    rows = pg.execute("select id_cnd, prix_tarif_actuel, id_origine_prix from test_raw.sys_tarif_simulation order by 1").fetchall()
    assert rows == [("C1", Decimal("12.3456"), "P1"), ("C2", Decimal("0.5"), None)]

    # a bad file fails during the load: the previous table stays whole
    with pytest.raises(SourceError):
        load_source(warehouse, _tarif(tmp_path, "C3,1,\nC4,oops,\n"), tables=(TARIF,), target="test_raw")
    pg.rollback()
    assert pg.execute("select count(*) from test_raw.sys_tarif_simulation").fetchone() == (2,)


def test_a_repeated_key_is_refused_at_load_with_its_file_and_keys(tmp_path, warehouse, pg):
    body = "".join(f"C{i},1.5,\n" for i in range(1, 2001)) + "C7,2,\nC42,3,\nC42,4,\n"
    with pytest.raises(SourceError) as err:
        load_source(warehouse, _tarif(tmp_path, body), tables=(TARIF,), target="test_dup")
    pg.rollback()
    message = str(err.value)
    assert "SYS_TARIF_SIMULATION.csv, column ID_CND" in message
    # each repeated key with the lines it is on (line 1 is the header: C42 is line 43)
    assert (
        "2 key(s) appear more than once, e.g. ID_CND='C42' (3 times: lines 43, 2003 and 2004); "
        "ID_CND='C7' (2 times: lines 8 and 2002)" in message
    )
    # unique keys that differ only by case or by a separator are not duplicates
    stats = load_source(
        warehouse, _tarif(tmp_path, "c1,1,\nC1,1,\nC1 ,1,\n"), tables=(TARIF,), target="test_dup"
    )
    assert stats[0].rows == 3
    pg.execute("drop schema if exists test_dup cascade")
    pg.execute("drop schema if exists test_dup__next cascade")


def test_a_repeated_key_of_several_columns_names_its_lines_and_values_as_text(
    tmp_path, warehouse, pg
):
    """NO_LIGNE '07' is loaded as the number 7: it repeats line 7 of the same invoice;
    a repeated date key is shown as the file writes it, never as a Python value."""
    lines = table("SYS_FACTURE_LIGNE")
    header = ",".join(lines.column_names)
    row = "F{f},{n},,C1,A1,2025-01-06,1,,2.5,,,"
    body = [row.format(f=f, n=n) for f in (1, 2) for n in range(1, 9)] + [row.format(f=2, n="07")]
    (tmp_path / "SYS_FACTURE_LIGNE.csv").write_text(
        "\n".join([header, *body]) + "\n", encoding="utf-8"
    )
    with pytest.raises(SourceError) as err:
        load_source(warehouse, FileSource(tmp_path), tables=(lines,), target="test_dup")
    pg.rollback()
    assert str(err.value).endswith(
        "SYS_FACTURE_LIGNE.csv, column ID_FACTURE, NO_LIGNE: the key (ID_FACTURE, NO_LIGNE) must identify "
        "one row; 1 key(s) appear more than once, e.g. ID_FACTURE='F2', NO_LIGNE='7' (2 times: lines 16 and 18)"
    )
    cal = table("SYS_MD_CALENDRIER_SYSCO")
    weeks = ["2025-01-06,2025-01-12,2025_Q01,2025,", "2025-01-13,2025-01-19,2025_Q01,2025,"] * 3
    (tmp_path / "SYS_MD_CALENDRIER_SYSCO.csv").write_text(
        "\n".join([",".join(cal.column_names), *weeks]) + "\n", encoding="utf-8"
    )
    with pytest.raises(SourceError) as err:
        load_source(warehouse, FileSource(tmp_path), tables=(cal,), target="test_dup")
    pg.rollback()
    assert (
        "e.g. ID_SEM='2025-01-06' (3 times: lines 2, 4 and 6); ID_SEM='2025-01-13' (3 times: lines 3, 5 and 7)"
        in str(err.value)
    )
    pg.execute("drop schema if exists test_dup__next cascade")


def test_a_repeated_key_of_a_parquet_file_names_its_rows(tmp_path, warehouse, pg):
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = [f"C{i}" for i in range(1, 11)] + ["C3"] * 7
    pq.write_table(
        pa.table(
            {
                "ID_CND": ids,
                "PRIX_TARIF_ACTUEL": ["1.5"] * len(ids),
                "ID_ORIGINE_PRIX": [None] * len(ids),
            }
        ),
        tmp_path / "SYS_TARIF_SIMULATION.parquet",
    )
    with pytest.raises(SourceError) as err:
        load_source(warehouse, FileSource(tmp_path), tables=(TARIF,), target="test_dup")
    pg.rollback()
    # eight times: the first five rows are listed
    assert "ID_CND='C3' (8 times: rows 3, 11, 12, 13, 14, …)" in str(err.value)
    pg.execute("drop schema if exists test_dup__next cascade")


def test_a_full_warehouse_disk_names_the_table_and_leaves_nothing_half_loaded(
    tmp_path, warehouse, pg, small_disk, monkeypatch
):
    """The table is written in a tablespace on a real 1 MB file system: PostgreSQL runs
    out of space while the COPY extends it."""
    import os
    import pwd

    from pt2qe.diskfull import DiskFullError
    from pt2qe.warehouse import SYSTEM_USER

    if os.geteuid() == 0:  # the embedded server runs as its own user (warehouse.py)
        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(small_disk, entry.pw_uid, entry.pw_gid)
    body = "".join(f"C{i},{i}.25,P{i % 7}\n" for i in range(60_000))  # ~3 MB once loaded
    source = _tarif(tmp_path, body)
    with warehouse.connect(autocommit=True) as admin:
        admin.execute(f"create tablespace pt2qe_small_disk location '{small_disk}'")
        try:
            monkeypatch.setenv("PGOPTIONS", "-c default_tablespace=pt2qe_small_disk")
            with pytest.raises(DiskFullError) as err:
                load_source(warehouse, source, tables=(TARIF,), target="test_full")
            monkeypatch.delenv("PGOPTIONS")
            message = str(err.value)
            assert message.startswith(
                f"{tmp_path / 'SYS_TARIF_SIMULATION.csv'}: the warehouse table test_full__next.sys_tarif_simulation "
                "could not be written: the disk is full (the warehouse says: could not extend file"
            ), message
            assert message.endswith(
                "; nothing was loaded and the tables of the last run are as they were. Free some space and run again"
            )
            # nothing half written: no table, and its file emptied
            assert admin.execute(
                "select to_regclass('test_full__next.sys_tarif_simulation')"
            ).fetchone() == (None,)
            assert sum(f.stat().st_size for f in small_disk.rglob("*") if f.is_file()) == 0
        finally:
            admin.execute("drop schema if exists test_full__next cascade")
            admin.execute(
                "checkpoint"
            )  # PostgreSQL removes the emptied file at the next checkpoint
            admin.execute("drop tablespace if exists pt2qe_small_disk")


def test_key_hashes_are_equal_for_equal_texts_only():
    """The load's key check hashes each key text on Arrow's buffers: equal texts, wherever
    they sit in a batch or a slice, hash alike; texts that differ by a letter's case, a
    trailing space, an accent or their order hash differently, and so do keys whose
    columns split the same letters differently."""
    import pyarrow as pa
    from pt2qe.load import KeyCheck, text_hashes

    values = ["FAC001", "FAC001 ", "fac001", "FAC100", "FAC010", "", "É", "E", "FAC001", "x" * 300]
    h = text_hashes(pa.array(values)).tolist()
    assert h[0] == h[8]
    assert len(set(h)) == len(values) - 1
    assert text_hashes(pa.array(values).slice(7, 2)).tolist() == [h[7], h[8]]
    assert text_hashes(pa.array(values, pa.large_string())).tolist() == h
    assert len(set(text_hashes(pa.array([str(i) for i in range(200_000)])).tolist())) == 200_000

    keys = KeyCheck(table("SYS_FACTURE_LIGNE"))  # key (ID_FACTURE, NO_LIGNE)
    names = [c.name for c in keys.table.columns]

    def batch(pairs):
        cols = {n: [None] * len(pairs) for n in names}
        cols["ID_FACTURE"], cols["NO_LIGNE"] = [p[0] for p in pairs], [p[1] for p in pairs]
        return pa.RecordBatch.from_pydict({n: pa.array(cols[n], pa.string()) for n in names})

    list(keys.track(iter([batch([("F1", "12"), ("F11", "2")]), batch([("F1", "2"), ("F11", "2")])])))
    assert keys.maybe_duplicated()  # ('F11', '2') in both batches
    list(keys.track(iter([batch([("F1", "12"), ("F11", "2"), ("F1", "2")])])))
    assert not keys.maybe_duplicated()


def test_export_rounds_half_up_formats_french_and_keeps_caps_exact(tmp_path, pg):
    _mart(pg, "t", "id text, prix numeric, pct_hausse numeric, capping_high numeric, label text, d date, sort_order int", "('B', 2.0005, 0.123449, 0.0275, 'Crème brûlée', '2025-01-02', 2), ('A', 1.2344, -0.00005, 0.05, 'a;b', null, 1)")
    out = tmp_path / "t.csv"
    n = export_relation(pg, "test_marts", "t", out, ExportFormat(), ["sort_order"], drop=("sort_order",))
    assert n == 2
    text = out.read_bytes().decode("cp1252")
    assert text.splitlines() == [
        "ID;PRIX;PCT_HAUSSE;CAPPING_HIGH;LABEL;D",
        'A;1,234;-0,01;0,05;"a;b";',
        "B;2,001;12,34;0,0275;Crème brûlée;2025-01-02",
    ]
    assert not list(tmp_path.glob(".*.tmp"))


def test_export_refuses_a_character_cp1252_cannot_hold(tmp_path, pg):
    _mart(pg, "t", "id text, label text", "('A', 'ok'), ('B', 'Łódź')")
    out = tmp_path / "t.csv"
    with pytest.raises(ExportError, match=r"row 2 \(file line 3\), column LABEL: the character 'Ł'"):
        export_relation(pg, "test_marts", "t", out, ExportFormat(), ["id"])
    assert not out.exists() and not list(tmp_path.iterdir())


def test_export_refuses_a_c1_control_that_postgresql_would_map_to_cp1252(tmp_path, pg):
    # PostgreSQL's WIN1252 holds U+0081, Python's cp1252 (and Excel) does not: the file
    # is encoded by Python, so the character is refused
    _mart(pg, "t", "id text, label text", "('A', 'ok'), ('B', 'x' || chr(129) || 'y')")
    out = tmp_path / "t.csv"
    with pytest.raises(ExportError, match=r"row 2 \(file line 3\), column LABEL: the character '\\x81'"):
        export_relation(pg, "test_marts", "t", out, ExportFormat(), ["id"])
    assert not out.exists() and not list(tmp_path.iterdir())


def test_export_in_utf8_with_bom(tmp_path, pg):
    _mart(pg, "t", "id text, label text", "('A', 'Łódź'), ('B', 'Crème')")
    out = tmp_path / "t.csv"
    assert export_relation(pg, "test_marts", "t", out, ExportFormat(encoding="utf-8-sig"), ["id"]) == 2
    assert out.read_bytes() == "\ufeffID;LABEL\nA;Łódź\nB;Crème\n".encode("utf-8")


def test_work_runs_on_two_connections_in_order_and_stops_at_the_first_failure(warehouse):
    done = []

    def work(conn, item):
        done.append(item)
        return conn.execute("select %s::int * 10", (item,)).fetchone()[0]

    assert warehouse.each_on_connections(range(6), work) == [0, 10, 20, 30, 40, 50]

    def failing(conn, item):
        if item == 1:
            raise ValueError("item 1 is bad")
        time.sleep(0.05)  # the failure is recorded while the other worker is busy
        done.append(item)
        return item

    done.clear()
    with pytest.raises(ValueError, match="item 1 is bad"):
        warehouse.each_on_connections(range(100), failing)
    # the other worker finishes its current item, then nothing more is started
    assert len(done) <= 3
    assert warehouse.each_on_connections([], work) == []


def test_indicator_values_follow_their_unit(tmp_path, pg):
    _mart(pg, "r", "ordre int, indicateur text, valeur numeric, unite text", "(1, 'nb', 4, 'nombre'), (2, 'taux', 0.19634, 'taux'), (3, 'ca', 1234.5678, 'euros')")
    out = tmp_path / "r.csv"
    export_relation(pg, "test_marts", "r", out, ExportFormat(), ["ordre"], drop=("ordre",))
    assert out.read_text(encoding="cp1252").splitlines() == [
        "INDICATEUR;VALEUR;UNITE",
        "nb;4;nombre",
        "taux;19,63;taux",
        "ca;1234,568;euros",
    ]
