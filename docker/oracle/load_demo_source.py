"""Seed the Oracle Free source (compose profile `oracle`) with the PT2QE demo world.

Run by the one-shot service `oracle-demo-source` of docker-compose.yml, in the project
image, once the `oracle` service is healthy:

1. `pt2qe demo-data` writes a generated source folder (PT2QE_DEMO_OFFERS offers, seed
   PT2QE_DEMO_SEED) — the same world `make run` uses;
2. every contract table (pt2qe.contract.TABLES) is created in the schema of the
   application user (PT2QE_ORACLE_USER, created by the gvenzl/oracle-free image in
   FREEPDB1) with unquoted upper-case names, as the seed's Oracle source has them:
   TEXT → VARCHAR2(4000 CHAR), DATE → DATE, NUMERIC → NUMBER, INTEGER → NUMBER(19);
3. the rows are read with the project's file source (checked against the contract) and
   inserted with python-oracledb (thin mode, no Oracle client) in batches.

When every table already holds rows it does nothing, unless PT2QE_DEMO_RELOAD=1 (then the
tables are dropped and loaded again). The DAG then reads this source through the Airflow
connection `pt2qe_demo_oracle` (AIRFLOW_CONN_PT2QE_DEMO_ORACLE in docker-compose.yml).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ORACLE_TYPES = {
    "TEXT": "VARCHAR2(4000 CHAR)",
    "DATE": "DATE",
    "NUMERIC": "NUMBER",
    "INTEGER": "NUMBER(19)",
}
BATCH_ROWS = 20_000


def create_table_sql(table) -> str:
    """CREATE TABLE of one contract table (names come from the contract, never from input)."""
    columns = ",\n    ".join(f"{c.name} {ORACLE_TYPES[c.type]}" for c in table.columns)
    return f"CREATE TABLE {table.name} (\n    {columns}\n)"


def insert_sql(table) -> str:
    names = ", ".join(c.name for c in table.columns)
    binds = ", ".join(f":{i}" for i in range(1, len(table.columns) + 1))
    return f"INSERT INTO {table.name} ({names}) VALUES ({binds})"


def _converter(column_type: str):
    if column_type == "DATE":
        return date.fromisoformat
    if column_type == "NUMERIC":
        return lambda text: Decimal(text.strip())
    if column_type == "INTEGER":
        return lambda text: int(text.strip())
    return str


def rows_of(batch, table) -> list[tuple]:
    """A checked pyarrow batch (contract order, text) → Python rows typed for Oracle."""
    columns = []
    for i, col in enumerate(table.columns):
        convert = _converter(col.type)
        columns.append([None if v is None else convert(v) for v in batch.column(i).to_pylist()])
    return list(zip(*columns, strict=True))


def _connect(oracledb, dsn: str, user: str, password: str, wait_s: int):
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return oracledb.connect(user=user, password=password, dsn=dsn)
        except oracledb.Error as exc:
            # the image reports healthy once the database is open; the application user
            # may still be in creation for a few seconds
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"oracle-demo-source: cannot connect to {user}@{dsn}: {exc}"
                ) from exc
            time.sleep(5)


def _existing(cursor) -> set[str]:
    cursor.execute("SELECT table_name FROM user_tables")
    return {name for (name,) in cursor}


def main() -> int:
    import oracledb
    from pt2qe.contract import TABLES
    from pt2qe.sources import FileSource

    user = os.environ.get("PT2QE_ORACLE_USER", "pt2qe_src")
    password = os.environ.get("PT2QE_ORACLE_PASSWORD", "")
    if not password:
        raise SystemExit("oracle-demo-source: PT2QE_ORACLE_PASSWORD is not set (see .env.example)")
    dsn = os.environ.get("PT2QE_ORACLE_DSN", "oracle:1521/FREEPDB1")
    offers = int(os.environ.get("PT2QE_DEMO_OFFERS", "20000"))
    seed = int(os.environ.get("PT2QE_DEMO_SEED", "42"))
    reload = os.environ.get("PT2QE_DEMO_RELOAD", "0") == "1"

    conn = _connect(
        oracledb, dsn, user, password, wait_s=int(os.environ.get("PT2QE_ORACLE_WAIT_S", "600"))
    )
    with conn, conn.cursor() as cursor:
        existing = _existing(cursor)
        if not reload and all(t.name in existing for t in TABLES):
            counts = {}
            for t in TABLES:
                cursor.execute(f"SELECT COUNT(*) FROM {t.name}")
                counts[t.name] = cursor.fetchone()[0]
            if all(counts.values()):
                print(
                    f"oracle-demo-source: {user}@{dsn} already holds the demo world "
                    f"({sum(counts.values()):,} rows); set PT2QE_DEMO_RELOAD=1 to load it again"
                )
                return 0

        with tempfile.TemporaryDirectory(prefix="pt2qe_demo_") as tmp:
            folder = Path(tmp) / "demo_source"
            subprocess.run(
                [
                    "pt2qe",
                    "demo-data",
                    str(folder),
                    "--offers",
                    str(offers),
                    "--seed",
                    str(seed),
                    "--format",
                    "csv",
                ],
                check=True,
            )
            source = FileSource(folder)
            total = 0
            for table in TABLES:
                t0 = time.monotonic()
                if table.name in existing:
                    cursor.execute(f"DROP TABLE {table.name} PURGE")
                cursor.execute(create_table_sql(table))
                sizes = {
                    "TEXT": oracledb.DB_TYPE_VARCHAR,
                    "DATE": oracledb.DB_TYPE_DATE,
                    "NUMERIC": oracledb.DB_TYPE_NUMBER,
                    "INTEGER": oracledb.DB_TYPE_NUMBER,
                }
                rows_in_table = 0
                for batch in source.batches(table):
                    for start in range(0, batch.num_rows, BATCH_ROWS):
                        rows = rows_of(batch.slice(start, BATCH_ROWS), table)
                        cursor.setinputsizes(*[sizes[c.type] for c in table.columns])
                        cursor.executemany(insert_sql(table), rows)
                        rows_in_table += len(rows)
                conn.commit()
                total += rows_in_table
                seconds = time.monotonic() - t0
                print(
                    f"oracle-demo-source: {table.name}: {rows_in_table:,} rows in {seconds:.1f} s",
                    flush=True,
                )
    print(
        f"oracle-demo-source: {total:,} rows loaded into {user}@{dsn}; "
        "trigger the pt2qe DAG with source 'pt2qe_demo_oracle'"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
