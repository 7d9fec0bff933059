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

from pt2qe.contract import TABLES, Table
from pt2qe.source_values import SourceError, check_batch, key_text

__all__ = ["FileSource", "SqlSource", "SourceError", "all_tables", "open_source"]

# CSV blocks of 4 MB, parsed on the calling thread. Arrow's memory for a block grows with
# its size (~40x the block: measured 930 MB peak for one stream of the seed's 10 million
# invoice lines with 16 MB blocks, 630 MB with 8 MB, 430 MB with 4 MB), and the load runs
# two streams at once; the smaller blocks also streamed faster (14.4 s -> 13.7 s). Arrow's
# own parsing threads only competed with the second stream and PostgreSQL for two cores.
BATCH_BYTES = 4 << 20
# (line of the first row, or its row for Parquet; the checked batch)
Numbered = tuple[int, pa.RecordBatch]


# --------------------------------------------------------------------------- file source


@dataclass
class FileSource:
    folder: Path

    def describe(self) -> str:
        return f"folder {self.folder}"

    def file_for(self, table: Table) -> Path:
        """The table's file. A link to a file outside the source folder and the
        configured folders is refused before anything of it is read."""
        from pt2qe.paths import escaping_target

        if not self.folder.is_dir():
            raise SourceError(str(self.folder), "the source folder does not exist")
        by_upper = {p.name.upper(): p for p in self.folder.iterdir() if p.is_file()}
        for ext in (".PARQUET", ".CSV"):
            if table.name + ext in by_upper:
                path = by_upper[table.name + ext]
                target = escaping_target(path, self.folder)
                if target is not None:
                    raise SourceError(
                        str(path),
                        f"is a link to {target}, outside the source folder and the configured"
                        " folders; nothing was read: put the file itself in the source folder,"
                        " or add its folder to PT2QE_ALLOWED_ROOTS",
                    )
                return path
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

    def header(self, table: Table) -> list[str]:
        """The column names of the table's file, without surrounding spaces (a CSV
        header `ID_CND, PRIX_TARIF_ACTUEL` names PRIX_TARIF_ACTUEL)."""
        path = self.file_for(table)
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            return [n.strip() for n in pq.read_schema(path).names]
        return _csv_header(path)

    def batches(self, table: Table, batch_rows: int = 200_000) -> Iterator[pa.RecordBatch]:
        for _first, batch in self._numbered(table, batch_rows):
            yield batch

    def _numbered(self, table: Table, batch_rows: int = 200_000) -> Iterator[Numbered]:
        """(line, or row for Parquet, of the first row; checked batch) of the table."""
        path = self.file_for(table)
        if path.suffix.lower() == ".parquet":
            yield from self._parquet(path, table, batch_rows)
        else:
            yield from self._csv(path, table)

    def _check_header(self, path: Path, names: list[str], table: Table) -> None:
        """Every contract column once (names compared without case); every problem of
        the header in one message."""
        positions: dict[str, list[int]] = {}
        for number, name in enumerate(names, start=1):
            if name:
                positions.setdefault(name.upper(), []).append(number)
        problems = []
        missing = [c.name for c in table.columns if c.name not in positions]
        if missing:
            listed = ", ".join(_cut(n) for n in names[:30])
            if len(names) > 30:
                listed += f" and {len(names) - 30} more"
            problems.append(
                f"missing column(s) {', '.join(missing)}; the header has {listed or 'nothing'}"
            )
        for name, where in positions.items():
            if len(where) > 1:
                columns = ", ".join(map(str, where))
                problems.append(
                    f"the column {_cut(name)} appears {len(where)} times (columns {columns});"
                    " expected each column once"
                )
        if problems:
            raise SourceError(str(path), "; ".join(problems), line=1)

    def _csv(self, path: Path, table: Table) -> Iterator[Numbered]:
        import pyarrow.csv as pcsv

        names = _csv_header(path)
        self._check_header(path, names, table)
        # Arrow reads the rows under the header's names as checked (trimmed; a column
        # without a name gets one, so that no two are alike)
        arrow_names = [n or f"(column {i})" for i, n in enumerate(names, start=1)]
        try:
            reader = pcsv.open_csv(
                path,
                read_options=pcsv.ReadOptions(
                    block_size=BATCH_BYTES,
                    encoding="utf8",
                    use_threads=False,
                    column_names=arrow_names,
                    skip_rows=1,
                ),
                parse_options=pcsv.ParseOptions(delimiter=","),
                convert_options=pcsv.ConvertOptions(
                    column_types={n: pa.string() for n in arrow_names},
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
            yield line, check_batch(batch, table, str(path), line, line - 2)
            line += batch.num_rows

    def _parquet(self, path: Path, table: Table, batch_rows: int) -> Iterator[Numbered]:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
        self._check_header(path, [n.strip() for n in names], table)
        contract = {c.name for c in table.columns}
        wanted = [n for n in names if n.strip().upper() in contract]
        row = 0
        for batch in pf.iter_batches(batch_size=batch_rows, columns=wanted):
            # a parquet file has no lines; rows are numbered from 1 like lines after a header
            yield row + 1, check_batch(batch, table, str(path), row + 1, row)
            row += batch.num_rows

    def read_small(self, table: Table) -> pa.Table:
        return pa.Table.from_batches(list(self.batches(table)))

    def locate_keys(
        self, table: Table, keys: dict[tuple, int], shown_per_key: int = 5
    ) -> tuple[str, dict[tuple, list[int]]]:
        """Where the repeated `keys` ({key values: times}) of the table are: ("line" or
        "row", {key: the first `shown_per_key` lines}). Reads the file again, up to the
        last occurrence; only asked when the load found a repeated key."""
        word = "row" if self.file_for(table).suffix.lower() == ".parquet" else "line"
        positions = [table.column_names.index(k) for k in table.key]
        wanted = {tuple(key_text(v) for v in key): times for key, times in keys.items()}
        left = dict(wanted)
        found: dict[tuple, list[int]] = {k: [] for k in wanted}
        integer = [table.columns[p].type == "INTEGER" for p in positions]
        for first, batch in self._numbered(table):
            mask = None
            for i, pos in enumerate(positions):
                values = [k[i] for k in wanted]
                if integer[i] or None in values:
                    continue  # "007" is loaded as 7: compared in Python below
                value_set = pa.array(sorted(set(values)), pa.string())
                hit = pc.fill_null(pc.is_in(batch.column(pos), value_set=value_set), False)
                mask = hit if mask is None else pc.and_(mask, hit)
            rows = range(batch.num_rows) if mask is None else pc.indices_nonzero(mask).to_pylist()
            for idx in rows:
                cells = [batch.column(pos)[idx].as_py() for pos in positions]
                key = tuple(
                    None if c is None else (str(int(c)) if integer[i] else c)
                    for i, c in enumerate(cells)
                )
                if left.get(key):
                    left[key] -= 1
                    if len(found[key]) < shown_per_key:
                        found[key].append(first + idx)
            if not any(left.values()):
                break
        return word, found


def _cut(name: str, limit: int = 40) -> str:
    return name if len(name) <= limit else name[:limit] + "…"


def _csv_header(path: Path) -> list[str]:
    """The names of a source CSV file's header row (quotes and surrounding spaces off)."""
    import csv

    with open(path, "rb") as fh:
        head = fh.readline()
    if not head.strip():
        raise SourceError(
            str(path), "empty file: expected a header row with the column names", line=1
        )
    try:
        text = head.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        found = f"the byte 0x{head[exc.start]:02X} at position {exc.start + 1}"
        raise SourceError(str(path), f"expected UTF-8 text, found {found}", line=1) from None
    return [name.strip().strip('"').strip() for name in next(csv.reader([text]))]


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
