"""The price registry's inputs (shared/spec/PRICE_REGISTRY_RULES.md): imported prices and
anomaly reviews, checked here before anything reaches the warehouse.

Imports: every `*.csv` file of `inputs/price_registry/`, in one of two layouts

    generic  item;context;price;date;quantity;supplier;notes;source_type;valid_from;
             valid_until;category
    seed     piece,marque,modele,annee,prix,date,fournisseur,notes   (CONTEXT_KEY = marque|modele)

recognised from the header (column names are case- and accent-insensitive, any order;
item/context/price/date resp. piece/marque/modele/prix/date are required, the others
optional). The separator is the one that splits the header into known columns; the
encoding is UTF-8 (with or without BOM) when the bytes are valid UTF-8, else cp1252; the
decimal mark is '.' in a comma-separated file, else ',' unless the file's numbers only use
'.'. All three are stated in the import report.

Each data line is validated on its own (every reason is listed; a line with more values
than the header is rejected, missing trailing values are empty): item, context, price
and date present; price > 0; quantity > 0 (default 1); year between 1990 and the
reference year + 1 when given; date on or before the reference date (YYYY-MM-DD or
DD/MM/YYYY); VALID_FROM < VALID_UNTIL when both; source_type import, manual or catalog
(default import). Mode `continue` imports the good lines; `all_or_nothing` imports none
when any line fails (the warehouse keeps the prices imported before). A file that cannot
be read as a price file at all (no known header, binary, undecodable) raises
InputFileError and nothing is loaded.

The import report ("X imported, Y rejected", then each rejected line with its number and
reasons) and the rejects file are written into each run's output folder from the
warehouse tables `inputs.price_registry_import_files` / `..._import_rejects`, so the
stage that checks the files and the stage that writes the folder need not be the same
process.

Reviews: `corrections/price_anomaly_reviews.csv` (`OBSERVATION_ID;STATUS;REASON;REVIEWER`
in the configured dialect; the other columns of price_registry_anomalies.csv may stay
and are ignored). STATUS is pending, validated, rejected or exception; each observation
once; every OBSERVATION_ID must be an observation of the published registry
(`marts.price_observations`) or of this run's imports. Any error refuses the whole file.

Warehouse tables written (all replaced atomically, `pt2qe.load.replace_table`):
`inputs.price_registry_imports` (accepted lines: what dbt reads),
`inputs.price_anomaly_reviews`, `inputs.price_registry_import_files`,
`inputs.price_registry_import_rejects`, `inputs.price_registry_applied_files` (what
`audit_applied_files` records in `control.corrections_applied` once the run succeeded).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pt2qe.frenchcsv import UTF8_BOM, CsvTable, Dialect, InputFileError, read_table

IMPORT_DIR = "price_registry"
REVIEWS_FILE = "price_anomaly_reviews.csv"
REPORT_FILE = "price_registry_import_report.txt"
REJECTS_FILE = "price_registry_import_rejects.csv"
IMPORT_MODES = ("continue", "all_or_nothing")
SOURCE_TYPES = ("import", "manual", "catalog")
REVIEW_STATUSES = ("pending", "validated", "rejected", "exception")
DEFAULT_CURRENCY = "EUR"
MIN_YEAR = 1990
SEPARATORS = (";", ",", "\t", "|")

GENERIC_COLUMNS = (
    "item",
    "context",
    "price",
    "date",
    "quantity",
    "supplier",
    "notes",
    "source_type",
    "valid_from",
    "valid_until",
    "category",
)
GENERIC_REQUIRED = ("item", "context", "price", "date")
SEED_COLUMNS = ("piece", "marque", "modele", "annee", "prix", "date", "fournisseur", "notes")
SEED_REQUIRED = ("piece", "marque", "modele", "prix", "date")
LAYOUTS = {"generic": (GENERIC_COLUMNS, GENERIC_REQUIRED), "seed": (SEED_COLUMNS, SEED_REQUIRED)}
NUMBER_COLUMNS = {"generic": ("price", "quantity"), "seed": ("prix",)}

REVIEW_COLUMNS = ("OBSERVATION_ID", "STATUS", "REASON", "REVIEWER")
# the other columns of price_registry_anomalies.csv, accepted so that the export can be
# copied as it is and completed
REVIEW_INFORMATIVE_COLUMNS = (
    "ITEM_KEY",
    "CONTEXT_KEY",
    "DESCRIPTION",
    "RECORDED_AT",
    "UNIT_PRICE",
    "AVERAGE_PRICE",
    "DEVIATION_PERCENT",
    "PRICE_RANK",
    "SEVERITY",
    "IS_ANOMALY",
    "SOURCE_TYPE",
    "SUPPLIER",
)

IMPORTS_TABLE = [
    ("observation_id", "text"),
    ("item_key", "text"),
    ("context_key", "text"),
    ("description", "text"),
    ("category", "text"),
    ("unit_price", "numeric"),
    ("quantity", "numeric"),
    ("currency", "text"),
    ("recorded_at", "date"),
    ("valid_from", "date"),
    ("valid_until", "date"),
    ("source_type", "text"),
    ("supplier", "text"),
    ("notes", "text"),
    ("context_year", "integer"),
    ("source_file", "text"),
    ("source_line", "integer"),
]
REVIEWS_TABLE = [
    ("observation_id", "text"),
    ("status", "text"),
    ("reason", "text"),
    ("reviewer", "text"),
    ("source_line", "integer"),
]
FILES_TABLE = [
    ("file_name", "text"),
    ("sha256", "text"),
    ("layout", "text"),
    ("separator", "text"),
    ("decimal_mark", "text"),
    ("encoding", "text"),
    ("data_lines", "integer"),
    ("valid_lines", "integer"),
    ("imported_lines", "integer"),
    ("rejected_lines", "integer"),
    ("import_mode", "text"),
    ("reference_date", "date"),
]
REJECTS_TABLE = [
    ("file_name", "text"),
    ("line_number", "integer"),
    ("reasons", "text"),
    ("content", "text"),
]
APPLIED_TABLE = [("file_name", "text"), ("sha256", "text"), ("rows", "integer")]
INPUTS_SCHEMA = "inputs"


# ------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class ImportedPrice:
    """An accepted import line: one observation (columns of inputs.price_registry_imports)."""

    observation_id: str
    item_key: str
    context_key: str
    description: str
    category: str | None
    unit_price: Decimal
    quantity: Decimal
    currency: str
    recorded_at: date
    valid_from: date | None
    valid_until: date | None
    source_type: str
    supplier: str | None
    notes: str | None
    context_year: int | None
    source_file: str
    source_line: int

    def row(self) -> tuple:
        return tuple(getattr(self, name) for name, _ in IMPORTS_TABLE)


@dataclass(frozen=True)
class RejectedLine:
    line: int
    reasons: tuple[str, ...]
    content: str


@dataclass
class FileImport:
    """One price file as read: how it was recognised, its good and its rejected lines."""

    name: str  # file name (observation ids, tables)
    display: str  # path as shown to people
    sha256: str
    layout: str
    separator: str
    decimal: str
    encoding: str
    accepted: list[ImportedPrice] = field(default_factory=list)
    rejected: list[RejectedLine] = field(default_factory=list)

    @property
    def data_lines(self) -> int:
        return len(self.accepted) + len(self.rejected)


@dataclass
class ImportResult:
    mode: str
    as_of: date
    files: list[FileImport]

    @property
    def valid_lines(self) -> int:
        return sum(len(f.accepted) for f in self.files)

    @property
    def rejected_lines(self) -> int:
        return sum(len(f.rejected) for f in self.files)

    @property
    def applied(self) -> bool:
        """False when all_or_nothing refused the import: nothing is loaded."""
        return not (self.mode == "all_or_nothing" and self.rejected_lines > 0)

    @property
    def imported_lines(self) -> int:
        return self.valid_lines if self.applied else 0

    def prices(self) -> list[ImportedPrice]:
        return [p for f in self.files for p in f.accepted] if self.applied else []

    def observation_ids(self) -> set[str]:
        return {p.observation_id for p in self.prices()}


@dataclass(frozen=True)
class Review:
    line: int
    observation_id: str
    status: str
    reason: str | None
    reviewer: str | None

    def row(self) -> tuple:
        return (self.observation_id, self.status, self.reason, self.reviewer, self.line)


@dataclass
class RegistryInputs:
    """Everything the registry reads from people, checked; `load_registry_inputs` loads it."""

    imports: ImportResult
    reviews: list[Review]
    reviews_file: str | None  # path as shown, None when there is no reviews file
    reviews_sha256: str | None = None


# --------------------------------------------------------------------------- helpers


def _plain(name: str) -> str:
    """Header cell -> comparable name: trimmed, lower case, without accents."""
    text = unicodedata.normalize("NFKD", name.strip().lower())
    return "".join(c for c in text if not unicodedata.combining(c)).replace(" ", "_")


def _separator_name(sep: str) -> str:
    return "tab" if sep == "\t" else repr(sep)


def _decode(data: bytes, file: str) -> tuple[str, str]:
    """(text, encoding name): UTF-8 with or without BOM when valid, else cp1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFileError(
            file, 1, None, "a CSV file (UTF-8 or cp1252)", "a UTF-16 file (Excel 'Unicode text')"
        )
    if b"\x00" in data:
        raise InputFileError(
            file,
            data.count(b"\n", 0, data.find(b"\x00")) + 1,
            None,
            "a text CSV file",
            "a NUL byte (the file looks binary)",
        )
    bom = data.startswith(UTF8_BOM)
    body = data[len(UTF8_BOM) :] if bom else data
    try:
        return body.decode("utf-8"), "utf-8 (BOM)" if bom else "utf-8"
    except UnicodeDecodeError as exc:
        if bom:
            raise InputFileError(
                file,
                body.count(b"\n", 0, exc.start) + 1,
                None,
                "UTF-8 text after the UTF-8 byte order mark",
                f"the byte 0x{body[exc.start]:02X}",
            ) from None
    try:
        return body.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise InputFileError(
            file,
            body.count(b"\n", 0, exc.start) + 1,
            None,
            "a file encoded in UTF-8 or cp1252",
            f"the byte 0x{body[exc.start]:02X}, valid in neither",
        ) from None


def _split(line: str, sep: str) -> list[str]:
    return next(csv.reader([line], delimiter=sep, quotechar='"'), [])


def _detect_header(text: str, file: str) -> tuple[str, str, list[str]]:
    """(layout, separator, normalised header) from the first non-blank line."""
    first = next((line for line in text.splitlines() if line.strip()), None)
    expected = (
        "a header in one of the two layouts: "
        f"{';'.join(GENERIC_COLUMNS)} (generic, {', '.join(GENERIC_REQUIRED)} required) or "
        f"{','.join(SEED_COLUMNS)} (seed, {', '.join(SEED_REQUIRED)} required)"
    )
    if first is None:
        raise InputFileError(file, 1, None, expected, "an empty file")
    best: tuple[int, str, list[str]] | None = None
    for sep in SEPARATORS:
        cells = [_plain(c) for c in _split(first, sep)]
        while cells and cells[-1] == "":
            cells.pop()
        for layout, (columns, required) in LAYOUTS.items():
            known = [c for c in cells if c in columns]
            if (
                len(known) == len(cells)
                and len(set(cells)) == len(cells)
                and all(r in cells for r in required)
            ):
                return layout, sep, cells
            if best is None or len(known) > best[0]:
                best = (len(known), layout, cells)
    _, layout, cells = best
    columns, required = LAYOUTS[layout]
    missing = [r for r in required if r not in cells]
    unknown = [c for c in cells if c not in columns]
    twice = sorted({c for c in cells if cells.count(c) > 1})
    problems = []
    if missing:
        problems.append(f"without {', '.join(missing)}")
    if unknown:
        problems.append(f"with the unknown column(s) {', '.join(unknown)}")
    if twice:
        problems.append(f"with {', '.join(twice)} twice")
    column = ", ".join(missing + unknown + twice) or None
    raise InputFileError(
        file,
        1,
        column,
        expected,
        f"a header {' and '.join(problems) or 'that matches neither'}: {first[:120]!r}",
    )


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T][0-9:.]+)?")
_FR_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")


def _parse_number(value: str, mark: str) -> Decimal | str:
    """The number, or what is wrong with it (a phrase)."""
    if not _NUMBER.fullmatch(value):
        return f"{value!r} (not a number)"
    other = "." if mark == "," else ","
    if other in value:
        return f"{value!r} ({other!r} is not the decimal mark of this file, {mark!r} is)"
    try:
        return Decimal(value.replace(mark, "."))
    except InvalidOperation:
        return f"{value!r} (not a number)"


def _parse_date(value: str) -> date | None:
    for pattern, order in ((_ISO_DATE, (1, 2, 3)), (_FR_DATE, (3, 2, 1))):
        match = pattern.fullmatch(value)
        if match:
            y, m, d = (int(match.group(i)) for i in order)
            try:
                return date(y, m, d)
            except ValueError:
                return None
    return None


def _decimal_mark(layout: str, sep: str, records: list[tuple[int, dict[str, str]]]) -> str:
    if sep == ",":
        return "."
    cells = [v[c] for _, v in records for c in NUMBER_COLUMNS[layout] if v.get(c)]
    if any("," in c for c in cells):
        return ","
    if any("." in c for c in cells):
        return "."
    return ","


# ---------------------------------------------------------------------------- imports


def _validate(
    layout: str, values: dict[str, str], mark: str, as_of: date
) -> tuple[dict, list[str]]:
    """Check one data line; returns (parsed fields, reasons it is rejected)."""
    reasons: list[str] = []
    get = values.get

    def text(column: str) -> str | None:
        return (get(column) or "").strip() or None

    def required(column: str, what: str) -> str | None:
        value = text(column)
        if value is None:
            reasons.append(f"{column}: expected {what}, found an empty value")
        return value

    def positive(column: str, what: str, default: Decimal | None = None) -> Decimal | None:
        value = text(column)
        if value is None:
            if default is None:
                reasons.append(f"{column}: expected {what} > 0, found an empty value")
            return default
        number = _parse_number(value, mark)
        if isinstance(number, str):
            reasons.append(
                f"{column}: expected {what} > 0 written with {mark!r} as decimal mark, "
                f"found {number}"
            )
            return None
        if number <= 0:
            reasons.append(f"{column}: expected {what} > 0, found {value!r}")
            return None
        return number

    def a_date(column: str, *, needed: bool) -> date | None:
        value = text(column)
        if value is None:
            if needed:
                reasons.append(
                    f"{column}: expected a date (YYYY-MM-DD or DD/MM/YYYY), found an empty value"
                )
            return None
        parsed = _parse_date(value)
        if parsed is None:
            reasons.append(f"{column}: expected a date (YYYY-MM-DD or DD/MM/YYYY), found {value!r}")
        return parsed

    fields: dict = {}
    if layout == "seed":
        item = required("piece", "a part name")
        brand = required("marque", "a brand")
        model = required("modele", "a model")
        fields["context_key"] = f"{brand}|{model}" if brand and model else None
        year_text = text("annee")
        year = None
        if year_text is not None:
            top = as_of.year + 1
            if not re.fullmatch(r"[0-9]{4}", year_text) or not MIN_YEAR <= int(year_text) <= top:
                reasons.append(
                    f"annee: expected a year between {MIN_YEAR} and {top}, found {year_text!r}"
                )
            else:
                year = int(year_text)
        price = positive("prix", "a price")
        quantity = Decimal(1)
        fields.update(
            context_year=year,
            supplier=text("fournisseur"),
            category=None,
            source_type="import",
            valid_from=None,
            valid_until=None,
        )
    else:
        item = required("item", "an item")
        fields["context_key"] = required("context", "a context")
        price = positive("price", "a price")
        quantity = positive("quantity", "a quantity", default=Decimal(1))
        source_type = (text("source_type") or "import").lower()
        if source_type not in SOURCE_TYPES:
            reasons.append(
                f"source_type: expected one of {', '.join(SOURCE_TYPES)}, "
                f"found {get('source_type')!r}"
            )
        valid_from = a_date("valid_from", needed=False)
        valid_until = a_date("valid_until", needed=False)
        if valid_from and valid_until and not valid_from < valid_until:
            reasons.append(
                f"valid_from, valid_until: expected valid_from before valid_until, "
                f"found {valid_from.isoformat()} and {valid_until.isoformat()}"
            )
        fields.update(
            context_year=None,
            supplier=text("supplier"),
            category=text("category"),
            source_type=source_type,
            valid_from=valid_from,
            valid_until=valid_until,
        )
    recorded = a_date("date", needed=True)
    if recorded is not None and recorded > as_of:
        reasons.append(
            f"date: expected a date on or before the reference date {as_of.isoformat()}, "
            f"found {recorded.isoformat()}"
        )
    fields.update(
        item_key=item,
        unit_price=price,
        quantity=quantity,
        recorded_at=recorded,
        notes=text("notes"),
    )
    return fields, reasons


def read_price_file(path: Path, as_of: date, *, display: str | None = None) -> FileImport:
    """Read and validate one price file (either layout); raises InputFileError only when
    the file as a whole cannot be read; bad lines are returned as rejected lines."""
    path = Path(path)
    file = display or str(path)
    if not path.is_file():
        raise InputFileError(
            file,
            None,
            None,
            "an existing CSV file",
            "a folder" if path.is_dir() else "no such file",
        )
    data = path.read_bytes()
    text, encoding = _decode(data, file)
    layout, sep, header = _detect_header(text, file)
    physical = text.splitlines()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"')
    rows: list[tuple[int, int, list[str]]] = []  # (first line, last line, cells)
    end = 0
    for cells in reader:
        rows.append((end + 1, reader.line_num, cells))
        end = reader.line_num
    # the header is the first non-blank record
    while rows and all(c.strip() == "" for c in rows[0][2]):
        rows.pop(0)
    rows.pop(0)
    width = len(header)
    records: list[tuple[int, dict[str, str]]] = []
    result = FileImport(
        path.name, file, hashlib.sha256(data).hexdigest(), layout, sep, ".", encoding
    )
    bad_shape: dict[int, RejectedLine] = {}
    for first, last, cells in rows:
        if all(c.strip() == "" for c in cells):
            continue  # blank lines, lines of separators only (Excel)
        content = "\n".join(physical[first - 1 : last])
        if any(c.strip() for c in cells[width:]):
            count = len(cells)
            while not cells[count - 1].strip():
                count -= 1
            bad_shape[first] = RejectedLine(
                first,
                (
                    f"expected at most {width} values separated by {_separator_name(sep)} like "
                    f"the header, found {count}",
                ),
                content,
            )
            continue
        # missing trailing values are empty ones (a required one is then reported)
        cells = [c.strip() for c in cells[:width]] + [""] * (width - len(cells))
        records.append((first, dict(zip(header, cells, strict=True))))
    mark = _decimal_mark(layout, sep, records)
    result.decimal = mark
    contents = {first: "\n".join(physical[first - 1 : last]) for first, last, _ in rows}
    for line, values in records:
        fields, reasons = _validate(layout, values, mark, as_of)
        if reasons:
            result.rejected.append(RejectedLine(line, tuple(reasons), contents[line]))
            continue
        result.accepted.append(
            ImportedPrice(
                observation_id=f"IMP:{path.name}:{line}",
                description=fields["item_key"],
                currency=DEFAULT_CURRENCY,
                source_file=path.name,
                source_line=line,
                **{
                    k: fields[k]
                    for k in (
                        "item_key",
                        "context_key",
                        "category",
                        "unit_price",
                        "quantity",
                        "recorded_at",
                        "valid_from",
                        "valid_until",
                        "source_type",
                        "supplier",
                        "notes",
                        "context_year",
                    )
                },
            )
        )
    result.rejected.extend(bad_shape.values())
    result.rejected.sort(key=lambda r: r.line)
    return result


def import_folder(
    folder: Path, as_of: date, mode: str = "continue", *, display_root: Path | None = None
) -> ImportResult:
    """Every `*.csv` file of `folder` (none when the folder does not exist), by name."""
    if mode not in IMPORT_MODES:
        raise ValueError(
            f"price_registry.import_mode: expected one of {', '.join(IMPORT_MODES)}, found {mode!r}"
        )
    folder = Path(folder)
    files = (
        sorted(p for p in folder.glob("*") if p.is_file() and p.suffix.lower() == ".csv")
        if folder.is_dir()
        else []
    )
    results = [read_price_file(p, as_of, display=_show(p, display_root)) for p in files]
    return ImportResult(mode=mode, as_of=as_of, files=results)


def _show(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


# ------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class FileSummary:
    """One row of inputs.price_registry_import_files (what the report is made from)."""

    file_name: str
    sha256: str
    layout: str
    separator: str
    decimal_mark: str
    encoding: str
    data_lines: int
    valid_lines: int
    imported_lines: int
    rejected_lines: int
    import_mode: str
    reference_date: date

    def row(self) -> tuple:
        return tuple(getattr(self, name) for name, _ in FILES_TABLE)


def summaries(result: ImportResult) -> list[FileSummary]:
    return [
        FileSummary(
            f.name,
            f.sha256,
            f.layout,
            f.separator,
            f.decimal,
            f.encoding,
            f.data_lines,
            len(f.accepted),
            len(f.accepted) if result.applied else 0,
            len(f.rejected),
            result.mode,
            result.as_of,
        )
        for f in result.files
    ]


def rejects(result: ImportResult) -> list[tuple[str, int, str, str]]:
    """Rows of inputs.price_registry_import_rejects: (file, line, reasons, content)."""
    return [
        (f.name, r.line, "; ".join(r.reasons), r.content) for f in result.files for r in f.rejected
    ]


_LAYOUT_TEXT = {"generic": ";".join(GENERIC_COLUMNS), "seed": ",".join(SEED_COLUMNS)}


def report_text(files: Sequence[FileSummary], rejected: Sequence[tuple[str, int, str, str]]) -> str:
    """The import report: totals first ("X imported, Y rejected"), then per file how it
    was read, its counts and each rejected line with its number and every reason."""
    imported = sum(f.imported_lines for f in files)
    refused = sum(f.rejected_lines for f in files)
    valid = sum(f.valid_lines for f in files)
    mode = files[0].import_mode if files else "continue"
    as_of = files[0].reference_date.isoformat() if files else ""
    lines = [
        f"{imported} imported, {refused} rejected",
        "",
        f"Price registry import: {len(files)} file(s) of inputs/price_registry/, "
        f"reference date {as_of}, mode {mode}",
    ]
    if mode == "all_or_nothing" and refused:
        lines.append(
            f"Mode all_or_nothing: nothing imported because {refused} line(s) failed "
            f"({valid} valid line(s) not imported); the registry keeps the prices imported before."
        )
    by_file: dict[str, list[tuple[int, str]]] = {}
    for name, line, reasons, _content in rejected:
        by_file.setdefault(name, []).append((line, reasons))
    for f in files:
        lines += [
            "",
            f"{f.file_name}",
            f"  layout {f.layout} ({_LAYOUT_TEXT[f.layout]}), "
            f"separator {_separator_name(f.separator)}, "
            f"decimal mark {f.decimal_mark!r}, encoding {f.encoding}",
            f"  {f.data_lines} line(s): {f.imported_lines} imported, {f.rejected_lines} rejected",
        ]
        lines += [
            f"  line {line}: {reasons}" for line, reasons in sorted(by_file.get(f.file_name, []))
        ]
    if refused:
        lines += [
            "",
            f"The rejected lines are in {REJECTS_FILE} "
            "(FILE, LINE, REASONS and the line as it was).",
        ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- reviews


def read_reviews(path: Path | str, dialect: Dialect, *, display: str | None = None) -> list[Review]:
    """`price_anomaly_reviews.csv`: OBSERVATION_ID;STATUS;REASON;REVIEWER, each observation
    once, STATUS one of pending, validated, rejected, exception (any case)."""
    table: CsvTable = read_table(
        path, dialect, REVIEW_COLUMNS, REVIEW_INFORMATIVE_COLUMNS, display=display
    )
    reviews: list[Review] = []
    first_line: dict[str, int] = {}
    for record in table.records:
        observation = record["OBSERVATION_ID"]
        if observation == "":
            raise table.error(
                record,
                "OBSERVATION_ID",
                "an observation id (as in price_registry_anomalies.csv)",
                "an empty value",
            )
        if observation in first_line:
            raise table.error(
                record,
                "OBSERVATION_ID",
                "each observation once",
                f"{observation!r} again (already on line {first_line[observation]})",
            )
        first_line[observation] = record.line
        status = record["STATUS"].lower()
        if status not in REVIEW_STATUSES:
            raise table.error(
                record,
                "STATUS",
                f"one of {', '.join(REVIEW_STATUSES)}",
                repr(record["STATUS"]) if record["STATUS"] else "an empty value",
            )
        reviews.append(
            Review(
                record.line,
                observation,
                status,
                record["REASON"] or None,
                record["REVIEWER"] or None,
            )
        )
    return reviews


def unknown_observations(
    conn, ids: Iterable[str], extra_known: set[str] = frozenset(), *, registry_schema: str = "marts"
) -> set[str]:
    """The ids that are neither in the published registry (`<registry_schema>.
    price_observations`) nor in `extra_known`."""
    from psycopg import sql

    candidates = sorted(set(ids) - set(extra_known))
    if not candidates:
        return set()
    relation = f"{registry_schema}.price_observations"
    if not conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]:
        return set(candidates)
    query = sql.SQL(
        """
        select candidate.id
        from unnest(%s::text[]) as candidate (id)
        where not exists (
            select 1 from {}.price_observations as o where o.observation_id = candidate.id
        )
        """
    ).format(sql.Identifier(registry_schema))
    return {r[0] for r in conn.execute(query, (candidates,)).fetchall()}


def check_reviews(
    conn,
    reviews: Sequence[Review],
    file: str,
    extra_known: set[str] = frozenset(),
    *,
    registry_schema: str = "marts",
) -> None:
    """Every reviewed observation exists; raises InputFileError listing the unknown ones."""
    ids = (r.observation_id for r in reviews)
    unknown = unknown_observations(conn, ids, extra_known, registry_schema=registry_schema)
    if unknown:
        bad = [r for r in reviews if r.observation_id in unknown]
        listed = "; ".join(f"line {r.line}: {r.observation_id!r}" for r in bad[:20])
        more = f" and {len(bad) - 20} more" if len(bad) > 20 else ""
        raise InputFileError(
            file,
            bad[0].line,
            "OBSERVATION_ID",
            "observations of the registry (as listed in price_registry_anomalies.csv or "
            "marts.price_observations)",
            f"{len(bad)} unknown observation(s): {listed}{more}",
        )


# ----------------------------------------------------------------- check, load, audit


def read_registry_inputs(
    conn,
    inputs_dir: Path,
    corrections_dir: Path,
    *,
    dialect: Dialect,
    as_of: date,
    mode: str = "continue",
    display_root: Path | None = None,
    registry_schema: str = "marts",
) -> RegistryInputs:
    """Read and check every registry input; changes nothing (safe for a dry run).

    `conn` is only read (the published registry, for the reviews' observation ids); it
    is not used when there is no reviews file."""
    imports = import_folder(Path(inputs_dir) / IMPORT_DIR, as_of, mode, display_root=display_root)
    reviews_path = Path(corrections_dir) / REVIEWS_FILE
    if not reviews_path.exists():
        return RegistryInputs(imports, [], None)
    shown = _show(reviews_path, display_root)
    reviews = read_reviews(reviews_path, dialect, display=shown)
    check_reviews(conn, reviews, shown, imports.observation_ids(), registry_schema=registry_schema)
    sha = hashlib.sha256(reviews_path.read_bytes()).hexdigest()
    return RegistryInputs(imports, reviews, shown, sha)


def load_registry_inputs(
    conn, inputs: RegistryInputs, *, schema: str = INPUTS_SCHEMA
) -> dict[str, int]:
    """Load the checked inputs into `schema` (each table replaced atomically).

    With all_or_nothing and a rejected line, price_registry_imports keeps its rows
    (created empty when missing); the report tables always describe this run."""
    from pt2qe.load import replace_table

    imports = inputs.imports
    if imports.applied:
        prices = (p.row() for p in imports.prices())
        replace_table(conn, schema, "price_registry_imports", IMPORTS_TABLE, prices)
    else:
        _create_if_missing(conn, schema, "price_registry_imports", IMPORTS_TABLE)
    reviews = (r.row() for r in inputs.reviews)
    replace_table(conn, schema, "price_anomaly_reviews", REVIEWS_TABLE, reviews)
    files = (s.row() for s in summaries(imports))
    replace_table(conn, schema, "price_registry_import_files", FILES_TABLE, files)
    replace_table(conn, schema, "price_registry_import_rejects", REJECTS_TABLE, rejects(imports))
    applied = (
        [(f.display, f.sha256, len(f.accepted)) for f in imports.files] if imports.applied else []
    )
    if inputs.reviews_file is not None:
        applied.append((inputs.reviews_file, inputs.reviews_sha256, len(inputs.reviews)))
    replace_table(conn, schema, "price_registry_applied_files", APPLIED_TABLE, applied)
    return {
        "files": len(imports.files),
        "imported": imports.imported_lines,
        "rejected": imports.rejected_lines,
        "reviews": len(inputs.reviews),
    }


def _create_if_missing(conn, schema: str, name: str, columns: list[tuple[str, str]]) -> None:
    from psycopg import sql

    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    conn.execute(
        sql.SQL("create table if not exists {}.{} ({})").format(
            sql.Identifier(schema),
            sql.Identifier(name),
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns
            ),
        )
    )
    conn.commit()


def _table_rows(
    conn, schema: str, name: str, columns: list[tuple[str, str]], order: str
) -> list[tuple]:
    from psycopg import sql

    if not conn.execute("select to_regclass(%s) is not null", (f"{schema}.{name}",)).fetchone()[0]:
        return []
    query = sql.SQL("select {} from {}.{} order by {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c, _ in columns),
        sql.Identifier(schema),
        sql.Identifier(name),
        sql.SQL(order),
    )
    return conn.execute(query).fetchall()


def write_registry_outputs(
    conn, folder: Path, dialect: Dialect, *, schema: str = INPUTS_SCHEMA
) -> dict[str, int]:
    """Write the import report (and the rejects file when a line was rejected) into
    `folder` when files were imported; returns {file name: lines written}."""
    files = [
        FileSummary(*row)
        for row in _table_rows(
            conn, schema, "price_registry_import_files", FILES_TABLE, "file_name"
        )
    ]
    if not files:
        return {}
    rejected = _table_rows(
        conn, schema, "price_registry_import_rejects", REJECTS_TABLE, "file_name, line_number"
    )
    text = report_text(files, rejected)
    written = {REPORT_FILE: _write_text(Path(folder) / REPORT_FILE, text, dialect.encoding)}
    if rejected:
        out = io.StringIO(newline="")
        writer = csv.writer(out, delimiter=dialect.separator, quotechar='"', lineterminator="\r\n")
        writer.writerow(["FILE", "LINE", "REASONS", "CONTENT"])
        writer.writerows(rejected)
        _write_bytes(Path(folder) / REJECTS_FILE, _encode(out.getvalue(), dialect.encoding))
        written[REJECTS_FILE] = len(rejected)
    return written


def _encode(text: str, encoding: str) -> bytes:
    """In the team's encoding; UTF-8 with BOM when a character does not exist there."""
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        return UTF8_BOM + text.encode("utf-8")
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return UTF8_BOM + text.encode("utf-8")


def _write_text(path: Path, text: str, encoding: str) -> int:
    _write_bytes(path, _encode(text.replace("\n", "\r\n"), encoding))
    return text.count("\n")


def _write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def audit_applied_files(
    conn,
    run_id: str,
    triggered_by: str | None,
    applied_at: datetime | None = None,
    *,
    schema: str = INPUTS_SCHEMA,
    control_schema: str = "control",
) -> int:
    """Record the registry files this run applied (each import file, the reviews file) in
    <control_schema>.corrections_applied, like the corrections file (name, SHA-256, rows,
    when, run, who); call it once the run succeeded. Returns the number of files."""
    from psycopg import sql

    rows = _table_rows(conn, schema, "price_registry_applied_files", APPLIED_TABLE, "file_name")
    if not rows:
        return 0
    applied_at = applied_at or datetime.now(UTC)
    control = sql.Identifier(control_schema)
    conn.execute(sql.SQL("create schema if not exists {}").format(control))
    conn.execute(
        sql.SQL(
            """
            create table if not exists {}.corrections_applied (
                run_id text not null, file_name text not null, sha256 text not null,
                rows integer not null, applied_at timestamptz not null, triggered_by text
            )
            """
        ).format(control)
    )
    insert = sql.SQL("insert into {}.corrections_applied values (%s, %s, %s, %s, %s, %s)")
    with conn.cursor() as cur:
        cur.executemany(
            insert.format(control),
            [(run_id, name, sha, n, applied_at, triggered_by) for name, sha, n in rows],
        )
    conn.commit()
    return len(rows)


def gate_frames(inputs: RegistryInputs) -> list[tuple[str, object]]:
    """(label, pandas DataFrame) per imported file, for the GX suite
    expectations/inputs/registry_inputs.json: the accepted lines as loaded, indexed by
    their file line; numbers as floats, dates as datetime.date."""
    import pandas as pd

    columns = [name.upper() for name, _ in IMPORTS_TABLE]
    frames = []
    for f in inputs.imports.files:
        data = []
        for p in f.accepted:
            row = {}
            for (name, _), value in zip(IMPORTS_TABLE, p.row(), strict=True):
                if isinstance(value, Decimal):
                    value = float(value)
                row[name.upper()] = value
            data.append(row)
        frames.append(
            (
                f.display,
                pd.DataFrame(data, columns=columns, index=[p.source_line for p in f.accepted]),
            )
        )
    return frames
