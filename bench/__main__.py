"""``python -m bench [--quick] [--only SECTIONS] [--write-docs]``.

Prints one table: measure, value (median unless it says p95), baseline measured
in the same run, ratio, target from issue 5, met?  Never fails on a missed
target; exits non-zero only when the bench itself breaks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import traceback

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

SECTIONS = ("sweep", "reads", "ack", "import", "propagation", "stats", "start", "keys", "parity",
            "rss", "datatable", "issue14", "bulk", "idle")
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="small sizes and few repeats (CI: well under a minute)")
    p.add_argument("--only", metavar="LIST",
                   help="comma-separated sections: " + ",".join(SECTIONS) + " (default: all)")
    p.add_argument("--skip", metavar="LIST", help="comma-separated sections to leave out")
    p.add_argument("--pg", metavar="URL", default=os.environ.get("DUTYROOM_BENCH_PG", PG_DEFAULT),
                   help="PostgreSQL base URL (a fresh schema is made and dropped); "
                        "'none' to skip PostgreSQL")
    p.add_argument("--work-orders", type=int, help="work orders in the big database")
    p.add_argument("--reports", type=int, help="reports in the big database")
    p.add_argument("--rebuild", action="store_true", help="rebuild the cached dataset")
    p.add_argument("--json", metavar="PATH", help="also write the rows as JSON to PATH")
    p.add_argument("--from-json", metavar="PATH",
                   help="do not measure: print (and with --write-docs, write) a saved --json run")
    p.add_argument("--write-docs", action="store_true",
                   help="replace the table section of docs/benchmarks.md with this run")
    return p


def _pg_reachable(url: str) -> str | None:
    if url == "none":
        return None
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return url
    except Exception as exc:  # noqa: BLE001 - any failure: skip PostgreSQL, say why
        print(f"bench: PostgreSQL at {url} not reachable ({str(exc).splitlines()[0]}): "
              "its rows are n/a", file=sys.stderr)
        return None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.from_json:
        return _from_json(args)
    wanted = set(SECTIONS)
    if args.only:
        wanted = {s.strip() for s in args.only.split(",") if s.strip()}
    if args.skip:
        wanted -= {s.strip() for s in args.skip.split(",")}
    unknown = wanted - set(SECTIONS)
    if unknown:
        print(f"bench: unknown section(s) {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2

    from bench import dataset
    from bench.core import Config
    from bench.dataset import Sizes

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    if args.quick:
        sizes = Sizes(args.work_orders or 20_000, args.reports or 2_000)
        pg_sizes = Sizes(5_000, 500)
    else:
        sizes = Sizes(args.work_orders or 1_000_000, args.reports or 100_000)
        pg_sizes = Sizes(100_000, 10_000)
    needs_pg = wanted & {"ack", "propagation", "issue14", "parity"}
    pg_base = _pg_reachable(args.pg) if needs_pg else None
    cfg = Config(quick=args.quick, sizes=sizes, pg_sizes=pg_sizes, pg_url=pg_base,
                 repeats=3 if args.quick else 20,
                 import_records=2_000 if args.quick else 100_000,
                 propagation_events=6 if args.quick else 40, log=log)
    started = time.perf_counter()
    log("bench: load average at the start "
        + " / ".join(f"{x:.1f}" for x in os.getloadavg()))
    rows = []
    failures = []
    pg_schema = pg_url = None

    def run(name: str, fn, *a):
        if name not in wanted:
            return None
        log(f"bench: {name} …")
        t0 = time.perf_counter()
        try:
            out = fn(*a)
        except Exception as exc:  # noqa: BLE001 - report the section as broken, go on
            traceback.print_exc()
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            return None
        log(f"bench: {name} done in {time.perf_counter() - t0:.1f} s")
        return out

    try:
        dataset.build_sqlite(sizes, log=log, force=args.rebuild)
        work = dataset.prepare_copy(sizes, "main", log=log)
        if pg_base:
            pg_schema, pg_url = dataset.build_postgres(pg_base, pg_sizes, log=log)
        from bench import core, ui

        ui_rows = run("start", ui.start_rows, cfg, work)
        rows += ui_rows or []
        rows += run("keys", ui.key_rows, cfg, work) or []
        rows += run("parity", ui.parity_rows, cfg, pg_url) or []
        rows += run("rss", ui.rss_rows, cfg, work) or []
        rows += run("idle", ui.idle_rows, cfg, work) or []
        rows += run("datatable", ui.datatable_rows, cfg, work) or []
        rows += run("reads", core.queue_pages, cfg, work) or []
        rows += run("sweep", core.sweep_and_counters, cfg, work) or []
        ack = run("ack", core.acknowledge, cfg, work, pg_url)
        bare = {}
        if ack:
            rows += ack[0]
            bare = ack[1]
        rows += run("propagation", core.propagation, cfg, work, pg_url, bare) or []
        rows += run("import", core.import_throughput, cfg) or []
        rows += run("stats", core.statistics_rows, cfg, work) or []
        rows += run("issue14", core.issue14_reads, cfg, work, pg_url) or []
        rows += run("bulk", __import__("bench.bulk").bulk.bulk_rows, cfg) or []
    finally:
        dataset.cleanup_copies()
        if pg_schema:
            dataset.drop_postgres(pg_base, pg_schema)

    from bench import report

    rows.sort(key=lambda r: r.section)
    elapsed = time.perf_counter() - started
    mode = "quick" if args.quick else "full"
    header = (f"`python -m bench{' --quick' if args.quick else ''}` ({mode}), "
              f"{dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}, "
              f"{sizes.work_orders:,} work orders / {sizes.reports:,} reports "
              f"(PostgreSQL rows: {pg_sizes.work_orders:,} / {pg_sizes.reports:,}), "
              f"run took {elapsed:.0f} s, load average at the end "
              f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())}. "
              "Values are medians unless marked p50/p95.")
    print(header)
    print()
    print(report.text_table(rows))
    missed = [r.measure.strip() for r in rows if r.met is False]
    print()
    print(f"targets: {sum(r.met is True for r in rows)} met, {len(missed)} missed"
          + (f" ({'; '.join(missed)})" if missed else ""))
    if failures:
        print("sections that broke: " + "; ".join(failures))
    if args.json:
        import json

        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"header": header, "failures": failures, "machine": report.machine(),
                       "rows": [{"section": r.section, "measure": r.measure, "value": r.value,
                                 "unit": r.unit, "baseline": r.baseline, "ratio": r.ratio,
                                 "baseline_name": r.baseline_name,
                                 "target": r.target.text if r.target else None, "met": r.met,
                                 "note": r.note, "samples": r.samples} for r in rows]},
                      fh, ensure_ascii=False, indent=1)
    if args.write_docs:
        path = report.write_docs(rows, report.machine(), header)
        log(f"bench: wrote the table into {path}")
    return 1 if failures else 0


def _from_json(args: argparse.Namespace) -> int:
    import json

    from bench import report
    from bench.report import Row, Target

    with open(args.from_json, encoding="utf-8") as fh:
        saved = json.load(fh)
    rows = []
    for r in saved["rows"]:
        met = r["met"]
        target = (Target(r["target"], lambda v, b, met=met: bool(met))
                  if r["target"] else None)
        rows.append(Row(r["section"], r["measure"], r["value"], r["unit"], r["baseline"],
                        r.get("baseline_name", ""), target, r["note"], r["samples"]))
    print(saved["header"])
    print()
    print(report.text_table(rows))
    if args.write_docs:
        path = report.write_docs(rows, saved.get("machine") or report.machine(),
                                 saved["header"])
        print(f"bench: wrote the table into {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
