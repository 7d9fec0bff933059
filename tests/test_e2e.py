"""End to end on the embedded stack: the real CLI runs the real DAG through Airflow,
dbt builds the models in the embedded PostgreSQL, the exports land in outputs/."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

import hand_world

pytestmark = pytest.mark.e2e
PT2QE = str(Path(sys.executable).parent / "pt2qe")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PT2QE, *args], capture_output=True, text=True, timeout=1800)


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="cp1252", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


@pytest.fixture(scope="module")
def hand_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("hand")
    source = hand_world.write_world(base / "source")
    caps = hand_world.write_capping(base / "capping_type_client.csv")
    out = base / "outputs"
    proc = run_cli("run", str(source), "--as-of", hand_world.AS_OF, "--capping-file", str(caps), "--output-folder", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folders = sorted(out.glob("run_*"))
    assert len(folders) == 1, proc.stdout
    return proc, folders[0]


def test_hand_world_every_offer_to_the_cent(hand_run):
    _proc, folder = hand_run
    rows = {r["ID_CND"]: r for r in read_csv(folder / "recommendations_detail.csv")}
    assert sorted(rows) == sorted(hand_world.EXPECTED)
    for offer, expected in hand_world.EXPECTED.items():
        got = {k: rows[offer][k] for k in expected}
        assert got == expected, offer


def test_hand_world_detail_is_sorted_by_increase_then_keys(hand_run):
    _proc, folder = hand_run
    rows = read_csv(folder / "recommendations_detail.csv")
    keys = [(-float(r["PCT_HAUSSE_FINALE"].replace(",", ".")), r["ID_CLN"], r["ID_ART"], r["ID_CND"]) for r in rows]
    assert keys == sorted(keys)
    assert rows[0]["ID_CND"] == "O17"  # +50 %


def test_hand_world_capping_cubes_and_their_sources(hand_run):
    _proc, folder = hand_run
    rows = read_csv(folder / "capping_cubes_generated.csv")
    assert list(rows[0])[:7] == ["UNIVERS", "TYPE_CLIENT", "TYPE_RESTAURANT", "GEO", "CAPPING_HIGH", "CAPPING_MEDIUM", "CAPPING_LOW"]
    cubes = {(r["TYPE_CLIENT"], r["TYPE_RESTAURANT"], r["GEO"]): r for r in rows}
    assert set(cubes) == {
        ("RCI PI GI", "TRADITIONNEL", "NORD"),
        ("RSI HM", "RESTAURATION_RAPIDE", ""),
        ("RSC HM", "TRADITIONNEL", "SUD"),
        ("NATIONAL", "NATIONAL", ""),
    }
    assert {k: (v["CAPPING_SOURCE"], v["CAPPING_MEDIUM"], v["NB_OFFRES"]) for k, v in cubes.items()} == {
        ("RCI PI GI", "TRADITIONNEL", "NORD"): ("TYPE_CLIENT_FILE", "0,05", "17"),
        ("RSI HM", "RESTAURATION_RAPIDE", ""): ("TYPE_CLIENT_FILE", "0,8", "1"),
        ("RSC HM", "TRADITIONNEL", "SUD"): ("DEFAULT", "0,15", "1"),
        ("NATIONAL", "NATIONAL", ""): ("TYPE_CLIENT_FILE", "0,06", "2"),
    }


def test_hand_world_filters_and_no_match_in_the_warehouse(hand_run, warehouse):
    with warehouse.connect() as conn:
        reasons = dict(conn.execute("select id_cnd, filter_reason from intermediate.int_offers__screened").fetchall())
        matches = dict(conn.execute("select id_cnd, match_type from intermediate.int_price_offers__enriched").fetchall())
    assert {k: reasons[k] for k in hand_world.FILTERED} == {
        "F01": "CONDITION_INVALIDE", "F02": "CONDITION_EXPIREE", "F03": "TYPE_CONDITION", "F04": "SEQUENCE",
        "F05": "CLIENT_AUTRES", "F06": "GAMME_PSN", "F07": "HIERARCHIE_N2", "F08": "PRIX_PROMO",
        "F09": "UNIVERS", "F10": "UNIVERS",
    }
    assert all(reasons[k] is None for k in hand_world.EXPECTED)
    assert matches["O19"] == "NO_MATCH"
    assert len(matches) == len(hand_world.EXPECTED) + len(hand_world.NO_MATCH)


def test_cli_shows_stages_and_outputs(hand_run):
    proc, folder = hand_run
    assert "✓ extract:" in proc.stdout and "✓ export:" in proc.stdout
    assert f"Outputs: {folder}" in proc.stdout


def test_a_run_writes_no_warehouse_password_anywhere(hand_run, warehouse):
    """The CLI's output, the run folder, the state folder (Airflow logs and metadata,
    journals, GX results, the server log) and dbt's folders hold no password."""
    from pt2qe.paths import state_dir
    from pt2qe.warehouse_auth import load_secrets, secrets_path

    proc, folder = hand_run
    passwords = [p.encode() for p in load_secrets().values()]
    assert not [p for p in passwords if p in (proc.stdout + proc.stderr).encode()]
    planted = folder.parent / "planted.txt"  # the scan must find what is there
    planted.write_text(warehouse.url)
    dbt = Path(__file__).resolve().parents[1] / "dbt_project"
    skip = [state_dir() / "pgdata", secrets_path()]
    found, scanned = [], 0
    for top in (folder.parent, state_dir(), dbt / "target", dbt / "logs"):
        for path in sorted(top.rglob("*")) if top.exists() else []:
            if path in skip or any(s in path.parents for s in skip) or not path.is_file():
                continue
            scanned += 1
            data = path.read_bytes()
            found += [path for p in passwords if p in data]
    planted.unlink()
    assert scanned > 50 and found == [planted], found


def test_generated_world_runs_and_dry_run_changes_nothing(tmp_path, warehouse):
    from pt2qe.demo import generate

    source = tmp_path / "source"
    world = generate(source, offers=3000, seed=7)
    out = tmp_path / "outputs"
    dry = run_cli("run", str(source), "--output-folder", str(out), "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "Plan:" in dry.stdout
    assert f"period      {world.period_start} → {world.period_end}" in dry.stdout
    assert not out.exists() or not any(out.iterdir())

    proc = run_cli("run", str(source), "--output-folder", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (folder,) = out.glob("run_*")
    rows = read_csv(folder / "recommendations_detail.csv")
    # the generator knows what it planted: every MASTER and NATIONAL match is recommended
    assert len(rows) == world.expected["match_master"] + world.expected["match_national"]
    assert sum(r["MATCH_TYPE"] == "NATIONAL" for r in rows) == world.expected["match_national"]
    assert {r["DECISION_PATH"] for r in rows} == {"PAS_BAISSE_GEL_PRIX", "PL1_CONSERVATION_PREMIUM", "OPTIMISATION_STANDARD"}
    with warehouse.connect() as conn:
        kept, no_match = conn.execute(
            "select count(*), count(*) filter (where match_type = 'NO_MATCH') from intermediate.int_price_offers__enriched"
        ).fetchone()
    assert (kept, no_match) == (world.expected["kept_offers"], world.expected["match_no_match"])


def _sqlite_copy(folder: Path, path: Path) -> str:
    """The hand world as an SQL source (SQLite, lower-case names like a non-Oracle source)."""
    import sqlite3

    from pt2qe.contract import TABLES

    con = sqlite3.connect(path)
    for t in TABLES:
        with open(folder / f"{t.name}.csv", newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = [h.lower() for h in next(reader)]
            con.execute(f"create table {t.pg_name} ({', '.join(header)})")
            con.executemany(f"insert into {t.pg_name} values ({', '.join('?' * len(header))})", [[v or None for v in r] for r in reader])
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_history_pushed_down_to_an_sql_source_gives_the_same_files(hand_run, tmp_path):
    """extraction.pushdown_aggregation: the source computes the 4-quarter history (the
    Oracle path, here on SQLite) and every recommendation stays the same, to the byte."""
    import json
    import os

    _, folder = hand_run
    url = _sqlite_copy(hand_world.write_world(tmp_path / "files"), tmp_path / "source.db")
    config = json.loads((Path(__file__).resolve().parents[1] / "config" / "pt2qe_config.json").read_text(encoding="utf-8"))
    config["extraction"]["pushdown_aggregation"] = True
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    caps = hand_world.write_capping(tmp_path / "capping_type_client.csv")
    out = tmp_path / "outputs"
    proc = subprocess.run(
        [PT2QE, "run", url, "--as-of", hand_world.AS_OF, "--capping-file", str(caps), "--output-folder", str(out), "-v"],
        capture_output=True, text=True, timeout=1800, env={**os.environ, "PT2QE_CONFIG": str(tmp_path / "config.json")},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "INVOICE_HISTORY_4Q" in proc.stdout  # the aggregate came from the source
    (pushed,) = out.glob("run_*")
    for name in ("recommendations_detail.csv", "impact_analysis.csv", "statistics_by_dimension.csv"):
        assert (pushed / name).read_bytes() == (folder / name).read_bytes(), name
