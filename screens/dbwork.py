"""Database work off the event loop, and what happens when it fails.

Every read and every action runs in a thread worker with its own connection
(peewee connections are per thread); the event loop only awaits the result.

A failure never ends the console (issue 9 §1): an unreachable database turns
the header banner on and the app retries with backoff until it answers
(``DutyApp.db_failed``); any other unexpected error is logged with its
traceback and shown as a dialog with a reference into the log file
(``DutyApp.unexpected``).  While the database is unreachable, ``run_db`` refuses
at once with one line instead of waiting on a dead connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import peewee
from textual.dom import DOMNode
from textual.worker import WorkerFailed

from console import logs
from console.errors import DutyError, StorageUnavailable
from console.i18n import t
from console.models import database

T = TypeVar("T")
log = logs.get("screens")


def in_db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn`` on this thread's own connection, closed afterwards."""
    with database.connection_context():
        return fn(*args, **kwargs)


def is_unreachable(exc: BaseException) -> bool:
    """True for "the database cannot be reached (now)": retry, do not report a bug."""
    if isinstance(exc, StorageUnavailable | peewee.OperationalError | peewee.InterfaceError
                  | sqlite3.OperationalError | sqlite3.InterfaceError | ConnectionError):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - SQLite-only install
        return False
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def report_failure(app: Any, exc: BaseException, what: str) -> None:
    """From a worker thread: tell the app (banner and retry, or a dialog); never raise."""
    if is_unreachable(exc):
        log.warning("%s: database unreachable: %s", what, first_line(exc))
        app.call_from_thread(app.db_failed, first_line(exc))
        return
    ref = logs.report("%s failed", what, logger=log)
    app.call_from_thread(app.unexpected, ref, first_line(exc))


def guarded(app: Any, what: str, fn: Callable[..., T], *args: Any) -> T | None:
    """``in_db(fn, *args)`` for a thread worker or timer: None (and reported) on failure.

    A DutyError (a message meant for the officer) is shown as a notification.
    """
    try:
        result = in_db(fn, *args)
    except DutyError as exc:
        if isinstance(exc, StorageUnavailable):
            report_failure(app, exc, what)
        else:
            app.call_from_thread(app.notify, str(exc), markup=False, severity="error")
        return None
    except Exception as exc:  # noqa: BLE001 - reported: banner and retry, or a logged dialog
        report_failure(app, exc, what)
        return None
    app.call_from_thread(app.db_answered)
    return result


def unreachable_now(app: Any) -> bool:
    """True (and the officer told in one line) while the database cannot be reached: an
    action key then refuses before its prompt, so no typed note is lost to the outage."""
    if getattr(app, "db_error", ""):
        app.notify(t("health.unreachable_action"), severity="warning")
        return True
    return False


async def run_db(node: DOMNode, fn: Callable[..., T], *args: Any, group: str = "db",
                 **kwargs: Any) -> T:
    """Await ``fn(*args)`` run in a thread worker; its exception is re-raised here.

    While the database is unreachable this refuses at once (StorageUnavailable with
    one line); a dropped connection turns the banner on and is raised as the same
    one line; any other unexpected error is logged and raised as a DutyError that
    names its log reference, so every caller's ``except DutyError`` shows one line.
    """
    app = node.app
    if getattr(app, "db_error", ""):
        raise StorageUnavailable(t("health.unreachable_action"))
    worker = node.run_worker(partial(in_db, fn, *args, **kwargs), thread=True, group=group,
                             exit_on_error=False)
    try:
        result = await worker.wait()
    except WorkerFailed as failed:
        error = failed.error
        if isinstance(error, DutyError) and not isinstance(error, StorageUnavailable):
            raise error from None
        if is_unreachable(error):
            log.warning("database unreachable: %s", first_line(error))
            app.db_failed(first_line(error))
            raise StorageUnavailable(t("health.unreachable_action")) from None
        ref = logs.report("%s failed", getattr(fn, "__name__", "work"), logger=log)
        app.unexpected(ref, first_line(error))
        raise DutyError(t("ui.error.unexpected", error=ref)) from None
    app.db_answered()
    return result
