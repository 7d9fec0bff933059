"""`pt2qe` — the command line of the pricing pipeline.

    pt2qe run SOURCE [--as-of DATE] [--capping-file F] [--inputs-folder D]
                     [--corrections-folder D] [--output-folder D] [--apply-corrections]
                     [--skip-extraction] [--generate-final-only] [--dry-run] [-q|-qq|-vv]
    pt2qe warehouse url [--bi] | start | stop | status
    pt2qe demo-data OUT_DIR [--offers N] [--seed S] [--format csv|parquet]
    pt2qe bench [--scale F ...]

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
    return p


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
        elif kind == "table" and quiet == 0 and args.verbose:
            print(f"      {event['table']}: {event['rows']:,} rows in {event['seconds']:.1f} s", flush=True)
        elif kind == "task":
            if event["state"] == "failed":
                print(f"  ✗ {event['task']} failed: {event.get('error', '')}", file=sys.stderr, flush=True)
            elif quiet == 0 and args.verbose:
                print(f"    · {event['task']} {event['state']} ({event['seconds']:.1f} s)", flush=True)
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
    from pt2qe.warehouse import EmbeddedPostgres, bi_url, configured_url, get_warehouse

    if args.action == "stop":
        if configured_url():
            print("a configured warehouse is in use; nothing to stop")
            return 0
        EmbeddedPostgres().stop()
        return 0
    if args.action == "status":
        if configured_url():
            print(f"configured: {get_warehouse(start=False).url}")
        else:
            emb = EmbeddedPostgres()
            print(f"embedded ({emb.pgdata}): {'running' if emb.is_running() else 'stopped'}")
        return 0
    wh = get_warehouse()
    print(bi_url(wh) if args.bi else wh.url)
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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"run": cmd_run, "warehouse": cmd_warehouse, "demo-data": cmd_demo, "bench": cmd_bench}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
