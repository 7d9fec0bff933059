"""The price book's inputs (PRICE_BOOK_RULES.md): the pricing team's price lists.

The base, channel, group (and customer) lists are two French-Excel CSV files in
`inputs/price_lists/` (the folder is optional: no folder or no file = no list):

    price_lists.csv       CODE;NAME;LIST_TYPE;PRIORITY;CURRENCY;VALID_FROM;VALID_UNTIL;IS_ACTIVE
    price_list_items.csv  PRICE_LIST_CODE;ID_ART;ID_CLN;CUSTOMER_GROUP;CHANNEL;PRICE_HT;COST_PRICE;
                          MIN_QUANTITY;MAX_QUANTITY;VALID_FROM;VALID_UNTIL;IS_ACTIVE

`read_price_lists` checks every line (dates YYYY-MM-DD, IS_ACTIVE 1/0/empty = 1,
PRICE_HT > 0, MIN_QUANTITY <= MAX_QUANTITY, known list codes, the scope column of each
list type, no key twice) and raises `InputFileError` naming the file, line, column and
what was expected; `load_price_lists` then replaces `inputs.price_lists` and
`inputs.price_list_items`. A refused file changes nothing.

The rest of the price book is SQL: dbt builds the lists, the quote engine's customer
list PT2QE_<as_of>, packs, conflicts and effective prices in a final run
(dbt_project/models/*/price_book/), the history is a dbt snapshot, and BI calls the
warehouse function `marts.resolve_price`, whose DDL lives in
dbt_project/macros/price_book/resolve_price_ddl.sql (`resolve_price_ddl` renders it
here too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from pt2qe.frenchcsv import CsvRecord, CsvTable, Dialect, parse_decimal, read_table
from pt2qe.paths import dbt_project_dir, project_root

PRICE_LISTS_FILE = "price_lists.csv"
PRICE_LIST_ITEMS_FILE = "price_list_items.csv"
PRICE_LISTS_COLUMNS = (
    "CODE",
    "NAME",
    "LIST_TYPE",
    "PRIORITY",
    "CURRENCY",
    "VALID_FROM",
    "VALID_UNTIL",
    "IS_ACTIVE",
)
PRICE_LIST_ITEMS_COLUMNS = (
    "PRICE_LIST_CODE",
    "ID_ART",
    "ID_CLN",
    "CUSTOMER_GROUP",
    "CHANNEL",
    "PRICE_HT",
    "COST_PRICE",
    "MIN_QUANTITY",
    "MAX_QUANTITY",
    "VALID_FROM",
    "VALID_UNTIL",
    "IS_ACTIVE",
)
LIST_TYPES = ("base", "channel", "group", "customer")
# the column that says whose price an item is, per list type (base: nobody's in particular)
SCOPE_COLUMNS = ("ID_CLN", "CUSTOMER_GROUP", "CHANNEL")
SCOPE_COLUMN = {"customer": "ID_CLN", "group": "CUSTOMER_GROUP", "channel": "CHANNEL", "base": None}
ENGINE_PREFIX = "PT2QE_"  # codes of the lists the quote engine publishes
DEFAULT_PRIORITY = 100
DEFAULT_CURRENCY = "EUR"
MAX_INTEGER = 2**31 - 1

INPUT_LIST_COLUMNS = [
    ("code", "text"),
    ("name", "text"),
    ("list_type", "text"),
    ("priority", "integer"),
    ("currency", "text"),
    ("valid_from", "date"),
    ("valid_until", "date"),
    ("is_active", "boolean"),
]
INPUT_ITEM_COLUMNS = [
    ("price_list_code", "text"),
    ("id_art", "text"),
    ("id_cln", "text"),
    ("customer_group", "text"),
    ("channel", "text"),
    ("price_ht", "numeric"),
    ("cost_price", "numeric"),
    ("min_quantity", "integer"),
    ("max_quantity", "integer"),
    ("valid_from", "date"),
    ("valid_until", "date"),
    ("is_active", "boolean"),
]


@dataclass(frozen=True)
class PriceList:
    """A line of price_lists.csv, defaults applied (PRIORITY 100, CURRENCY EUR, active)."""

    line: int
    code: str
    name: str
    list_type: str
    priority: int
    currency: str
    valid_from: date | None
    valid_until: date | None
    is_active: bool

    def as_row(self) -> tuple:
        return (
            self.code,
            self.name,
            self.list_type,
            self.priority,
            self.currency,
            self.valid_from,
            self.valid_until,
            self.is_active,
        )


@dataclass(frozen=True)
class PriceListItem:
    """A line of price_list_items.csv, defaults applied (MIN_QUANTITY 1, active)."""

    line: int
    price_list_code: str
    id_art: str
    id_cln: str | None
    customer_group: str | None
    channel: str | None
    price_ht: Decimal
    cost_price: Decimal | None
    min_quantity: int
    max_quantity: int | None
    valid_from: date | None
    valid_until: date | None
    is_active: bool

    @property
    def key(self) -> tuple:
        return (
            self.price_list_code,
            self.id_art,
            self.id_cln,
            self.customer_group,
            self.channel,
            self.min_quantity,
        )

    def as_row(self) -> tuple:
        return (
            self.price_list_code,
            self.id_art,
            self.id_cln,
            self.customer_group,
            self.channel,
            self.price_ht,
            self.cost_price,
            self.min_quantity,
            self.max_quantity,
            self.valid_from,
            self.valid_until,
            self.is_active,
        )


@dataclass(frozen=True)
class PriceBookInputs:
    """What `read_price_lists` found: the lists, their items, and the files it read."""

    lists: tuple[PriceList, ...] = ()
    items: tuple[PriceListItem, ...] = ()
    files: tuple[str, ...] = ()


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(project_root()).as_posix()
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- values


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INTEGER = re.compile(r"-?[0-9]+")


def _text(table: CsvTable, record: CsvRecord, column: str, what: str) -> str:
    value = record[column]
    if value == "":
        raise table.error(record, column, what, "an empty value")
    return value


def _optional_date(table: CsvTable, record: CsvRecord, column: str) -> date | None:
    value = record[column]
    if value == "":
        return None
    expected = "a date written YYYY-MM-DD (like 2025-11-17), or an empty cell"
    if not _DATE.fullmatch(value):
        raise table.error(record, column, expected, repr(value))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise table.error(record, column, expected, f"{value!r} (no such day)") from None


def _flag(table: CsvTable, record: CsvRecord, column: str) -> bool:
    value = record[column]
    if value in ("", "1"):
        return True
    if value == "0":
        return False
    raise table.error(
        record, column, "1 (active), 0 (inactive) or an empty cell (active)", repr(value)
    )


def _integer(
    table: CsvTable,
    record: CsvRecord,
    column: str,
    *,
    default: int | None,
    minimum: int | None = None,
    expected: str,
) -> int | None:
    """A whole number, or `default` for an empty cell."""
    value = record[column]
    if value == "":
        return default
    if not _INTEGER.fullmatch(value):
        raise table.error(record, column, expected, f"{value!r} (not a whole number)")
    number = int(value)
    if minimum is not None and number < minimum:
        raise table.error(record, column, expected, f"{value!r} (below {minimum})")
    if abs(number) > MAX_INTEGER:
        raise table.error(record, column, expected, f"{value!r} (too large)")
    return number


def _validity(table: CsvTable, record: CsvRecord) -> tuple[date | None, date | None]:
    valid_from = _optional_date(table, record, "VALID_FROM")
    valid_until = _optional_date(table, record, "VALID_UNTIL")
    if valid_from is not None and valid_until is not None and valid_until < valid_from:
        raise table.error(
            record,
            "VALID_UNTIL",
            f"a date on or after VALID_FROM ({valid_from.isoformat()}), or an empty cell",
            repr(record["VALID_UNTIL"]),
        )
    return valid_from, valid_until


# --------------------------------------------------------------------------- files


def _read_lists(path: Path, dialect: Dialect) -> list[PriceList]:
    table = read_table(path, dialect, PRICE_LISTS_COLUMNS, display=_display(path))
    lists: list[PriceList] = []
    first_line: dict[str, int] = {}
    for record in table.records:
        code = _text(table, record, "CODE", "a list code")
        if code.upper().startswith(ENGINE_PREFIX):
            raise table.error(
                record,
                "CODE",
                f"a code that does not start with {ENGINE_PREFIX}"
                " (reserved for the lists the quote engine publishes)",
                repr(code),
            )
        if code in first_line:
            raise table.error(
                record,
                "CODE",
                "each CODE once",
                f"{code!r} again (already on line {first_line[code]})",
            )
        first_line[code] = record.line
        name = _text(table, record, "NAME", "a list name")
        list_type = record["LIST_TYPE"].lower()
        if list_type not in LIST_TYPES:
            raise table.error(
                record, "LIST_TYPE", f"one of {', '.join(LIST_TYPES)}", repr(record["LIST_TYPE"])
            )
        priority = _integer(
            table,
            record,
            "PRIORITY",
            default=DEFAULT_PRIORITY,
            expected=f"a whole number (lower wins), or an empty cell ({DEFAULT_PRIORITY})",
        )
        currency = record["CURRENCY"].upper() or DEFAULT_CURRENCY
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise table.error(
                record,
                "CURRENCY",
                "a 3-letter ISO 4217 code like EUR, or an empty cell (EUR)",
                repr(record["CURRENCY"]),
            )
        valid_from, valid_until = _validity(table, record)
        lists.append(
            PriceList(
                line=record.line,
                code=code,
                name=name,
                list_type=list_type,
                priority=priority,
                currency=currency,
                valid_from=valid_from,
                valid_until=valid_until,
                is_active=_flag(table, record, "IS_ACTIVE"),
            )
        )
    return lists


def _price_expected(dialect: Dialect) -> str:
    mark = dialect.decimal
    return f"a price above 0 written with {mark!r} as decimal mark (like 12{mark}50)"


def _read_items(
    path: Path, dialect: Dialect, lists: dict[str, PriceList], lists_file: str
) -> list[PriceListItem]:
    table = read_table(path, dialect, PRICE_LIST_ITEMS_COLUMNS, display=_display(path))
    items: list[PriceListItem] = []
    first_line: dict[tuple, int] = {}
    for record in table.records:
        code = _text(table, record, "PRICE_LIST_CODE", f"the CODE of a list of {lists_file}")
        price_list = lists.get(code)
        if price_list is None:
            known = ", ".join(sorted(lists)[:10]) or "none"
            raise table.error(
                record,
                "PRICE_LIST_CODE",
                f"the CODE of a list of {lists_file} (known: {known})",
                f"{code!r} (unknown list)",
            )
        id_art = _text(table, record, "ID_ART", "an article id")
        scope = SCOPE_COLUMN[price_list.list_type]
        for column in SCOPE_COLUMNS:
            value = record[column]
            if column == scope and value == "":
                raise table.error(
                    record,
                    column,
                    f"the {column} the price is for ({code} is a {price_list.list_type} list)",
                    "an empty value",
                )
            if column != scope and value != "":
                expected = f"an empty cell ({code} is a {price_list.list_type} list"
                expected += (
                    f": its items are per {scope})" if scope else ": its prices are for everybody)"
                )
                raise table.error(record, column, expected, repr(value))
        price_ht = parse_decimal(
            table,
            record,
            "PRICE_HT",
            minimum=Decimal(0),
            expected=_price_expected(dialect),
        )
        if price_ht <= 0:
            raise table.error(
                record,
                "PRICE_HT",
                _price_expected(dialect),
                repr(record["PRICE_HT"]),
            )
        cost_price = None
        if record["COST_PRICE"] != "":
            cost_price = parse_decimal(
                table,
                record,
                "COST_PRICE",
                minimum=Decimal(0),
                expected=f"a cost of 0 or more written with {dialect.decimal!r} as decimal mark,"
                " or an empty cell",
            )
        min_quantity = _integer(
            table,
            record,
            "MIN_QUANTITY",
            default=1,
            minimum=1,
            expected="a whole number of 1 or more, or an empty cell (1)",
        )
        max_quantity = _integer(
            table,
            record,
            "MAX_QUANTITY",
            default=None,
            minimum=min_quantity,
            expected=f"a whole number of at least MIN_QUANTITY ({min_quantity}),"
            " or an empty cell (no limit)",
        )
        valid_from, valid_until = _validity(table, record)
        item = PriceListItem(
            line=record.line,
            price_list_code=code,
            id_art=id_art,
            id_cln=record["ID_CLN"] or None,
            customer_group=record["CUSTOMER_GROUP"] or None,
            channel=record["CHANNEL"] or None,
            price_ht=price_ht,
            cost_price=cost_price,
            min_quantity=min_quantity,
            max_quantity=max_quantity,
            valid_from=valid_from,
            valid_until=valid_until,
            is_active=_flag(table, record, "IS_ACTIVE"),
        )
        if item.key in first_line:
            raise table.error(
                record,
                ";".join(
                    (
                        "PRICE_LIST_CODE",
                        "ID_ART",
                        scope or "ID_CLN;CUSTOMER_GROUP;CHANNEL",
                        "MIN_QUANTITY",
                    )
                ),
                "each list, article, customer/group/channel and MIN_QUANTITY once",
                f"line {record.line} repeats line {first_line[item.key]} "
                f"({code}, {id_art}, {record[scope] if scope else 'base'}, {min_quantity})",
            )
        first_line[item.key] = record.line
        items.append(item)
    return items


def read_price_lists(folder: Path | str, dialect: Dialect) -> PriceBookInputs:
    """Read and check `folder`/price_lists.csv and `folder`/price_list_items.csv.

    No folder, or no file: no list (the folder is optional). A present file is read
    completely and any problem raises InputFileError (file, line, column, expected).
    Items need price_lists.csv: items without it are refused.
    """
    folder = Path(folder)
    lists_path = folder / PRICE_LISTS_FILE
    items_path = folder / PRICE_LIST_ITEMS_FILE
    files: list[str] = []
    lists: list[PriceList] = []
    if lists_path.exists():
        lists = _read_lists(lists_path, dialect)
        files.append(str(lists_path))
    items: list[PriceListItem] = []
    if items_path.exists():
        items = _read_items(
            items_path, dialect, {pl.code: pl for pl in lists}, _display(lists_path)
        )
        files.append(str(items_path))
    return PriceBookInputs(lists=tuple(lists), items=tuple(items), files=tuple(files))


def load_price_lists(conn, inputs: PriceBookInputs, schema: str = "inputs") -> tuple[int, int]:
    """Replace `schema`.price_lists and `schema`.price_list_items by the checked inputs
    (both tables always exist afterwards, empty when there is no list); returns the
    numbers of lists and items."""
    from pt2qe.load import replace_table

    n_lists = replace_table(
        conn, schema, "price_lists", INPUT_LIST_COLUMNS, (pl.as_row() for pl in inputs.lists)
    )
    n_items = replace_table(
        conn, schema, "price_list_items", INPUT_ITEM_COLUMNS, (it.as_row() for it in inputs.items)
    )
    return n_lists, n_items


# --------------------------------------------------------------------------- resolve_price

RESOLVE_PRICE_MACROS = Path("macros") / "price_book" / "resolve_price_ddl.sql"
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def resolve_price_ddl(schema: str = "marts") -> str:
    """The `create or replace function <schema>.resolve_price` statement, rendered from
    the same macro dbt uses (dbt_project/macros/price_book/resolve_price_ddl.sql)."""
    import jinja2

    if not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"schema: expected a lower-case SQL name, found {schema!r}")
    text = (dbt_project_dir() / RESOLVE_PRICE_MACROS).read_text(encoding="utf-8")
    module = jinja2.Environment(extensions=["jinja2.ext.do"]).from_string(text).module
    return str(module.pt2qe_resolve_price_ddl(schema)).strip()


def install_resolve_price(conn, schema: str = "marts") -> None:
    """Create (or replace) `schema`.resolve_price over the price book tables of that
    schema, in the connection's transaction (the caller commits). The tables need not
    exist yet: the body is checked when the function is called."""
    conn.execute("set local check_function_bodies = off")
    conn.execute(resolve_price_ddl(schema))
