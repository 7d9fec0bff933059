"""Sources of the contract tables: a folder of files, or a database through SQLAlchemy.

Both yield, per contract table, pyarrow record batches whose columns are the contract
columns in contract order, as strings already checked against the contract (so the
loader only has to COPY them). A bad value raises SourceError naming the file or
table, the line, the column and what was expected.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from pt2qe.contract import TABLES, Column, Table

# CSV blocks of 4 MB, parsed on the calling thread. Arrow's memory for a block grows with
# its size (~40x the block: measured 930 MB peak for one stream of the seed's 10 million
# invoice lines with 16 MB blocks, 630 MB with 8 MB, 430 MB with 4 MB), and the load runs
# two streams at once; the smaller blocks also streamed faster (14.4 s -> 13.7 s). Arrow's
# own parsing threads only competed with the second stream and PostgreSQL for two cores.
BATCH_BYTES = 4 << 20

_PATTERNS = {
    "NUMERIC": r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$",
    "INTEGER": r"^[+-]?[0-9]+$",
    "DATE": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
}
_EXPECTED = {
    "NUMERIC": "a decimal number written with '.' (like 12.5)",
    "INTEGER": "a whole number",
    "DATE": "a date written YYYY-MM-DD",
}


class SourceError(ValueError):
    """A source table or file breaks the contract."""

    def __init__(self, where: str, message: str, line: int | None = None, column: str | None = None):
        self.where, self.line, self.column = where, line, column
        loc = where + (f", line {line}" if line is not None else "") + (f", column {column}" if column else "")
        super().__init__(f"{loc}: {message}")


# --------------------------------------------------------------------------- checks


def check_batch(batch: pa.RecordBatch, table: Table, where: str, first_line: int | None, first_row: int) -> pa.RecordBatch:
    """Check a batch of string columns against the contract; return it in contract order.

    `first_line` is the file line of the batch's first row (None for a database table,
    where the error names the row's key instead).
    """
    names = {n.upper(): i for i, n in enumerate(batch.schema.names)}
    arrays = []
    for col in table.columns:
        arr = batch.column(names[col.name])
        if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
            arr = _to_text(arr, col, where)
        # empty or blank text is NULL
        arr = pc.if_else(pc.equal(pc.utf8_trim_whitespace(arr), ""), pa.scalar(None, arr.type), arr)
        if not col.nullable and arr.null_count:
            idx = _first(pc.is_null(arr))
            _fail(batch, table, where, first_line, first_row, idx, col, "a value is required (the column is not nullable), found an empty cell")
        if col.type in _PATTERNS:
            arr = pc.utf8_trim_whitespace(arr)
            ok = pc.match_substring_regex(arr, _PATTERNS[col.type])
            bad = pc.and_(pc.invert(ok), pc.is_valid(arr))
            if pc.any(bad).as_py():
                idx = _first(bad)
                _fail(batch, table, where, first_line, first_row, idx, col, f"expected {_EXPECTED[col.type]}, found {arr[idx].as_py()!r}")
            if col.type == "DATE" and (idx := _first_impossible_day(arr)) is not None:
                found = arr[idx].as_py()
                _fail(batch, table, where, first_line, first_row, idx, col, f"expected {_EXPECTED['DATE']}, found {found!r}")
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, names=[c.pg_name for c in table.columns])


def _first_impossible_day(arr: pa.Array) -> int | None:
    """Dates already shaped YYYY-MM-DD: the index of the first day that does not exist
    (2025-02-30, month 13), or None. Arrow's cast to date32 checks the calendar at once;
    only when it refuses is the round trip text -> timestamp -> text run to find the row
    (strptime rolls 2025-02-30 over to 2025-03-02). The round trip alone, through
    strftime, cost 5 s of the seed's 10 million invoice lines."""
    try:
        pc.cast(arr, pa.date32())
        return None
    except pa.ArrowInvalid:
        pass
    parsed = pc.strptime(arr, format="%Y-%m-%d", unit="s", error_is_null=True)
    back = pc.strftime(parsed, format="%Y-%m-%d")
    bad = pc.and_(pc.is_valid(arr), pc.invert(pc.fill_null(pc.equal(back, arr), False)))
    return _first(bad) if pc.any(bad).as_py() else None


def _to_text(arr: pa.Array, col: Column, where: str) -> pa.Array:
    if pa.types.is_timestamp(arr.type):
        arr = pc.cast(arr, pa.date32())
    if pa.types.is_date(arr.type):
        return pc.strftime(arr, format="%Y-%m-%d")
    if pa.types.is_decimal(arr.type) or pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        return pc.cast(arr, pa.string())
    if pa.types.is_dictionary(arr.type):
        return pc.cast(pc.dictionary_decode(arr), pa.string())
    try:
        return pc.cast(arr, pa.string())
    except pa.ArrowInvalid as exc:
        raise SourceError(where, f"type {arr.type} cannot hold {col.type} values", column=col.name) from exc


def _first(mask: pa.Array) -> int:
    return pc.index(mask, True).as_py()


def _fail(batch, table: Table, where, first_line, first_row, idx, col: Column, message):
    if first_line is not None:
        raise SourceError(where, message, line=first_line + idx, column=col.name)
    names = {n.upper(): i for i, n in enumerate(batch.schema.names)}
    key = ", ".join(f"{k}={batch.column(names[k])[idx].as_py()!r}" for k in table.key)
    raise SourceError(where, f"row {first_row + idx + 1} ({key}): {message}", column=col.name)


# --------------------------------------------------------------------------- file source


@dataclass
class FileSource:
    folder: Path

    def describe(self) -> str:
        return f"folder {self.folder}"

    def file_for(self, table: Table) -> Path:
        if not self.folder.is_dir():
            raise SourceError(str(self.folder), "the source folder does not exist")
        by_upper = {p.name.upper(): p for p in self.folder.iterdir() if p.is_file()}
        for ext in (".PARQUET", ".CSV"):
            if table.name + ext in by_upper:
                return by_upper[table.name + ext]
        raise SourceError(
            str(self.folder / f"{table.name}.csv"),
            f"missing file: the source folder must hold {table.name}.csv or {table.name}.parquet",
        )

    def size_hint(self, table: Table) -> int:
        """Bytes of the table's file (0 when missing: the load reports it)."""
        try:
            return self.file_for(table).stat().st_size
        except (SourceError, OSError):
            return 0

    def batches(self, table: Table, batch_rows: int = 200_000) -> Iterator[pa.RecordBatch]:
        path = self.file_for(table)
        if path.suffix.lower() == ".parquet":
            yield from self._parquet(path, table, batch_rows)
        else:
            yield from self._csv(path, table)

    def _check_header(self, path: Path, names: list[str], table: Table) -> None:
        upper = [n.strip().upper() for n in names]
        missing = [c.name for c in table.columns if c.name not in upper]
        if missing:
            raise SourceError(
                str(path),
                f"missing column(s) {', '.join(missing)}; the header has {', '.join(names) or 'nothing'}",
                line=1,
            )

    def _csv(self, path: Path, table: Table) -> Iterator[pa.RecordBatch]:
        import pyarrow.csv as pcsv

        with open(path, "rb") as fh:
            head = fh.readline()
        if not head.strip():
            raise SourceError(str(path), "empty file: expected a header row with the column names", line=1)
        header = head.decode("utf-8-sig").rstrip("\r\n").split(",")
        names = [h.strip().strip('"') for h in header]
        self._check_header(path, names, table)
        try:
            reader = pcsv.open_csv(
                path,
                read_options=pcsv.ReadOptions(block_size=BATCH_BYTES, encoding="utf8", use_threads=False),
                parse_options=pcsv.ParseOptions(delimiter=","),
                convert_options=pcsv.ConvertOptions(
                    column_types={n: pa.string() for n in names},
                    strings_can_be_null=True,
                    null_values=[""],
                    quoted_strings_can_be_null=True,
                ),
            )
        except pa.ArrowInvalid as exc:
            raise SourceError(str(path), f"cannot be read as CSV: {exc}") from exc
        line = 2
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as exc:
                raise SourceError(str(path), f"cannot be read as CSV near line {line}: {exc}") from exc
            yield check_batch(batch, table, str(path), line, line - 2)
            line += batch.num_rows

    def _parquet(self, path: Path, table: Table, batch_rows: int) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
        self._check_header(path, names, table)
        wanted = [n for n in names if n.upper() in {c.name for c in table.columns}]
        row = 0
        for batch in pf.iter_batches(batch_size=batch_rows, columns=wanted):
            # a parquet file has no lines; rows are numbered from 1 like lines after a header
            yield check_batch(batch, table, str(path), row + 1, row)
            row += batch.num_rows

    def read_small(self, table: Table) -> pa.Table:
        return pa.Table.from_batches(list(self.batches(table)))


# --------------------------------------------------------------------------- SQL source


@dataclass
class SqlSource:
    """A database reached through SQLAlchemy (Oracle through python-oracledb in thin
    mode in production). The queries are built in `pt2qe.oracle`; every one streams
    through a server-side cursor, `fetch_size` rows at a time (configuration
    `extraction.fetch_size`, also python-oracledb's `arraysize`)."""

    url: str  # SQLAlchemy URL
    schema: str | None = None
    fetch_size: int = 50_000

    def describe(self) -> str:
        from sqlalchemy.engine import make_url

        return f"database {make_url(self.url).render_as_string(hide_password=True)}"

    @property
    def dialect_name(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.url).get_backend_name()

    def engine(self):
        from sqlalchemy import create_engine

        from pt2qe.oracle import engine_options

        return create_engine(self.url, **engine_options(self.dialect_name, self.fetch_size))

    def select_statement(self, table: Table, engine=None):
        """SQLAlchemy Core SELECT of the contract columns, names as the engine's dialect
        holds them (Oracle's upper case when no engine is given)."""
        from pt2qe.oracle import ORACLE, contract_select

        dialect = engine.dialect.name if engine is not None else ORACLE
        return contract_select(table, dialect, self.schema)

    def batches(self, table: Table, batch_rows: int | None = None) -> Iterator[pa.RecordBatch]:
        engine = self.engine()
        try:
            yield from self._stream(engine, self.select_statement(table, engine), table, batch_rows)
        finally:
            engine.dispose()

    def aggregated_history(
        self, period, parallel_degree: int | None = None, batch_rows: int | None = None
    ) -> Iterator[pa.RecordBatch]:
        """The 4-quarter invoice history computed by the source, one row per customer ×
        article (`oracle.AGGREGATED_HISTORY`), for the `periods.Period` of the run."""
        from pt2qe.oracle import AGGREGATED_HISTORY, aggregated_history_select

        engine = self.engine()
        stmt = aggregated_history_select(period, engine.dialect.name, self.schema, parallel_degree)
        try:
            yield from self._stream(engine, stmt, AGGREGATED_HISTORY, batch_rows)
        finally:
            engine.dispose()

    def _stream(self, engine, stmt, table: Table, batch_rows) -> Iterator[pa.RecordBatch]:
        from sqlalchemy import exc as sa_exc

        from pt2qe.oracle import execution_options

        size = batch_rows or self.fetch_size
        row = 0
        try:
            with engine.connect() as conn:
                result = conn.execution_options(**execution_options(size)).execute(stmt)
                for part in result.partitions(size):
                    arrays = [
                        pa.array([_text(r[i]) for r in part], pa.string())
                        for i in range(len(table.columns))
                    ]
                    batch = pa.RecordBatch.from_arrays(arrays, names=table.column_names)
                    yield check_batch(batch, table, f"table {table.name}", None, row)
                    row += len(part)
        except sa_exc.NoSuchTableError as exc:
            raise SourceError(f"table {table.name}", "missing table in the source") from exc
        except sa_exc.DBAPIError as exc:
            raise SourceError(f"table {table.name}", f"cannot be read: {exc.orig}") from exc

    def read_small(self, table: Table) -> pa.Table:
        return pa.Table.from_batches(list(self.batches(table)))

    # ------------------------------------------------------------ prerequisites (pt2qe check)

    def ping(self) -> None:
        """Open a connection (SourceError naming the database when it fails)."""
        from sqlalchemy import exc as sa_exc

        engine = self.engine()
        try:
            with engine.connect():
                pass
        except sa_exc.DBAPIError as exc:
            raise SourceError(self.describe(), f"cannot connect: {exc.orig}") from exc
        except sa_exc.ArgumentError as exc:
            raise SourceError(self.describe(), f"cannot connect: {exc}") from exc
        finally:
            engine.dispose()

    def table_columns(self, tables: tuple[Table, ...]) -> dict[str, list[str] | str]:
        """Per contract table, the upper-case names of its columns in the source, or why
        it cannot be read. Asks `SELECT * FROM t WHERE 1 = 0`, so a view or an Oracle
        synonym counts like a table."""
        from sqlalchemy import exc as sa_exc
        from sqlalchemy import literal_column, select
        from sqlalchemy import table as sa_table

        from pt2qe.oracle import source_name

        engine = self.engine()
        found: dict[str, list[str] | str] = {}
        try:
            for t in tables:
                name = source_name(t.name, engine.dialect.name)
                probe = (
                    select(literal_column("*"))
                    .select_from(sa_table(name, schema=self.schema))
                    .where(literal_column("1") == literal_column("0"))
                )
                try:
                    with engine.connect() as conn:
                        found[t.name] = [k.upper() for k in conn.execute(probe).keys()]
                except sa_exc.DBAPIError as exc:
                    reason = str(exc.orig).strip().splitlines()[0]
                    found[t.name] = f"missing table or not readable ({reason})"
            return found
        finally:
            engine.dispose()

    def row_counts(self, tables: tuple[Table, ...]) -> dict[str, int]:
        """COUNT(*) of each table (which must exist)."""
        from sqlalchemy import func, select

        from pt2qe.oracle import source_table

        engine = self.engine()
        try:
            with engine.connect() as conn:
                counts = {}
                for t in tables:
                    src = source_table(t, engine.dialect.name, self.schema)
                    count = select(func.count()).select_from(src)
                    counts[t.name] = conn.execute(count).scalar_one()
                return counts
        finally:
            engine.dispose()


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()[:10]
    return str(value)


def open_source(spec: str, fetch_size: int = 50_000):
    """SOURCE of the CLI: a folder path, a SQLAlchemy URL, or an Airflow connection id."""
    if "://" in spec:
        return SqlSource(_sqlalchemy_url(spec), fetch_size=fetch_size)
    path = Path(spec)
    if path.exists() or os.sep in spec or spec.startswith("."):
        return FileSource(path.resolve())
    return SqlSource(_sqlalchemy_url(_airflow_connection_uri(spec)), fetch_size=fetch_size)


def _sqlalchemy_url(uri: str) -> str:
    scheme, _, rest = uri.partition("://")
    base = scheme.split("+")[0]
    if base == "oracle":
        return "oracle+oracledb://" + rest
    if base in ("postgres", "postgresql"):
        return "postgresql+psycopg://" + rest
    return uri


def _airflow_connection_uri(conn_id: str) -> str:
    env = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if env:
        return env
    try:
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(conn_id).get_uri()
    except Exception as exc:  # noqa: BLE001 - any failure means the id is unknown here
        raise SourceError(
            f"source {conn_id}",
            "is neither an existing folder, a SQLAlchemy URL nor a known Airflow connection id",
        ) from exc


def all_tables() -> tuple[Table, ...]:
    return TABLES
