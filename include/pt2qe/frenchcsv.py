"""Reading the pricing team's CSV files (French Excel: `;` separator, `,` decimal, cp1252).

Files are read as data, never evaluated: bytes are decoded with the configured encoding
(after checking they are not in another one), split with the `csv` module, and every
value is checked. Any problem raises `InputFileError`, naming the file, the line (1-based
file line, header = line 1), the column and what was expected, e.g.

    corrections/capping_cubes_corrections.csv, line 4, column CAPPING_HIGH: expected a
    number between 0 and 1 written with ',' as decimal mark (like 0,05), found '0.05'

Accepted without complaint: a UTF-8 byte order mark at the start (in any encoding),
surrounding spaces in values, and empty lines or lines of separators only (Excel writes
them at the end of a sheet).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Protocol

UTF8_BOM = b"\xef\xbb\xbf"
CANDIDATE_SEPARATORS = (";", ",", "\t", "|")
CAP_COLUMNS = ("CAPPING_HIGH", "CAPPING_MEDIUM", "CAPPING_LOW")
CAPPING_TYPE_CLIENT_COLUMNS = ("TYPE_CLIENT", *CAP_COLUMNS)
CUBE_KEY_COLUMNS = ("UNIVERS", "TYPE_CLIENT", "TYPE_RESTAURANT", "GEO")
CORRECTIONS_COLUMNS = (*CUBE_KEY_COLUMNS, *CAP_COLUMNS)
CORRECTIONS_INFORMATIVE_COLUMNS = ("CUBE_TYPE", "CAPPING_SOURCE", "NB_OFFRES")

CubeKey = tuple[str, str, str, str | None]


class Dialect(Protocol):
    """What the reader needs of `pt2qe.config.CsvDialect`."""

    @property
    def separator(self) -> str: ...

    @property
    def decimal(self) -> str: ...

    @property
    def encoding(self) -> str: ...


class InputFileError(ValueError):
    """A file from the pricing team that cannot be used as it is.

    Attributes: `file` (path as shown), `line` (1-based file line, header = 1; None when
    the problem is the whole file), `column` (column name(s), None when not about one
    column), `expected` and `found` (plain words).
    """

    def __init__(
        self,
        file: str,
        line: int | None,
        column: str | None,
        expected: str,
        found: str,
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.expected = expected
        self.found = found
        where = file
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: expected {expected}, found {found}")


@dataclass(frozen=True)
class CsvRecord:
    """One data line: its 1-based file line and its stripped values by column name."""

    line: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values[column]


@dataclass(frozen=True)
class CsvTable:
    file: str  # path as shown in messages
    dialect: Dialect
    columns: tuple[str, ...]  # header, upper case, in file order
    records: tuple[CsvRecord, ...]  # data lines, blank lines left out

    def error(
        self, record: CsvRecord | int | None, column: str | None, expected: str, found: str
    ) -> InputFileError:
        line = record.line if isinstance(record, CsvRecord) else record
        return InputFileError(self.file, line, column, expected, found)


@dataclass(frozen=True)
class CappingRow:
    """A line of `capping_type_client.csv`."""

    line: int
    type_client: str
    capping_high: Decimal
    capping_medium: Decimal
    capping_low: Decimal


@dataclass(frozen=True)
class CorrectionRow:
    """A line of `capping_cubes_corrections.csv`; `geo` None means NULL (empty cell)."""

    line: int
    univers: str
    type_client: str
    type_restaurant: str
    geo: str | None
    capping_high: Decimal
    capping_medium: Decimal
    capping_low: Decimal

    @property
    def cube(self) -> CubeKey:
        return (self.univers, self.type_client, self.type_restaurant, self.geo)


def _separator_name(sep: str) -> str:
    return "tab" if sep == "\t" else repr(sep)


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _is_utf8_name(encoding: str) -> bool:
    return codecs.lookup(encoding).name in {"utf-8", "utf-8-sig"}


def decode_bytes(data: bytes, encoding: str, file: str) -> str:
    """Decode the whole file strictly; refuse a file in another encoding than configured."""
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFileError(
            file,
            1,
            None,
            f"a CSV file encoded in {encoding}",
            "a UTF-16 file (Excel 'Unicode text'); save it as 'CSV (point-virgule)'",
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputFileError(
            file,
            _line_of(data, nul),
            None,
            f"a text CSV file encoded in {encoding}",
            "a NUL byte (the file looks binary or UTF-16)",
        )
    utf8 = _is_utf8_name(encoding)
    if not utf8 and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:  # non-ASCII bytes that are all valid UTF-8 sequences: this is a UTF-8 file
            first = next(i for i, b in enumerate(data) if b >= 0x80)
            start = data.rfind(b"\n", 0, first) + 1
            end = data.find(b"\n", first)
            sample = data[start : end if end >= 0 else len(data)].decode("utf-8").strip()
            raise InputFileError(
                file,
                _line_of(data, first),
                None,
                f"a file encoded in {encoding}",
                f"a file that looks UTF-8 (accents would read as 'Ã©'), in {sample[:60]!r}; "
                f"save it from Excel as 'CSV (point-virgule)' or set output.csv_encoding",
            )
    try:
        text = data.decode("utf-8" if utf8 else encoding)
    except UnicodeDecodeError as exc:
        byte = data[exc.start]
        hint = " (the file looks cp1252/Windows-encoded)" if utf8 else ""
        raise InputFileError(
            file,
            _line_of(data, exc.start),
            None,
            f"a file encoded in {encoding}",
            f"the byte 0x{byte:02X}, which is not valid {encoding}{hint}",
        ) from None
    return text.removeprefix("\ufeff")


def _looks_separated_by(raw_line: str, configured: str) -> str | None:
    for sep in CANDIDATE_SEPARATORS:
        if sep != configured and sep in raw_line:
            return sep
    return None


def read_table(
    path: Path | str,
    dialect: Dialect,
    required: Sequence[str],
    optional: Sequence[str] = (),
    *,
    display: str | None = None,
    within: Path | None = None,
) -> CsvTable:
    """Read a small CSV file: header check, one record per non-blank data line.

    `required` columns must all be present; `optional` ones may be; any other column is
    an error. `display` is the name used in messages (default: the path as given);
    `within`, when given, is the folder the file must be inside.
    """
    path = Path(path)
    file = display or str(path)
    if within is not None:
        try:
            path.resolve().relative_to(Path(within).resolve())
        except ValueError:
            raise InputFileError(
                file, None, None, f"a file inside {within}", "a path outside that folder"
            ) from None
    if not path.is_file():
        found = "a folder" if path.is_dir() else "no such file"
        raise InputFileError(file, None, None, "an existing CSV file", found)
    data = path.read_bytes()
    text = decode_bytes(data, dialect.encoding, file)
    sep = dialect.separator
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"', strict=True)

    rows: list[tuple[int, list[str]]] = []
    last_line = 0
    try:
        for cells in reader:
            rows.append((last_line + 1, [c.strip() for c in cells]))
            last_line = reader.line_num
    except csv.Error as exc:
        raise InputFileError(
            file,
            last_line + 1,
            None,
            "well-formed CSV (quotes closed on the same value)",
            f"a malformed line ({exc})",
        ) from None

    def blank(cells: list[str]) -> bool:
        return all(c == "" for c in cells)

    expected_header = sep.join(required)
    if all(blank(cells) for _, cells in rows):
        raise InputFileError(file, 1, None, f"a header line {expected_header!r}", "an empty file")
    header_line, header_cells = rows[0]
    if blank(header_cells):
        raise InputFileError(
            file, header_line, None, f"a header line {expected_header!r}", "an empty line"
        )
    # Excel may leave empty trailing header cells; they must stay empty in every line.
    width = len(header_cells)
    while width and header_cells[width - 1] == "":
        width -= 1
    header = [c.upper() for c in header_cells[:width]]

    raw_header = text.splitlines()[0] if text else ""
    if len(header) == 1 and len(required) > 1:
        other = _looks_separated_by(raw_header, sep)
        if other is not None:
            raise InputFileError(
                file,
                header_line,
                None,
                f"columns separated by {_separator_name(sep)} ({expected_header})",
                f"a header that looks separated by {_separator_name(other)}: {raw_header[:80]!r}",
            )
    for index, name in enumerate(header):
        if name == "":
            raise InputFileError(
                file, header_line, f"#{index + 1}", "a column name", "an empty header cell"
            )
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise InputFileError(
                file, header_line, name, "each column once", f"the column {name} twice"
            )
        seen.add(name)
    missing = [c for c in required if c not in seen]
    unexpected = [c for c in header if c not in required and c not in optional]
    if missing or unexpected:
        problems = []
        if missing:
            problems.append(f"without {', '.join(missing)}")
        if unexpected:
            problems.append(f"with the unexpected column(s) {', '.join(unexpected)}")
        other = _looks_separated_by(raw_header, sep)
        hint = (
            f" (the separator looks like {_separator_name(other)} but "
            f"{_separator_name(sep)} is expected)"
            if other is not None and missing
            else ""
        )
        expected = f"the columns {', '.join(required)}"
        if optional:
            expected += f" (and optionally {', '.join(optional)}), and no other"
        raise InputFileError(
            file,
            header_line,
            ", ".join(missing + unexpected),
            expected,
            f"a header {' and '.join(problems)}: {raw_header[:120]!r}{hint}",
        )

    records: list[CsvRecord] = []
    for line, cells in rows[1:]:
        if blank(cells):
            continue
        extra = cells[width:]
        if len(cells) < width or any(c != "" for c in extra):
            other = _looks_separated_by(sep.join(cells), sep)
            hint = (
                f" (the separator looks like {_separator_name(other)})"
                if other is not None and len(cells) == 1
                else ""
            )
            count = len(cells)
            while count > width and cells[count - 1] == "":
                count -= 1
            raise InputFileError(
                file,
                line,
                None,
                f"{width} values separated by {_separator_name(sep)} like the header",
                f"{count} value(s){hint}",
            )
        records.append(CsvRecord(line, dict(zip(header, cells[:width], strict=True))))
    return CsvTable(file=file, dialect=dialect, columns=tuple(header), records=tuple(records))


def _number_pattern(mark: str) -> re.Pattern[str]:
    return re.compile(
        r"-?(?:[0-9]+(?:" + re.escape(mark) + r"[0-9]*)?|" + re.escape(mark) + r"[0-9]+)", re.ASCII
    )


def parse_decimal(
    table: CsvTable,
    record: CsvRecord,
    column: str,
    *,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    expected: str | None = None,
) -> Decimal:
    """A number written with the configured decimal mark, optionally within bounds."""
    mark = table.dialect.decimal
    other = "." if mark == "," else ","
    if expected is None:
        if minimum is not None and maximum is not None:
            expected = f"a number between {minimum} and {maximum}"
        else:
            expected = "a number"
        expected += f" written with {mark!r} as decimal mark (like 0{mark}05)"
    value = record[column]
    if value == "":
        raise table.error(record, column, expected, "an empty value")
    if not _number_pattern(mark).fullmatch(value):
        if _number_pattern(other).fullmatch(value):
            found = f"{value!r} ({other!r} is not the decimal mark here)"
        else:
            found = f"{value!r} (not a number)"
        raise table.error(record, column, expected, found)
    number = Decimal(value.replace(mark, "."))
    if minimum is not None and number < minimum:
        below = "negative" if minimum == 0 else f"below {minimum}"
        raise table.error(record, column, expected, f"{value!r} ({below})")
    if maximum is not None and number > maximum:
        raise table.error(record, column, expected, f"{value!r} (above {maximum})")
    return number


def _cap(table: CsvTable, record: CsvRecord, column: str) -> Decimal:
    return parse_decimal(table, record, column, minimum=Decimal(0), maximum=Decimal(1))


def _text(table: CsvTable, record: CsvRecord, column: str, what: str) -> str:
    value = record[column]
    if value == "":
        raise table.error(record, column, what, "an empty value")
    return value


def read_capping_type_client(
    path: Path | str, dialect: Dialect, *, display: str | None = None
) -> list[CappingRow]:
    """`capping_type_client.csv`: TYPE_CLIENT;CAPPING_HIGH;CAPPING_MEDIUM;CAPPING_LOW."""
    table = read_table(path, dialect, CAPPING_TYPE_CLIENT_COLUMNS, display=display)
    rows: list[CappingRow] = []
    first_line: dict[str, int] = {}
    for record in table.records:
        type_client = _text(table, record, "TYPE_CLIENT", "a client type (or NATIONAL)")
        if type_client in first_line:
            raise table.error(
                record,
                "TYPE_CLIENT",
                "each TYPE_CLIENT once",
                f"{type_client!r} again (already on line {first_line[type_client]})",
            )
        first_line[type_client] = record.line
        rows.append(
            CappingRow(
                line=record.line,
                type_client=type_client,
                capping_high=_cap(table, record, "CAPPING_HIGH"),
                capping_medium=_cap(table, record, "CAPPING_MEDIUM"),
                capping_low=_cap(table, record, "CAPPING_LOW"),
            )
        )
    return rows


def read_capping_corrections(
    path: Path | str, dialect: Dialect, *, display: str | None = None
) -> list[CorrectionRow]:
    """`capping_cubes_corrections.csv`: the cube key and its three caps.

    The informative columns CUBE_TYPE, CAPPING_SOURCE and NB_OFFRES (as written in
    `capping_cubes_generated.csv`) are accepted and ignored. An empty GEO is NULL.
    """
    table = read_table(
        path, dialect, CORRECTIONS_COLUMNS, CORRECTIONS_INFORMATIVE_COLUMNS, display=display
    )
    rows: list[CorrectionRow] = []
    first_line: dict[CubeKey, int] = {}
    for record in table.records:
        cube: CubeKey = (
            _text(table, record, "UNIVERS", "a univers (like ZOOM1)"),
            _text(table, record, "TYPE_CLIENT", "a client type (or NATIONAL)"),
            _text(table, record, "TYPE_RESTAURANT", "a restaurant type (or NATIONAL)"),
            record["GEO"] or None,
        )
        if cube in first_line:
            raise table.error(
                record,
                ";".join(CUBE_KEY_COLUMNS),
                "each cube once",
                f"the cube {_show_cube(cube)} again (already on line {first_line[cube]})",
            )
        first_line[cube] = record.line
        rows.append(
            CorrectionRow(
                line=record.line,
                univers=cube[0],
                type_client=cube[1],
                type_restaurant=cube[2],
                geo=cube[3],
                capping_high=_cap(table, record, "CAPPING_HIGH"),
                capping_medium=_cap(table, record, "CAPPING_MEDIUM"),
                capping_low=_cap(table, record, "CAPPING_LOW"),
            )
        )
    return rows


def _show_cube(cube: Iterable[str | None]) -> str:
    return "(" + ", ".join("NULL" if v is None else repr(v) for v in cube) + ")"


def _null_safe(cube: Sequence[str | None]) -> CubeKey:
    univers, type_client, type_restaurant, geo = cube
    return (univers or "", type_client or "", type_restaurant or "", geo or None)


def check_known_cubes(
    rows: Iterable[CorrectionRow], known_cubes: set[tuple], file: str | Path
) -> None:
    """Every corrected cube must be a cube of the current run (GEO None/'' = NULL).

    Raises InputFileError listing every unknown cube with its line.
    """
    known = {_null_safe(c) for c in known_cubes}
    unknown = [row for row in rows if _null_safe(row.cube) not in known]
    if unknown:
        listed = "; ".join(f"line {row.line}: {_show_cube(row.cube)}" for row in unknown)
        raise InputFileError(
            str(file),
            unknown[0].line,
            ";".join(CUBE_KEY_COLUMNS),
            "cubes of the current run (as listed in capping_cubes_generated.csv)",
            f"{len(unknown)} unknown cube(s): {listed}",
        )
