"""The price book (PRICE_BOOK_RULES.md).

1. The pricing team's price lists: what French Excel writes is read; anything else is
   refused with the file, line, column and what was expected, and changes nothing.
2. marts.resolve_price on a hand-written price book: customer > group > channel > base,
   quantity tiers and their boundaries, validity windows and their edges, expired and
   inactive lists and items, equal priorities, no price. Every expected value is worked
   out by hand in the comments.
3. A final run's price book on a scratch database, with dbt: publication of the final
   offers as PT2QE_<as_of>, held offers, packs, effective prices, re-publication that
   changes nothing, and the history of a changed price.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pt2qe.config import CsvDialect
from pt2qe.frenchcsv import InputFileError
from pt2qe.paths import dbt_project_dir, project_root
from pt2qe.pricebook import (
    PriceBookInputs,
    install_resolve_price,
    load_price_lists,
    read_price_lists,
    resolve_price_ddl,
)

EXCEL = CsvDialect(separator=";", decimal=",", encoding="cp1252")
UTF8 = CsvDialect(separator=";", decimal=",", encoding="utf-8-sig")

LISTS_HEADER = b"CODE;NAME;LIST_TYPE;PRIORITY;CURRENCY;VALID_FROM;VALID_UNTIL;IS_ACTIVE\r\n"
ITEMS_HEADER = (
    b"PRICE_LIST_CODE;ID_ART;ID_CLN;CUSTOMER_GROUP;CHANNEL;PRICE_HT;COST_PRICE;MIN_QUANTITY;MAX_QUANTITY;"
    b"VALID_FROM;VALID_UNTIL;IS_ACTIVE\r\n"
)
LISTS = (
    LISTS_HEADER
    + b"BASE;Catalogue;base;100;EUR;2025-01-01;2025-12-31;1\r\n"
    + b"WEB;Vente en ligne;channel;;;;;\r\n"
    + b"RCI;Groupe RCI;group;10;EUR;;;0\r\n"
    + b"VIP;Client VIP;customer;5;USD;;;1\r\n"
)
ITEMS = (
    ITEMS_HEADER
    + b"BASE;A1;;;;12,50;7,10;1;9;;;1\r\n"
    + b"BASE;A1;;;;11,90;;10;;;;\r\n"
    + b"WEB;A1;;;WEB;12;;;;2025-11-01;2025-11-30;1\r\n"
    + b"RCI;A1;;RCI;;11,5;;1;;;;0\r\n"
    + b"VIP;A1;K1;;;10,123456;;1;;;;1\r\n"
)


def folder_with(tmp_path: Path, lists: bytes | None = LISTS, items: bytes | None = ITEMS) -> Path:
    folder = tmp_path / "price_lists"
    folder.mkdir(exist_ok=True)
    if lists is not None:
        (folder / "price_lists.csv").write_bytes(lists)
    if items is not None:
        (folder / "price_list_items.csv").write_bytes(items)
    return folder


def refused(
    tmp_path: Path, lists: bytes | None = LISTS, items: bytes | None = ITEMS, dialect=EXCEL
) -> InputFileError:
    folder = folder_with(tmp_path, lists, items)
    with pytest.raises(InputFileError) as info:
        read_price_lists(folder, dialect)
    return info.value


# --------------------------------------------------------------------------- 1. inputs


def test_team_lists_are_read_with_their_defaults(tmp_path):
    book = read_price_lists(folder_with(tmp_path), EXCEL)
    base, web, rci, vip = book.lists
    assert (base.code, base.list_type, base.priority, base.currency) == ("BASE", "base", 100, "EUR")
    assert (base.valid_from, base.valid_until, base.is_active) == (
        date(2025, 1, 1),
        date(2025, 12, 31),
        True,
    )
    # empty PRIORITY = 100, empty CURRENCY = EUR, empty IS_ACTIVE = active
    assert (web.priority, web.currency, web.is_active, web.valid_from) == (100, "EUR", True, None)
    assert (rci.priority, rci.is_active) == (10, False)
    assert (vip.list_type, vip.currency) == ("customer", "USD")
    tier1, tier2, web_item, rci_item, vip_item = book.items
    assert (tier1.price_ht, tier1.cost_price, tier1.min_quantity, tier1.max_quantity) == (
        Decimal("12.50"),
        Decimal("7.10"),
        1,
        9,
    )
    # empty MIN_QUANTITY = 1 would be the default; here 10, MAX empty = no limit, IS_ACTIVE empty = 1
    assert (
        tier2.price_ht,
        tier2.cost_price,
        tier2.min_quantity,
        tier2.max_quantity,
        tier2.is_active,
    ) == (Decimal("11.90"), None, 10, None, True)
    assert (web_item.channel, web_item.min_quantity, web_item.valid_from, web_item.valid_until) == (
        "WEB",
        1,
        date(2025, 11, 1),
        date(2025, 11, 30),
    )
    assert (rci_item.customer_group, rci_item.is_active) == ("RCI", False)
    assert (vip_item.id_cln, vip_item.price_ht) == (
        "K1",
        Decimal("10.123456"),
    )  # exact, never a float


def test_the_folder_and_its_files_are_optional(tmp_path):
    assert read_price_lists(tmp_path / "nowhere", EXCEL) == PriceBookInputs()
    only_lists = read_price_lists(folder_with(tmp_path, LISTS, None), EXCEL)
    assert len(only_lists.lists) == 4 and only_lists.items == ()


def test_shipped_files_hold_no_list_and_the_example_is_valid():
    shipped = read_price_lists(project_root() / "inputs" / "price_lists", EXCEL)
    assert shipped.lists == () and shipped.items == () and len(shipped.files) == 2
    example = read_price_lists(project_root() / "inputs" / "price_lists" / "example", EXCEL)
    assert [pl.code for pl in example.lists] == [
        "CATALOGUE_2025",
        "PROMO_NOEL_2025",
        "WEB_2025",
        "RCI_2025",
    ]
    assert example.lists[1].name == "Promotion de Noël 2025"  # cp1252 accents survive
    assert len(example.items) == 10


def test_trailing_empty_lines_and_a_byte_order_mark_are_accepted(tmp_path):
    book = read_price_lists(
        folder_with(tmp_path, b"\xef\xbb\xbf" + LISTS + b";;;;;;;\r\n\r\n", ITEMS + b"\r\n;;;\r\n"),
        EXCEL,
    )
    assert len(book.lists) == 4 and len(book.items) == 5


def test_accents_survive_in_utf8_when_configured(tmp_path):
    lists = LISTS_HEADER + "BASE;Catalogue été;base;;;;;\r\n".encode()
    book = read_price_lists(folder_with(tmp_path, lists, ITEMS_HEADER), UTF8)
    assert book.lists[0].name == "Catalogue été"


# fmt: off
BAD_FILES = [
    # case, price_lists.csv, price_list_items.csv, file, line, column, words of the message
    ("empty lists file", b"", ITEMS, "price_lists.csv", 1, None, "an empty file"),
    ("empty items file", LISTS, b"", "price_list_items.csv", 1, None, "an empty file"),
    ("missing column", b"CODE;NAME;LIST_TYPE;PRIORITY;CURRENCY;VALID_FROM;VALID_UNTIL\r\nBASE;B;base;;;;\r\n",
     None, "price_lists.csv", 1, "IS_ACTIVE", "without IS_ACTIVE"),
    ("comma-separated file", LISTS.replace(b";", b","), None, "price_lists.csv", 1, None, "looks separated by ','"),
    ("dot as decimal mark", LISTS, ITEMS_HEADER + b"BASE;A1;;;;12.50;;;;;;\r\n",
     "price_list_items.csv", 2, "PRICE_HT", "'.' is not the decimal mark"),
    ("text in a price", LISTS, ITEMS_HEADER + b"BASE;A1;;;;douze;;;;;;\r\n", "price_list_items.csv", 2, "PRICE_HT", "not a number"),
    ("negative price", LISTS, ITEMS_HEADER + b"BASE;A1;;;;-1,5;;;;;;\r\n", "price_list_items.csv", 2, "PRICE_HT", "negative"),
    ("zero price", LISTS, ITEMS_HEADER + b"BASE;A1;;;;0;;;;;;\r\n", "price_list_items.csv", 2, "PRICE_HT", "a price above 0"),
    ("negative cost", LISTS, ITEMS_HEADER + b"BASE;A1;;;;1;-2;;;;;\r\n", "price_list_items.csv", 2, "COST_PRICE", "negative"),
    ("MIN above MAX", LISTS, ITEMS_HEADER + b"BASE;A1;;;;1;;10;9;;;\r\n",
     "price_list_items.csv", 2, "MAX_QUANTITY", "at least MIN_QUANTITY (10)"),
    ("MIN of 0", LISTS, ITEMS_HEADER + b"BASE;A1;;;;1;;0;;;;\r\n", "price_list_items.csv", 2, "MIN_QUANTITY", "below 1"),
    ("decimal quantity", LISTS, ITEMS_HEADER + b"BASE;A1;;;;1;;1,5;;;;\r\n",
     "price_list_items.csv", 2, "MIN_QUANTITY", "not a whole number"),
    ("unknown list code", LISTS, ITEMS_HEADER + b"BASE;A1;;;;1;;;;;;\r\nBASSE;A1;;;;1;;;;;;\r\n",
     "price_list_items.csv", 3, "PRICE_LIST_CODE", "'BASSE' (unknown list)"),
    ("duplicate item key", LISTS,
     ITEMS_HEADER + b"BASE;A1;;;;1;;;;;;\r\nBASE;A2;;;;1;;;;;;\r\nBASE;A1;;;;2;;1;5;;;\r\n",
     "price_list_items.csv", 4, "PRICE_LIST_CODE;ID_ART;ID_CLN;CUSTOMER_GROUP;CHANNEL;MIN_QUANTITY", "line 4 repeats line 2"),
    ("duplicate list code", LISTS_HEADER + b"BASE;B;base;;;;;\r\nWEB;W;channel;;;;;\r\nBASE;B2;base;;;;;\r\n",
     None, "price_lists.csv", 4, "CODE", "'BASE' again (already on line 2)"),
    ("unknown list type", LISTS_HEADER + b"BASE;B;promo;;;;;\r\n",
     None, "price_lists.csv", 2, "LIST_TYPE", "one of base, channel, group, customer"),
    ("reserved code", LISTS_HEADER + b"PT2QE_2025-11-17;B;customer;;;;;\r\n", None, "price_lists.csv", 2, "CODE", "reserved"),
    ("date written the French way", LISTS_HEADER + b"BASE;B;base;;;17/11/2025;;\r\n",
     None, "price_lists.csv", 2, "VALID_FROM", "YYYY-MM-DD"),
    ("no such day", LISTS_HEADER + b"BASE;B;base;;;2025-02-30;;\r\n", None, "price_lists.csv", 2, "VALID_FROM", "no such day"),
    ("end before start", LISTS_HEADER + b"BASE;B;base;;;2025-12-01;2025-11-30;\r\n",
     None, "price_lists.csv", 2, "VALID_UNTIL", "on or after VALID_FROM (2025-12-01)"),
    ("IS_ACTIVE oui", LISTS_HEADER + b"BASE;B;base;;;;;oui\r\n", None, "price_lists.csv", 2, "IS_ACTIVE", "1 (active), 0 (inactive)"),
    ("bad currency", LISTS_HEADER + b"BASE;B;base;;euro;;;\r\n", None, "price_lists.csv", 2, "CURRENCY", "3-letter"),
    ("text priority", LISTS_HEADER + b"BASE;B;base;haute;;;;\r\n", None, "price_lists.csv", 2, "PRIORITY", "not a whole number"),
    ("base item for a customer", LISTS, ITEMS_HEADER + b"BASE;A1;K1;;;1;;;;;;\r\n",
     "price_list_items.csv", 2, "ID_CLN", "BASE is a base list"),
    ("customer item without customer", LISTS, ITEMS_HEADER + b"VIP;A1;;;;1;;;;;;\r\n",
     "price_list_items.csv", 2, "ID_CLN", "an empty value"),
    ("group item with a channel", LISTS, ITEMS_HEADER + b"RCI;A1;;RCI;WEB;1;;;;;;\r\n",
     "price_list_items.csv", 2, "CHANNEL", "RCI is a group list"),
    ("items without their lists", None, ITEMS, "price_list_items.csv", 2, "PRICE_LIST_CODE", "unknown list"),
    ("UTF-8 file where cp1252 is configured", LISTS_HEADER + "BASE;Catalogue été;base;;;;;\r\n".encode(),
     None, "price_lists.csv", 2, None, "looks UTF-8"),
]
# fmt: on


@pytest.mark.parametrize(
    ("case", "lists", "items", "file", "line", "column", "words"),
    BAD_FILES,
    ids=[c[0] for c in BAD_FILES],
)
def test_bad_price_list_files_are_refused(tmp_path, case, lists, items, file, line, column, words):
    error = refused(tmp_path, lists, items)
    assert error.file.endswith(file), case
    assert (error.line, error.column) == (line, column), (case, str(error))
    assert words in str(error), (case, str(error))
    assert str(error).startswith(error.file), case


def test_a_cp1252_file_where_utf8_is_configured_is_refused(tmp_path):
    error = refused(
        tmp_path,
        LISTS_HEADER + "BASE;Catalogue été;base;;;;;\r\n".encode("cp1252"),
        None,
        dialect=UTF8,
    )
    assert error.line == 2 and "the byte 0xE9" in str(error) and "cp1252" in str(error)


# --------------------------------------------------------------------------- loading


@pytest.fixture()
def scratch(pg):
    """A scratch schema of the test warehouse, dropped afterwards."""
    name = f"pb_test_{uuid.uuid4().hex[:8]}"
    pg.execute(f"create schema {name}")
    pg.commit()
    yield name
    pg.rollback()
    pg.execute(f"drop schema if exists {name} cascade")
    pg.commit()


@pytest.mark.warehouse
def test_lists_load_exactly_and_a_refused_file_changes_nothing(tmp_path, pg, scratch):
    book = read_price_lists(folder_with(tmp_path), EXCEL)
    assert load_price_lists(pg, book, schema=scratch) == (4, 5)
    before = pg.execute(
        f"select * from {scratch}.price_list_items order by price_list_code, id_art, min_quantity"
    ).fetchall()
    assert before[0] == (
        "BASE",
        "A1",
        None,
        None,
        None,
        Decimal("12.50"),
        Decimal("7.10"),
        1,
        9,
        None,
        None,
        True,
    )
    assert pg.execute(
        f"select price_ht from {scratch}.price_list_items where id_cln = 'K1'"
    ).fetchone() == (Decimal("10.123456"),)
    # a bad file is refused while reading, before any table is touched
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "price_lists.csv").write_bytes(LISTS)
    (bad / "price_list_items.csv").write_bytes(ITEMS + b"BASE;A9;;;;-3;;;;;;\r\n")
    with pytest.raises(InputFileError):
        load_price_lists(pg, read_price_lists(bad, EXCEL), schema=scratch)
    after = pg.execute(
        f"select * from {scratch}.price_list_items order by price_list_code, id_art, min_quantity"
    ).fetchall()
    assert after == before
    # no list at all: both tables still exist, empty
    assert load_price_lists(pg, PriceBookInputs(), schema=scratch) == (0, 0)
    assert pg.execute(f"select count(*) from {scratch}.price_lists").fetchone() == (0,)


# --------------------------------------------------------------------------- 2. resolve_price

# The hand-written price book (reference date 2025-11-17). Customers: K1 and K4 in group
# GA, K2 in group GB, K3 without a group.
# fmt: off
RESOLUTION_LISTS = [
    # code, type, priority, currency, valid_from, valid_until, is_active
    ("BASE", "base", 100, "EUR", None, None, True),
    ("AAA_OLD_BASE", "base", 100, "EUR", None, "2025-06-30", True),  # expired; sorts before BASE
    ("BASE_PROMO", "base", 50, "EUR", "2025-11-01", "2025-11-30", True),
    ("CH_WEB", "channel", 100, "EUR", None, None, True),
    ("CH_WEB2", "channel", 100, "EUR", None, None, True),  # ties with CH_WEB
    ("GRP_A", "group", 100, "EUR", None, None, True),
    ("CUST", "customer", 100, "EUR", None, None, True),
    ("CUST_INACTIVE", "customer", 10, "EUR", None, None, False),
    ("CUST_USD", "customer", 100, "USD", None, None, True),
]
RESOLUTION_ITEMS = [
    # list, article, customer, group, channel, price, min, max, valid_from, valid_until, active
    ("BASE", "A1", None, None, None, "10.00", 1, 9, None, None, True),
    ("BASE", "A1", None, None, None, "9.00", 10, 49, None, None, True),
    ("BASE", "A1", None, None, None, "8.00", 50, None, None, None, True),
    ("AAA_OLD_BASE", "A1", None, None, None, "5.00", 1, None, None, None, True),
    ("CH_WEB", "A1", None, None, "WEB", "9.50", 1, 99, None, None, True),
    ("CH_WEB", "A1", None, None, "WEB", "9.00", 100, 199, None, None, True),
    ("CH_WEB2", "A1", None, None, "WEB", "9.40", 1, None, None, None, True),
    ("GRP_A", "A1", None, "GA", None, "9.20", 1, 20, None, None, True),
    ("CUST", "A1", "K1", None, None, "8.80", 1, 10, None, None, True),
    ("CUST", "A1", "K1", None, None, "8.50", 11, 20, None, None, True),
    ("CUST_INACTIVE", "A1", "K1", None, None, "1.00", 1, None, None, None, True),
    ("CUST", "A1", "K2", None, None, "7.00", 1, None, None, None, False),  # inactive item
    ("BASE", "A2", None, None, None, "20.00", 1, None, "2025-11-17", "2025-11-30", True),
    ("BASE", "A3", None, None, None, "16.00", 1, None, None, None, True),
    ("BASE_PROMO", "A3", None, None, None, "15.00", 1, None, None, None, True),
    ("CUST", "A5", "K1", None, None, "3.00", 5, None, None, None, True),
    ("CUST_USD", "A5", "K4", None, None, "4.00", 1, None, None, None, True),
    ("CUST", "A6", "K1", None, None, "6.00", 1, 5, None, None, True),
]
RESOLUTION_GROUPS = [("K1", "GA"), ("K2", "GB"), ("K3", None), ("K4", "GA")]

D = Decimal
REF = "2025-11-17"
# (case, article, quantity, customer, date, channel) -> (price_ht, original_price,
# discount_rate, price_list_code, price_source, min_quantity, max_quantity, currency)
RESOLUTION_CASES = [
    # customer first: 8.80 against base 10.00 -> 100 x 1.20 / 10 = 12.00; the inactive
    # list CUST_INACTIVE (priority 10, 1.00) is never used
    ("customer beats group, channel, base", "A1", 1, "K1", REF, "WEB",
     (D("8.80"), D("10.00"), D("12.00"), "CUST", "customer", 1, 10, "EUR")),
    # quantity = MAX of the customer tier 1-10: still 8.80; base for 10 is the tier 10-49
    # (MIN = quantity): 9.00 -> 100 x 0.20 / 9 = 2.222 -> 2.22
    ("tier boundary MAX = quantity", "A1", 10, "K1", REF, "WEB",
     (D("8.80"), D("9.00"), D("2.22"), "CUST", "customer", 1, 10, "EUR")),
    # quantity = MIN of the tier 11-20: 8.50; 100 x 0.50 / 9 = 5.555 -> 5.56
    ("tier boundary MIN = quantity", "A1", 11, "K1", REF, "WEB",
     (D("8.50"), D("9.00"), D("5.56"), "CUST", "customer", 11, 20, "EUR")),
    # 21 is above every customer tier (max 20) and the group tier (max 20): channel WEB,
    # where CH_WEB 1-99 (9.50) and CH_WEB2 1+ (9.40) tie on MIN 1 and priority 100: the
    # lowest code CH_WEB wins; base for 21 = 9.00 -> 100 x (9 - 9.5) / 9 = -5.56
    ("above every tier: next level, equal priority", "A1", 21, "K1", REF, "WEB",
     (D("9.50"), D("9.00"), D("-5.56"), "CH_WEB", "channel", 1, 99, "EUR")),
    # same without a channel: base, tier 10-49
    ("above every tier, no channel: base", "A1", 21, "K1", REF, None,
     (D("9.00"), D("9.00"), D("0.00"), "BASE", "base", 10, 49, "EUR")),
    # K4 has no item of its own: its group GA -> 9.20, 100 x 0.80 / 10 = 8.00
    ("group when no customer price", "A1", 1, "K4", REF, None,
     (D("9.20"), D("10.00"), D("8.00"), "GRP_A", "group", 1, 20, "EUR")),
    # K3 has no group: channel, 100 x 0.50 / 10 = 5.00
    ("channel when no customer nor group price", "A1", 1, "K3", REF, "WEB",
     (D("9.50"), D("10.00"), D("5.00"), "CH_WEB", "channel", 1, 99, "EUR")),
    # 150: CH_WEB 100-199 (MIN 100) beats CH_WEB2 1+ (MIN 1): the largest MIN wins;
    # base 50+ = 8.00 -> 100 x (8 - 9) / 8 = -12.50
    ("largest MIN wins within a level", "A1", 150, "K3", REF, "WEB",
     (D("9.00"), D("8.00"), D("-12.50"), "CH_WEB", "channel", 100, 199, "EUR")),
    # K2's own item is inactive and group GB has no list: base
    ("inactive item is skipped", "A1", 1, "K2", REF, None,
     (D("10.00"), D("10.00"), D("0.00"), "BASE", "base", 1, 9, "EUR")),
    # AAA_OLD_BASE (5.00) expired on 2025-06-30: BASE
    ("expired list is skipped", "A1", 1, None, REF, None,
     (D("10.00"), D("10.00"), D("0.00"), "BASE", "base", 1, 9, "EUR")),
    # on 2025-06-30 both base lists apply with MIN 1 and priority 100: the lowest code wins
    ("last day of a list, equal priority", "A1", 1, "K3", "2025-06-30", None,
     (D("5.00"), D("5.00"), D("0.00"), "AAA_OLD_BASE", "base", 1, None, "EUR")),
    # item valid 2025-11-17 .. 2025-11-30, bounds included
    ("first day of an item", "A2", 1, "K3", "2025-11-17", None,
     (D("20.00"), D("20.00"), D("0.00"), "BASE", "base", 1, None, "EUR")),
    ("last day of an item", "A2", 1, "K3", "2025-11-30", None,
     (D("20.00"), D("20.00"), D("0.00"), "BASE", "base", 1, None, "EUR")),
    ("day before an item", "A2", 1, "K3", "2025-11-16", None, None),
    ("day after an item", "A2", 1, "K3", "2025-12-01", None, None),
    # the promo base list (priority 50 < 100) during its window, BASE outside
    ("lower priority number wins", "A3", 1, None, "2025-11-15", None,
     (D("15.00"), D("15.00"), D("0.00"), "BASE_PROMO", "base", 1, None, "EUR")),
    ("last day of the promo list", "A3", 1, None, "2025-11-30", None,
     (D("15.00"), D("15.00"), D("0.00"), "BASE_PROMO", "base", 1, None, "EUR")),
    ("day after the promo list", "A3", 1, None, "2025-12-01", None,
     (D("16.00"), D("16.00"), D("0.00"), "BASE", "base", 1, None, "EUR")),
    ("day before the promo list", "A3", 1, None, "2025-10-31", None,
     (D("16.00"), D("16.00"), D("0.00"), "BASE", "base", 1, None, "EUR")),
    ("no price anywhere", "A4", 1, "K1", REF, "WEB", None),
    ("quantity below every tier", "A5", 1, "K1", REF, None, None),
    ("customer price without base price", "A5", 5, "K1", REF, None,
     (D("3.00"), None, None, "CUST", "customer", 5, None, "EUR")),
    ("currency of the list", "A5", 1, "K4", REF, None,
     (D("4.00"), None, None, "CUST_USD", "customer", 1, None, "USD")),
    ("quantity above every tier, nothing below", "A6", 6, "K1", REF, None, None),
    ("unknown customer", "A1", 1, "K9", REF, None,
     (D("10.00"), D("10.00"), D("0.00"), "BASE", "base", 1, 9, "EUR")),
    ("NULL quantity counts as 1", "A1", None, "K1", REF, None,
     (D("8.80"), D("10.00"), D("12.00"), "CUST", "customer", 1, 10, "EUR")),
]
# fmt: on


@pytest.fixture()
def resolution_book(pg, scratch):
    pg.execute(
        f"""create table {scratch}.price_lists (code text primary key, name text, list_type text, priority integer,
        currency text, includes_tax boolean, valid_from date, valid_until date, is_active boolean, requires_approval boolean)"""
    )
    pg.execute(
        f"""create table {scratch}.price_list_items (price_list_code text, id_art text, id_cln text, customer_group text,
        channel text, price_ht numeric, cost_price numeric, min_quantity integer, max_quantity integer, valid_from date,
        valid_until date, is_active boolean, source_run_id text)"""
    )
    pg.execute(
        f"create table {scratch}.price_book_customer_groups (id_cln text primary key, customer_group text)"
    )
    with pg.cursor() as cur:
        cur.executemany(
            f"insert into {scratch}.price_lists values (%s, %s, %s, %s, %s, false, %s, %s, %s, false)",
            [
                (code, code, kind, prio, cur_, vf, vu, act)
                for code, kind, prio, cur_, vf, vu, act in RESOLUTION_LISTS
            ],
        )
        cur.executemany(
            f"insert into {scratch}.price_list_items values (%s, %s, %s, %s, %s, %s, null, %s, %s, %s, %s, %s, null)",
            RESOLUTION_ITEMS,
        )
        cur.executemany(
            f"insert into {scratch}.price_book_customer_groups values (%s, %s)", RESOLUTION_GROUPS
        )
    install_resolve_price(pg, scratch)
    pg.commit()
    return scratch


@pytest.mark.warehouse
@pytest.mark.parametrize(
    ("case", "article", "quantity", "customer", "on", "channel", "expected"),
    RESOLUTION_CASES,
    ids=[c[0] for c in RESOLUTION_CASES],
)
def test_resolve_price(
    pg, resolution_book, case, article, quantity, customer, on, channel, expected
):
    rows = pg.execute(
        f"select * from {resolution_book}.resolve_price(%s, %s, %s, %s::date, %s)",
        (article, quantity, customer, on, channel),
    ).fetchall()
    assert rows == ([expected] if expected else []), case


@pytest.mark.warehouse
def test_resolve_price_named_arguments_and_defaults(pg, resolution_book):
    s = resolution_book
    named = pg.execute(
        f"select price_ht, price_source from {s}.resolve_price(article => 'A1', quantity => 10, customer => 'K1', date => '{REF}')"
    ).fetchall()
    assert named == [(D("8.80"), "customer")]
    # only the article: quantity 1, no customer, today, no channel -> base (BASE has no dates)
    assert pg.execute(
        f"select price_ht, price_list_code from {s}.resolve_price('A1')"
    ).fetchall() == [(D("10.00"), "BASE")]
    # a set of requests in one query, as the effective-price mart does it
    rows = pg.execute(
        f"""select r.article, p.price_ht from (values ('A1', 'K1'), ('A4', 'K1'), ('A1', 'K4')) as r (article, customer)
        left join lateral {s}.resolve_price(r.article, 1, r.customer, date '{REF}', null) as p on true order by 1, r.customer"""
    ).fetchall()
    assert rows == [("A1", D("8.80")), ("A1", D("9.20")), ("A4", None)]


def test_resolve_price_ddl_is_the_dbt_macro():
    ddl = resolve_price_ddl("marts")
    assert ddl.startswith("create or replace function marts.resolve_price(")
    assert (
        "marts.price_list_items" in ddl
        and "marts.price_book_customer_groups" in ddl
        and "{{" not in ddl
    )
    with pytest.raises(ValueError):
        resolve_price_ddl("marts; drop table x")


# --------------------------------------------------------------------------- 3. a final run's price book

DBT_DB = "pt2qe_pricebook"
AS_OF = "2025-11-17"
# The published recommendations of a corrections run R1 (what final_price_offers reads).
RECOMMENDATION_COLUMNS = (
    "id_cnd",
    "id_cln",
    "id_art",
    "type_client",
    "type_restaurant",
    "geo",
    "univers",
    "dt_deb_condition",
    "dt_fin_condition",
    "prix_tarif_actuel",
    "prix_recommande",
    "pct_hausse_finale",
    "hausse_euros",
    "position_tarif_actuel_dans_anciennes_bornes",
    "palier_tarif_actuel_vs_nouvelles_bornes",
    "position_nouveau_prix_dans_nouvelles_bornes",
    "price_sensitivity",
    "type_hausse",
    "validation_status",
    "new_pas",
    "as_of",
    "run_id",
    "lc_hic_sysco_n1",
    "ca_4q",
)


def recommendation(
    id_cnd,
    id_cln,
    id_art,
    current,
    new,
    status,
    new_pas,
    category="EPICERIE",
    start="2025-01-01",
    end="2026-06-30",
    run="R1",
):
    pct = (D(new) - D(current)) / D(current)
    return (
        id_cnd,
        id_cln,
        id_art,
        "RCI PI GI",
        "TRADITIONNEL",
        "NORD",
        "ZOOM1",
        start,
        end,
        D(current),
        D(new),
        pct,
        D(new) - D(current),
        "PL3",
        "PL3",
        "PL2",
        "HIGH",
        "5-7%",
        status,
        D(new_pas),
        AS_OF,
        run,
        category,
        D(100),
    )


# fmt: off
RECOMMENDATIONS = [
    recommendation("C1", "K1", "T1", "10.00", "10.60", "VALIDE", "7.00"),  # textile, published
    recommendation("C2", "K2", "T1", "10.00", "12.50", "A_VERIFIER", "7.00"),  # held: status
    recommendation("C3", "K1", "F1", "20.00", "19.00", "ANOMALIE", "15.00"),  # held: status
    recommendation("C4", "K2", "F1", "20.00", "21.00", "VALIDE", "15.00", category="FRAIS"),  # fragile, published
    recommendation("C5", "K3", "F1", "20.00", "21.50", "VALIDE", "15.00", category="FRAIS", start="2025-03-01"),
    recommendation("C6", "K3", "F1", "20.00", "22.00", "VALIDE", "15.00", category="FRAIS", start="2025-01-01"),  # duplicate of C5
]
# fmt: on
ARTICLES = [
    # id_art, gtin13, famille
    ("T1", "4006381333931", "textile"),
    ("F1", "3700000000005", "fragile"),  # wrong check digit (6 expected)
    ("N1", None, None),
]
CLIENTS = [("K1", "RCI"), ("K2", "RSI"), ("K3", "RCI")]
TEAM_LISTS = LISTS_HEADER + b"BASE;Catalogue;base;;;;;\r\nGRP_RCI;RCI;group;;;;;\r\n"
TEAM_ITEMS = (
    ITEMS_HEADER
    + b"BASE;T1;;;;11,00;;;;;;\r\n"
    + b"BASE;N1;;;;5,00;;;;;;\r\n"
    + b"GRP_RCI;N1;;RCI;;4,50;;;;;;\r\n"
)


@pytest.fixture(scope="module")
def dbt_book(warehouse, tmp_path_factory):
    """A scratch database with the source tables, hand-written parents (articles,
    customers, published recommendations) and the team's lists; `run(*args)` runs dbt
    on it, `publish()` moves marts_next into marts like a final run's publication."""
    import psycopg

    with warehouse.connect(autocommit=True) as conn:
        conn.execute(f"drop database if exists {DBT_DB} with (force)")
        conn.execute(f"create database {DBT_DB}")
    target = tmp_path_factory.mktemp("dbt_target")
    env = {
        **os.environ,
        **warehouse.dbt_env(),
        "PT2QE_PG_DBNAME": DBT_DB,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    project = dbt_project_dir()
    url = warehouse.url.rsplit("/", 1)[0] + f"/{DBT_DB}"

    def run(*args: str, run_id: str = "F1") -> None:
        dbt_vars = json.dumps(
            {
                "as_of": AS_OF,
                "period_start": "2024-09-30",
                "period_end": "2025-09-28",
                "run_id": run_id,
                "marts_schema": "marts_next",
            }
        )
        cmd = [
            str(Path(sys.executable).parent / "dbt"),
            *args,
            "--vars",
            dbt_vars,
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(target),
        ]
        proc = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=900, cwd=project
        )
        assert proc.returncode == 0, proc.stdout[-5000:]

    def connect():
        return psycopg.connect(url)

    def publish() -> None:
        with connect() as conn, conn.transaction():
            for (name,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'marts_next'"
            ).fetchall():
                conn.execute(f"drop table if exists marts.{name} cascade")
                conn.execute(f"alter table marts_next.{name} set schema marts")

    run("run-operation", "create_source_tables")
    with connect() as conn:
        conn.execute("drop table marts.recommendations")
        types = {"dt_deb_condition": "date", "dt_fin_condition": "date", "as_of": "date"}
        numeric = {
            "prix_tarif_actuel",
            "prix_recommande",
            "pct_hausse_finale",
            "hausse_euros",
            "new_pas",
            "ca_4q",
        }
        columns = ", ".join(
            f"{c} {types.get(c, 'numeric' if c in numeric else 'text')}"
            for c in RECOMMENDATION_COLUMNS
        )
        conn.execute(f"create table marts.recommendations ({columns})")
        with conn.cursor() as cur:
            cur.executemany(
                f"insert into marts.recommendations ({', '.join(RECOMMENDATION_COLUMNS)}) values ({', '.join(['%s'] * len(RECOMMENDATION_COLUMNS))})",
                RECOMMENDATIONS,
            )
            cur.executemany(
                "insert into raw.sys_md_article (id_art, id_gtin13, famille_conditionnement, lc_hic_sysco_n1) values (%s, %s, %s, 'EPICERIE')",
                ARTICLES,
            )
            cur.executemany(
                "insert into raw.sys_md_client (id_cln, id_tc_cg) values (%s, %s)", CLIENTS
            )
        folder = tmp_path_factory.mktemp("inputs") / "price_lists"
        folder.mkdir()
        (folder / "price_lists.csv").write_bytes(TEAM_LISTS)
        (folder / "price_list_items.csv").write_bytes(TEAM_ITEMS)
        load_price_lists(conn, read_price_lists(folder, EXCEL))
        conn.execute("create schema if not exists marts_next")
        conn.commit()
    run("seed", "--select", "pack_scales")
    run("run", "--select", "stg_source__article", "stg_source__client")

    class Book:
        pass

    book = Book()
    book.run, book.connect, book.publish = run, connect, publish
    yield book
    with warehouse.connect(autocommit=True) as conn:
        conn.execute(f"drop database if exists {DBT_DB} with (force)")


def final_run(book, run_id: str) -> None:
    """What a final run does for the price book: build into marts_next, publish, snapshot."""
    book.run(
        "build",
        "--select",
        "final_price_offers",
        "tag:price_book",
        "--exclude",
        "test_type:unit",
        "tag:price_book_history",
        "--indirect-selection",
        "cautious",
        run_id=run_id,
    )
    book.publish()
    book.run("snapshot", "--select", "price_list_items_history", run_id=run_id)


def price_book(conn) -> dict:
    return {
        "lists": conn.execute("select * from marts.price_lists order by code").fetchall(),
        "items": conn.execute(
            "select * from marts.price_list_items order by price_list_code, id_art, id_cln, customer_group"
        ).fetchall(),
        "packs": conn.execute(
            "select * from marts.pack_prices order by price_list_code, id_art, id_cln, pack_units"
        ).fetchall(),
        "effective": conn.execute(
            "select * from marts.effective_prices order by id_cln, id_art"
        ).fetchall(),
        "held": conn.execute(
            "select id_cnd, hold_reason from marts.price_book_held_offers order by id_cnd"
        ).fetchall(),
        "conflicts": conn.execute("select * from marts.price_book_conflicts").fetchall(),
        "history": conn.execute(
            "select item_key, old_price_ht, new_price_ht, run_id, dbt_valid_to from marts.price_list_items_history order by item_key, dbt_valid_from"
        ).fetchall(),
    }


@pytest.mark.warehouse
def test_final_run_publishes_the_price_book_and_republishing_changes_nothing(dbt_book):
    final_run(dbt_book, "F1")
    with dbt_book.connect() as conn:
        first = price_book(conn)
        code = f"PT2QE_{AS_OF}"
        assert [row[0] for row in first["lists"]] == ["BASE", "GRP_RCI", code]
        assert first["lists"][2][1:] == (
            f"PT2QE quote engine prices as of {AS_OF}",
            "customer",
            100,
            "EUR",
            False,
            None,
            None,
            True,
            False,
        )
        # one item per published offer: C1, C4 and C6 (C5 and C6 are both VALIDE for K3 x F1:
        # C5 starts later, 2025-03-01, and wins; C6 is held as a duplicate)
        engine = [row for row in first["items"] if row[0] == code]
        assert engine == [
            (
                code,
                "F1",
                "K2",
                None,
                None,
                D("21.00"),
                D("15.00"),
                1,
                None,
                date(2025, 1, 1),
                date(2026, 6, 30),
                True,
                "R1",
            ),
            (
                code,
                "F1",
                "K3",
                None,
                None,
                D("21.50"),
                D("15.00"),
                1,
                None,
                date(2025, 3, 1),
                date(2026, 6, 30),
                True,
                "R1",
            ),
            (
                code,
                "T1",
                "K1",
                None,
                None,
                D("10.60"),
                D("7.00"),
                1,
                None,
                date(2025, 1, 1),
                date(2026, 6, 30),
                True,
                "R1",
            ),
        ]
        assert first["held"] == [
            ("C2", "VALIDATION_STATUS"),
            ("C3", "VALIDATION_STATUS"),
            ("C6", "DUPLICATE_CUSTOMER_ARTICLE"),
        ]
        # effective prices on the reference date (quantity 1, no channel):
        #   K1 x T1: its own 10.60 against base 11.00 -> 100 x 0.40 / 11 = 3.636 -> 3.64
        #   K2 x T1: C2 is held, no group RSI list -> base 11.00
        #   K1 x F1: C3 is held, no base price for F1 -> no price (NULL row)
        effective = {(r[0], r[1]): r[3:9] for r in first["effective"]}
        assert effective[("K1", "T1")] == (D("10.60"), D("11.00"), D("3.64"), code, "customer", 1)
        assert effective[("K2", "T1")] == (D("11.00"), D("11.00"), D("0.00"), "BASE", "base", 1)
        assert effective[("K1", "F1")] == (None, None, None, None, None, None)
        assert conn.execute(
            "select price_ht, price_source from marts.resolve_price('N1', 1, 'K3', date '2025-11-17')"
        ).fetchall() == [(D("4.50"), "group")]
        # packs of the textile T1: base 11.00 (3 -> 11x3x0.92+0.60 = 30.96) and K1's 10.60
        # (3 -> 29.256+0.60 = 29.856 -> 29.86; 6 -> 54.06+1.20 = 55.26; 12 -> 95.40+2.40 = 97.80)
        packs = {(r[0], r[1], r[2], r[3]): (r[5], r[8], r[9]) for r in first["packs"]}
        assert packs[("BASE", "T1", None, 3)] == (D("30.96"), "14006381333938", True)
        assert packs[(code, "T1", "K1", 3)] == (D("29.86"), "14006381333938", True)
        assert packs[(code, "T1", "K1", 6)] == (D("55.26"), "24006381333935", True)
        assert packs[(code, "T1", "K1", 12)] == (D("97.80"), "34006381333932", True)
        # fragile F1 at 21.00 for K2: 3 -> 59.85+1.50 = 61.35 < 63; bad GTIN-13: no GTIN-14
        assert packs[(code, "F1", "K2", 3)] == (D("61.35"), None, True)
        assert conn.execute(
            "select distinct gtin13_status from marts.pack_prices where id_art = 'F1'"
        ).fetchall() == [("WRONG_CHECK_DIGIT",)]
        # history: one row per item, new to the history; the published offers' old price is
        # their PRIX_TARIF_ACTUEL
        history = {row[0]: row[1:] for row in first["history"]}
        assert history[f"{code}|T1|K1|||1"] == (D("10.00"), D("10.60"), "F1", None)
        assert history["BASE|T1||||1"] == (None, D("11.00"), "F1", None)
        assert len(history) == len(first["items"])

    # the same run published again: nothing changes, the history gains nothing
    final_run(dbt_book, "F2")
    with dbt_book.connect() as conn:
        assert price_book(conn) == first

    # a corrections run R2 recomputes every offer and moves K1 x T1 to 11.20: republished,
    # the history keeps the old price 10.60 and the new one with the publishing run F3
    with dbt_book.connect() as conn:
        conn.execute("update marts.recommendations set run_id = 'R2'")
        conn.execute("update marts.recommendations set prix_recommande = 11.20 where id_cnd = 'C1'")
        conn.commit()
    final_run(dbt_book, "F3")
    with dbt_book.connect() as conn:
        third = price_book(conn)
        key = f"{code}|T1|K1|||1"
        versions = [row[1:4] for row in third["history"] if row[0] == key]
        assert versions == [(D("10.00"), D("10.60"), "F1"), (D("10.60"), D("11.20"), "F3")]
        changed = conn.execute(
            "select old_price_ht, new_price_ht, run_id, source_run_id, category from marts.price_list_items_history where run_id = 'F3' and item_key = %s",
            (key,),
        ).fetchall()
        assert changed == [(D("10.60"), D("11.20"), "F3", "R2", "EPICERIE")]
        # only that price changed: one new history row; every item of the list now comes from R2
        assert len(third["history"]) == len(first["history"]) + 1
        assert {row[12] for row in third["items"] if row[0] == code} == {"R2"}
