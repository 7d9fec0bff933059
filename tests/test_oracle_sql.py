"""The SQL source's extraction queries (pt2qe.oracle), shown as each dialect receives them.

No database server: the Oracle text is compiled by SQLAlchemy's `oracle+oracledb`
dialect (python-oracledb, thin mode), the PostgreSQL text by `postgresql+psycopg`. The
4-quarter aggregation also runs on SQLite over a few hand-written invoice lines, whose
expected sums are worked out in the comments.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from pt2qe.config import ConfigError, parse_config
from pt2qe.contract import TABLES, table
from pt2qe.oracle import (
    AGGREGATED_HISTORY,
    aggregated_history_select,
    contract_select,
    execution_options,
)
from pt2qe.periods import Period
from pt2qe.sources import SqlSource, open_source
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
ORACLE_URL = "oracle+oracledb://scott:tiger@db:1521/?service_name=PRICING"
PG_URL = "postgresql+psycopg://u@h/db"
# the four quarters 2024_Q03 … 2025_Q02 of tests/hand_world.py
PERIOD = Period(as_of=date(2025, 7, 15), start=date(2024, 7, 1), end=date(2025, 6, 29), quarters=())


def _flat(stmt, engine) -> str:
    return " ".join(str(stmt.compile(dialect=engine.dialect)).split())


@pytest.fixture(scope="module")
def oracle_engine():
    oracledb = pytest.importorskip("oracledb")
    engine = create_engine(ORACLE_URL)  # no connection is opened
    assert engine.dialect.name == "oracle" and engine.dialect.driver == "oracledb"
    assert oracledb.is_thin_mode()  # no Oracle client libraries
    return engine


@pytest.fixture(scope="module")
def pg_engine():
    return create_engine(PG_URL)


# ------------------------------------------------------------------ the SQL text


def test_aggregated_history_as_oracle_receives_it(oracle_engine):
    stmt = aggregated_history_select(PERIOD, "oracle", parallel_degree=8)
    assert _flat(stmt, oracle_engine) == (
        "WITH PERIOD_LINES AS ("
        "SELECT FL.ID_CLN AS ID_CLN, FL.ID_ART AS ID_ART, FL.QT_UF AS QT_UF, FL.QT_KG AS QT_KG, "
        "FL.MT_CA AS MT_CA, FL.FG_HM AS FG_HM, OP.TYPE_PRIX AS TYPE_PRIX, "
        "row_number() OVER (PARTITION BY FL.ID_CLN, FL.ID_ART ORDER BY trunc(FL.DT_FACTURE) DESC, "
        "nlssort(FL.ID_FACTURE, 'NLS_SORT=BINARY') DESC, FL.NO_LIGNE DESC) AS LINE_RANK "
        "FROM SYS_FACTURE_LIGNE FL LEFT OUTER JOIN SYS_MD_ORIGINE_PRIX OP "
        "ON FL.ID_ORIGINE_PRIX = OP.ID_ORIGINE_PRIX "
        "WHERE FL.DT_FACTURE >= :period_start AND FL.DT_FACTURE < :period_end + 1 "
        "AND (OP.FG_PROMO IS NULL OR OP.FG_PROMO != 'X')) "
        "SELECT /*+ PARALLEL(8) */ PERIOD_LINES.ID_CLN, PERIOD_LINES.ID_ART, "
        "sum(PERIOD_LINES.MT_CA) AS CA_4Q, sum(PERIOD_LINES.QT_UF) AS VOL_UF_4Q, "
        "coalesce(sum(PERIOD_LINES.QT_KG), 0) AS VOL_KG_4Q, count(*) AS NB_LIGNES_4Q, "
        "coalesce(sum(CASE WHEN (PERIOD_LINES.TYPE_PRIX = 'FERME') "
        "THEN PERIOD_LINES.MT_CA END), 0) "
        "AS CA_PRIX_FERMES_4Q, "
        "coalesce(sum(CASE WHEN (PERIOD_LINES.TYPE_PRIX = 'INDEXE') "
        "THEN PERIOD_LINES.MT_CA END), 0) "
        "AS CA_PRIX_INDEXES_4Q, "
        "CASE WHEN (max(CASE WHEN (PERIOD_LINES.LINE_RANK = 1) THEN PERIOD_LINES.FG_HM END) = 'X') "
        "THEN '1' ELSE '0' END AS FG_HM, "
        "max(CASE WHEN (PERIOD_LINES.LINE_RANK = 1) THEN PERIOD_LINES.QT_UF END) AS LAST_QT_UF "
        "FROM PERIOD_LINES GROUP BY PERIOD_LINES.ID_CLN, PERIOD_LINES.ID_ART"
    )


def test_aggregated_history_as_postgresql_receives_it(pg_engine):
    stmt = aggregated_history_select(PERIOD, "postgresql", parallel_degree=8)
    assert _flat(stmt, pg_engine) == (
        "WITH period_lines AS ("
        "SELECT fl.id_cln AS id_cln, fl.id_art AS id_art, fl.qt_uf AS qt_uf, fl.qt_kg AS qt_kg, "
        "fl.mt_ca AS mt_ca, fl.fg_hm AS fg_hm, op.type_prix AS type_prix, "
        "row_number() OVER (PARTITION BY fl.id_cln, fl.id_art ORDER BY fl.dt_facture DESC, "
        'fl.id_facture COLLATE "C" DESC, fl.no_ligne DESC) AS line_rank '
        "FROM sys_facture_ligne AS fl LEFT OUTER JOIN sys_md_origine_prix AS op "
        "ON fl.id_origine_prix = op.id_origine_prix "
        "WHERE fl.dt_facture BETWEEN %(period_start)s::DATE AND %(period_end)s::DATE "
        "AND (op.fg_promo IS NULL OR op.fg_promo != 'X')) "
        "SELECT period_lines.id_cln, period_lines.id_art, "
        "sum(period_lines.mt_ca) AS ca_4q, sum(period_lines.qt_uf) AS vol_uf_4q, "
        "coalesce(sum(period_lines.qt_kg), 0) AS vol_kg_4q, count(*) AS nb_lignes_4q, "
        "coalesce(sum(CASE WHEN (period_lines.type_prix = 'FERME') "
        "THEN period_lines.mt_ca END), 0) "
        "AS ca_prix_fermes_4q, "
        "coalesce(sum(CASE WHEN (period_lines.type_prix = 'INDEXE') "
        "THEN period_lines.mt_ca END), 0) "
        "AS ca_prix_indexes_4q, "
        "CASE WHEN (max(CASE WHEN (period_lines.line_rank = 1) THEN period_lines.fg_hm END) = 'X') "
        "THEN '1' ELSE '0' END AS fg_hm, "
        "max(CASE WHEN (period_lines.line_rank = 1) THEN period_lines.qt_uf END) AS last_qt_uf "
        "FROM period_lines GROUP BY period_lines.id_cln, period_lines.id_art"
    )


def test_period_bounds_are_bind_parameters_never_literals(oracle_engine, pg_engine):
    stmt = aggregated_history_select(PERIOD, "oracle")
    compiled = stmt.compile(dialect=oracle_engine.dialect)
    assert compiled.params == {"period_start": date(2024, 7, 1), "period_end": date(2025, 6, 29)}
    assert "2024" not in str(compiled) and "2025" not in str(compiled)
    # python-oracledb receives named binds; the text is the same for every period
    other = Period(date(2026, 1, 5), date(2025, 1, 1), date(2025, 12, 28), ())
    assert str(
        aggregated_history_select(other, "oracle").compile(dialect=oracle_engine.dialect)
    ) == str(compiled)
    assert "PARALLEL" not in str(compiled)  # only with a parallel degree above 1
    pg = aggregated_history_select(PERIOD, "postgresql", parallel_degree=8).compile(
        dialect=pg_engine.dialect
    )
    assert "PARALLEL" not in str(pg)  # an Oracle hint only


def test_output_columns_are_those_of_the_dbt_model():
    stmt = aggregated_history_select(PERIOD, "postgresql")
    assert [c.name for c in stmt.selected_columns] == [
        c.pg_name for c in AGGREGATED_HISTORY.columns
    ]
    model = (
        ROOT / "dbt_project/models/intermediate/int_invoice_history__aggregated.sql"
    ).read_text(encoding="utf-8")
    final = model[model.index("final as (") :]
    for col in AGGREGATED_HISTORY.columns:
        assert f" {col.pg_name}" in final, (
            f"{col.pg_name} is not a column of int_invoice_history__aggregated"
        )


def test_contract_select_as_each_dialect_receives_it(oracle_engine, pg_engine):
    tarif = table("SYS_TARIF_SIMULATION")
    assert _flat(contract_select(tarif, "oracle", schema="TARIFAIRE"), oracle_engine) == (
        'SELECT "TARIFAIRE".SYS_TARIF_SIMULATION.ID_CND, '
        '"TARIFAIRE".SYS_TARIF_SIMULATION.PRIX_TARIF_ACTUEL, '
        '"TARIFAIRE".SYS_TARIF_SIMULATION.ID_ORIGINE_PRIX FROM "TARIFAIRE".SYS_TARIF_SIMULATION'
    )
    assert _flat(contract_select(tarif, "postgresql"), pg_engine) == (
        "SELECT sys_tarif_simulation.id_cnd, sys_tarif_simulation.prix_tarif_actuel, "
        "sys_tarif_simulation.id_origine_prix FROM sys_tarif_simulation"
    )


@pytest.mark.parametrize("tbl", TABLES, ids=lambda t: t.name)
def test_every_contract_table_is_selected_column_by_column(tbl, oracle_engine, pg_engine):
    source = SqlSource(ORACLE_URL)
    ora = _flat(source.select_statement(tbl, oracle_engine), oracle_engine)
    assert ora.endswith(f"FROM {tbl.name}") and '"' not in ora  # upper case, unquoted
    assert (
        ora
        == "SELECT " + ", ".join(f"{tbl.name}.{c}" for c in tbl.column_names) + f" FROM {tbl.name}"
    )
    pg = _flat(source.select_statement(tbl, pg_engine), pg_engine)
    assert (
        pg
        == "SELECT "
        + ", ".join(f"{tbl.pg_name}.{c.pg_name}" for c in tbl.columns)
        + f" FROM {tbl.pg_name}"
    )


# ------------------------------------------------------------------ fetch size


def test_fetch_size_reaches_python_oracledb_arraysize(oracle_engine):
    source = open_source("oracle://scott:tiger@db:1521/?service_name=PRICING", fetch_size=1234)
    assert source.fetch_size == 1234
    engine = source.engine()  # created, not connected
    assert engine.dialect.driver == "oracledb" and engine.dialect.arraysize == 1234
    assert execution_options(1234) == {"stream_results": True, "yield_per": 1234}


def test_configured_fetch_size_reaches_the_execution_options(tmp_path):
    """The size given to open_source (the pipeline passes extraction.fetch_size) is the
    execution options' yield_per and the size of every batch."""
    url = _sqlite_source(
        tmp_path,
        lines=[("F1", n, "C1", "A1", "2024-08-01", "1", None, "1", None, None) for n in range(10)],
    )
    seen: list[dict] = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        seen.append(dict(context.execution_options))

    event.listen(Engine, "before_cursor_execute", spy)
    try:
        source = open_source(url, fetch_size=4)
        batches = list(source.batches(table("SYS_FACTURE_LIGNE")))
        history = list(source.aggregated_history(PERIOD))
    finally:
        event.remove(Engine, "before_cursor_execute", spy)
    assert [b.num_rows for b in batches] == [4, 4, 2]
    assert [s.get("yield_per") for s in seen] == [4, 4]
    assert all(s.get("stream_results") for s in seen)
    assert sum(b.num_rows for b in history) == 1


# ------------------------------------------------------------------ the aggregation, run

ORIGINS = [
    ("FERME1", "Prix ferme", "FERME", None),
    ("INDEX1", "Prix indexé", "INDEXE", None),
    ("PROMO1", "Promotion", "FERME", "X"),
]
# (ID_FACTURE, NO_LIGNE, ID_CLN, ID_ART, DT_FACTURE, QT_UF, QT_KG, MT_CA, ID_ORIGINE_PRIX, FG_HM)
LINES = [
    (
        "F100",
        1,
        "C1",
        "A1",
        "2024-06-30",
        "100",
        None,
        "1000",
        "FERME1",
        "X",
    ),  # day before the period
    ("F101", 1, "C1", "A1", "2024-07-01", "2", "1.5", "20.5", "FERME1", None),  # first day: in
    (
        "F099",
        9,
        "C1",
        "A1",
        "2025-06-29",
        "7",
        None,
        "7",
        "FERME1",
        None,
    ),  # last day, lower invoice
    ("F102", 1, "C1", "A1", "2025-06-29", "3", None, "30.25", "INDEX1", "X"),
    ("F102", 2, "C1", "A1", "2025-06-29", "4", "2", "40", None, "X"),  # the latest line; no origin
    ("F200", 1, "C1", "A1", "2025-06-29", "50", None, "500", "PROMO1", None),  # promotional: out
    ("F300", 1, "C1", "A1", "2025-06-30", "60", None, "600", "FERME1", None),  # day after: out
    ("F400", 1, "C2", "A1", "2024-12-01", "1", None, "10", None, None),
    ("F500", 1, "C3", "A2", "2024-12-01", "5", None, "50", "PROMO1", "X"),  # only promo: no row
]


def _sqlite_source(tmp_path, lines=LINES, origins=ORIGINS) -> str:
    """A SQLite database holding the two tables the aggregation reads (lower-case names,
    as a non-Oracle source holds them)."""
    path = tmp_path / "source.db"
    con = sqlite3.connect(path)
    for name in ("SYS_FACTURE_LIGNE", "SYS_MD_ORIGINE_PRIX"):
        t = table(name)
        affinity = {"TEXT": "text", "DATE": "date", "NUMERIC": "numeric", "INTEGER": "integer"}
        con.execute(
            f"create table {t.pg_name} "
            f"({', '.join(f'{c.pg_name} {affinity[c.type]}' for c in t.columns)})"
        )
    con.executemany(
        "insert into sys_facture_ligne (id_facture, no_ligne, id_cln, id_art, dt_facture, "
        "qt_uf, qt_kg, mt_ca, "
        "id_origine_prix, fg_hm) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        lines,
    )
    con.executemany("insert into sys_md_origine_prix values (?, ?, ?, ?)", origins)
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_aggregation_runs_and_gives_the_dbt_model_rows(tmp_path):
    source = SqlSource(_sqlite_source(tmp_path))
    rows = sorted(
        (r for b in source.aggregated_history(PERIOD) for r in b.to_pylist()),
        key=lambda r: (r["id_cln"], r["id_art"]),
    )
    assert rows == [
        {
            "id_cln": "C1",
            "id_art": "A1",
            # F101 20.5 + F099 7 + F102/1 30.25 + F102/2 40 (F100, F200, F300 are out)
            "ca_4q": "97.75",
            "vol_uf_4q": "16",  # 2 + 7 + 3 + 4
            "vol_kg_4q": "3.5",  # 1.5 + 2, the NULLs count for nothing
            "nb_lignes_4q": "4",
            "ca_prix_fermes_4q": "27.5",  # F101 + F099
            "ca_prix_indexes_4q": "30.25",  # F102/1
            # latest line: 2025-06-29, highest invoice F102, highest line 2 -> FG_HM 'X'
            "fg_hm": "1",
            "last_qt_uf": "4",
        },
        {
            "id_cln": "C2",
            "id_art": "A1",
            "ca_4q": "10",
            "vol_uf_4q": "1",
            "vol_kg_4q": "0",
            "nb_lignes_4q": "1",
            "ca_prix_fermes_4q": "0",  # no origin: neither firm nor indexed
            "ca_prix_indexes_4q": "0",
            "fg_hm": "0",
            "last_qt_uf": "1",
        },
    ]


def test_promotional_latest_line_does_not_decide_fg_hm(tmp_path):
    lines = [
        ("F1", 1, "C1", "A1", "2025-01-10", "1", None, "1", "FERME1", "X"),
        (
            "F2",
            1,
            "C1",
            "A1",
            "2025-01-11",
            "9",
            None,
            "9",
            "PROMO1",
            None,
        ),  # later but promotional
    ]
    rows = [
        r
        for b in SqlSource(_sqlite_source(tmp_path, lines)).aggregated_history(PERIOD)
        for r in b.to_pylist()
    ]
    assert [(r["fg_hm"], r["last_qt_uf"], r["nb_lignes_4q"]) for r in rows] == [("1", "1", "1")]


# ------------------------------------------------------------------ configuration


def _shipped() -> dict:
    from pt2qe.config import default_config_path

    return json.loads(default_config_path().read_text(encoding="utf-8"))


def test_pushdown_aggregation_is_optional_and_off_by_default(tmp_path):
    raw = _shipped()
    raw["extraction"].pop("pushdown_aggregation", None)
    assert parse_config(raw, tmp_path / "c.json").extraction.pushdown_aggregation is False
    raw["extraction"]["pushdown_aggregation"] = True
    assert parse_config(raw, tmp_path / "c.json").extraction.pushdown_aggregation is True
    raw["extraction"]["pushdown_aggregation"] = "yes"
    with pytest.raises(ConfigError) as err:
        parse_config(raw, tmp_path / "c.json")
    assert err.value.key_path == "extraction.pushdown_aggregation"
