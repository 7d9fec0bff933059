"""The pricing team's loop on the embedded stack: full run → edit the generated caps →
corrections run → final export, and a refused corrections file that changes nothing.

Expected prices after correction were worked out by hand (hand_world.py's corridor
template) with the MEDIUM cap of the cube (ZOOM1, RCI PI GI, TRADITIONNEL, NORD) raised
from 0.05 to 0.10.
"""

from __future__ import annotations

import csv
import filecmp
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import hand_world

pytestmark = pytest.mark.e2e
PT2QE = str(Path(sys.executable).parent / "pt2qe")

CORRECTED = {
    # base 17.6; cap 15.5*1.10 = 17.05 = RECO2 17.05: the tie goes to RECO1
    "O01": dict(PRIX_RECOMMANDE="17,050", RECO_SELECTIONNEE="RECO1", CAPPING_APPLIED="SENSIBILITE"),
    "O02": dict(PRIX_RECOMMANDE="17,050", PCT_HAUSSE_FINALE="10,00"),
    "O09": dict(PRIX_RECOMMANDE="17,050"),
    # cap 18*1.10 = 19.8 = base: not below it, so no cap applies
    "O11": dict(PRIX_RECOMMANDE="19,800", CAPPING_APPLIED="NONE"),
    "O12": dict(PRIX_RECOMMANDE="15,950"),
    "O13": dict(PRIX_RECOMMANDE="14,300", CAPPING_APPLIED="NONE"),
    "O14": dict(PRIX_RECOMMANDE="12,100"),
    "O15": dict(PRIX_RECOMMANDE="9,900"),
    "O16": dict(PRIX_RECOMMANDE="18,700"),
    # not MEDIUM, other paths, or another cube: unchanged
    "O07": dict(PRIX_RECOMMANDE="15,888"),
    "O08": dict(PRIX_RECOMMANDE="16,663"),
    "O06": dict(PRIX_RECOMMANDE="13,100"),
    "O18": dict(PRIX_RECOMMANDE="16,430"),
    "O17": dict(PRIX_RECOMMANDE="7,500"),
    "O05": dict(PRIX_RECOMMANDE="19,500"),
}
CHANGED = {"O02", "O09", "O11", "O12", "O13", "O14", "O15", "O16"}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PT2QE, *args], capture_output=True, text=True, timeout=1800)


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="cp1252", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def marts_digest(warehouse) -> str:
    with warehouse.connect() as conn:
        rows = conn.execute("select id_cnd, prix_recommande, capping_applied from marts.recommendations order by id_cnd").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    base = tmp_path_factory.mktemp("loop")
    source = hand_world.write_world(base / "source")
    caps = hand_world.write_capping(base / "capping_type_client.csv")
    out = base / "outputs"
    corrections = base / "corrections"
    corrections.mkdir()
    common = ["--capping-file", str(caps), "--output-folder", str(out)]
    full = run_cli("run", str(source), "--as-of", hand_world.AS_OF, *common)
    assert full.returncode == 0, full.stdout + full.stderr
    (run_folder,) = out.glob("run_*")
    return {"base": base, "source": source, "out": out, "corrections": corrections, "common": common, "run": run_folder}


def edit_generated_caps(run_folder: Path, target: Path, medium: str = "0,10") -> None:
    """What the pricing team does in Excel: copy the generated cubes, change one cap."""
    text = (run_folder / "capping_cubes_generated.csv").read_bytes().decode("cp1252")
    lines = text.splitlines()
    for i, line in enumerate(lines):
        cells = line.split(";")
        if cells[:4] == ["ZOOM1", "RCI PI GI", "TRADITIONNEL", "NORD"]:
            cells[5] = medium
            lines[i] = ";".join(cells)
    target.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def test_a_refused_corrections_file_changes_nothing(loop, warehouse):
    bad = loop["corrections"] / "capping_cubes_corrections.csv"
    edit_generated_caps(loop["run"], bad)
    bad.write_bytes(bad.read_bytes() + b"ZOOM1;RCI PI GI;TRADITIONNEL;LUNE;0,1;0,1;0,1;MASTER;TYPE_CLIENT_FILE;1\r\n")
    before_files, before_marts = tree_digest(loop["out"]), marts_digest(warehouse)
    proc = run_cli("run", "--skip-extraction", "--apply-corrections", "--corrections-folder", str(loop["corrections"]), *loop["common"])
    assert proc.returncode != 0
    assert "capping_cubes_corrections.csv, line 6" in proc.stderr
    assert "unknown cube" in proc.stderr and "'LUNE'" in proc.stderr
    assert tree_digest(loop["out"]) == before_files
    assert marts_digest(warehouse) == before_marts
    bad.unlink()


@pytest.fixture(scope="module")
def corrected(loop):
    edit_generated_caps(loop["run"], loop["corrections"] / "capping_cubes_corrections.csv")
    proc = run_cli("run", "--skip-extraction", "--apply-corrections", "--corrections-folder", str(loop["corrections"]), *loop["common"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (folder,) = loop["out"].glob("corrections_*")
    return folder


def test_corrections_apply_the_new_caps_to_the_cent(corrected):
    rows = {r["ID_CND"]: r for r in read_csv(corrected / "recommendations_detail.csv")}
    assert sorted(rows) == sorted(hand_world.EXPECTED)
    for offer, expected in CORRECTED.items():
        assert {k: rows[offer][k] for k in expected} == expected, offer


def test_corrections_folder_has_the_comparison_and_the_applied_file(loop, corrected):
    assert (corrected / "capping_cubes_corrections.csv").read_bytes() == (loop["corrections"] / "capping_cubes_corrections.csv").read_bytes()
    cubes = read_csv(corrected / "capping_cubes_generated.csv")
    sources = {(r["TYPE_CLIENT"], r["GEO"]): (r["CAPPING_SOURCE"], r["CAPPING_MEDIUM"]) for r in cubes}
    assert sources[("RCI PI GI", "NORD")] == ("CORRECTION", "0,1")
    # a listed cube whose caps did not change still comes from the corrections file
    assert sources[("RSC HM", "SUD")] == ("CORRECTION", "0,15")
    comparison = {(r["TYPE_CLIENT"], r["GEO"]): r for r in read_csv(corrected / "corrections_comparison.csv")}
    cube = comparison[("RCI PI GI", "NORD")]
    assert (cube["NB_OFFRES"], cube["NB_OFFRES_MODIFIEES"]) == ("17", str(len(CHANGED)))
    assert comparison[("TOTAL", "")]["NB_OFFRES_MODIFIEES"] == str(len(CHANGED))
    assert comparison[("NATIONAL", "")]["NB_OFFRES_MODIFIEES"] == "0"


def test_corrections_are_audited(loop, corrected, warehouse):
    data = (loop["corrections"] / "capping_cubes_corrections.csv").read_bytes()
    with warehouse.connect() as conn:
        audit = conn.execute(
            "select sha256, rows from control.corrections_applied order by applied_at desc limit 1"
        ).fetchone()
    assert audit == (hashlib.sha256(data).hexdigest(), 4)


def test_final_export_from_the_corrected_recommendations(loop, corrected):
    proc = run_cli("run", "--generate-final-only", *loop["common"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (folder,) = loop["out"].glob("final_*")
    assert sorted(p.name for p in folder.iterdir()) == [
        "export_summary.txt",
        "final_price_offers.csv",
        "price_book_held_offers.csv",
        "quality",
        "report.html",
        "validation_report.csv",
    ]
    # the gates' results and Data Docs travel with the files they vouch for
    assert json.loads((folder / "quality" / "exports" / "summary.json").read_text())["success"] is True
    assert (folder / "quality" / "index.html").exists()
    offers = {r["ID_CND"]: r for r in read_csv(folder / "final_price_offers.csv")}
    assert sorted(offers) == sorted(hand_world.EXPECTED)
    assert offers["O02"]["NOUVEAU_PRIX"] == "17,050" and offers["O02"]["PCT_HAUSSE"] == "10,00"
    assert offers["O17"]["VALIDATION_STATUS"] == "A_VERIFIER" and offers["O22"]["VALIDATION_STATUS"] == "ANOMALIE"
    report = {(r["CATEGORIE"], r["INDICATEUR"]): r["VALEUR"] for r in read_csv(folder / "validation_report.csv")}
    assert {c for c, _ in report} == {"GLOBAL", "HAUSSES", "TYPE_HAUSSE", "VALIDATION"}
    summary = (folder / "export_summary.txt").read_bytes().decode("cp1252")
    assert "Date de référence    : 2025-07-15" in summary and "2025_Q02 (du 2025-03-31 au 2025-06-29)" in summary


def test_two_full_runs_write_identical_files(loop):
    again = loop["base"] / "again"
    proc = run_cli("run", str(loop["source"]), "--as-of", hand_world.AS_OF, "--capping-file", loop["common"][1], "--output-folder", str(again))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (second,) = again.glob("run_*")
    csvs = sorted(p.name for p in loop["run"].glob("*.csv"))
    assert len(csvs) == 9  # 7 quote-engine files + the registry's anomalies and suggestions
    match, mismatch, errors = filecmp.cmpfiles(loop["run"], second, csvs, shallow=False)
    assert (mismatch, errors) == ([], [])
    # the report too, apart from the run id and the folder name it shows
    pages = [(f / "report.html").read_text(encoding="utf-8") for f in (loop["run"], second)]
    pages = [re.sub(r"manual__[0-9T:.+-]+|run_[0-9]{8}_[0-9]{6}", "…", page) for page in pages]
    assert pages[0] == pages[1]
    shutil.rmtree(again)
