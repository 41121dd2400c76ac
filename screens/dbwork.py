"""Database work off the event loop.

Every read and every action runs in a thread worker with its own connection
(peewee connections are per thread); the event loop only awaits the result.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from textual.dom import DOMNode
from textual.worker import WorkerFailed

from console.models import database

T = TypeVar("T")


def in_db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn`` on this thread's own connection, closed afterwards."""
    with database.connection_context():
        return fn(*args, **kwargs)


async def run_db(node: DOMNode, fn: Callable[..., T], *args: Any, group: str = "db",
                 **kwargs: Any) -> T:
    """Await ``fn(*args)`` run in a thread worker; its exception is re-raised here."""
    worker = node.run_worker(partial(in_db, fn, *args, **kwargs), thread=True, group=group,
                             exit_on_error=False)
    try:
        return await worker.wait()
    except WorkerFailed as failed:
        raise failed.error from None
