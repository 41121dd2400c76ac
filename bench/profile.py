"""Profile one benchmark scenario with pyinstrument: ``python -m bench.profile NAME``.

Scenarios (on a working copy of the cached 1M database; ``--quick`` for the small one):
  ack        20 acknowledges on SQLite
  import     import of the bench JSON Lines file (100,000 work orders; 2,000 with --quick)
  counters   the header counters, 3 queues, 20 times
  search     the count behind one incremental-search keystroke
  stats      the year statistics
  start      DutyApp start → first painted queue (main thread only: pyinstrument does not
             follow the DB worker threads; their queries show up in the other scenarios)

Prints pyinstrument's tree (frames under 2% hidden) and a flat list of self time.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import time

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile")
    p.add_argument("name", choices=("ack", "import", "counters", "search", "stats", "start"))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--depth", type=int, default=40)
    args = p.parse_args(argv)

    from pyinstrument import Profiler
    from pyinstrument.renderers import ConsoleRenderer

    from bench import core, dataset
    from bench.dataset import Sizes

    sizes = Sizes(20_000, 2_000) if args.quick else Sizes(1_000_000, 100_000)
    path = dataset.prepare_copy(sizes, "profile")
    profiler = Profiler(interval=0.0005, async_mode="enabled")
    try:
        if args.name == "start":
            from bench import ui_child

            async def run():
                profiler.start()
                _t0, app = await ui_child._start_duty(f"sqlite:///{path}", live=True)
                async with app.run_test(size=ui_child.SIZE):
                    await app.probe.wait(60)
                    profiler.stop()

            asyncio.run(run())
        elif args.name == "import":
            from console import actions, db, intake, settings
            from console.clock import FrozenClock
            from console.context import Actor, Context

            n = 2_000 if args.quick else 100_000
            src = core.import_file(n)
            target = dataset.DATA / f"work-{os.getpid()}-profimport.db"
            database = db.open_database(f"sqlite:///{target}")
            db.migrate(database)
            s = settings.load()
            dataset._seed_reference(Context(s, FrozenClock(dataset._now()), "bench"),
                                    dataset._now())
            ctx = Context(s, console="bench:import")
            profiler.start()
            records = intake.load_file(src, s)
            actions.import_records(ctx, Actor("admin", "admin", "admin"), records,
                                   source=src.name)
            profiler.stop()
        else:
            database, ctx = dataset.open_copy(path)
            if args.name == "ack":
                from console import actions
                from console.models import WorkOrder

                ids = list(WorkOrder.select(WorkOrder.id, WorkOrder.version)
                           .where(WorkOrder.closed_at.is_null() & WorkOrder.acked_at.is_null())
                           .limit(20).tuples())
                profiler.start()
                for item_id, version in ids:
                    actions.acknowledge(ctx, core._actor(), ("work_order", item_id),
                                        expected_version=version)
                profiler.stop()
            elif args.name == "counters":
                from console import queries

                profiler.start()
                for _ in range(20):
                    for kind in queries.KINDS:
                        queries.counters(kind, ctx.now())
                profiler.stop()
            elif args.name == "search":
                from console import queries
                from console.queries import QueueFilter

                profiler.start()
                t0 = time.perf_counter()
                n = queries.count(QueueFilter("work_order", search="暖气"))
                rows = queries.window(QueueFilter("work_order", search="暖气"), 0, 50, total=n)
                profiler.stop()
                print(f"count {n}, window {len(rows)}: {(time.perf_counter() - t0) * 1000:.0f} ms")
            elif args.name == "stats":
                from console.stats import work_order_stats

                now = ctx.now()
                profiler.start()
                work_order_stats(now - dt.timedelta(days=365), now)
                profiler.stop()
            database.close()
    finally:
        dataset.cleanup_copies()
    session = profiler.last_session
    print(ConsoleRenderer(unicode=True, color=False, show_all=False,
                          processor_options={"filter_threshold": 0.02}).render(session))
    print(ConsoleRenderer(unicode=True, color=False, flat=True,
                          processor_options={"filter_threshold": 0.01}).render(session))
    return 0


if __name__ == "__main__":
    sys.exit(main())
