"""Every bad input of QUALITY.md through the real CLI: a non-zero exit, a message naming
the culprit (file or table, line or key, column, what was expected), and nothing changed
— output folders byte-identical, published marts and raw tables as they were — then a
good run still succeeds."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import hand_world

pytestmark = pytest.mark.e2e
PT2QE = str(Path(sys.executable).parent / "pt2qe")
ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([PT2QE, *args], capture_output=True, text=True, timeout=1800, env={**os.environ, **(env or {})})


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def warehouse_digest(warehouse) -> str:
    with warehouse.connect() as conn:
        marts = conn.execute("select id_cnd, prix_recommande from marts.recommendations order by id_cnd").fetchall()
        raw = conn.execute("select count(*), sum(prix_tarif_actuel) from raw.sys_tarif_simulation").fetchone()
        tables = conn.execute("select table_schema, table_name from information_schema.tables where table_schema in ('marts', 'raw') order by 1, 2").fetchall()
    return hashlib.sha256(repr((marts, raw, tables)).encode()).hexdigest()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad")
    source = hand_world.write_world(base / "source")
    caps = hand_world.write_capping(base / "capping_type_client.csv")
    out = base / "outputs"
    good = run_cli("run", str(source), "--as-of", hand_world.AS_OF, "--capping-file", str(caps), "--output-folder", str(out))
    assert good.returncode == 0, good.stdout + good.stderr
    return {"base": base, "source": source, "caps": caps, "out": out}


def edit_csv(path: Path, edit) -> None:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows = edit(rows)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


def set_cell(table: str, key: str, column: str, value: str):
    def edit(rows):
        col = rows[0].index(column)
        for r in rows[1:]:
            if r[0] == key:
                r[col] = value
        return rows

    return table, edit


def drop_column(table: str, column: str):
    def edit(rows):
        col = rows[0].index(column)
        return [r[:col] + r[col + 1 :] for r in rows]

    return table, edit


def duplicate_row(table: str, key: str):
    def edit(rows):
        return rows + [next(r for r in rows[1:] if r[0] == key)]

    return table, edit


def remove_file(table: str):
    return table, None


def keep_calendar_until(last_day: str):
    def edit(rows):
        return [rows[0]] + [r for r in rows[1:] if r[1] <= last_day]

    return "SYS_MD_CALENDRIER_SYSCO", edit


def invalidate_all_conditions():
    def edit(rows):
        col = rows[0].index("FG_CND_VLD")
        for r in rows[1:]:
            r[col] = ""
        return rows

    return "SYS_MD_CONDITION", edit


def duplicate_column(table: str, column: str):
    def edit(rows):
        col = rows[0].index(column)
        return [r + [r[col]] for r in rows]

    return table, edit


SOURCE_CASES = {
    "missing table": (remove_file("SYS_MD_CLIENT"), ["SYS_MD_CLIENT.csv", "missing file"]),
    "missing column": (drop_column("SYS_TARIF_SIMULATION", "PRIX_TARIF_ACTUEL"), ["SYS_TARIF_SIMULATION.csv", "line 1", "PRIX_TARIF_ACTUEL"]),
    "null in a required column": (set_cell("SYS_MD_CLIENT", "C2", "ID_TC_CG", ""), ["SYS_MD_CLIENT.csv", "line 3", "column ID_TC_CG", "value is required"]),
    "text in a numeric column": (set_cell("SYS_TARIF_SIMULATION", "O03", "PRIX_TARIF_ACTUEL", "15,5"), ["SYS_TARIF_SIMULATION.csv", "line 4", "PRIX_TARIF_ACTUEL", "'15,5'"]),
    "duplicated key": (duplicate_row("SYS_MD_CLIENT", "C2"), ["SYS_MD_CLIENT.csv, column ID_CLN", "must identify one row", "ID_CLN='C2' (2 times: lines 3 and 7)"]),
    "a column twice in the header": (duplicate_column("SYS_TARIF_SIMULATION", "PRIX_TARIF_ACTUEL"), ["SYS_TARIF_SIMULATION.csv, line 1: the column PRIX_TARIF_ACTUEL appears 2 times (columns 2, 4)"]),
    "a number beyond the numeric type": (set_cell("SYS_TARIF_SIMULATION", "O03", "PRIX_TARIF_ACTUEL", "1e999999"), ["SYS_TARIF_SIMULATION.csv, line 4, column PRIX_TARIF_ACTUEL", "at most 131,072 digits before the decimal point", "'1e999999'"]),
    "a line number beyond bigint": (set_cell("SYS_FACTURE_LIGNE", "F100", "NO_LIGNE", "99999999999999999999"), ["SYS_FACTURE_LIGNE.csv, line 2, column NO_LIGNE", "a whole number between -9,223,372,036,854,775,808 and"]),
    "disordered corridor": (set_cell("PT1CE_OPTIMAL_ZOOM1", "MASTER", "NEW_BORNE_PL3_PL4", "30"), ["gate 'source'", "pt1ce_optimal_zoom1", "BOUNDS=new_borne_pl2_pl3 >= new_borne_pl3_pl4", "ID_ART=A01"]),
    "negative price": (set_cell("SYS_TARIF_SIMULATION", "O05", "PRIX_TARIF_ACTUEL", "-3"), ["gate 'source'", "sys_tarif_simulation", "column=prix_tarif_actuel", "ID_CND=O05, PRIX_TARIF_ACTUEL=-3"]),
    "zero price": (set_cell("SYS_TARIF_SIMULATION", "O06", "PRIX_TARIF_ACTUEL", "0"), ["sys_tarif_simulation", "strict_min=true", "ID_CND=O06, PRIX_TARIF_ACTUEL=0"]),
    "fewer than four quarters": (keep_calendar_until("2024-09-29"), ["Impossible de trouver 4 trimestres complets avant 2025-07-15"]),
    "zero offers after filtering": (invalidate_all_conditions(), ["gate 'recommendations'", "int_price_offers", "expect_table_row_count_to_be_between"]),
}


@pytest.mark.parametrize("case", list(SOURCE_CASES))
def test_bad_source_is_refused_and_changes_nothing(case, world, warehouse, tmp_path):
    (table, edit), expected = SOURCE_CASES[case]
    source = tmp_path / "source"
    shutil.copytree(world["source"], source)
    if edit is None:
        (source / f"{table}.csv").unlink()
    else:
        edit_csv(source / f"{table}.csv", edit)
    before_files, before_wh = tree_digest(world["out"]), warehouse_digest(warehouse)
    proc = run_cli("run", str(source), "--as-of", hand_world.AS_OF, "--capping-file", str(world["caps"]), "--output-folder", str(world["out"]))
    assert proc.returncode != 0, proc.stdout
    for fragment in expected:
        assert fragment in proc.stderr, (fragment, proc.stderr)
    assert tree_digest(world["out"]) == before_files
    assert warehouse_digest(warehouse) == before_wh


CAPPING_CASES = {
    "missing file": (None, ["capping_type_client.csv", "expected an existing CSV file, found no such file"]),
    "decimal point where a comma is configured": (b"TYPE_CLIENT;CAPPING_HIGH;CAPPING_MEDIUM;CAPPING_LOW\r\nRCI PI GI;0.025;0,05;0,075\r\n", ["line 2", "column CAPPING_HIGH", "'0.025'"]),
    "comma-separated file": (b"TYPE_CLIENT,CAPPING_HIGH,CAPPING_MEDIUM,CAPPING_LOW\r\nRCI PI GI,0.025,0.05,0.075\r\n", ["capping_type_client.csv", "line 1", "';'"]),
    "cap above 1": (b"TYPE_CLIENT;CAPPING_HIGH;CAPPING_MEDIUM;CAPPING_LOW\r\nRCI PI GI;0,025;1,5;0,075\r\n", ["line 2", "column CAPPING_MEDIUM", "between 0 and 1"]),
}


@pytest.mark.parametrize("case", list(CAPPING_CASES))
def test_bad_capping_file_is_refused_and_changes_nothing(case, world, warehouse, tmp_path):
    content, expected = CAPPING_CASES[case]
    caps = tmp_path / "capping_type_client.csv"
    if content is not None:
        caps.write_bytes(content)
    before_files, before_wh = tree_digest(world["out"]), warehouse_digest(warehouse)
    proc = run_cli("run", str(world["source"]), "--as-of", hand_world.AS_OF, "--capping-file", str(caps), "--output-folder", str(world["out"]))
    assert proc.returncode != 0
    for fragment in expected:
        assert fragment in proc.stderr, (fragment, proc.stderr)
    assert tree_digest(world["out"]) == before_files
    assert warehouse_digest(warehouse) == before_wh


def _config(tmp_path: Path, change) -> Path:
    cfg = json.loads((ROOT / "config" / "pt2qe_config.json").read_text(encoding="utf-8"))
    change(cfg)
    path = tmp_path / "bad_config.json"
    path.write_text(json.dumps(cfg), encoding="utf-8")
    return path


CONFIG_CASES = {
    "unknown key": (lambda c: c["capping"].update(default_hihg=0.1), ["capping.default_hihg", "unknown key"]),
    "wrong type": (lambda c: c["capping"].update(default_high="5%"), ["capping.default_high"]),
    "sql injection in a reco1 condition": (
        lambda c: c["recommendations"]["reco1_rules"][1].update(condition="1=1; DROP TABLE marts.recommendations"),
        ["recommendations.reco1_rules[1].condition"],
    ),
    "sql injection in a reco1 target": (
        lambda c: c["recommendations"]["reco1_rules"][0].update(target="PRIX_TARIF_ACTUEL); DROP TABLE x; --"),
        ["recommendations.reco1_rules[0].target"],
    ),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_bad_configuration_is_refused_before_any_sql(case, world, warehouse, tmp_path):
    change, expected = CONFIG_CASES[case]
    config = _config(tmp_path, change)
    before_files, before_wh = tree_digest(world["out"]), warehouse_digest(warehouse)
    proc = run_cli("run", str(world["source"]), "--as-of", hand_world.AS_OF, "--capping-file", str(world["caps"]),
                   "--output-folder", str(world["out"]), env={"PT2QE_CONFIG": str(config)})
    assert proc.returncode != 0
    for fragment in expected:
        assert fragment in proc.stderr, (fragment, proc.stderr)
    assert "prepare failed" in proc.stderr  # refused in the first task, before extraction or dbt
    assert tree_digest(world["out"]) == before_files
    assert warehouse_digest(warehouse) == before_wh


OUTSIDE = Path("/etc/passwd")  # outside the project, the state folder and PT2QE_ALLOWED_ROOTS (/tmp)


def _link_out(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    path.symlink_to(OUTSIDE)


LINK_CASES = {
    "a source table": (
        lambda base, source: (_link_out(source / "SYS_MD_CLIENT.csv"), [])[1],
        [f"SYS_MD_CLIENT.csv: is a link to {OUTSIDE}, outside the source folder and the configured folders; nothing was read"],
    ),
    "a price file of the registry": (
        lambda base, source: (_link_out(base / "inputs" / "price_registry" / "prices.csv"), ["--inputs-folder", str(base / "inputs")])[1],
        ["inputs_folder: ", "holds 1 link(s) to files outside the configured folders", f"price_registry/prices.csv -> {OUTSIDE}; nothing was read"],
    ),
    "the corrections file": (
        lambda base, source: (
            _link_out(base / "corrections" / "capping_cubes_corrections.csv"),
            ["--skip-extraction", "--apply-corrections", "--corrections-folder", str(base / "corrections")],
        )[1],
        ["corrections_folder: ", f"capping_cubes_corrections.csv -> {OUTSIDE}; nothing was read"],
    ),
}


@pytest.mark.parametrize("case", list(LINK_CASES))
def test_a_file_linked_out_of_the_allowed_folders_is_refused_unread(case, world, warehouse, tmp_path):
    make, expected = LINK_CASES[case]
    source = tmp_path / "source"
    shutil.copytree(world["source"], source)
    extra = make(tmp_path, source)
    args = [] if "--skip-extraction" in extra else [str(source)]
    before_files, before_wh = tree_digest(world["out"]), warehouse_digest(warehouse)
    proc = run_cli("run", *args, "--as-of", hand_world.AS_OF, "--capping-file", str(world["caps"]),
                   "--output-folder", str(world["out"]), *extra)
    assert proc.returncode != 0, proc.stdout
    for fragment in expected:
        assert fragment in proc.stderr, (fragment, proc.stderr)
    # not a byte of the linked file shows
    assert "root:" not in proc.stdout + proc.stderr and "ROOT:" not in proc.stdout + proc.stderr
    assert tree_digest(world["out"]) == before_files
    assert warehouse_digest(warehouse) == before_wh


def test_a_full_output_disk_names_the_file_and_publishes_nothing(world, warehouse, full_disk):
    """The output folder is a real file system with no space left: the run fails naming
    the file it could not write, leaves no folder behind and publishes nothing."""
    before_files, before_wh = tree_digest(world["out"]), warehouse_digest(warehouse)
    proc = run_cli("run", str(world["source"]), "--as-of", hand_world.AS_OF, "--capping-file", str(world["caps"]),
                   "--output-folder", str(full_disk))
    assert proc.returncode != 0, proc.stdout
    assert "✗ export failed: the output file " in proc.stderr, proc.stderr
    assert f".csv (in {full_disk}/.run_" in proc.stderr
    assert ("could not be written: the disk is full; nothing was published and the run's unfinished folder was removed. "
            "Free some space and run again") in proc.stderr
    assert "Errno" not in proc.stderr + proc.stdout
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler.bin"]
    assert tree_digest(world["out"]) == before_files
    assert warehouse_digest(warehouse) == before_wh


def test_a_good_run_succeeds_right_after(world, tmp_path):
    # its headers have a space after each separator (`ID_CND, PRIX_TARIF_ACTUEL`): the
    # names are read without it
    source = tmp_path / "source"
    shutil.copytree(world["source"], source)
    for path in source.glob("*.csv"):
        edit_csv(path, lambda rows: [[f" {name}" if i else name for i, name in enumerate(rows[0])], *rows[1:]])
    proc = run_cli("run", str(source), "--as-of", hand_world.AS_OF, "--capping-file", str(world["caps"]), "--output-folder", str(world["out"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(list(world["out"].glob("run_*"))) == 2
