"""Loading into the warehouse with COPY, replacing tables atomically.

Extraction writes every contract table into the schema `raw__next`, then swaps it for
`raw` in one transaction: readers see the old complete set or the new complete set,
never a half-loaded table. A killed load leaves `raw` as it was; the next load starts
by dropping the leftover `raw__next`.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pcsv
from psycopg import sql

from pt2qe.contract import PG_TYPES, TABLES, Table
from pt2qe.journal import fault_point

log = logging.getLogger(__name__)

RAW = "raw"


@dataclass
class LoadStats:
    table: str
    rows: int
    seconds: float


def create_table_sql(schema: str, table: Table) -> sql.Composed:
    cols = sql.SQL(", ").join(
        sql.SQL("{} {}{}").format(
            sql.Identifier(c.pg_name),
            sql.SQL(PG_TYPES[c.type]),
            sql.SQL("" if c.nullable else " not null"),
        )
        for c in table.columns
    )
    return sql.SQL("create table {}.{} ({})").format(sql.Identifier(schema), sql.Identifier(table.pg_name), cols)


def copy_batches(conn, schema: str, name: str, columns: list[str], batches: Iterable[pa.RecordBatch]) -> int:
    """COPY record batches (string columns, NULL = null) into schema.name; returns rows."""
    rows = 0
    stmt = sql.SQL("copy {}.{} ({}) from stdin with (format csv)").format(
        sql.Identifier(schema), sql.Identifier(name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    opts = pcsv.WriteOptions(include_header=False, quoting_style="needed")
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        for batch in batches:
            if not batch.num_rows:
                continue
            buf = io.BytesIO()
            pcsv.write_csv(batch, buf, write_options=opts)
            copy.write(buf.getbuffer())
            rows += batch.num_rows
    return rows


def load_source(wh, source, tables: tuple[Table, ...] = TABLES, progress=None, target: str = RAW, swap: bool = True) -> list[LoadStats]:
    """Load every contract table of `source` into `<target>__next`; with `swap`, replace
    schema `target` by it at once (without, `swap_schema` does it after the checks)."""
    stats: list[LoadStats] = []
    staging = f"{target}__next"
    with wh.connect() as conn:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(staging)))
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(staging)))
        conn.commit()
        for table in tables:
            t0 = time.monotonic()
            # create + COPY in one transaction: with wal_level=minimal this skips the WAL
            conn.execute(create_table_sql(staging, table))
            rows = copy_batches(conn, staging, table.pg_name, [c.pg_name for c in table.columns], source.batches(table))
            conn.execute(sql.SQL("analyze {}.{}").format(sql.Identifier(staging), sql.Identifier(table.pg_name)))
            conn.commit()
            st = LoadStats(table.name, rows, time.monotonic() - t0)
            stats.append(st)
            if progress:
                progress(st)
            fault_point("load")
        if swap:
            swap_schema(conn, staging, target)
    return stats


def swap_schema(conn, new: str, old: str) -> None:
    """Replace schema `old` by `new` in one transaction (views on `old` are dropped;
    dbt recreates them)."""
    with conn.transaction():
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(old)))
        conn.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(new), sql.Identifier(old)))
    conn.commit()


def replace_table(conn, schema: str, name: str, columns: list[tuple[str, str]], rows: Iterable[tuple]) -> int:
    """Replace schema.name by a table of `columns` [(name, pg type)] holding `rows`,
    atomically (build under a temporary name, then drop + rename in one transaction)."""
    tmp = f"{name}__next"
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("drop table if exists {}.{}").format(sql.Identifier(schema), sql.Identifier(tmp)))
    conn.execute(
        sql.SQL("create table {}.{} ({})").format(
            sql.Identifier(schema),
            sql.Identifier(tmp),
            sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns),
        )
    )
    n = 0
    stmt = sql.SQL("copy {}.{} ({}) from stdin").format(
        sql.Identifier(schema), sql.Identifier(tmp), sql.SQL(", ").join(sql.Identifier(c) for c, _ in columns)
    )
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    conn.execute(sql.SQL("drop table if exists {}.{} cascade").format(sql.Identifier(schema), sql.Identifier(name)))
    conn.execute(sql.SQL("alter table {}.{} rename to {}").format(sql.Identifier(schema), sql.Identifier(tmp), sql.Identifier(name)))
    conn.commit()
    return n


def iter_rows(table: pa.Table) -> Iterator[tuple]:
    cols = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return zip(*cols, strict=True)
