"""Writing marts to the pricing team's CSV files (French Excel dialect by default).

Rounding and formatting happen here and only here, inside the COPY query, on exact
decimals: prices to `decimal_places`, `pct_*` columns ×100 to `percentage_format`,
both half away from zero (PostgreSQL's round on numeric); caps (`capping_*`) are
written exactly, since the team feeds them back as corrections; in indicator tables
(a `valeur` column with a `unite` per row) counts are whole, rates ×100. The text is streamed from
COPY, checked against the target encoding (a value the encoding cannot hold is an
error naming the row and column, never replaced) and written under a temporary name,
then renamed: a file is complete or absent.
"""

from __future__ import annotations

import codecs
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from psycopg import sql


class ExportError(RuntimeError):
    pass


@dataclass(frozen=True)
class ExportFormat:
    separator: str = ";"
    decimal: str = ","
    encoding: str = "cp1252"
    decimal_places: int = 3
    percentage_format: int = 2


def columns_of(conn, schema: str, relation: str) -> list[tuple[str, str]]:
    rows = conn.execute(
        """
        select column_name, data_type
        from information_schema.columns
        where table_schema = %s and table_name = %s
        order by ordinal_position
        """,
        (schema, relation),
    ).fetchall()
    if not rows:
        raise ExportError(f"relation {schema}.{relation} does not exist in the warehouse")
    return rows


def cell_sql(name: str, dtype: str, fmt: ExportFormat, has_unit: bool, where: str = "") -> sql.Composable:
    """One column as the CSV files show it (the report shows the same text)."""
    ident = sql.Identifier(name)
    if dtype == "numeric":
        if name == "valeur" and has_unit:
            # indicator tables: one value column whose unit is given per row
            expr = sql.SQL(
                "case unite when 'nombre' then round(valeur, 0) when 'taux' then round(valeur * 100, {})"
                " else round(valeur, {}) end"
            ).format(sql.Literal(fmt.percentage_format), sql.Literal(fmt.decimal_places))
        elif name.startswith("capping_"):
            # caps go back into the corrections file: written exactly, never rounded
            expr = sql.SQL("trim_scale({})").format(ident)
        elif name.startswith("pct_"):
            expr = sql.SQL("round({} * 100, {})").format(ident, sql.Literal(fmt.percentage_format))
        else:
            expr = sql.SQL("round({}, {})").format(ident, sql.Literal(fmt.decimal_places))
        return sql.SQL("replace({}::text, '.', {})").format(expr, sql.Literal(fmt.decimal))
    if dtype in ("double precision", "real"):
        raise ExportError(f"{where or name} is a float; marts must hold exact numerics")
    if dtype == "date":
        return sql.SQL("to_char({}, 'YYYY-MM-DD')").format(ident)
    return ident


def select_for_export(conn, schema: str, relation: str, fmt: ExportFormat, order_by: list[str], drop: tuple[str, ...] = ()) -> sql.Composed:
    columns = columns_of(conn, schema, relation)
    has_unit = any(name == "unite" for name, _ in columns)
    parts = [
        sql.SQL("{} as {}").format(cell_sql(name, dtype, fmt, has_unit, f"{schema}.{relation}.{name}"), sql.Identifier(name.upper()))
        for name, dtype in columns
        if name not in drop
    ]
    order = sql.SQL(", ").join(sql.Identifier(c) for c in order_by) if order_by else sql.SQL("1")
    return sql.SQL("select {} from {}.{} order by {}").format(
        sql.SQL(", ").join(parts), sql.Identifier(schema), sql.Identifier(relation), order
    )


def export_relation(conn, schema: str, relation: str, path: Path, fmt: ExportFormat, order_by: list[str], drop: tuple[str, ...] = ()) -> int:
    """COPY schema.relation to `path`; returns the number of data rows.

    COPY sends UTF-8; Python re-encodes it (faster than PostgreSQL's own conversion to
    WIN1252, measured 5.4 s against 8.0 s for the seed-scale detail file) and names the row
    and column of a value the encoding cannot hold. A block of pure ASCII is the same
    bytes in every supported encoding and is written as it comes."""
    query = select_for_export(conn, schema, relation, fmt, order_by, drop)
    copy = sql.SQL("copy ({}) to stdout with (format csv, header true, delimiter {})").format(
        query, sql.Literal(fmt.separator)
    )
    tmp = path.with_name(f".{path.name}.tmp")
    decoder = codecs.getincrementaldecoder("utf-8")()
    encoding = fmt.encoding
    lines = 0
    header: list[str] | None = None
    try:
        with open(tmp, "wb") as out, conn.cursor() as cur, cur.copy(copy) as stream:
            if encoding == "utf-8-sig":
                out.write(codecs.BOM_UTF8)
                encoding = "utf-8"
            pending = ""
            for chunk in stream:
                data = bytes(chunk)
                if not pending and data.isascii() and header is not None:
                    # ASCII is the same bytes in every supported encoding (and COPY sends
                    # one row per message, so no character is split here)
                    out.write(data)
                    lines += data.count(b"\n")
                    continue
                text = pending + decoder.decode(data)
                cut = text.rfind("\n") + 1
                pending = text[cut:]
                block = text[:cut]
                if header is None and block:
                    header = block.split("\n", 1)[0].split(fmt.separator)
                try:
                    out.write(block.encode(encoding))
                except UnicodeEncodeError as exc:
                    _raise_unencodable(block, exc, lines, header, relation, fmt)
                lines += block.count("\n")
            tail = pending + decoder.decode(b"", final=True)
            out.write(tail.encode(encoding))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return max(lines - 1, 0)


def _raise_unencodable(block: str, exc: UnicodeEncodeError, lines_before: int, header, relation, fmt):
    line_in_block = block.count("\n", 0, exc.start)
    line_text = block.split("\n")[line_in_block]
    col_idx = line_text.count(fmt.separator, 0, exc.start - (block.rfind("\n", 0, exc.start) + 1))
    column = header[col_idx] if header and col_idx < len(header) else "?"
    raise ExportError(
        f"{relation}: row {lines_before + line_in_block} (file line {lines_before + line_in_block + 1}), column {column}: "
        f"the character {exc.object[exc.start:exc.end]!r} cannot be written in {fmt.encoding}; "
        f"fix the source value or choose output.csv_encoding 'utf-8-sig'"
    )


# --------------------------------------------------------------------------- output folders


def new_folder_name(kind: str, now: datetime | None = None) -> str:
    now = now or datetime.now()
    return f"{kind}_{now:%Y%m%d_%H%M%S}"


def staging_folder(output_root: Path, name: str) -> Path:
    """Temporary folder a run writes into, published by `publish_folder` (a rename).

    It lives in the state folder when that is on the same file system as the output root
    (so a killed run leaves nothing at all under outputs/), else hidden in the root.
    """
    from pt2qe.paths import state_dir

    output_root.mkdir(parents=True, exist_ok=True)
    parent = state_dir() / "staging_outputs"
    parent.mkdir(parents=True, exist_ok=True)
    if parent.stat().st_dev != output_root.stat().st_dev:
        parent = output_root
    # leftovers of runs that were killed before publishing (one run at a time)
    for stale in parent.glob(".*_*.tmp"):
        if stale.is_dir():
            shutil.rmtree(stale)
    tmp = parent / f".{name}.tmp"
    tmp.mkdir()
    return tmp


def publish_folder(tmp: Path, output_root: Path, name: str) -> Path:
    final = output_root / name
    if final.exists():
        raise ExportError(f"output folder {final} already exists; nothing was overwritten")
    os.replace(tmp, final)
    return final
