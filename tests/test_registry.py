"""The price registry (shared/spec/PRICE_REGISTRY_RULES.md): imported price files and
anomaly reviews are checked line by line (pt2qe.registry), and, on the warehouse, a
hand-written world of invoice lines and imported prices runs through the registry's dbt
models to the exported files, then a review is recorded and the next build honours it.

Fixture files are written byte by byte so separators, decimal marks and encodings are
explicit. Reference date of every test: 2025-11-17.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pt2qe.config import CsvDialect
from pt2qe.frenchcsv import InputFileError
from pt2qe.registry import (
    REJECTS_FILE,
    REPORT_FILE,
    RegistryInputs,
    audit_applied_files,
    gate_frames,
    import_folder,
    load_registry_inputs,
    read_price_file,
    read_registry_inputs,
    read_reviews,
    rejects,
    report_text,
    summaries,
    write_registry_outputs,
)

AS_OF = date(2025, 11, 17)
EXCEL = CsvDialect(separator=";", decimal=",", encoding="cp1252")
SEED_HEADER = b"piece,marque,modele,annee,prix,date,fournisseur,notes\r\n"
GENERIC_HEADER = b"item;context;price;date;quantity;supplier;notes;source_type;valid_from;valid_until;category\r\n"
REVIEWS_HEADER = b"OBSERVATION_ID;STATUS;REASON;REVIEWER\r\n"


def _file(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def _reasons(result, line: int) -> tuple[str, ...]:
    return next(r.reasons for r in result.rejected if r.line == line)


# ------------------------------------------------------------------ seed layout


def test_seed_layout_lines_become_observations_with_brand_model_context(tmp_path):
    path = _file(
        tmp_path,
        "garage.csv",
        SEED_HEADER
        + '"Filtre à huile","Toyota","Corolla",2015,12000,2025-01-15,"Garage A",""\r\n'.encode()
        + '"Plaquettes frein","Peugeot","208",2018,45000,2025-02-20,"Garage B","Prix négocié"\r\n'.encode(),
    )
    result = read_price_file(path, AS_OF)
    assert (result.layout, result.separator, result.decimal, result.encoding) == (
        "seed",
        ",",
        ".",
        "utf-8",
    )
    assert not result.rejected
    first, second = result.accepted
    assert first.observation_id == "IMP:garage.csv:2"
    assert (first.item_key, first.context_key, first.context_year) == (
        "Filtre à huile",
        "Toyota|Corolla",
        2015,
    )
    assert (first.unit_price, first.quantity, first.recorded_at) == (
        Decimal(12000),
        Decimal(1),
        date(2025, 1, 15),
    )
    assert (first.supplier, first.notes, first.source_type, first.description) == (
        "Garage A",
        None,
        "import",
        "Filtre à huile",
    )
    assert (second.context_key, second.notes, second.source_line) == (
        "Peugeot|208",
        "Prix négocié",
        3,
    )


def test_every_invalid_line_is_rejected_with_its_number_and_every_reason(tmp_path):
    path = _file(
        tmp_path,
        "prices.csv",
        SEED_HEADER
        + b'"Batterie","Toyota","Corolla",1990,65000,2025-11-17,"Garage A",""\r\n'  # 2: edges, valid
        + b'"Batterie","Toyota","Corolla",2026,65000,17/11/2025,,\r\n'  # 3: year + 1, FR date: valid
        + b'"Batterie","Toyota","Corolla",2015,0,2025-10-01,,\r\n'  # 4: price 0
        + b'"Batterie","Toyota","Corolla",1989,-12,2025-11-18,,\r\n'  # 5: year, price, date
        + b'"","Toyota","",2027,abc,2025-13-01,,\r\n'  # 6: piece, modele, year, price, date
        + b'"Batterie","","Corolla",,65000,,,\r\n'  # 7: marque, date missing
        + b'"Batterie","Toyota","Corolla",2015,"65000,5",2025-10-01,,\r\n'  # 8: ',' is no decimal mark here
        + b'"Batterie","Toyota","Corolla",2015,65000,2025-10-01,"G","n","extra"\r\n'  # 9: one value too many
        + b'"Batterie","Toyota","Corolla",2015,65000,2025-10-01\r\n'  # 10: no trailing values: valid
        + b'"Batterie","Toyota"\r\n'  # 11: too short: modele, prix, date missing
        + b"\r\n,,,,,,,\r\n",  # blank lines: ignored
    )
    result = read_price_file(path, AS_OF)
    assert [p.source_line for p in result.accepted] == [2, 3, 10]
    assert result.accepted[1].recorded_at == AS_OF and result.accepted[1].context_year == 2026
    assert [r.line for r in result.rejected] == [4, 5, 6, 7, 8, 9, 11]
    assert _reasons(result, 4) == ("prix: expected a price > 0, found '0'",)
    assert _reasons(result, 5) == (
        "annee: expected a year between 1990 and 2026, found '1989'",
        "prix: expected a price > 0, found '-12'",
        "date: expected a date on or before the reference date 2025-11-17, found 2025-11-18",
    )
    assert _reasons(result, 6) == (
        "piece: expected a part name, found an empty value",
        "modele: expected a model, found an empty value",
        "annee: expected a year between 1990 and 2026, found '2027'",
        "prix: expected a price > 0 written with '.' as decimal mark, found 'abc' (not a number)",
        "date: expected a date (YYYY-MM-DD or DD/MM/YYYY), found '2025-13-01'",
    )
    assert _reasons(result, 7) == (
        "marque: expected a brand, found an empty value",
        "date: expected a date (YYYY-MM-DD or DD/MM/YYYY), found an empty value",
    )
    assert _reasons(result, 8) == (
        "prix: expected a price > 0 written with '.' as decimal mark, "
        "found '65000,5' (',' is not the decimal mark of this file, '.' is)",
    )
    assert _reasons(result, 9) == (
        "expected at most 8 values separated by ',' like the header, found 9",
    )
    assert _reasons(result, 11) == (
        "modele: expected a model, found an empty value",
        "prix: expected a price > 0, found an empty value",
        "date: expected a date (YYYY-MM-DD or DD/MM/YYYY), found an empty value",
    )
    assert (
        next(r.content for r in result.rejected if r.line == 4)
        == '"Batterie","Toyota","Corolla",2015,0,2025-10-01,,'
    )


def test_report_says_imported_and_rejected_and_lists_each_line(tmp_path):
    folder = tmp_path / "price_registry"
    _file(
        folder, "b.csv", SEED_HEADER + b'"Batterie","Toyota","Corolla",2015,65000,2025-10-01,,\r\n'
    )
    _file(
        folder,
        "a.csv",
        GENERIC_HEADER
        + b"Beurre;RCI HM;12,5;2025-10-01;;S1;;;;;CREMERIE\r\n"
        + b"Beurre;RCI HM;-1;2025-10-01;0;S1;;;;;CREMERIE\r\n",
    )
    result = import_folder(folder, AS_OF)
    text = report_text(summaries(result), rejects(result))
    lines = text.splitlines()
    assert lines[0] == "2 imported, 1 rejected"
    assert "reference date 2025-11-17, mode continue" in lines[2]
    assert lines[4:8] == [
        "a.csv",
        "  layout generic (item;context;price;date;quantity;supplier;notes;source_type;valid_from;"
        "valid_until;category), separator ';', decimal mark ',', encoding utf-8",
        "  2 line(s): 1 imported, 1 rejected",
        "  line 3: price: expected a price > 0, found '-1'; quantity: expected a quantity > 0, found '0'",
    ]
    assert lines[9:12] == [
        "b.csv",
        "  layout seed (piece,marque,modele,annee,prix,date,fournisseur,notes), separator ',', "
        "decimal mark '.', encoding utf-8",
        "  1 line(s): 1 imported, 0 rejected",
    ]
    assert REJECTS_FILE in lines[-1]


def test_all_or_nothing_imports_nothing_when_a_line_fails(tmp_path):
    folder = tmp_path / "price_registry"
    _file(
        folder,
        "p.csv",
        SEED_HEADER
        + b'"Batterie","Toyota","Corolla",2015,65000,2025-10-01,,\r\n'
        + b'"Batterie","Toyota","Corolla",2015,0,2025-10-01,,\r\n',
    )
    kept = import_folder(folder, AS_OF, "continue")
    assert (kept.applied, kept.imported_lines, kept.rejected_lines, len(kept.prices())) == (
        True,
        1,
        1,
        1,
    )
    refused = import_folder(folder, AS_OF, "all_or_nothing")
    assert (refused.applied, refused.imported_lines, refused.rejected_lines, refused.prices()) == (
        False,
        0,
        1,
        [],
    )
    text = report_text(summaries(refused), rejects(refused))
    assert text.startswith("0 imported, 1 rejected\n")
    assert "nothing imported because 1 line(s) failed (1 valid line(s) not imported)" in text
    # without a failing line, all_or_nothing imports everything
    (folder / "p.csv").write_bytes(
        SEED_HEADER + b'"Batterie","Toyota","Corolla",2015,65000,2025-10-01,,\r\n'
    )
    assert import_folder(folder, AS_OF, "all_or_nothing").imported_lines == 1
    with pytest.raises(ValueError, match="import_mode"):
        import_folder(folder, AS_OF, "sometimes")


# ---------------------------------------------------------------- generic layout


def test_generic_layout_french_excel_catalog_quantity_and_validity(tmp_path):
    path = _file(
        tmp_path,
        "catalogue.csv",
        GENERIC_HEADER
        + "Crème fraîche;RSI HM;3,75;01/10/2025;;Laiterie;;catalog;01/01/2025;31/12/2025;CREMERIE\r\n".encode(
            "cp1252"
        )
        + b"Beurre;RSI HM;2,5;2025-10-01;12,5;S1;promo;manual;;;CREMERIE\r\n"
        + b"Beurre;RSI HM;2,5;2025-10-01;;S1;;auto;2025-12-31;2025-01-01;\r\n"  # 4: auto, dates reversed
        + b"Beurre;RSI HM;2.5;2025-10-01;1;S1;;;;;\r\n"  # 5: '.' in a ',' file
        + b";;;;;;;;;;\r\n",
    )
    result = read_price_file(path, AS_OF)
    assert (result.layout, result.separator, result.decimal, result.encoding) == (
        "generic",
        ";",
        ",",
        "cp1252",
    )
    catalog, manual = result.accepted
    assert (catalog.item_key, catalog.source_type, catalog.unit_price, catalog.quantity) == (
        "Crème fraîche",
        "catalog",
        Decimal("3.75"),
        Decimal(1),
    )
    assert (catalog.valid_from, catalog.valid_until, catalog.category) == (
        date(2025, 1, 1),
        date(2025, 12, 31),
        "CREMERIE",
    )
    assert (manual.source_type, manual.quantity, manual.notes) == (
        "manual",
        Decimal("12.5"),
        "promo",
    )
    assert _reasons(result, 4) == (
        "source_type: expected one of import, manual, catalog, found 'auto'",
        "valid_from, valid_until: expected valid_from before valid_until, found 2025-12-31 and 2025-01-01",
    )
    assert _reasons(result, 5) == (
        "price: expected a price > 0 written with ',' as decimal mark, "
        "found '2.5' ('.' is not the decimal mark of this file, ',' is)",
    )


def test_separator_decimal_mark_and_encoding_come_from_the_file(tmp_path):
    tab = _file(
        tmp_path,
        "tab.csv",
        b"\xef\xbb\xbfITEM\tContext\tPrice\tDate\r\nA1\tC1\t10.5\t2025-10-01\r\n\r\n\r\n",  # BOM, blank tail
    )
    result = read_price_file(tab, AS_OF)
    assert (result.separator, result.decimal, result.encoding) == ("\t", ".", "utf-8 (BOM)")
    assert result.accepted[0].unit_price == Decimal("10.5")
    # accents in the header are optional; column order is free
    accents = _file(
        tmp_path,
        "accents.csv",
        "Prix;Pièce;Modèle;Marque;Date;Année\r\n1500;Courroie;Clio;Renault;2025-03-01;2012\r\n".encode(
            "cp1252"
        ),
    )
    result = read_price_file(accents, AS_OF)
    assert (result.layout, result.separator, result.decimal, result.encoding) == (
        "seed",
        ";",
        ",",
        "cp1252",
    )
    assert (result.accepted[0].context_key, result.accepted[0].context_year) == (
        "Renault|Clio",
        2012,
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "an empty file"),
        (b"\r\n\r\n", "an empty file"),
        (b"piece;marque;modele;prix\r\nA;B;C;1\r\n", "without date"),
        (b"item;context;price;date;colour\r\n", "with the unknown column(s) colour"),
        (b"piece,marque,modele,prix,date,prix\r\n", "with prix twice"),
        ("item;context;price;date\r\n".encode("utf-16"), "a UTF-16 file"),
        (b"item;context;price;date\r\nA\x00;B;1;2025-01-01\r\n", "a NUL byte"),
    ],
)
def test_a_file_that_is_no_price_file_is_refused_naming_it(tmp_path, data, expected):
    path = _file(tmp_path / "price_registry", "bad.csv", data)
    with pytest.raises(InputFileError) as err:
        import_folder(tmp_path / "price_registry", AS_OF)
    assert err.value.file == str(path)
    assert expected in str(err.value)


def test_a_missing_folder_means_no_import(tmp_path):
    result = import_folder(tmp_path / "nowhere", AS_OF)
    assert (result.files, result.imported_lines) == ([], 0)


def test_gate_frames_hold_the_accepted_lines_by_file_line(tmp_path):
    folder = tmp_path / "price_registry"
    _file(
        folder,
        "p.csv",
        SEED_HEADER
        + b'"Batterie","Toyota","Corolla",2015,65000,2025-10-01,,\r\n'
        + b'"B","T","C",,0,2025-10-01,,\r\n',
    )
    [(label, frame)] = gate_frames(RegistryInputs(import_folder(folder, AS_OF), [], None))
    assert label == str(folder / "p.csv")
    assert list(frame.index) == [2]
    assert frame.loc[2, "UNIT_PRICE"] == 65000.0 and frame.loc[2, "RECORDED_AT"] == date(
        2025, 10, 1
    )
    suite = json.loads(
        (Path(__file__).parents[1] / "expectations/inputs/registry_inputs.json").read_text()
    )
    assert {e["kwargs"]["column"] for e in suite["expectations"] if "column" in e["kwargs"]} <= set(
        frame.columns
    )


# ------------------------------------------------------------------------ reviews


def test_reviews_file_is_read_in_the_teams_dialect(tmp_path):
    path = _file(
        tmp_path,
        "price_anomaly_reviews.csv",
        b"\xef\xbb\xbf"
        + REVIEWS_HEADER.replace(b"\r\n", b";SEVERITY;UNIT_PRICE\r\n")
        + "FL:F1:1;Validated;prix justifié (urgence);Hélène;high;95000,000\r\n".encode("cp1252")
        + b"IMP:p.csv:4;exception;;;;\r\n"
        + b";;;;;\r\n",
    )
    reviews = read_reviews(path, EXCEL)
    assert [(r.line, r.observation_id, r.status, r.reason, r.reviewer) for r in reviews] == [
        (2, "FL:F1:1", "validated", "prix justifié (urgence)", "Hélène"),
        (3, "IMP:p.csv:4", "exception", None, None),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            REVIEWS_HEADER + b"FL:F1:1;approved;;\r\n",
            "line 2, column STATUS: expected one of pending, validated, rejected, exception, found 'approved'",
        ),
        (REVIEWS_HEADER + b"FL:F1:1;;;\r\n", "line 2, column STATUS: expected one of"),
        (
            REVIEWS_HEADER + b";rejected;;\r\n",
            "line 2, column OBSERVATION_ID: expected an observation id",
        ),
        (
            REVIEWS_HEADER + b"FL:F1:1;rejected;;\r\nFL:F1:1;validated;;\r\n",
            "line 3, column OBSERVATION_ID: expected each observation once",
        ),
        (b"OBSERVATION_ID;STATUS;REVIEWER\r\nFL:F1:1;rejected;x\r\n", "column REASON"),
        (
            b"OBSERVATION_ID,STATUS,REASON,REVIEWER\r\nFL:F1:1,rejected,,\r\n",
            "looks separated by ','",
        ),
        (
            REVIEWS_HEADER + "FL:F1:1;rejected;erreur de saisie;Hélène\r\n".encode(),
            "looks UTF-8",
        ),
        (b"", "an empty file"),
    ],
)
def test_a_bad_reviews_file_is_refused_with_line_and_column(tmp_path, body, expected):
    path = _file(tmp_path, "price_anomaly_reviews.csv", body)
    with pytest.raises(InputFileError) as err:
        read_reviews(path, EXCEL)
    assert expected in str(err.value)
    assert str(path) in str(err.value)


def test_no_reviews_file_means_no_review(tmp_path):
    inputs = read_registry_inputs(None, tmp_path, tmp_path, dialect=EXCEL, as_of=AS_OF)
    assert (inputs.reviews, inputs.reviews_file) == ([], None)


# ---------------------------------------------------------------- on the warehouse

BATTERY = [  # (price, date): eight prices averaging 65,000, in pairs so every running average is 65,000
    ("60000", "2025-05-05"),
    ("70000", "2025-06-02"),
    ("65000", "2025-07-01"),
    ("65000", "2025-08-04"),
    ("65650", "2025-09-01"),
    ("64350", "2025-09-01"),
    ("66300", "2025-09-15"),
    ("63700", "2025-09-15"),
]


def _garage_file(folder: Path) -> None:
    lines = [
        f'"Batterie","Toyota","Corolla",2015,{p},{d},"Garage A",""' for p, d in BATTERY
    ]  # lines 2-9
    lines += [
        '"Batterie","Toyota","Corolla",2015,95000,2025-10-08,"Garage C","urgence"',  # 10: the seed's alert
        '"Batterie","Toyota","Corolla",2015,0,2025-10-09,"Garage C",""',  # 11: price 0
        '"Batterie","Toyota","Corolla",1985,65000,2026-01-05,"Garage C",""',  # 12: year, date
        '"Batterie","","Corolla",2015,65000,2025-10-10,"Garage C",""',  # 13: no brand
        "",  # 14: blank
        '"Filtre à huile","Toyota","Corolla",2015,12000,2025-01-15,"Garage A",""',  # 15
    ]
    _file(
        folder / "price_registry",
        "garage.csv",
        (SEED_HEADER.decode() + "\r\n".join(lines) + "\r\n").encode(),
    )


# invoice lines: (id_facture, no_ligne, dt_facture, qt_uf, mt_ca, id_origine_prix, fg_hm, id_fournisseur)
INVOICE_LINES = [
    ("F1", 1, "2025-06-02", 10, 100, "O1", None, "S1"),  # 10
    ("F2", 1, "2025-07-01", 5, 55, "O1", None, "S2"),  # 11
    ("F3", 1, "2025-08-01", 2, 18, "O1", None, "S1"),  # 9
    ("F4", 1, "2025-09-01", 4, 60, "O1", None, "S1"),  # 15: +50 % vs (10 + 11 + 9) / 3
    ("F4", 2, "2025-09-01", 0, 0, "O1", None, "S1"),  # QT_UF 0: no observation
    ("F5", 1, "2025-09-15", 1, 5, "P1", None, "S2"),  # promotional 5
    ("F6", 1, "2025-10-01", 3, 36, "O1", "X", "S1"),  # FG_HM X: context RCI HM
    ("F7", 1, "2025-10-06", 1, 12, "O1", None, "S1"),  # 12 vs (10 + 11 + 9 + 15) / 4 = 11.25
    ("F8", 1, "2025-12-01", 1, 12, "O1", None, "S1"),  # after the reference date
]
DB = "pt2qe_registry_test"
VARS = '{as_of: "2025-11-17", period_start: "2024-09-30", period_end: "2025-09-28"}'
REGISTRY_MODELS = [
    "+price_observations",
    "+price_suggestions",
    "+price_registry_anomalies",
    "+price_inflation",
    "+price_supplier_comparison",
    "+price_registry_counts",
    "+price_registry_top_increases",
]


@pytest.fixture(scope="module")
def registry_db(warehouse, tmp_path_factory):
    """A scratch database with the source and input tables (empty), its own dbt target."""
    with warehouse.connect(autocommit=True) as conn:
        conn.execute(f"drop database if exists {DB} with (force)")
        conn.execute(f"create database {DB}")
    target = tmp_path_factory.mktemp("registry_dbt_target")
    env = {
        **os.environ,
        **warehouse.dbt_env(),
        "PT2QE_PG_DBNAME": DB,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    project = Path(__file__).parents[1] / "dbt_project"

    def dbt(*args: str) -> subprocess.CompletedProcess:
        cmd = [
            str(Path(sys.executable).parent / "dbt"),
            *args,
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(target),
        ]
        proc = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=900, cwd=project
        )
        assert proc.returncode == 0, proc.stdout[-5000:]
        return proc

    dbt("run-operation", "create_source_tables")
    dbt("seed", "--select", "registry_parameters")
    yield dbt, lambda: warehouse.connect(dbname=DB)
    with warehouse.connect(autocommit=True) as conn:
        conn.execute(f"drop database if exists {DB} with (force)")


def _load_world(conn) -> None:
    conn.execute(
        "insert into raw.sys_md_client (id_cln, id_tc_cg, id_tc_cible) values ('C1', 'RCI', 'PI')"
    )
    conn.execute(
        "insert into raw.pt0ce_type_client_mapping values ('RCI', 'PI', '0', 'RCI PI GI'), ('RCI', 'PI', '1', 'RCI HM')"
    )
    conn.execute(
        "insert into raw.sys_md_article (id_art, lc_art, lc_hic_sysco_n1) values ('A1', 'Beurre doux 250 g', 'CREMERIE')"
    )
    conn.execute(
        "insert into raw.sys_md_origine_prix (id_origine_prix, fg_promo) values ('O1', null), ('P1', 'X')"
    )
    with conn.cursor() as cur:
        cur.executemany(
            "insert into raw.sys_facture_ligne (id_facture, no_ligne, id_cln, id_art, dt_facture, qt_uf, mt_ca,"
            " id_origine_prix, fg_hm, id_fournisseur) values (%s, %s, 'C1', 'A1', %s, %s, %s, %s, %s, %s)",
            INVOICE_LINES,
        )
    conn.commit()


def _observations(conn) -> dict[str, tuple]:
    rows = conn.execute(
        "select observation_id, context_key, unit_price, baseline_count, average_price, deviation_percent,"
        " price_rank, severity, is_anomaly, status_reason, review_status from marts.price_observations"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.mark.warehouse
def test_registry_from_files_and_invoices_to_exports_and_a_review(registry_db, tmp_path):
    from pt2qe.exports import ExportFormat, export_relation

    dbt, connect = registry_db
    inputs_dir, corrections_dir, out = (
        tmp_path / "inputs",
        tmp_path / "corrections",
        tmp_path / "out",
    )
    out.mkdir()
    _garage_file(inputs_dir)
    with connect() as conn:
        _load_world(conn)
        inputs = read_registry_inputs(conn, inputs_dir, corrections_dir, dialect=EXCEL, as_of=AS_OF)
        assert load_registry_inputs(conn, inputs) == {
            "files": 1,
            "imported": 10,
            "rejected": 3,
            "reviews": 0,
        }
    dbt("build", "--select", *REGISTRY_MODELS, "--exclude", "test_type:unit", "--vars", VARS)

    with connect() as conn:
        obs = _observations(conn)
        # the seed's example: 520000 / 8 = 65000, +46.15 %, anomaly, very_high, severity high
        assert obs["IMP:garage.csv:10"] == (
            "Toyota|Corolla",
            Decimal(95000),
            8,
            Decimal(65000),
            Decimal("46.1538461538461538"),
            "very_high",
            "high",
            True,
            "EVALUATED",
            "pending",
        )
        assert obs["IMP:garage.csv:5"][2:6] == (3, Decimal(65000), Decimal(0), "average")
        assert obs["FL:F4:1"] == (
            "RCI PI GI",
            Decimal(15),
            3,
            Decimal(10),
            Decimal(50),
            "very_high",
            "high",
            True,
            "EVALUATED",
            "pending",
        )
        # promotional: (5 - 11.25) / 11.25 = -55.6 %: critical, never an anomaly
        assert obs["FL:F5:1"][3] == Decimal("11.25") and obs["FL:F5:1"][5:9] == (
            "very_low",
            "critical",
            False,
            "PROMOTION",
        )
        assert obs["FL:F6:1"][0] == "RCI HM" and obs["FL:F6:1"][8] == "INSUFFICIENT_DATA"
        assert obs["FL:F7:1"][2:4] == (4, Decimal("11.25")) and obs["FL:F7:1"][5] == "average"
        assert "FL:F4:2" not in obs and "FL:F8:1" not in obs and len(obs) == 7 + 10
        counts = dict(
            conn.execute("select indicateur, valeur from marts.price_registry_counts").fetchall()
        )
        assert (
            counts["lignes_facture_lues"],
            counts["lignes_qt_uf_non_positive"],
            counts["lignes_apres_date_reference"],
        ) == (9, 1, 1)
        assert (
            counts["observations_auto"],
            counts["observations_import"],
            counts["anomalies"],
        ) == (7, 10, 2)

        # the report's top increases: +50 % (F4) then +46.15 % (the battery), then the
        # other positive deviations, at most ten
        top = conn.execute(
            "select observation_id, deviation_percent from marts.price_registry_top_increases"
            " order by ordre"
        ).fetchall()
        assert top[:2] == [
            ("FL:F4:1", Decimal(50)),
            ("IMP:garage.csv:10", Decimal("46.1538461538461538")),
        ]
        positive = sorted((-o[4], k) for k, o in obs.items() if o[4] is not None and o[4] > 0)
        assert top == [(k, -d) for d, k in positive[:10]]

        # suggestions over [2025-05-17, 2025-11-17]: 10 11 9 15 12 -> mean 11.4, median 11,
        # 25th / 75th percentiles 10 / 12; monthly averages of June..October on x = 6..10:
        # slope (5 x 464 - 40 x 57) / (5 x 330 - 40^2) = 0.8, rate 0.8 x 12 / 11.4 > 0.05
        suggestion = conn.execute(
            "select sample_size, average_price, median_price, suggested_min_price, suggested_max_price, last_price,"
            " last_price_date, last_price_supplier, trend, confidence from marts.price_suggestions"
            " where item_key = 'A1' and context_key = 'RCI PI GI'"
        ).fetchone()
        assert suggestion == (
            5,
            Decimal("11.4"),
            Decimal(11),
            Decimal(10),
            Decimal(12),
            Decimal(12),
            date(2025, 10, 6),
            "S1",
            "increasing",
            "medium",
        )
        assert conn.execute(
            "select slope from marts.price_trends where item_key = 'A1' and context_key = 'RCI PI GI'"
        ).fetchone() == (Decimal("0.8"),)

        fmt = ExportFormat()
        assert (
            export_relation(
                conn,
                "marts",
                "price_registry_anomalies",
                out / "price_registry_anomalies.csv",
                fmt,
                ["sort_order"],
                ("sort_order",),
            )
            == 3
        )
        assert (
            export_relation(
                conn,
                "marts",
                "price_suggestions",
                out / "price_suggestions.csv",
                fmt,
                ["item_key", "context_key"],
            )
            == 3
        )
        written = write_registry_outputs(conn, out, EXCEL)
    assert written == {REPORT_FILE: written[REPORT_FILE], REJECTS_FILE: 3}
    anomalies = (out / "price_registry_anomalies.csv").read_bytes().decode("cp1252").splitlines()
    assert anomalies[0] == (
        "OBSERVATION_ID;ITEM_KEY;CONTEXT_KEY;DESCRIPTION;RECORDED_AT;UNIT_PRICE;AVERAGE_PRICE;DEVIATION_PERCENT;"
        "PRICE_RANK;SEVERITY;IS_ANOMALY;SOURCE_TYPE;SUPPLIER;STATUS"
    )
    assert [line.split(";")[0] for line in anomalies[1:]] == [
        "FL:F5:1",
        "FL:F4:1",
        "IMP:garage.csv:10",
    ]
    assert anomalies[3] == (
        "IMP:garage.csv:10;Batterie;Toyota|Corolla;Batterie;2025-10-08;95000,000;65000,000;46,154;very_high;high;"
        "true;import;Garage C;pending"
    )
    report = (out / REPORT_FILE).read_bytes().decode("cp1252")
    assert report.startswith("10 imported, 3 rejected\r\n")
    assert "  line 11: prix: expected a price > 0, found '0'\r\n" in report
    assert (out / REJECTS_FILE).read_bytes().decode("cp1252").splitlines()[
        0
    ] == "FILE;LINE;REASONS;CONTENT"

    # review: an unknown observation refuses the whole file and changes nothing
    reviews = corrections_dir / "price_anomaly_reviews.csv"
    _file(
        corrections_dir,
        reviews.name,
        REVIEWS_HEADER + b"FL:F4:1;exception;urgence;marie\r\nFL:F99:1;rejected;;\r\n",
    )
    with (
        connect() as conn,
        pytest.raises(InputFileError, match=r"line 3, column OBSERVATION_ID: .*'FL:F99:1'"),
    ):
        read_registry_inputs(conn, inputs_dir, corrections_dir, dialect=EXCEL, as_of=AS_OF)
    # fixed: F4 is an exception, so F7's baseline is 10, 11, 9 again: +20 %, not an anomaly
    _file(
        corrections_dir,
        reviews.name,
        REVIEWS_HEADER
        + b"FL:F4:1;exception;urgence;marie\r\nIMP:garage.csv:10;validated;;paul\r\n",
    )
    with connect() as conn:
        inputs = read_registry_inputs(conn, inputs_dir, corrections_dir, dialect=EXCEL, as_of=AS_OF)
        assert load_registry_inputs(conn, inputs)["reviews"] == 2
    dbt("build", "--select", *REGISTRY_MODELS, "--exclude", "test_type:unit", "--vars", VARS)
    with connect() as conn:
        obs = _observations(conn)
        assert obs["FL:F4:1"][5:] == ("very_high", "high", True, "EVALUATED", "exception")
        assert obs["IMP:garage.csv:10"][9] == "validated"
        assert obs["FL:F7:1"][2:9] == (
            3,
            Decimal(10),
            Decimal(20),
            "above_average",
            "low",
            False,
            "EVALUATED",
        )
        assert (
            audit_applied_files(conn, "run-1", "tester", control_schema="registry_test_control")
            == 2
        )
        audited = conn.execute(
            "select file_name, rows, run_id from registry_test_control.corrections_applied order by file_name"
        ).fetchall()
        assert audited == [
            (str(reviews), 2, "run-1"),
            (str(inputs_dir / "price_registry" / "garage.csv"), 10, "run-1"),
        ]
