"""The rows without a UI: sweep, counters, queue pages, acknowledge, import,
propagation and statistics (sections 4–8 of issue 5), with their baselines."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench import dataset
from bench.dataset import DATA, Sizes
from bench.report import Row, at_least, at_most, median, pct

ACTOR_LOGIN = dataset.BENCH_USER


@dataclass
class Config:
    quick: bool
    sizes: Sizes
    pg_sizes: Sizes
    pg_url: str | None
    repeats: int
    import_records: int
    propagation_events: int
    log: object = print

    def r(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    @property
    def size_label(self) -> str:
        n = self.sizes.work_orders
        return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n // 1000}k"


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def _actor():
    from console.context import Actor

    return Actor(ACTOR_LOGIN, "值班员", "officer")


# --------------------------------------------------------------------------- 4 sweep, counters


def sweep_and_counters(cfg: Config, path: Path) -> list[Row]:
    from console import queries, sweep
    from console.models import ITEM_MODELS

    database, ctx = dataset.open_copy(path)
    rows: list[Row] = []
    open_total = sum(m.select().where(m.closed_at.is_null()).count()
                     for m in ITEM_MODELS.values())
    sec = "4 · sweep and header counters"

    sweep.auto_escalate(ctx)  # whatever fell due since the copy was made (not measured)
    idle, stray = [], 0
    for _ in range(cfg.r(30, 5)):
        t0 = time.perf_counter()
        res = sweep.auto_escalate(ctx)
        idle.append(_ms(t0))
        stray += len(res)
    rows.append(Row(sec, f"sweep, nothing due ({open_total:,} open items)", median(idle),
                    target=at_most(50, "ms"), samples=len(idle),
                    note=f"{stray} fell due while measuring" if stray else ""))

    from console.models import WorkOrder

    due_n = 10
    busy, fired = [], []
    for _ in range(cfg.r(10, 3)):
        ids = [i for (i,) in WorkOrder.select(WorkOrder.id)
               .where(WorkOrder.closed_at.is_null() & WorkOrder.overdue_at.is_null(False))
               .order_by(WorkOrder.deadline_at.desc()).limit(200).tuples()]
        pick = random.sample(ids, due_n)
        WorkOrder.update(overdue_at=None).where(WorkOrder.id.in_(pick)).execute()
        t0 = time.perf_counter()
        res = sweep.auto_escalate(ctx)
        busy.append(_ms(t0))
        fired.append(len(res))
    rows.append(Row(sec, f"sweep, {due_n} due (escalated, one transaction)", median(busy),
                    target=at_most(50, "ms"), samples=len(busy),
                    note=f"escalated {min(fired)}–{max(fired)} per run"))

    now = ctx.now()
    per_kind: dict[str, list[float]] = {k: [] for k in queries.KINDS}
    total = []
    for _ in range(cfg.r(30, 5)):
        t_all = time.perf_counter()
        for kind in queries.KINDS:
            t0 = time.perf_counter()
            queries.counters(kind, now)
            per_kind[kind].append(_ms(t0))
        total.append(_ms(t_all))
    rows.append(Row(sec, "header counters, 3 queues (queries.counters ×3)", median(total),
                    target=at_most(10, "ms"), samples=len(total)))
    for kind in queries.KINDS:
        rows.append(Row(sec, f"  counters: {kind}", median(per_kind[kind]),
                        samples=len(per_kind[kind])))
    database.close()
    return rows


# --------------------------------------------------------------------------- queue pages vs ORM


def queue_pages(cfg: Config, path: Path) -> list[Row]:
    from console import queries
    from console.models import Department, WorkOrder
    from console.queries import QueueFilter

    database, ctx = dataset.open_copy(path)
    sec = "2b · queue reads (what a key costs in the database)"
    rows: list[Row] = []
    f = QueueFilter("work_order")
    total = queries.count(f)
    n = cfg.r(30, 5)

    def timed(fn, k=n):
        xs = []
        for _ in range(k):
            t0 = time.perf_counter()
            fn()
            xs.append(_ms(t0))
        return median(xs)

    first = queries.window(f, 0, 50)
    ids = [r.id for r in first]

    def naive():
        for i in ids:
            w = WorkOrder.get_by_id(i)
            if w.department_id:
                Department.get_by_id(w.department_id).name  # noqa: B018

    naive_ms = timed(naive)
    rows.append(Row(sec, "first page, 50 rows (queries.window)", timed(lambda: queries.window(
        f, 0, 50, total=total)), baseline=naive_ms, baseline_name="ORM row by row"))
    rows.append(Row(sec, f"count of the open queue ({total:,} rows)",
                    timed(lambda: queries.count(f))))
    mid = total // 2 - 100
    rows.append(Row(sec, f"page at the middle (offset {mid:,})",
                    timed(lambda: queries.window(f, mid, 50, total=total))))
    rows.append(Row(sec, "last page (read backwards)",
                    timed(lambda: queries.window(f, total - 50, 50, total=total))))
    key = first[-1].key
    rows.append(Row(sec, "next page by keyset (queries.after)",
                    timed(lambda: queries.after(f, key, 50))))
    fa = QueueFilter("work_order", scope="all")
    rows.append(Row(sec, "count, scope all (1 queue, every row)",
                    timed(lambda: queries.count(fa), cfg.r(5, 2))))
    fc = QueueFilter("work_order", scope="closed")
    rows.append(Row(sec, "count, scope closed", timed(lambda: queries.count(fc), cfg.r(5, 2))))
    fs = QueueFilter("work_order", search="暖气")
    rows.append(Row(sec, "search '暖气': count (open queue)",
                    timed(lambda: queries.count(fs), cfg.r(5, 2))))
    fo = QueueFilter("work_order", overdue_only=True, now=ctx.now())
    rows.append(Row(sec, "overdue only: count", timed(lambda: queries.count(fo), cfg.r(10, 2))))
    database.close()
    return rows


# --------------------------------------------------------------------------- 5 acknowledge


def _ack_rows(label: str, url_or_path, cfg: Config, *, target: bool) -> list[Row]:
    from console import actions, db
    from console.context import Context
    from console.models import WorkOrder
    from console.settings import load

    if isinstance(url_or_path, Path):
        database, ctx = dataset.open_copy(url_or_path)
    else:
        database = db.open_database(url_or_path)
        ctx = Context(load(), console="bench:main")
    actor = _actor()
    n = cfg.r(40, 8)
    cands = list(WorkOrder.select(WorkOrder.id, WorkOrder.version)
                 .where(WorkOrder.closed_at.is_null() & WorkOrder.acked_at.is_null())
                 .order_by(WorkOrder.id.desc()).limit(4 * n).tuples())
    random.shuffle(cands)
    ack, bare = [], []
    for (item_id, version), (other, _v) in zip(cands[:n], cands[n:2 * n], strict=True):
        t0 = time.perf_counter()
        actions.acknowledge(ctx, actor, ("work_order", item_id), expected_version=version)
        ack.append(_ms(t0))
        t0 = time.perf_counter()
        with database.atomic():
            WorkOrder.update(version=WorkOrder.version + 1).where(WorkOrder.id == other).execute()
        bare.append(_ms(t0))
    database.close()
    sec = "5 · one action (acknowledge), call → committed"
    return [
        Row(sec, f"acknowledge, {label} (median)", median(ack), baseline=median(bare),
            baseline_name="bare update+commit", target=at_most(10, "ms") if target else None,
            samples=n),
        Row(sec, f"acknowledge, {label} (p95)", pct(ack, 95), baseline=pct(bare, 95),
            baseline_name="bare update+commit", samples=n),
    ], median(bare)


def acknowledge(cfg: Config, path: Path, pg_url: str | None) -> tuple[list[Row], dict]:
    rows, bare_sqlite = _ack_rows(f"SQLite {cfg.size_label}", path, cfg, target=True)
    bare = {"sqlite": bare_sqlite}
    if pg_url:
        pg_rows, bare["pg"] = _ack_rows(f"PostgreSQL {cfg.pg_sizes.work_orders // 1000}k",
                                        pg_url, cfg, target=False)
        rows += pg_rows
    else:
        rows.append(Row("5 · one action (acknowledge), call → committed",
                        "acknowledge, PostgreSQL", None, note="PostgreSQL not reachable"))
    return rows, bare


# --------------------------------------------------------------------------- 6 import


def import_file(n: int) -> Path:
    """A JSON Lines file of ``n`` work orders (cached): a year's archive, 90% closed."""
    path = DATA / f"import-{n}.jsonl"
    if path.exists():
        return path
    import yaml

    from console.paths import demo_dir

    tpl = yaml.safe_load((demo_dir() / "work_orders.yaml").read_text(encoding="utf-8"))
    names = yaml.safe_load((demo_dir() / "names.yaml").read_text(encoding="utf-8"))
    rng = random.Random(5)
    start = dt.datetime(2025, 1, 1, 8, 0)
    DATA.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for i in range(n):
            t = rng.choice(tpl)
            at = start + dt.timedelta(seconds=int(i * 365 * 86400 / n) + rng.randint(0, 50))
            rec = {"kind": "work_order", "ticket": f"IMP-{i + 1:07d}",
                   "received_at": at.isoformat(timespec="seconds"), "type": t["type"],
                   "urgency": t.get("urgency", "normal"), "category": t.get("category", ""),
                   "content": t["content"], "department": t.get("department"),
                   "assisting": t.get("assisting", []), "address": t.get("address", ""),
                   "caller": rng.choice(names["surnames"]) + rng.choice(names["given"]),
                   "phone": "13" + "".join(rng.choice("0123456789") for _ in range(9)),
                   "channel": "phone"}
            if rng.random() < 0.9:
                rec.update(status="closed", satisfaction=rng.choice([5, 5, 5, 4, 4, 3, 2, 1]),
                           closed_at=(at + dt.timedelta(days=rng.randint(1, 12)))
                           .isoformat(timespec="seconds"))
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path


def import_throughput(cfg: Config) -> list[Row]:
    from console import actions, db, intake, settings
    from console.clock import FrozenClock
    from console.context import Actor, Context

    n = cfg.import_records
    src = import_file(n)
    rates, loads, writes = [], [], []
    s = settings.load()
    for k in range(cfg.r(3, 1)):
        if k and sum(writes) + sum(loads) > 30_000:
            break  # a slow import: one run is enough (the full bench stays a few minutes)
        path = DATA / f"work-{os.getpid()}-import{k}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        database = db.open_database(f"sqlite:///{path}")
        db.migrate(database)
        dataset._seed_reference(Context(s, FrozenClock(dataset._now()), "bench"), dataset._now())
        ctx = Context(s, console="bench:import")
        admin = Actor("admin", "admin", "admin")
        t0 = time.perf_counter()
        records = intake.load_file(src, s)
        t1 = time.perf_counter()
        result = actions.import_records(ctx, admin, records, source=src.name)
        t2 = time.perf_counter()
        assert result.get("work_order") == n, result
        rates.append(n / (t2 - t0))
        loads.append((t1 - t0) * 1000)
        writes.append((t2 - t1) * 1000)
        database.close()
    sec = "6 · import"
    return [Row(sec, f"import {n:,} work orders (JSON Lines → SQLite)", median(rates),
                unit="rec/s", target=at_least(20_000, "rec/s"), samples=len(rates),
                note=f"read+validate {median(loads) / 1000:.1f} s, "
                     f"write {median(writes) / 1000:.1f} s"),
            Row(sec, "  read + validate (intake.load_file)", median(loads)),
            Row(sec, "  write (actions.import_records)", median(writes))]


# --------------------------------------------------------------------------- 7 propagation


def _propagation(url: str, kind: str, ids: list[int], interval_ms: int,
                 bare: bool = False) -> list[float]:
    from console.feed import ChangeFeed

    feed = ChangeFeed(url)
    feed.poll(0.01)  # connect; last_id = the newest event now
    seen: dict[int, float] = {}
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            for e in feed.poll(0.25):
                if e.item_kind == kind and e.action == "note":
                    seen.setdefault(e.item_id, time.monotonic())

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.writer", url, kind, ",".join(map(str, ids)),
         str(interval_ms)] + (["bare"] if bare else []),
        capture_output=True, text=True, timeout=300, cwd=Path(__file__).parent.parent)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1])
    committed = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] != "ready":
            committed[int(parts[0])] = float(parts[1])
    deadline = time.monotonic() + 2
    while len(seen) < len(committed) and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    th.join(2)
    feed.close()
    return [(seen[i] - t) * 1000 for i, t in committed.items() if i in seen]


def propagation(cfg: Config, path: Path, pg_url: str | None, bare: dict) -> list[Row]:
    from console.models import WorkOrder

    sec = "7 · propagation: commit in one process → another console's ChangeFeed"
    rows = []
    n = cfg.propagation_events
    targets = [(f"SQLite {cfg.size_label}", f"sqlite:///{path}", True)]
    if pg_url:
        targets.append((f"PostgreSQL {cfg.pg_sizes.work_orders // 1000}k", pg_url, False))
    for label, url, is_sqlite in targets:
        from console import db

        database = db.open_database(url)
        ids = [i for (i,) in WorkOrder.select(WorkOrder.id).where(WorkOrder.closed_at.is_null())
               .order_by(WorkOrder.id.desc()).limit(n).tuples()]
        database.close()
        lat = _propagation(url, "work_order", ids, cfg.r(200, 80))
        base = bare.get("sqlite" if is_sqlite else "pg")
        missed = n - len(lat)
        note = f"{missed} not seen" if missed else ""
        rows.append(Row(sec, f"propagation, {label} (p50)", median(lat) if lat else None,
                        baseline=base, baseline_name="bare update+commit", samples=len(lat),
                        note=note))
        rows.append(Row(sec, f"propagation, {label} (p95)", pct(lat, 95) if lat else None,
                        baseline=base, baseline_name="bare update+commit",
                        target=at_most(300, "ms"), samples=len(lat), note=note))
    if not pg_url:
        rows.append(Row(sec, "propagation, PostgreSQL", None, note="PostgreSQL not reachable"))
    return rows


# --------------------------------------------------------------------------- 9 issue 14 reads


def _export_rate(label: str, sec: str) -> list[Row]:
    """Export rows/s (JSON Lines, items and events) against reading the same rows raw."""
    from console import export
    from console.models import ITEM_MODELS, Event, database

    target = DATA / f"work-{os.getpid()}-export.jsonl"
    t0 = time.perf_counter()
    counts = export.export_to(target, "jsonl")
    secs = time.perf_counter() - t0
    n = sum(v for k, v in counts.items() if k != "head")  # head: the chain head (ID:HASH)
    target.unlink(missing_ok=True)
    t0 = time.perf_counter()
    raw = 0
    for model in [*ITEM_MODELS.values(), Event]:  # the floor: the same rows, fetched raw
        cursor = database.execute_sql(f'SELECT * FROM "{model._meta.table_name}"')
        while batch := cursor.fetchmany(5000):
            raw += len(batch)
    raw_rate = raw / (time.perf_counter() - t0)
    return [Row(sec, f"export, {label} ({n:,} rows, JSON Lines)", n / secs, unit="rows/s",
                baseline=raw_rate, baseline_name="raw SELECT fetchmany",
                target=at_least(50_000, "rows/s"), samples=1)]


def _search_count(label: str, sec: str, repeats: int) -> list[Row]:
    """What the list reads after each search key: the capped count, then the first page."""
    from console import queries, search
    from console.queries import QueueFilter

    rows = []
    for term in ("暖气", "暖气不"):
        f = QueueFilter("work_order", search=term)
        xs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            queries.window(f, 0, 50)
            queries.count(f, cap=search.CAP)
            queries.short_partial(f)
            xs.append(_ms(t0))
        raw = []
        for _ in range(repeats):  # the floor: the raw first page of the queue
            t0 = time.perf_counter()
            queries.window(QueueFilter("work_order"), 0, 50)
            raw.append(_ms(t0))
        rows.append(Row(sec, f"search '{term}' ({len(term)} characters): first page + capped "
                             f"count, {label} (p95)", pct(xs, 95), baseline=median(raw),
                        baseline_name="first page, no search", target=at_most(50, "ms"),
                        samples=len(xs)))
    return rows


def issue14_reads(cfg: Config, path: Path, pg_url: str | None) -> list[Row]:
    from console import db

    sec = "9b · issue 14 reads: search and export against their floors"
    database, _ctx = dataset.open_copy(path)
    rows = _search_count(f"SQLite {cfg.size_label}", sec, cfg.r(20, 3))
    rows += _export_rate(f"SQLite {cfg.size_label}", sec)
    database.close()
    if pg_url:
        database = db.open_database(pg_url)
        label = f"PostgreSQL {cfg.pg_sizes.work_orders // 1000}k"
        rows += _search_count(label, sec, cfg.r(20, 3))
        rows += _export_rate(label, sec)
        database.close()
    else:
        rows.append(Row(sec, "search and export, PostgreSQL", None,
                        note="PostgreSQL not reachable"))
    return rows


# --------------------------------------------------------------------------- 8 statistics


def statistics_rows(cfg: Config, path: Path) -> list[Row]:
    from console.stats import work_order_stats

    database, ctx = dataset.open_copy(path)
    until = ctx.now()
    since = until - dt.timedelta(days=365)
    xs = []
    total = 0
    for _ in range(cfg.r(5, 2)):
        t0 = time.perf_counter()
        st = work_order_stats(since, until)
        xs.append(_ms(t0))
        total = st.total
    rows = [Row("8 · statistics", f"work-order statistics, one year ({total:,} orders)",
                median(xs), target=at_most(2000, "ms"), samples=len(xs))]
    rows += _figures_rows(cfg, ctx, since, until)
    database.close()
    return rows


def _figures_rows(cfg: Config, ctx, since: dt.datetime, until: dt.datetime) -> list[Row]:
    """Issue 12: the figures (console/figures.py) of a year, total and grouped, ≤ 1 s."""
    from console.figures import Period, figures

    period = Period(since, until, ctx.settings.tz)
    rows = []
    for by in (None, "department", "month"):
        xs = []
        for _ in range(cfg.r(5, 2)):
            t0 = time.perf_counter()
            figures("work_order", period, by, settings=ctx.settings, now=until)
            xs.append(_ms(t0))
        rows.append(Row("8 · statistics", f"figures of a year, {by or 'total'} (dutyroom stats)",
                        median(xs), target=at_most(1000, "ms"), samples=len(xs)))
    return rows
