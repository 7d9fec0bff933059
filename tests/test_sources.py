"""File source: the contract is checked while reading; errors name file, line, column."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pt2qe.contract import table
from pt2qe.sources import FileSource, SourceError, open_source, SqlSource

TARIF = table("SYS_TARIF_SIMULATION")
CAL = table("SYS_MD_CALENDRIER_SYSCO")


def _write(folder, name, text):
    (folder / name).write_text(text, encoding="utf-8")


def _rows(source, t):
    return pa.Table.from_batches(list(source.batches(t))).to_pylist()


def test_reads_csv_in_contract_order_with_nulls_and_extra_columns(tmp_path):
    _write(tmp_path, "SYS_TARIF_SIMULATION.csv", "id_origine_prix,EXTRA,ID_CND,PRIX_TARIF_ACTUEL\nP1,zz,C1,12.5\n,zz,C2,3\n")
    rows = _rows(FileSource(tmp_path), TARIF)
    assert rows == [
        {"id_cnd": "C1", "prix_tarif_actuel": "12.5", "id_origine_prix": "P1"},
        {"id_cnd": "C2", "prix_tarif_actuel": "3", "id_origine_prix": None},
    ]


def test_bom_is_accepted(tmp_path):
    (tmp_path / "SYS_TARIF_SIMULATION.csv").write_bytes("\ufeffID_CND,PRIX_TARIF_ACTUEL,ID_ORIGINE_PRIX\nC1,1.25,\n".encode())
    assert _rows(FileSource(tmp_path), TARIF)[0]["id_cnd"] == "C1"


def test_missing_file_names_the_expected_file(tmp_path):
    with pytest.raises(SourceError, match=r"SYS_TARIF_SIMULATION\.csv: missing file"):
        list(FileSource(tmp_path).batches(TARIF))


def test_missing_column_names_it(tmp_path):
    _write(tmp_path, "SYS_TARIF_SIMULATION.csv", "ID_CND,ID_ORIGINE_PRIX\nC1,\n")
    with pytest.raises(SourceError, match=r"line 1: missing column\(s\) PRIX_TARIF_ACTUEL"):
        list(FileSource(tmp_path).batches(TARIF))


def test_null_in_required_column_names_line_and_column(tmp_path):
    _write(tmp_path, "SYS_TARIF_SIMULATION.csv", "ID_CND,PRIX_TARIF_ACTUEL,ID_ORIGINE_PRIX\nC1,1,\n,2,\n")
    with pytest.raises(SourceError) as err:
        list(FileSource(tmp_path).batches(TARIF))
    assert err.value.line == 3 and err.value.column == "ID_CND"
    assert "value is required" in str(err.value)


def test_text_in_numeric_column(tmp_path):
    _write(tmp_path, "SYS_TARIF_SIMULATION.csv", "ID_CND,PRIX_TARIF_ACTUEL,ID_ORIGINE_PRIX\nC1,1,\nC2,\"12,5\",\n")
    with pytest.raises(SourceError) as err:
        list(FileSource(tmp_path).batches(TARIF))
    assert (err.value.line, err.value.column) == (3, "PRIX_TARIF_ACTUEL")
    assert "expected a decimal number written with '.'" in str(err.value) and "'12,5'" in str(err.value)


def test_bad_date(tmp_path):
    _write(tmp_path, "SYS_MD_CALENDRIER_SYSCO.csv", "ID_SEM,DT_FIN_SEM,ID_TRIMESTRE_FISCAL,ID_ANNEE_FISCALE,FG_SEM_EN_COURS\n2025-01-06,2025-01-12,2025_Q01,2025,\n2025-01-13,2025-02-30,2025_Q01,2025,\n")
    with pytest.raises(SourceError) as err:
        list(FileSource(tmp_path).batches(CAL))
    assert (err.value.line, err.value.column) == (3, "DT_FIN_SEM")


def test_leap_days_follow_the_calendar(tmp_path):
    header = "ID_SEM,DT_FIN_SEM,ID_TRIMESTRE_FISCAL,ID_ANNEE_FISCALE,FG_SEM_EN_COURS\n"
    leap = "2024-02-26,2024-02-29,2024_Q03,2024,\n"
    _write(tmp_path, "SYS_MD_CALENDRIER_SYSCO.csv", header + leap + "2000-02-28,2000-02-29,2000_Q03,2000,\n")
    (batch,) = FileSource(tmp_path).batches(CAL)
    assert batch.column(1).to_pylist() == ["2024-02-29", "2000-02-29"]
    _write(tmp_path, "SYS_MD_CALENDRIER_SYSCO.csv", header + leap + "1900-02-26,1900-02-29,1900_Q03,1900,\n")
    with pytest.raises(SourceError) as err:
        list(FileSource(tmp_path).batches(CAL))
    assert (err.value.line, err.value.column) == (3, "DT_FIN_SEM")
    assert "'1900-02-29'" in str(err.value)


def test_parquet_typed_columns_become_contract_text(tmp_path):
    import datetime
    import decimal

    t = pa.table(
        {
            "ID_CND": ["C1"],
            "PRIX_TARIF_ACTUEL": pa.array([decimal.Decimal("12.3400")], pa.decimal128(18, 4)),
            "ID_ORIGINE_PRIX": pa.array([None], pa.string()),
        }
    )
    pq.write_table(t, tmp_path / "SYS_TARIF_SIMULATION.parquet")
    assert _rows(FileSource(tmp_path), TARIF) == [{"id_cnd": "C1", "prix_tarif_actuel": "12.3400", "id_origine_prix": None}]
    c = pa.table({"ID_SEM": [datetime.date(2025, 1, 6)], "DT_FIN_SEM": [datetime.date(2025, 1, 12)], "ID_TRIMESTRE_FISCAL": ["2025_Q01"], "ID_ANNEE_FISCALE": ["2025"], "FG_SEM_EN_COURS": pa.array([None], pa.string())})
    pq.write_table(c, tmp_path / "SYS_MD_CALENDRIER_SYSCO.parquet")
    assert _rows(FileSource(tmp_path), CAL)[0]["id_sem"] == "2025-01-06"


def test_source_spec_kinds(tmp_path):
    assert isinstance(open_source(str(tmp_path)), FileSource)
    src = open_source("oracle://scott:tiger@db:1521/?service_name=PRICING")
    assert isinstance(src, SqlSource) and src.url.startswith("oracle+oracledb://")
    assert "tiger" not in src.describe()


def test_sql_select_is_sqlalchemy_core_with_quoted_names():
    from sqlalchemy.dialects import oracle, postgresql

    src = SqlSource("postgresql+psycopg://u@h/db")
    stmt = src.select_statement(TARIF)
    ora = str(stmt.compile(dialect=oracle.dialect()))
    assert "FROM \"SYS_TARIF_SIMULATION\"" in ora or "FROM SYS_TARIF_SIMULATION" in ora
    assert "PRIX_TARIF_ACTUEL" in ora
    pg_sql = str(stmt.compile(dialect=postgresql.dialect()))
    assert "ID_CND" in pg_sql


def test_header_names_are_read_without_surrounding_spaces(tmp_path):
    _write(
        tmp_path,
        "SYS_TARIF_SIMULATION.csv",
        'ID_CND, PRIX_TARIF_ACTUEL , "ID_ORIGINE_PRIX"\nC1, 12.5,P1\n',
    )
    assert _rows(FileSource(tmp_path), TARIF) == [
        {"id_cnd": "C1", "prix_tarif_actuel": "12.5", "id_origine_prix": "P1"}
    ]
    (tmp_path / "SYS_TARIF_SIMULATION.csv").unlink()
    t = pa.table(
        {
            "ID_CND": ["C2"],
            " PRIX_TARIF_ACTUEL": ["3"],
            "ID_ORIGINE_PRIX ": pa.array([None], pa.string()),
        }
    )
    pq.write_table(t, tmp_path / "SYS_TARIF_SIMULATION.parquet")
    assert _rows(FileSource(tmp_path), TARIF) == [
        {"id_cnd": "C2", "prix_tarif_actuel": "3", "id_origine_prix": None}
    ]
    assert FileSource(tmp_path).header(TARIF) == ["ID_CND", "PRIX_TARIF_ACTUEL", "ID_ORIGINE_PRIX"]


def test_a_column_twice_in_the_header_is_refused(tmp_path):
    _write(
        tmp_path,
        "SYS_TARIF_SIMULATION.csv",
        "ID_CND,PRIX_TARIF_ACTUEL,ID_ORIGINE_PRIX,prix_tarif_actuel \nC1,1,,2\n",
    )
    with pytest.raises(SourceError) as err:
        list(FileSource(tmp_path).batches(TARIF))
    assert str(err.value) == (
        f"{tmp_path / 'SYS_TARIF_SIMULATION.csv'}, line 1: the column PRIX_TARIF_ACTUEL appears 2 times "
        "(columns 2, 4); expected each column once"
    )
    (tmp_path / "SYS_TARIF_SIMULATION.csv").unlink()
    arrays = [pa.array(["C1"]), pa.array(["1"]), pa.array(["2"]), pa.array(["P"])]
    names = ["ID_CND", "PRIX_TARIF_ACTUEL", "ID_ORIGINE_PRIX", "ID_CND"]
    pq.write_table(
        pa.Table.from_arrays(arrays, names=names), tmp_path / "SYS_TARIF_SIMULATION.parquet"
    )
    with pytest.raises(
        SourceError, match=r"line 1: the column ID_CND appears 2 times \(columns 1, 4\)"
    ):
        list(FileSource(tmp_path).batches(TARIF))


def test_numbers_beyond_the_warehouse_types_are_refused_with_line_column_and_range(tmp_path):
    big = "1" + "0" * 131_072  # 131,073 digits: one more than PostgreSQL's numeric holds
    fits = ["1e131071", "-0.5e-16382", "1" + "0" * 131_071, "0." + "0" * 16_382 + "1", "2.5E+3"]
    _write(
        tmp_path,
        "SYS_TARIF_SIMULATION.csv",
        "ID_CND,PRIX_TARIF_ACTUEL,ID_ORIGINE_PRIX\n"
        + "".join(f"C{i},{v},\n" for i, v in enumerate(fits)),
    )
    assert [r["prix_tarif_actuel"] for r in _rows(FileSource(tmp_path), TARIF)] == fits
    for value, line in (("1e999999", 3), ("1e-16384", 3), (big, 3)):
        _write(
            tmp_path,
            "SYS_TARIF_SIMULATION.csv",
            f"ID_CND,PRIX_TARIF_ACTUEL,ID_ORIGINE_PRIX\nC1,1.5,\nC2,{value},\n",
        )
        with pytest.raises(SourceError) as err:
            list(FileSource(tmp_path).batches(TARIF))
        assert (err.value.line, err.value.column) == (line, "PRIX_TARIF_ACTUEL")
        assert (
            "expected a decimal number of at most 131,072 digits before the decimal point and 16,383 after"
            in str(err.value)
        )
        assert len(str(err.value)) < 500  # a long value is cut, with its length
    assert "found '1000000000000000000000000000000000000000'… (131,073 characters)" in str(
        err.value
    )

    lines = table("SYS_FACTURE_LIGNE")
    header = ",".join(lines.column_names)
    ok = "F1,9223372036854775807,,C1,A1,2025-01-06,1,,2,,,\nF2,-9223372036854775808,,C1,A1,2025-01-06,1,,2,,,\n"
    _write(tmp_path, "SYS_FACTURE_LIGNE.csv", f"{header}\n{ok}")
    assert [r["no_ligne"] for r in _rows(FileSource(tmp_path), lines)] == [
        "9223372036854775807",
        "-9223372036854775808",
    ]
    _write(
        tmp_path,
        "SYS_FACTURE_LIGNE.csv",
        f"{header}\n{ok}F3,9223372036854775808,,C1,A1,2025-01-06,1,,2,,,\n",
    )
    with pytest.raises(SourceError) as err:
        list(FileSource(tmp_path).batches(lines))
    assert (err.value.line, err.value.column) == (4, "NO_LIGNE")
    assert (
        "expected a whole number between -9,223,372,036,854,775,808 and 9,223,372,036,854,775,807"
        in str(err.value)
    )


def test_a_list_column_of_parquet_is_refused_with_its_file_and_column(tmp_path):
    t = pa.table(
        {
            "ID_CND": ["C1", "C2"],
            "PRIX_TARIF_ACTUEL": pa.array([None, [1.5, 2.0]]),
            "ID_ORIGINE_PRIX": ["P", "P"],
        }
    )
    pq.write_table(t, tmp_path / "SYS_TARIF_SIMULATION.parquet")
    with pytest.raises(SourceError) as err:
        list(FileSource(tmp_path).batches(TARIF))
    assert (err.value.where, err.value.line, err.value.column) == (
        str(tmp_path / "SYS_TARIF_SIMULATION.parquet"),
        2,
        "PRIX_TARIF_ACTUEL",
    )
    assert (
        "expected a decimal number written with '.' (like 12.5) in each cell, found a column of type list<element: double>"
        in str(err.value)
    )


def test_a_link_to_a_file_outside_the_allowed_folders_is_refused_unread(tmp_path, monkeypatch):
    outside, allowed = tmp_path / "outside", tmp_path / "allowed"
    (allowed / "source").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.csv").write_text(
        "ID_CND,PRIX_TARIF_ACTUEL,ID_ORIGINE_PRIX\nTOP-SECRET,1,\n", encoding="utf-8"
    )
    (allowed / "source" / "SYS_TARIF_SIMULATION.csv").symlink_to(outside / "secret.csv")
    monkeypatch.setenv("PT2QE_ALLOWED_ROOTS", str(allowed))
    source = FileSource(allowed / "source")
    for read in (lambda: list(source.batches(TARIF)), lambda: source.header(TARIF)):
        with pytest.raises(SourceError) as err:
            read()
        assert str(err.value).startswith(
            f"{allowed / 'source' / 'SYS_TARIF_SIMULATION.csv'}: is a link to {outside / 'secret.csv'}, outside the source folder"
        )
        assert "ID_CND" not in str(err.value) and "TOP-SECRET" not in str(err.value)
    # a link to a file of an allowed folder is read
    (allowed / "tarif.csv").write_text(
        "ID_CND,PRIX_TARIF_ACTUEL,ID_ORIGINE_PRIX\nC1,2,\n", encoding="utf-8"
    )
    (allowed / "source" / "SYS_TARIF_SIMULATION.csv").unlink()
    (allowed / "source" / "SYS_TARIF_SIMULATION.csv").symlink_to(allowed / "tarif.csv")
    assert _rows(source, TARIF)[0]["id_cnd"] == "C1"
