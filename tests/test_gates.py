"""The GX gates as people meet them: the message of a failed gate (values as a person
writes them, never a Python repr) and the Data Docs (offline pages, one index across
the gates, readable names, a small folder), on the real warehouse, real GX and a real
browser with the network cut off."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import hand_world
import pytest
from pt2qe.plain import plain

PT2QE = str(Path(sys.executable).parent / "pt2qe")
REPRS = re.compile(r"Decimal\(|datetime\.|Timestamp\(|\bNone\b|\bnan\b|PosixPath\(|\{'|\('")


def test_plain_values_read_as_a_person_writes_them():
    assert plain(Decimal("-4.3533")) == "-4.3533"
    assert plain(Decimal("15.5000")) == "15.5"
    assert plain(Decimal("100")) == "100"
    assert plain(Decimal("1E+2")) == "100"
    assert plain(Decimal("-0.000")) == "0"
    assert plain(0.0) == "0"
    assert plain(1e-05) == "0.00001"
    assert plain(0.1 + 0.2) == "0.30000000000000004"  # what the float is, not rounded away
    assert plain(float("nan")) == "NULL"
    assert plain(7) == "7"
    assert plain(True) == "true"
    assert plain(None) == "NULL"
    assert plain("") == "(empty)"
    assert plain("RCI PI GI") == "RCI PI GI"
    assert plain(dt.date(2025, 2, 3)) == "2025-02-03"
    assert plain(dt.datetime(2025, 2, 3, 10, 5, 0)) == "2025-02-03 10:05:00"
    assert plain(["a", Decimal("2.50"), None]) == "[a, 2.5, NULL]"
    import pandas as pd

    assert plain(pd.NaT) == "NULL"
    assert plain(pd.Timestamp("2025-02-03")) == "2025-02-03 00:00:00"


def _suite(folder: Path, name: str, expectations: list[dict], key: list[str] | None = None) -> Path:
    path = folder / f"{name}.json"
    meta = {"key": key, "notes": f"Checks of the {name} written by hand."} if key else {}
    path.write_text(
        json.dumps({"name": name, "expectations": expectations, "meta": meta}), encoding="utf-8"
    )
    return path


@pytest.fixture()
def offers_table(pg):
    """A table of three offers by hand: one negative price, one NULL price, one past date."""
    pg.execute("drop schema if exists gate_test cascade")
    pg.execute("create schema gate_test")
    pg.execute(
        "create table gate_test.offers (id_cnd text, prix_tarif_actuel numeric(12, 4), dt_fin date, univers text)"
    )
    pg.execute(
        "insert into gate_test.offers values ('O01', 15.5, '2025-09-30', 'ZOOM1'),"
        " ('O17', -4.3533, '2025-02-03', 'ZOOM1'), ('O18', null, '2025-12-31', 'ZOOM9')"
    )
    pg.commit()
    yield "gate_test", "offers"
    pg.execute("drop schema gate_test cascade")
    pg.commit()


OFFERS_SUITE = [
    {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "prix_tarif_actuel", "min_value": 0, "strict_min": True},
    },
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "prix_tarif_actuel"}},
    {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": "dt_fin", "min_value": "${as_of}"},
    },
    {
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "univers", "value_set": ["ZOOM1", "ZOOM2"]},
    },
    {
        "type": "unexpected_rows_expectation",
        "kwargs": {
            "description": "no negative price",
            "unexpected_rows_query": "select id_cnd, prix_tarif_actuel, dt_fin from {batch} where prix_tarif_actuel < 0",
        },
    },
    {"type": "expect_table_row_count_to_equal", "kwargs": {"value": 4}},
]


@pytest.mark.warehouse
def test_a_failed_gate_shows_values_as_a_person_writes_them(offers_table, warehouse, tmp_path):
    from pt2qe.gates import GateError, Target, gx_url, run_gate

    schema, table = offers_table
    suite = _suite(tmp_path, "offers", OFFERS_SUITE, key=["id_cnd"])
    target = Target(suite, schema, table, params={"as_of": "2025-07-15"})
    with pytest.raises(GateError) as failed:
        run_gate(
            "source",
            [target],
            gx_url(warehouse.url),
            tmp_path / "quality",
            run_id="manual__2025-07-15",
        )
    lines = str(failed.value).splitlines()
    where = "  - gate_test.offers [suite source/offers.json]: "
    assert lines[:7] == [
        "GX gate 'source' failed (6 expectation(s)):",
        where
        + "expect_column_values_to_be_between(column=prix_tarif_actuel, min_value=0, strict_min=true): "
        "1 unexpected; e.g. ID_CND=O17, PRIX_TARIF_ACTUEL=-4.3533",
        where
        + "expect_column_values_to_not_be_null(column=prix_tarif_actuel): 1 unexpected; e.g. ID_CND=O18, PRIX_TARIF_ACTUEL=NULL",
        where
        + "expect_column_values_to_be_between(column=dt_fin, min_value=2025-07-15): 1 unexpected; e.g. ID_CND=O17, DT_FIN=2025-02-03",
        where
        + "expect_column_values_to_be_in_set(column=univers, value_set=[ZOOM1, ZOOM2]): 1 unexpected; e.g. ID_CND=O18, UNIVERS=ZOOM9",
        where
        + "no negative price: 1 unexpected; e.g. ID_CND=O17, PRIX_TARIF_ACTUEL=-4.3533, DT_FIN=2025-02-03",
        where + "expect_table_row_count_to_equal(value=4): observed 3",
    ]
    assert lines[7] == f"  validation results and Data Docs: {tmp_path / 'quality' / 'index.html'}"
    assert not REPRS.search(str(failed.value)), str(failed.value)


def test_a_file_gate_names_the_lines_of_the_file(tmp_path):
    import pandas as pd
    from pt2qe.gates import GateError, Target, run_gate

    suite = _suite(
        tmp_path,
        "caps",
        [
            {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "TYPE_CLIENT"}},
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "CAPPING_HIGH", "min_value": 0, "max_value": 1},
            },
        ],
    )
    frame = pd.DataFrame(
        {"TYPE_CLIENT": ["RCI PI GI", "RCA", "RCA"], "CAPPING_HIGH": [0.025, 1.5, 0.05]},
        index=[2, 3, 5],
    )
    with pytest.raises(GateError) as failed:
        run_gate(
            "inputs",
            [Target(suite, dataframe=frame, label="inputs/capping_type_client.csv")],
            None,
            tmp_path / "q",
        )
    assert str(failed.value).splitlines()[1:3] == [
        "  - inputs/capping_type_client.csv [suite inputs/caps.json]: expect_column_values_to_be_unique(column=TYPE_CLIENT): 2 unexpected; e.g. line 3; line 5",
        "  - inputs/capping_type_client.csv [suite inputs/caps.json]: expect_column_values_to_be_between(column=CAPPING_HIGH, min_value=0, max_value=1): 1 unexpected; e.g. line 3",
    ]


# --------------------------------------------------------------------------- Data Docs


def open_offline(browser, page_path: Path):
    """A page opened from disk with every request that is not file:// refused (and kept,
    to prove none was even attempted)."""
    context = browser.new_context()
    attempted: list[str] = []

    def guard(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            attempted.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("request", lambda r: None if r.url.startswith("file://") else attempted.append(r.url))
    page.goto(page_path.as_uri())
    return context, page, attempted


def index_rows(page) -> list[tuple[str, str, str, str, str, str]]:
    """(gate, table or file, evaluated, passed, failed, state) of each row of the index."""
    rows = page.locator("#validations tbody tr")
    return [
        tuple(rows.nth(i).locator("td").nth(c).inner_text().strip() for c in (0, 1, 3, 4, 5, 6))
        for i in range(rows.count())
    ]


@pytest.mark.warehouse
def test_data_docs_open_offline_with_one_index_across_the_gates(
    offers_table, warehouse, tmp_path, browser
):
    import pandas as pd
    from pt2qe.gates import GateError, Target, gx_url, run_gate

    url, quality = gx_url(warehouse.url), tmp_path / "quality"
    caps = _suite(
        tmp_path,
        "caps",
        [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "TYPE_CLIENT"}}],
    )
    run_gate(
        "inputs",
        [
            Target(
                caps,
                dataframe=pd.DataFrame({"TYPE_CLIENT": ["RCA"]}, index=[2]),
                label="capping_type_client.csv",
            )
        ],
        None,
        quality,
        run_id="manual__2025-07-15",
    )
    offers = _suite(tmp_path, "offers", OFFERS_SUITE, key=["id_cnd"])
    count = _suite(
        tmp_path,
        "count",
        [{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}],
    )
    with pytest.raises(GateError):
        run_gate(
            "source",
            [
                Target(offers, "gate_test", "offers", params={"as_of": "2025-07-15"}),
                Target(count, "gate_test", "offers"),
            ],
            url,
            quality,
            run_id="manual__2025-07-15",
        )
    # one suite for two tables (as the exports gate does for every file): two pages
    exported = _suite(
        tmp_path,
        "exports",
        [{"type": "expect_table_row_count_to_equal", "kwargs": {"value": "${rows}"}}],
    )
    run_gate(
        "exports",
        [
            Target(
                exported,
                "gate_test",
                "offers",
                label="gate_test.offers → a.csv",
                params={"rows": 3},
            ),
            Target(
                exported,
                "gate_test",
                "offers",
                label="gate_test.offers → b.csv",
                params={"rows": 3},
            ),
        ],
        url,
        quality,
        run_id="manual__2025-07-15",
    )

    context, page, attempted = open_offline(browser, quality / "index.html")
    assert page.locator("h1").inner_text() == "Quality gates — run manual__2025-07-15"
    assert index_rows(page) == [
        ("inputs", "capping_type_client.csv", "1", "1", "0", "passed"),
        ("source", "gate_test.offers", "6", "0", "6", "failed"),
        ("source", "gate_test.offers", "1", "1", "0", "passed"),
        ("exports", "gate_test.offers → a.csv", "1", "1", "0", "passed"),
        ("exports", "gate_test.offers → b.csv", "1", "1", "0", "passed"),
    ]
    # the styles are there, offline: a failed state is red on pink
    failed_state = page.locator("#validations .state.failed").first
    assert failed_state.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(251, 224, 224)"
    links = page.locator("#validations a")
    pages = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(set(pages)) == 5

    page.locator("#validations a", has_text="gate_test.offers").first.click()
    assert page.locator("h1").inner_text() == "gate_test.offers"
    assert (
        "gate source" in page.locator("p.meta").inner_text()
        and "run manual__2025-07-15" in page.locator("p.meta").inner_text()
    )
    cards = page.locator(".card")
    assert page.locator("p.note").first.inner_text() == "Checks of the offers written by hand."
    assert cards.count() == 6
    negative = cards.nth(0)
    assert "column=prix_tarif_actuel, min_value=0, strict_min=true" in negative.inner_text()
    assert negative.locator("th").all_inner_texts() == ["ID_CND", "PRIX_TARIF_ACTUEL"]
    assert negative.locator("tbody td").all_inner_texts() == ["O17", "-4.3533"]
    assert cards.nth(1).locator("tbody td").all_inner_texts() == ["O18", "NULL"]
    assert "no negative price" in cards.nth(4).inner_text()
    assert cards.nth(4).locator("tbody td").all_inner_texts() == ["O17", "-4.3533", "2025-02-03"]
    assert "observed 3" in cards.nth(5).inner_text()
    assert not REPRS.search(page.locator("body").inner_text())
    page.locator("a", has_text="all gates of run").click()
    assert page.url == (quality / "index.html").as_uri()
    context.close()
    assert attempted == []


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _no_generated_names(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for name in ("t_0", "df_0", "v_0", "c_0", "__none__"):
                assert f'"{name}"' not in text and f"/{name}/" not in text, (path, name)
            if path.suffix == ".html":
                assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), path


@pytest.mark.e2e
def test_a_run_publishes_its_data_docs_and_a_failed_run_keeps_them(tmp_path, warehouse, browser):
    """The real DAG through the CLI: the run folder holds quality/index.html listing every
    gate's validations; a run refused by the source gate keeps its pages, which show the
    failed expectation and the offending row."""
    source = hand_world.write_world(tmp_path / "source")
    caps = hand_world.write_capping(tmp_path / "capping_type_client.csv")
    out = tmp_path / "outputs"
    common = ["--as-of", hand_world.AS_OF, "--capping-file", str(caps), "--output-folder", str(out)]
    proc = subprocess.run(
        [PT2QE, "run", str(source), *common], capture_output=True, text=True, timeout=1800
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = out.glob("run_*")
    quality = run / "quality"
    assert _folder_bytes(quality) <= 2_000_000
    _no_generated_names(quality)

    context, page, attempted = open_offline(browser, quality / "index.html")
    rows = index_rows(page)
    tables = [
        "sys_md_calendrier_sysco",
        "sys_md_client",
        "sys_md_article",
        "sys_md_condition",
        "sys_tarif_simulation",
        "sys_md_origine_prix",
        "sys_facture_ligne",
        "pt0ce_type_client_mapping",
        "pt0ce_type_restaurant_mapping",
        "pt1ce_optimal_zoom1",
    ]
    files = [
        "recommendations_detail",
        "statistics_by_dimension",
        "impact_analysis",
        "price_increase_distribution",
        "decision_path_analysis",
        "capping_distribution",
        ("capping_cubes", "capping_cubes_generated"),
        "price_registry_anomalies",
        "price_suggestions",
    ]
    expected = [
        ("inputs", rows[0][1]),
        *(("source", f"raw__next.{t}") for t in tables),
        ("recommendations", "marts_next.recommendations"),
        ("recommendations", "intermediate.int_price_offers"),
        *(
            (
                "exports",
                f"marts_next.{f[0]} → {f[1]}.csv"
                if isinstance(f, tuple)
                else f"marts_next.{f} → {f}.csv",
            )
            for f in files
        ),
    ]
    assert rows[0][1].endswith("capping_type_client.csv")
    assert [(r[0], r[1].replace("\n", " ")) for r in rows] == expected
    assert {r[5] for r in rows} == {"passed"} and all(
        int(r[2]) >= 1 and r[2] == r[3] and r[4] == "0" for r in rows
    )
    links = page.locator("#validations a")
    for i in range(links.count()):
        target = (quality / links.nth(i).get_attribute("href")).resolve()
        assert target.is_file() and target.is_relative_to(quality.resolve())
    page.locator("#validations a", has_text="raw__next.sys_tarif_simulation").click()
    assert page.locator("h1").inner_text() == "raw__next.sys_tarif_simulation"
    assert (
        page.locator("#expectations tbody tr").count() == 2 and page.locator(".card").count() == 0
    )
    context.close()

    # a negative price: the source gate refuses the run; its Data Docs stay in the state folder
    prices = source / "SYS_TARIF_SIMULATION.csv"
    with open(prices, encoding="utf-8", newline="") as fh:
        table = list(csv.reader(fh))
    column = table[0].index("PRIX_TARIF_ACTUEL")
    (o05,) = [r for r in table[1:] if r[0] == "O05"]
    o05[column] = "-3.25"
    with open(prices, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(table)
    proc = subprocess.run(
        [PT2QE, "run", str(source), *common], capture_output=True, text=True, timeout=1800
    )
    assert proc.returncode != 0
    assert "ID_CND=O05, PRIX_TARIF_ACTUEL=-3.25" in proc.stderr, proc.stderr
    assert not REPRS.search(proc.stderr.split("GX gate", 1)[1]), proc.stderr
    index = Path(
        re.search(r"validation results and Data Docs: (\S+index\.html)", proc.stderr).group(1)
    )
    assert sorted(out.iterdir()) == [run]
    context, page, attempted_failed = open_offline(browser, index)
    rows = index_rows(page)
    assert [r[0] for r in rows] == ["inputs"] + ["source"] * 10
    assert [r[1] for r in rows if r[5] == "failed"] == ["raw__next.sys_tarif_simulation"]
    page.locator("#validations a", has_text="raw__next.sys_tarif_simulation").click()
    card = page.locator(".card")
    assert card.count() == 1
    assert (
        "expect_column_values_to_be_between" in card.inner_text()
        and "column=prix_tarif_actuel" in card.inner_text()
    )
    assert card.locator("tbody td").all_inner_texts() == ["O05", "-3.25"]
    context.close()
    assert attempted == [] and attempted_failed == []
