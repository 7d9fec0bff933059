"""The extraction queries of the SQL source, written once in SQLAlchemy Core.

In production the source is Oracle, read with python-oracledb in thin mode (SQLAlchemy
driver `oracle+oracledb`); any other database SQLAlchemy reaches works the same way.
Each query is built for a dialect name and compiled by SQLAlchemy; the tests show the
text Oracle and PostgreSQL receive.

- `contract_select(table, dialect)`: the contract columns of one source table (what the
  loader copies into `raw`).
- `aggregated_history_select(period, dialect)`: the 4-quarter invoice history pushed
  down to the source, one row per customer × article (`INVOICE_HISTORY_4Q`), the same
  rows the dbt model `int_invoice_history__aggregated` computes from the invoice lines
  (QUOTE_ENGINE_RULES.md section 2). It is optional (`extraction.pushdown_aggregation`):
  the price registry still reads every invoice line, so the line extraction stays.

Names: Oracle stores unquoted names in upper case, so on Oracle the contract names are
written as they are, unquoted (`SYS_FACTURE_LIGNE`); elsewhere in lower case (the
loader's and dbt's names). The period bounds are bind parameters (`:period_start`,
`:period_end`), never literals, so Oracle parses the statement once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, and_, bindparam, case, func, literal_column, or_, select
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.sql.elements import quoted_name

from pt2qe.contract import Column, Table, table

ORACLE = "oracle"

# The pushed-down aggregate, described like a contract table so the loader can create
# and check it (load.create_table_sql, sources.check_batch). Columns and meaning are
# those of int_invoice_history__aggregated.
AGGREGATED_HISTORY = Table(
    "INVOICE_HISTORY_4Q",
    (
        Column("ID_CLN", "TEXT"),
        Column("ID_ART", "TEXT"),
        Column("CA_4Q", "NUMERIC"),
        Column("VOL_UF_4Q", "NUMERIC"),
        Column("VOL_KG_4Q", "NUMERIC"),
        Column("NB_LIGNES_4Q", "INTEGER"),
        Column("CA_PRIX_FERMES_4Q", "NUMERIC"),
        Column("CA_PRIX_INDEXES_4Q", "NUMERIC"),
        Column("FG_HM", "TEXT"),
        Column("LAST_QT_UF", "NUMERIC"),
    ),
    ("ID_CLN", "ID_ART"),
)


def execution_options(fetch_size: int) -> dict[str, Any]:
    """Connection execution options of every extraction query: a server-side cursor
    (`stream_results`) read `fetch_size` rows at a time (`yield_per`)."""
    return {"stream_results": True, "yield_per": fetch_size}


def engine_options(dialect: str, fetch_size: int) -> dict[str, Any]:
    """`create_engine` keyword arguments. python-oracledb fetches `arraysize` rows per
    round trip; it is set to the configured fetch size (only the Oracle dialects take
    it)."""
    options: dict[str, Any] = {"pool_pre_ping": True}
    if dialect == ORACLE:
        options["arraysize"] = fetch_size
    return options


def source_name(name: str, dialect: str) -> quoted_name:
    """A contract name as the dialect's catalogue holds it, rendered without quotes."""
    return quoted_name(name.upper() if dialect == ORACLE else name.lower(), quote=False)


def source_table(tbl: Table, dialect: str, schema: str | None = None):
    """A lightweight SQLAlchemy table of the contract columns of `tbl`."""
    cols = [sa_column(source_name(c.name, dialect)) for c in tbl.columns]
    return sa_table(source_name(tbl.name, dialect), *cols, schema=schema)


def contract_select(tbl: Table, dialect: str, schema: str | None = None):
    """SELECT of the contract columns of `tbl`, in contract order."""
    src = source_table(tbl, dialect, schema)
    return select(*src.c)


# ------------------------------------------------------------------ dialect-specific bits


def _day_of(value, dialect: str):
    """The calendar day of a DATE. An Oracle DATE carries a time of day, which the line
    extraction drops (sources._text): the latest line is chosen on the day, as in dbt."""
    return func.trunc(value) if dialect == ORACLE else value


def _code_point_order(value, dialect: str):
    """Text ordered by code point whatever the session's sort: Oracle's NLS_SORT is
    linguistic under a French NLS_LANGUAGE; the dbt model orders with collate "C"."""
    if dialect == ORACLE:
        return func.nlssort(value, literal_column("'NLS_SORT=BINARY'"))
    if dialect == "postgresql":
        return value.collate("C")
    return value


def _in_period(value, start, end, dialect: str):
    """`value BETWEEN start AND end`, both bounds included. On Oracle, where a DATE has a
    time of day, the half-open `value >= start AND value < end + 1`: exact for any time,
    and still a plain range on the column (index range scan, partition pruning)."""
    if dialect == ORACLE:
        return and_(value >= start, value < end + literal_column("1"))
    return value.between(start, end)


# ------------------------------------------------------------------ the 4-quarter history


def aggregated_history_select(
    period, dialect: str, schema: str | None = None, parallel_degree: int | None = None
):
    """One row per (ID_CLN, ID_ART) with the metrics of the invoice lines dated inside
    the period (bounds included) whose price origin is not promotional.

    `period` is a `periods.Period` (or anything with `start` and `end` dates); its bounds
    become the bind parameters `period_start` and `period_end` (values attached, so a
    plain `conn.execute(stmt)` runs it). The latest line (DT_FACTURE's day, then
    ID_FACTURE by code point, then NO_LIGNE, all descending) is numbered 1 by a window
    over the same partition as the GROUP BY: one sort, no correlated subquery. On Oracle
    `parallel_degree` adds the seed's `/*+ PARALLEL(n) */` hint.
    """

    def n(name: str) -> quoted_name:
        return source_name(name, dialect)

    def text_constant(value: str):
        return literal_column(f"'{value}'")

    lines = source_table(table("SYS_FACTURE_LIGNE"), dialect, schema).alias(n("FL"))
    origins = source_table(table("SYS_MD_ORIGINE_PRIX"), dialect, schema).alias(n("OP"))
    fl = {c.name: lines.c[n(c.name)] for c in table("SYS_FACTURE_LIGNE").columns}
    op = {c.name: origins.c[n(c.name)] for c in table("SYS_MD_ORIGINE_PRIX").columns}

    start = bindparam("period_start", period.start, type_=Date())
    end = bindparam("period_end", period.end, type_=Date())
    latest_first = func.row_number().over(
        partition_by=(fl["ID_CLN"], fl["ID_ART"]),
        order_by=(
            _day_of(fl["DT_FACTURE"], dialect).desc(),
            _code_point_order(fl["ID_FACTURE"], dialect).desc(),
            fl["NO_LIGNE"].desc(),
        ),
    )
    # the seed's PRP_LABELS: promotional lines are left out of every metric
    period_lines = (
        select(
            fl["ID_CLN"],
            fl["ID_ART"],
            fl["QT_UF"],
            fl["QT_KG"],
            fl["MT_CA"],
            fl["FG_HM"],
            op["TYPE_PRIX"],
            latest_first.label(n("LINE_RANK")),
        )
        .select_from(lines.outerjoin(origins, fl["ID_ORIGINE_PRIX"] == op["ID_ORIGINE_PRIX"]))
        .where(
            _in_period(fl["DT_FACTURE"], start, end, dialect),
            or_(op["FG_PROMO"].is_(None), op["FG_PROMO"] != text_constant("X")),
        )
        .cte(n("PERIOD_LINES"))
    )
    p = period_lines.c
    zero = literal_column("0")
    is_latest = p[n("LINE_RANK")] == literal_column("1")

    def revenue_of(type_prix: str):
        of_type = p[n("TYPE_PRIX")] == text_constant(type_prix)
        return func.coalesce(func.sum(case((of_type, p[n("MT_CA")]))), zero)

    # HISTORICAL_PERFORMANCE, LAST_FG_HM and LAST_QT_UF of the seed in one aggregation
    last_fg_hm = func.max(case((is_latest, p[n("FG_HM")])))
    stmt = select(
        p[n("ID_CLN")],
        p[n("ID_ART")],
        func.sum(p[n("MT_CA")]).label(n("CA_4Q")),
        func.sum(p[n("QT_UF")]).label(n("VOL_UF_4Q")),
        func.coalesce(func.sum(p[n("QT_KG")]), zero).label(n("VOL_KG_4Q")),
        func.count().label(n("NB_LIGNES_4Q")),
        revenue_of("FERME").label(n("CA_PRIX_FERMES_4Q")),
        revenue_of("INDEXE").label(n("CA_PRIX_INDEXES_4Q")),
        case(
            (last_fg_hm == text_constant("X"), text_constant("1")), else_=text_constant("0")
        ).label(n("FG_HM")),
        func.max(case((is_latest, p[n("QT_UF")]))).label(n("LAST_QT_UF")),
    ).group_by(p[n("ID_CLN")], p[n("ID_ART")])
    if parallel_degree and parallel_degree > 1:
        stmt = stmt.prefix_with(f"/*+ PARALLEL({int(parallel_degree)}) */", dialect=ORACLE)
    return stmt
