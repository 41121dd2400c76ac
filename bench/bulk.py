"""Bulk rows (issue 14): import throughput and peak RSS on SQLite and PostgreSQL,
each against the bulk builder (bench/dataset.py's INSERT … SELECT) on the same fresh
database as the floor, and the catch-up sweep of a backlog.

Each import runs in its own process (``python -m bench.bulk import …``) so its peak
RSS is its own.  Sizes: ``--quick`` 20k SQLite / 10k PostgreSQL / 20k sweep; full 1M /
100k / 100k (override with DUTYROOM_BENCH_BULK=sqlite,pg,sweep)."""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from bench import dataset
from bench.report import Row, at_least, at_most

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
SEC = "9 · bulk"


def _sizes(quick: bool) -> tuple[int, int, int]:
    if os.environ.get("DUTYROOM_BENCH_BULK"):
        a, b, c = (int(x) for x in os.environ["DUTYROOM_BENCH_BULK"].split(","))
        return a, b, c
    return (20_000, 10_000, 20_000) if quick else (1_000_000, 100_000, 100_000)


@contextmanager
def _fresh(kind: str, name: str):
    """A fresh database URL: a SQLite file or a PostgreSQL schema (dropped after)."""
    if kind == "sqlite":
        path = dataset.DATA / f"bulk-{os.getpid()}-{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        return
    import psycopg

    base = os.environ.get("DUTYROOM_BENCH_PG", PG_DEFAULT)
    schema = "bulk_" + uuid.uuid4().hex[:8]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _open(url: str, console: str = "bench:bulk"):
    from console import db, settings
    from console.clock import FrozenClock
    from console.context import Context

    database = db.open_database(url)
    db.migrate(database)
    s = settings.load()
    now = dataset._now()
    dataset._seed_reference(Context(s, FrozenClock(now), "bench:build"), now)
    return database, s, now


# --------------------------------------------------------------------------- children


def _child(mode: str, url: str, arg: str) -> dict:
    from console import actions, intake
    from console.context import Actor, Context
    from console.db import is_postgres

    database, s, now = _open(url)
    out: dict = {}
    if mode == "import":
        path = Path(arg)
        ctx = Context(s, console="bench:import")
        t0 = time.perf_counter()
        result = actions.import_records(ctx, Actor("admin", "admin", "admin"),
                                        intake.file_source(path, s), source=path.name)
        out = {"seconds": time.perf_counter() - t0, "n": result.get("work_order", 0)}
    else:  # the floor: the bulk builder's INSERT … SELECT of as many work orders
        d = dataset.PgDialect() if is_postgres() else dataset.Dialect()
        with database.atomic():
            cur = database.cursor()
            k = dataset._templates(cur, d, s)
            t0 = time.perf_counter()
            cur.execute(dataset._work_orders_sql(d, int(arg), dataset._epoch(now), k))
            out = {"seconds": time.perf_counter() - t0, "n": int(arg)}
    database.close()
    out["rss_mb"] = _peak_rss_mb()
    return out


def _peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM).  Not ru_maxrss: Linux keeps it across exec, so
    a child forked from the 1.2 GB bench process reported 1,235 MB for any import."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_child(mode: str, url: str, arg: str) -> dict:
    cmd = [sys.executable, "-m", "bench.bulk", mode, url, arg]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parent.parent)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} child failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- rows


def _import_rows(cfg, kind: str, n: int, target: float) -> list[Row]:
    from bench.core import import_file

    src = import_file(n)
    with _fresh(kind, "floor") as url:
        floor = _run_child("builder", url, str(n))
    with _fresh(kind, "import") as url:
        got = _run_child("import", url, str(src))
    if got["n"] != n:
        raise RuntimeError(f"imported {got['n']} of {n}")
    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    rate, floor_rate = n / got["seconds"], n / floor["seconds"]
    return [Row(SEC, f"import {n:,} work orders (JSON Lines → {label}, streamed)", rate,
                unit="rec/s", baseline=floor_rate, baseline_name="bulk builder rows/s",
                target=at_least(target, "rec/s"), samples=1,
                note=f"{got['seconds']:.1f} s; builder {floor['seconds']:.1f} s"),
            Row(SEC, f"  peak RSS of that import ({label})", got["rss_mb"], unit="MB",
                target=at_most(300, "MB"), samples=1,
                note=f"a process that only opens the database: {floor['rss_mb']:.0f} MB")]


def _backlog_file(n: int) -> Path:
    path = dataset.DATA / f"backlog-{n}.jsonl"
    if path.exists():
        return path
    start = dataset._now() - dt.timedelta(days=30)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for i in range(n):
            at = start - dt.timedelta(seconds=i)
            fh.write(json.dumps({"kind": "work_order", "ticket": f"BACKLOG-{i:07d}",
                                 "received_at": at.isoformat() + "Z", "type": "help",
                                 "content": f"积压工单 {i}", "department": "ZJJ"},
                                ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path


def _sweep_rows(cfg, kind: str, n: int) -> list[Row]:
    from console import actions, intake, sweep
    from console.context import Actor, Context

    label = "SQLite" if kind == "sqlite" else "PostgreSQL"
    src = _backlog_file(n)
    with _fresh(kind, "sweep") as url:
        database, s, _now = _open(url)
        ctx = Context(s, console="bench:sweep")
        actions.import_records(ctx, Actor("admin", "admin", "admin"),
                               intake.file_source(src, s), source=src.name)
        batches: list[float] = []
        real = sweep.sweep_due

        def timed(ctx, find):
            t0 = time.perf_counter()
            try:
                return real(ctx, find)
            finally:
                batches.append((time.perf_counter() - t0) * 1000)

        sweep.sweep_due = timed
        try:
            t0 = time.perf_counter()
            result = sweep.auto_escalate(ctx, budget=None)
            seconds = time.perf_counter() - t0
        finally:
            sweep.sweep_due = real
            database.close()
    if len(result) < n:  # the backlog, plus any other trigger the dataset holds (a 签收 missed)
        raise RuntimeError(f"swept {len(result)} of {n}")
    full = n * 30 / 100_000  # the goal: 100k in 30 s
    batches.sort()
    return [Row(SEC, f"catch-up sweep of {n:,} due items ({label})", seconds * 1000,
                target=at_most(full * 1000, "ms"), samples=1,
                note=f"{n / seconds:,.0f} escalations/s, {len(batches)} batches of "
                     f"{sweep.BATCH}"),
            Row(SEC, f"  write lock held per batch, max ({label})", batches[-1],
                target=at_most(500, "ms"), samples=len(batches),
                note=f"median {batches[len(batches) // 2]:.0f} ms; a console stops after "
                     f"{sweep.BUDGET:g} s per tick")]


def bulk_rows(cfg) -> list[Row]:
    n_sqlite, n_pg, n_sweep = _sizes(cfg.quick)
    rows = _import_rows(cfg, "sqlite", n_sqlite, 30_000)
    rows += _sweep_rows(cfg, "sqlite", n_sweep)
    if _pg_ok():
        rows += _import_rows(cfg, "pg", n_pg, 10_000)
        rows += _sweep_rows(cfg, "pg", min(n_sweep, n_pg))
    return rows


def _pg_ok() -> bool:
    from bench.__main__ import _pg_reachable

    return _pg_reachable(os.environ.get("DUTYROOM_BENCH_PG", PG_DEFAULT)) is not None


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1], sys.argv[2], sys.argv[3])))
