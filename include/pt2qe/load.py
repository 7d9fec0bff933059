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
import pyarrow.compute as pc
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


_MULTIPLIER = 0x100000001B3  # FNV-64's prime: odd, so every power of it is too


def text_hashes(arr: pa.Array):
    """A 64-bit hash of each value of a text column (NULL hashes like ''), computed on
    Arrow's buffers with numpy: sum of (byte + 1) x MULTIPLIER^position, mixed with the
    length. Equal texts give equal hashes. It replaced pandas' hash of Python strings,
    which cost ~3 s of the seed's 10 million invoice lines."""
    import numpy as np

    arr = arr.cast(pa.large_string()) if not pa.types.is_large_string(arr.type) else arr
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = arr.buffers()[2]
    lengths = np.diff(offsets).astype(np.uint64)
    hashes = np.zeros(n, dtype=np.uint64)
    first, last = int(offsets[0]), int(offsets[-1])
    if last > first:
        factors = np.full(int(lengths.max()), _MULTIPLIER, dtype=np.uint64)
        powers = np.cumprod(factors, dtype=np.uint64)  # MULTIPLIER^1 .. ^longest
        raw = np.frombuffer(data, dtype=np.uint8)[first:last].astype(np.uint64) + np.uint64(1)
        starts = offsets[:-1] - first
        # each byte's position inside its own value
        position = np.arange(last - first, dtype=np.int64)
        position -= np.repeat(starts, lengths.astype(np.int64))
        terms = raw * powers[position]
        filled = lengths > 0
        hashes[filled] = np.add.reduceat(terms, starts[filled])
    # the length, then a final mix (splitmix64) so that close sums spread over 64 bits
    return _mix(hashes ^ (lengths * np.uint64(0x9E3779B97F4A7C15)))


def integer_hashes(arr: pa.Array):
    """A 64-bit hash of each value of a checked INTEGER column (text): of the number, so
    that '07', '+7' and '7', one key once loaded, hash alike (NULL hashes like 0)."""
    import numpy as np

    try:
        numbers = pc.cast(arr, pa.int64())
    except pa.ArrowInvalid:  # Arrow reads no leading '+'
        numbers = pc.cast(pc.replace_substring_regex(arr, r"^\+", ""), pa.int64())
    values = numbers.fill_null(0).to_numpy(zero_copy_only=False).view(np.uint64)
    return _mix(values ^ np.uint64(0x9E3779B97F4A7C15))


def _mix(h):
    """splitmix64's finaliser, in place on a fresh array."""
    import numpy as np

    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


class KeyCheck:
    """Is the contract key of a table unique? Checked while its batches stream by: a
    64-bit hash of each row's key is kept (8 bytes a row: 80 MB for ten million invoice
    lines) and sorted at the end. Equal keys give equal hashes, so no equal hash means no
    duplicate; when two hashes are equal the loaded table is asked which keys repeat (a
    hash collision alone is not reported)."""

    def __init__(self, table: Table):
        self.table = table
        self.positions = [table.column_names.index(k) for k in table.key]
        self.hashers = [
            integer_hashes if table.columns[p].type == "INTEGER" else text_hashes
            for p in self.positions
        ]
        self._hashes: list = []

    def track(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import numpy as np

        for batch in batches:
            combined = np.zeros(batch.num_rows, dtype=np.uint64)
            for pos, hasher in zip(self.positions, self.hashers, strict=True):
                combined = combined * np.uint64(1_000_003) ^ hasher(batch.column(pos))
            self._hashes.append(combined)
            yield batch

    def maybe_duplicated(self) -> bool:
        import numpy as np

        if not self._hashes:
            return False
        hashes = np.concatenate(self._hashes)
        self._hashes = []
        hashes.sort()  # in place: one copy of the hashes in memory, not two
        return bool((hashes[1:] == hashes[:-1]).any())

    def duplicates(self, conn, schema: str, limit: int = 5) -> tuple[int, list[tuple]]:
        keys = sql.SQL(", ").join(sql.Identifier(k.lower()) for k in self.table.key)
        base = sql.SQL("select {k}, count(*) from {s}.{t} group by {k} having count(*) > 1").format(
            k=keys, s=sql.Identifier(schema), t=sql.Identifier(self.table.pg_name)
        )
        total = conn.execute(sql.SQL("select count(*) from ({}) d").format(base)).fetchone()[0]
        sample = conn.execute(sql.SQL("{} order by {} limit {}").format(base, keys, sql.Literal(limit))).fetchall() if total else []
        return total, sample


def _where(source, table: Table) -> str:
    """The source file of `table`, or the table of a database source, as messages name it."""
    file_for = getattr(source, "file_for", None)
    return str(file_for(table)) if file_for else f"{source.describe()}, table {table.name}"


def _duplicate_key_error(source, table: Table, total: int, sample: list[tuple]):
    """The repeated keys, each with how many times and, for a file source, the lines
    (Parquet: rows) it is on."""
    from pt2qe.source_values import SourceError, key_text, shown

    locate = getattr(source, "locate_keys", None)
    word, lines = "", {}
    if locate:
        word, lines = locate(table, {tuple(row[:-1]): row[-1] for row in sample})

    def one(row: tuple) -> str:
        key, times = row[:-1], row[-1]
        text = ", ".join(f"{k}={shown(key_text(v))}" for k, v in zip(table.key, key, strict=True))
        found = lines.get(tuple(key_text(v) for v in key)) or []
        if not found:
            return f"{text} ({times} times)"
        if len(found) == times:
            listed = ", ".join(map(str, found[:-1])) + f" and {found[-1]}"
        else:
            listed = ", ".join(map(str, found)) + ", …"
        return f"{text} ({times} times: {word}s {listed})"

    return SourceError(
        _where(source, table),
        f"the key ({', '.join(table.key)}) must identify one row; {total} key(s) appear"
        f" more than once, e.g. {'; '.join(one(row) for row in sample)}",
        column=", ".join(table.key),
    )


def load_source(
    wh, source, tables: tuple[Table, ...] = TABLES, progress=None, target: str = RAW, swap: bool = True, workers: int = 2
) -> list[LoadStats]:
    """Load every contract table of `source` into `<target>__next`; with `swap`, replace
    schema `target` by it at once (without, `swap_schema` does it after the checks).

    `workers` tables load at the same time (`Warehouse.each_on_connections`), the
    largest first when the source knows the sizes."""
    staging = f"{target}__next"
    with wh.connect() as conn:
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(staging)))
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(staging)))
        conn.commit()
    size = getattr(source, "size_hint", None)
    ordered = sorted(tables, key=lambda t: -(size(t) if size else 0))

    def load_one(conn, table: Table) -> LoadStats:
        st = _load_table(conn, source, table, staging)
        if progress:
            progress(st)
        fault_point("load")
        return st

    stats = {st.table: st for st in wh.each_on_connections(ordered, load_one, workers)}
    if swap:
        with wh.connect() as conn:
            swap_schema(conn, staging, target)
    return [stats[t.name] for t in tables]


def _load_table(conn, source, table: Table, staging: str) -> LoadStats:
    from pt2qe.diskfull import DiskFullError, disk_full_message, is_disk_full

    t0 = time.monotonic()
    keys = KeyCheck(table)
    try:
        # create + COPY in one transaction: with wal_level=minimal this skips the WAL
        conn.execute(create_table_sql(staging, table))
        columns = [c.pg_name for c in table.columns]
        batches = keys.track(source.batches(table))
        rows = copy_batches(conn, staging, table.pg_name, columns, batches)
        if keys.maybe_duplicated():
            total, sample = keys.duplicates(conn, staging)
            if total:
                conn.rollback()
                raise _duplicate_key_error(source, table, total, sample)
        name = sql.Identifier(staging), sql.Identifier(table.pg_name)
        conn.execute(sql.SQL("analyze {}.{}").format(*name))
        conn.commit()
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        conn.rollback()  # the table and its files go: nothing half written stays
        what = f"{_where(source, table)}: the warehouse table {staging}.{table.pg_name}"
        outcome = "nothing was loaded and the tables of the last run are as they were"
        raise DiskFullError(disk_full_message(what, exc, outcome)) from None
    return LoadStats(table.name, rows, time.monotonic() - t0)


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
