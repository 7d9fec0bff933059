"""`make bench` / `pt2qe bench`: the seed-scale benchmark (QUALITY.md, Speed).

Generates the world with the demo generator (cached under .pt2qe/bench/), runs the full
mode from the file source through the real DAG, then a corrections run, and measures in
the same session the floor of the machine: COPY of the raw offers into PostgreSQL + one
CREATE TABLE AS joining offers to corridors + COPY of a detail export to a file. Writes
`outputs/bench_YYYYMMDD_HHMMSS/report.json` and prints a short table.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pt2qe import paths

SEED_OFFERS = 2_345_678
TARGETS = {"full_s": 120.0, "corrections_s": 30.0, "peak_rss_mb": 2048.0, "full_over_floor": 3.0}


class RssSampler:
    """Peak memory of this process and its descendants (the Python processes of a run)."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.peak_total_mb = 0.0
        self.peak_single_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            total, single = 0.0, 0.0
            for p in [me, *me.children(recursive=True)]:
                try:
                    if "python" not in p.name().lower() and "airflow" not in p.name().lower() and "pt2qe" not in p.name().lower():
                        continue
                    rss = p.memory_info().rss / 2**20
                except Exception:  # noqa: BLE001 - a process may end while sampled
                    continue
                total += rss
                single = max(single, rss)
            self.peak_total_mb = max(self.peak_total_mb, total)
            self.peak_single_mb = max(self.peak_single_mb, single)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@dataclass
class RunTiming:
    seconds: float
    stages: list[dict]
    ok: bool
    folder: str | None


def world(offers: int, seed: int = 42) -> Path:
    from pt2qe.demo import generate

    folder = paths.state_dir() / "bench" / f"world_{offers}_{seed}"
    marker = folder / ".complete"
    if not marker.exists():
        if folder.exists():
            shutil.rmtree(folder)
        generate(folder, offers=offers, seed=seed)
        marker.touch()
    return folder


def _stages(events: list[dict]) -> list[dict]:
    stages = []
    for e in events:
        if e.get("kind") == "task" and e.get("state") == "success":
            stages.append({"name": e["task"], "seconds": e["seconds"], "rows": None})
        elif e.get("kind") == "stage" and "seconds" in e:
            stages.append({"name": f"[{e['stage']}]", "seconds": e["seconds"], "rows": e.get("rows")})
    return stages


def timed_run(conf: dict) -> RunTiming:
    from pt2qe.runner import run_dag

    t0 = time.monotonic()
    result = run_dag(conf)
    seconds = time.monotonic() - t0
    outputs = result.first("outputs")
    return RunTiming(seconds, _stages(result.events), result.ok, outputs["folder"] if outputs else None)


def floor(source: Path, out_dir: Path) -> dict:
    """The machine's floor: what any pipeline on this box must at least do."""
    from pt2qe.contract import table
    from pt2qe.load import copy_batches, create_table_sql
    from pt2qe.sources import FileSource
    from pt2qe.warehouse import get_warehouse

    wh = get_warehouse()
    src = FileSource(source)
    timings = {}
    with wh.connect() as conn:
        conn.execute("drop schema if exists bench_floor cascade")
        conn.execute("create schema bench_floor")
        conn.commit()
        t0 = time.monotonic()
        rows = 0
        for name in ("SYS_TARIF_SIMULATION", "SYS_MD_CONDITION", "PT1CE_OPTIMAL_ZOOM1"):
            t = table(name)
            conn.execute(create_table_sql("bench_floor", t))
            rows += copy_batches(conn, "bench_floor", t.pg_name, [c.pg_name for c in t.columns], src.batches(t))
            conn.commit()
        timings["copy_s"] = time.monotonic() - t0
        t0 = time.monotonic()
        conn.execute(
            """
            create table bench_floor.joined as
            select t.id_cnd, c.id_cln, c.id_art, t.prix_tarif_actuel, z.new_prb, z.new_pas,
                   least(t.prix_tarif_actuel * 1.05, z.new_prb) as prix
            from bench_floor.sys_tarif_simulation t
            join bench_floor.sys_md_condition c on c.id_cnd = t.id_cnd
            join bench_floor.pt1ce_optimal_zoom1 z on z.id_art = c.id_art and z.cube_type = 'NATIONAL'
            """
        )
        conn.commit()
        timings["join_s"] = time.monotonic() - t0
        t0 = time.monotonic()
        path = out_dir / "floor_export.csv"
        with open(path, "wb") as fh, conn.cursor() as cur, cur.copy(
            "copy (select * from bench_floor.joined order by id_cnd) to stdout with (format csv, header true, delimiter ';')"
        ) as copy:
            for chunk in copy:
                fh.write(chunk)
        timings["export_s"] = time.monotonic() - t0
        path.unlink()
        conn.execute("drop schema bench_floor cascade")
        conn.commit()
    timings["rows_copied"] = rows
    timings["floor_s"] = timings["copy_s"] + timings["join_s"] + timings["export_s"]
    return timings


def corrections_file(run_folder: Path, target: Path) -> None:
    """Raise the MEDIUM cap of every other cube by 0.01, as the team would in Excel."""
    text = (run_folder / "capping_cubes_generated.csv").read_bytes().decode("cp1252")
    lines = text.splitlines()
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        cells = line.split(";")
        if i % 2 == 0:
            medium = float(cells[5].replace(",", ".")) + 0.01
            cells[5] = f"{min(medium, 1):.4f}".rstrip("0").replace(".", ",")
            out.append(";".join(cells))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(("\r\n".join(out) + "\r\n").encode("cp1252"))


def measure(offers: int, out_dir: Path) -> dict:
    source = world(offers)
    work = out_dir / f"scale_{offers}"
    work.mkdir(parents=True, exist_ok=True)
    fl = floor(source, work)
    with RssSampler() as rss:
        full = timed_run({"mode": "full", "source": str(source), "output_folder": str(work / "outputs"), "triggered_by": "bench"})
        if not full.ok:
            raise RuntimeError(f"the full run failed at {offers} offers; see {paths.state_dir() / 'runs'}")
        corr_dir = work / "corrections"
        corrections_file(Path(full.folder), corr_dir / "capping_cubes_corrections.csv")
        corr = timed_run({"mode": "corrections", "corrections_folder": str(corr_dir), "output_folder": str(work / "outputs"), "triggered_by": "bench"})
        if not corr.ok:
            raise RuntimeError(f"the corrections run failed at {offers} offers")
    shutil.rmtree(work / "outputs", ignore_errors=True)
    return {
        "offers": offers,
        "full_s": round(full.seconds, 1),
        "corrections_s": round(corr.seconds, 1),
        "floor_s": round(fl["floor_s"], 1),
        "floor": {k: round(v, 2) for k, v in fl.items()},
        "peak_rss_mb": round(rss.peak_total_mb),
        "peak_rss_single_process_mb": round(rss.peak_single_mb),
        "full_over_floor": round(full.seconds / fl["floor_s"], 2) if fl["floor_s"] else None,
        "stages": full.stages,
        "corrections_stages": corr.stages,
    }


def run_bench(scales: list[float], output_root: Path) -> Path:
    from pt2qe.runner import ensure_manifest

    out_dir = output_root / f"bench_{datetime.now():%Y%m%d_%H%M%S}"
    out_dir.mkdir(parents=True)
    # parse the dbt project before the clock starts, as a deployment does once per
    # release: otherwise the first run after a code change pays the parse (~5 s)
    ensure_manifest()
    results = [measure(max(1000, int(SEED_OFFERS * s)), out_dir) for s in sorted(scales)]
    main = results[-1]
    report = {
        **{k: main[k] for k in ("offers", "full_s", "corrections_s", "floor_s", "peak_rss_mb", "stages")},
        "peak_rss_single_process_mb": main["peak_rss_single_process_mb"],
        "full_over_floor": main["full_over_floor"],
        "floor": main["floor"],
        "corrections_stages": main["corrections_stages"],
        "targets": TARGETS,
        "targets_met": {
            "full_s": main["full_s"] <= TARGETS["full_s"],
            "corrections_s": main["corrections_s"] <= TARGETS["corrections_s"],
            "peak_rss_mb": main["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
            "full_over_floor": (main["full_over_floor"] or 99) <= TARGETS["full_over_floor"],
        },
        "growth": [{k: r[k] for k in ("offers", "full_s", "corrections_s", "floor_s", "peak_rss_mb", "full_over_floor")} for r in results],
        "machine": {"cpus": os.cpu_count()},
    }
    tmp = out_dir / ".report.json.tmp"
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(out_dir / "report.json")
    print_table(report)
    return out_dir / "report.json"


def print_table(report: dict) -> None:
    print(f"{'offers':>10} {'full s':>8} {'corr. s':>8} {'floor s':>8} {'full/floor':>10} {'peak MB':>8}")
    for g in report["growth"]:
        print(f"{g['offers']:>10,} {g['full_s']:>8} {g['corrections_s']:>8} {g['floor_s']:>8} {g['full_over_floor']:>10} {g['peak_rss_mb']:>8}")
    print("targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in report["targets_met"].items()))
    slow = sorted(report["stages"], key=lambda s: -s["seconds"])[:8]
    print("slowest stages: " + "; ".join(f"{s['name']} {s['seconds']:.1f}s" for s in slow))
