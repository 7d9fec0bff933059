"""`pt2qe` — the command line of the pricing pipeline.

    pt2qe run SOURCE [--as-of DATE] [--capping-file F] [--inputs-folder D]
                     [--corrections-folder D] [--output-folder D] [--apply-corrections]
                     [--skip-extraction] [--generate-final-only] [--dry-run] [-q|-qq|-vv]
    pt2qe warehouse url [--bi] | start | stop | status
    pt2qe demo-data OUT_DIR [--offers N] [--seed S] [--format csv|parquet]
    pt2qe check SOURCE [--check-pt1ce] [--check-mappings] [--as-of DATE]
    pt2qe outputs prune --keep N [--output-folder D] [--no-warehouse] [--dry-run] [--force]
    pt2qe bench [--scale F ...]
    pt2qe ui [--port N] [--host H] [-f]

`run` triggers the `pt2qe` DAG through Airflow (embedded: `airflow dags test`), the same
DAG analysts trigger from the UI, and prints each stage as it ends.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pt2qe", description="PT2QE pricing pipeline")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the quote engine DAG through Airflow")
    run.add_argument("source", nargs="?", default="", help="folder of source files, SQLAlchemy URL or Airflow connection id")
    run.add_argument("--as-of", default="", help="reference date YYYY-MM-DD (default: the calendar's current week)")
    run.add_argument("--capping-file", default="inputs/capping_type_client.csv")
    run.add_argument("--inputs-folder", default="inputs")
    run.add_argument("--corrections-folder", default="corrections")
    run.add_argument("--output-folder", default="outputs")
    run.add_argument("--apply-corrections", action="store_true", help="Option 2: apply corrections/capping_cubes_corrections.csv")
    run.add_argument("--skip-extraction", action="store_true", help="reuse the extracted offers")
    run.add_argument("--generate-final-only", action="store_true", help="Option 3: final export only")
    run.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    run.add_argument("-q", action="count", default=0, dest="quiet", help="-q quiet, -qq very quiet")
    run.add_argument("-v", action="count", default=0, dest="verbose", help="-vv debug: also print the Airflow log")

    wh = sub.add_parser("warehouse", help="the warehouse in use")
    wh.add_argument("action", choices=["url", "start", "stop", "status"])
    wh.add_argument("--bi", action="store_true", help="the read-only URL for BI tools")

    bench = sub.add_parser("bench", help="the seed-scale benchmark (report.json in outputs/bench_*)")
    bench.add_argument("--scale", type=float, action="append", help="fraction of the seed's 2,345,678 offers (repeatable; default 0.01, 0.1 and 1)")
    bench.add_argument("--output-folder", default="outputs")

    demo = sub.add_parser("demo-data", help="write a generated source folder")
    demo.add_argument("out_dir")
    demo.add_argument("--offers", type=int, default=20_000)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--format", choices=["csv", "parquet"], default="csv")

    check = sub.add_parser("check", help="test the source and the prerequisites of a run")
    check.add_argument("source", help="folder of files, SQLAlchemy URL or Airflow connection id")
    check.add_argument("--check-pt1ce", action="store_true", help="corridor tables hold rows")
    check.add_argument("--check-mappings", action="store_true", help="type mappings hold rows")
    check.add_argument("--as-of", default="", help="reference date YYYY-MM-DD")

    outputs = sub.add_parser("outputs", help="the run folders under the output folder")
    outputs_sub = outputs.add_subparsers(dest="outputs_command", required=True)
    prune = outputs_sub.add_parser("prune", help="archive old run folders, drop leftovers")
    prune.add_argument(
        "--keep", type=_at_least_one, required=True, help="run folders kept per kind"
    )
    prune.add_argument("--output-folder", default="outputs")
    prune.add_argument("--no-warehouse", action="store_true", help="leave the warehouse alone")
    prune.add_argument("--dry-run", action="store_true", help="print what would go, change nothing")
    prune.add_argument(
        "--force", action="store_true", help="drop leftovers though Airflow lists an active run"
    )

    ui = sub.add_parser("ui", help="the Airflow UI and REST API on the embedded stack (airflow standalone)")
    ui.add_argument("--port", type=int, default=8080, help="port of the UI and REST API (default 8080)")
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    ui.add_argument("-f", "--follow", action="store_true", help="also print the Airflow log")
    return p


def _at_least_one(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1 (the latest stays), found {n}")
    return n


def _mode(args) -> str:
    if args.generate_final_only:
        return "final"
    if args.apply_corrections or args.skip_extraction:
        return "corrections"
    return "full"


def cmd_run(args) -> int:
    from pt2qe.runner import run_dag

    conf = {
        "mode": _mode(args),
        "source": args.source,
        "as_of": args.as_of,
        "capping_file": args.capping_file,
        "inputs_folder": args.inputs_folder,
        "corrections_folder": args.corrections_folder,
        "output_folder": args.output_folder,
        "dry_run": args.dry_run,
        "triggered_by": getpass.getuser(),
    }
    quiet = args.quiet

    def show(event: dict) -> None:
        kind = event.get("kind")
        if kind == "plan":
            if event.get("dry_run") or quiet == 0:
                _print_plan(event)
        elif kind == "stage" and quiet == 0:
            secs = f" in {event['seconds']:.1f} s" if "seconds" in event else ""
            print(f"  ✓ {event['stage']}: {event.get('rows', 0):,} rows{secs}", flush=True)
        elif kind == "node" and quiet == 0 and args.verbose:
            secs = f" in {event['seconds']:.1f} s" if event.get("seconds") is not None else ""
            print(f"      dbt {event['resource']} {event['node']}: {event['status']}{secs}", flush=True)
        elif kind == "table" and quiet == 0 and args.verbose:
            print(f"      {event['table']}: {event['rows']:,} rows in {event['seconds']:.1f} s", flush=True)
        elif kind == "task":
            if event["state"] == "failed":
                print(f"  ✗ {event['task']} failed: {event.get('error', '')}", file=sys.stderr, flush=True)
            elif quiet == 0 and args.verbose:
                print(f"    · {event['task']} {event['state']} ({event['seconds']:.1f} s)", flush=True)
        elif kind == "warning":
            print(f"  ! {event['message']}", file=sys.stderr, flush=True)
        elif kind == "outputs" and quiet < 2:
            print(f"Outputs: {event['folder']}", flush=True)

    if quiet == 0:
        print(f"pt2qe run — mode {conf['mode']}{' (dry run)' if args.dry_run else ''}", flush=True)
    try:
        result = run_dag(conf, on_event=show)
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence: say why
        print(f"pt2qe: {exc}", file=sys.stderr)
        return 1
    if args.verbose >= 2 and result.log_file:
        sys.stdout.write(result.log_file.read_text(encoding="utf-8", errors="replace"))
    if not result.ok:
        if not result.errors():
            print(f"pt2qe: the run failed; see the Airflow log {result.log_file}", file=sys.stderr)
        return 1
    return 0


def _print_plan(event: dict) -> None:
    print("Plan:")
    print(f"  mode        {event['mode']}{' (dry run: nothing will change)' if event.get('dry_run') else ''}")
    print(f"  source      {event['source_desc']}")
    print(f"  reference   {event['as_of']}")
    print(f"  period      {event['period_start']} → {event['period_end']} ({', '.join(event['quarters'])})")
    for r in event.get("reads", []):
        print(f"  reads       {r}")
    for w in event.get("writes", []):
        print(f"  writes      {w}")
    sys.stdout.flush()


def cmd_warehouse(args) -> int:
    from pt2qe.warehouse import WarehouseError

    try:
        return _warehouse_action(args)
    except WarehouseError as exc:
        print(f"pt2qe: warehouse: {exc}", file=sys.stderr)
        return 1


def _warehouse_action(args) -> int:
    from pt2qe.warehouse import EmbeddedPostgres, bi_url, configured_url, get_warehouse, redact
    from pt2qe.warehouse_auth import bi_password

    if args.action == "stop":
        if configured_url():
            print("a configured warehouse is in use; nothing to stop")
            return 0
        EmbeddedPostgres().stop()
        return 0
    if args.action == "status":
        if configured_url():
            print(f"configured: {redact(get_warehouse(start=False).url)}")
        else:
            emb = EmbeddedPostgres()
            print(f"embedded ({emb.pgdata}): {'running' if emb.is_running() else 'stopped'}")
        return 0
    wh = get_warehouse()
    # the one place passwords are printed: these URLs are what the command is for
    print(bi_url(wh, bi_password()) if args.bi else wh.url)
    return 0


def cmd_demo(args) -> int:
    from pt2qe.demo import generate

    summary = generate(Path(args.out_dir), offers=args.offers, seed=args.seed, fmt=args.format)
    print(summary)
    return 0


def cmd_bench(args) -> int:
    from pt2qe.bench import run_bench
    from pt2qe.pipeline import resolve_path

    report = run_bench(args.scale or [0.01, 0.1, 1.0], resolve_path(args.output_folder, "output_folder"))
    print(f"Report: {report}")
    return 0


def cmd_check(args) -> int:
    from datetime import date

    from pt2qe.check import Check, run_checks
    from pt2qe.sources import SourceError, open_source

    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        print(f"pt2qe: --as-of: expected a date YYYY-MM-DD, found {args.as_of!r}", file=sys.stderr)
        return 2
    try:
        source = open_source(args.source)
    except SourceError as exc:
        print(Check("connection", False, str(exc)).line(), flush=True)
        return 1
    checks = run_checks(
        source,
        pt1ce=args.check_pt1ce,
        mappings=args.check_mappings,
        as_of=as_of,
        on_check=lambda c: print(c.line(), flush=True),
    )
    missing = sum(not c.ok for c in checks)
    print(f"{missing} prerequisite(s) missing" if missing else "every prerequisite is met")
    return 1 if missing else 0


def cmd_outputs(args) -> int:
    from pt2qe.pipeline import resolve_path
    from pt2qe.prune import KINDS, Archived, PruneError, prune_outputs, run_folders

    root = resolve_path(args.output_folder, "output_folder")
    verb = "would archive" if args.dry_run else "archived"

    def show(item) -> None:
        if isinstance(item, Archived):
            mb = item.bytes / 1e6
            size = f"{mb:.1f} MB" if mb >= 0.1 else f"{item.bytes / 1e3:.1f} kB"
            print(f"{verb} {item.folder.name} → {item.zip_path} ({item.files} files, {size})")
        else:
            print(f"{verb} {item.name} → {root / 'archive' / (item.name + '.zip')}", flush=True)

    status = 0
    try:
        done = prune_outputs(root, args.keep, dry_run=args.dry_run, on_archived=show)
    except PruneError as exc:
        print(f"pt2qe: {exc}", file=sys.stderr)
        done, status = [], 1
    kept = run_folders(root)
    counts = ", ".join(f"{k} {sum(f.kind == k for f in kept)}" for k in KINDS)
    print(f"outputs: {len(done)} folder(s) {verb}; run folders left in {root}: {counts}")
    if args.no_warehouse:
        return status
    return max(status, _prune_warehouse(args))


def _prune_warehouse(args) -> int:
    from pt2qe.prune import PruneError, active_runs, prune_warehouse
    from pt2qe.warehouse import get_warehouse

    active = active_runs()
    if active and not args.force:
        print(
            f"warehouse: nothing dropped, a pt2qe run is queued or running ({', '.join(active)}); "
            "if it was killed, mark it failed in Airflow or use --force",
            flush=True,
        )
        return 0
    verb = "would drop" if args.dry_run else "dropped"
    try:
        with get_warehouse().connect() as conn:
            drops = prune_warehouse(conn, dry_run=args.dry_run)
    except PruneError as exc:
        print(f"pt2qe: warehouse: {exc}", file=sys.stderr)
        return 1
    for d in drops:
        print(f"warehouse: {verb} {d.kind} {d.name} ({d.reason})", flush=True)
    if not drops:
        print("warehouse: nothing superseded to drop", flush=True)
    return 0


def cmd_ui(args) -> int:
    from pt2qe.ui import serve

    return serve(args.port, args.host, follow=args.follow)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {
        "run": cmd_run,
        "warehouse": cmd_warehouse,
        "demo-data": cmd_demo,
        "bench": cmd_bench,
        "check": cmd_check,
        "outputs": cmd_outputs,
        "ui": cmd_ui,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
