"""Workers for the multi-process tests: each runs in its own process.

They import only console/, open the database from its URL like a real console
does, wait at a barrier so they really start together, and report back through
a queue: (name, payload, error).  Any exception other than the expected domain
errors is reported as an error string so the test can show it.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import traceback
from collections.abc import Callable
from typing import Any

# Fresh processes, not forks of the test process (which holds connections, a bound
# model proxy, a frozen clock): children of a fork server started once with console/
# imported, so each worker starts in milliseconds.  "pytest" is preloaded because a
# child re-runs the main script (the pytest launcher) — on Python 3.11 the server's
# "__main__" preload never happens — and that would import pytest each time (~0.5 s).
PRELOAD = ["pytest", "tests.core._procs", "console.actions", "console.sweep", "console.db",
           "console.settings"]


def run_all(target: Callable, args: list[tuple], *, timeout: float = 90) -> list[tuple]:
    """Start one process per args tuple, all released together; collect their results."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    barrier = ctx.Barrier(len(args))
    queue = ctx.Queue()
    procs = [ctx.Process(target=target, args=(barrier, queue, *a), daemon=True) for a in args]
    for p in procs:
        p.start()
    results = []
    try:
        for _ in procs:
            results.append(queue.get(timeout=timeout))
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
    return results


def _open(url: str, moment: dt.datetime, name: str):
    from console import db as dbmod
    from console import settings
    from console.clock import FrozenClock
    from console.context import Context

    database = dbmod.open_database(url)
    database.connect(reuse_if_open=True)
    return database, Context(settings.load(), FrozenClock(moment), name)


def sweep_worker(barrier: Any, queue: Any, name: str, url: str, moment: dt.datetime,
                 batch: int) -> None:
    """Run auto_escalate once at ``moment``; report what this process escalated."""
    try:
        from console import sweep

        sweep.BATCH = batch  # small batches: the processes' transactions interleave
        database, ctx = _open(url, moment, name)
        barrier.wait(timeout=60)
        result = sweep.auto_escalate(ctx)
        database.close()
        queue.put((name, result.escalated, None))
    except BaseException:  # noqa: BLE001 - reported to the test
        queue.put((name, None, traceback.format_exc()))


def writer_worker(barrier: Any, queue: Any, name: str, url: str, moment: dt.datetime,
                  login: str, refs: list[str], ops: int) -> None:
    """``ops`` acknowledge/note actions on shared items, each on a freshly read version.

    A StaleVersion means another process acted first: re-read and try again.
    Returns the list of accepted (ref, action) pairs and how many were stale.
    """
    try:
        from console import actions
        from console.context import Actor
        from console.errors import StaleVersion

        database, ctx = _open(url, moment, name)
        actor = Actor(login, login.upper(), "officer")
        accepted: list[tuple[str, str]] = []
        stale = 0
        barrier.wait(timeout=60)
        for k in range(ops):
            ref = refs[(k + sum(map(ord, login))) % len(refs)]
            for _attempt in range(200):
                item = actions.find_item(ref)  # a fresh read, as the screen does
                try:
                    if item.acked_at is None:
                        actions.acknowledge(ctx, actor, ref, expected_version=item.version)
                        accepted.append((ref, "acknowledge"))
                    else:
                        actions.note(ctx, actor, ref, f"{login} #{k}",
                                     expected_version=item.version)
                        accepted.append((ref, "note"))
                    break
                except StaleVersion:
                    stale += 1
            else:
                raise RuntimeError(f"{ref}: still stale after 200 attempts")
        database.close()
        queue.put((name, (accepted, stale), None))
    except BaseException:  # noqa: BLE001 - reported to the test
        queue.put((name, None, traceback.format_exc()))


def migrate_worker(barrier: Any, queue: Any, name: str, urls: list[str]) -> None:
    """For each URL in turn, released together with the others: open and migrate."""
    try:
        from console import db as dbmod

        out = []
        for url in urls:
            barrier.wait(timeout=60)
            database = dbmod.open_database(url)
            applied = dbmod.migrate(database)
            pending = dbmod.pending_migrations(database)
            database.close()
            out.append((applied, pending))
        queue.put((name, out, None))
    except BaseException:  # noqa: BLE001 - reported to the test
        queue.put((name, None, traceback.format_exc()))


def connect_worker(barrier: Any, queue: Any, name: str, urls: list[str]) -> None:
    """For each URL in turn, released together with the others: open and connect."""
    try:
        from console import db as dbmod

        for url in urls:
            barrier.wait(timeout=60)
            database = dbmod.open_database(url, bind=False)
            database.connect()  # the pragmas, journal_mode=wal first
            database.close()
        queue.put((name, len(urls), None))
    except BaseException:  # noqa: BLE001 - reported to the test
        queue.put((name, None, traceback.format_exc()))

