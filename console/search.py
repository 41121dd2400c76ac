"""The queue search: which rows contain the typed text, through an index where one exists.

- 3 characters or more: SQLite asks the FTS5 trigram table of migration 0006
  (``MATCH`` on the quoted phrase: a substring match, ``%`` and ``_`` are
  plain text); PostgreSQL runs ``ILIKE '%…%'``, which the ``pg_trgm`` GIN
  indexes of 0006 serve.  Without those indexes (old SQLite, extension
  refused) the same ``LIKE`` scan as before.
- 1 or 2 characters: a trigram index cannot answer them (a trigram is three
  characters), so the text is looked for only in the first ``SHORT_SCAN`` rows
  of the queue, in queue order — a bounded scan whose cost does not grow with
  the table.  The count line says when the queue is longer than that
  (``short_partial``): typing a third character searches everything.

Counts of a search are capped (``CAP``, shown as "999+") like the header's.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from peewee import SQL

from . import db as dbmod
from .models import Report, SupervisionItem, WorkOrder
from .models import database as _database

MIN_INDEXED = 3  # the trigram tokenizer needs three characters
SHORT_SCAN = 20_000  # queue rows a 1–2 character search looks through
CAP = 999  # a search's count above this reads "999+"

FTS = {"report": "report_fts", "work_order": "work_order_fts",
       "supervision": "supervision_item_fts"}

_fts_present: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def is_short(term: str) -> bool:
    return 0 < len(term) < MIN_INDEXED


def like(model: Any, kind: str, term: str):
    """``contains`` over the searched columns (peewee escapes % and _: they match
    themselves)."""
    cond = model.ref.contains(term)
    if kind == "report":
        cond |= Report.title.contains(term) | Report.place.contains(term) | (
            Report.reporter_phone.contains(term)) | Report.reporter.contains(term)
    elif kind == "work_order":
        cond |= WorkOrder.content.contains(term) | WorkOrder.caller.contains(term) | (
            WorkOrder.phone.contains(term)) | WorkOrder.address.contains(term)
    else:
        cond |= SupervisionItem.title.contains(term)
    return cond


def has_fts(kind: str) -> bool:
    """Whether this SQLite database has the trigram tables (asked once per connection
    object: a database migrated later is opened again)."""
    database = dbmod.models.database.obj
    if dbmod.is_postgres(database):
        return False
    names = _fts_present.get(database)
    if names is None:
        rows = database.execute_sql("SELECT name FROM sqlite_master WHERE type = 'table' "
                                    "AND name LIKE '%\\_fts' ESCAPE '\\'").fetchall()
        names = frozenset(r[0] for r in rows)
        if names:  # none yet: asked again (a migration may create them in this process)
            _fts_present[database] = names
    return FTS[kind] in names


def phrase(term: str) -> str:
    """An FTS5 string literal: the whole text as one phrase (no operators)."""
    return '"' + term.replace('"', '""') + '"'


def condition(model: Any, kind: str, term: str):
    """The search condition for a term of MIN_INDEXED characters or more."""
    if has_fts(kind):
        table = FTS[kind]
        return model.id.in_(SQL(f"(SELECT rowid FROM {table} WHERE {table} MATCH ?)",
                                [phrase(term)]))
    return like(model, kind, term)  # PostgreSQL: the pg_trgm GIN indexes serve ILIKE


def restrict(query: Any, model: Any, kind: str, term: str, queue: Callable[[], Any]) -> Any:
    """``query`` narrowed to the rows containing ``term``; ``queue()`` is the queue without
    the search, in queue order (a 1–2 character term looks at its first SHORT_SCAN rows)."""
    if not is_short(term):
        return query.where(condition(model, kind, term))
    return query.where(model.id.in_(queue().limit(SHORT_SCAN)) & like(model, kind, term))


def partial(term: str, queue: Callable[[], Any]) -> bool:
    """Whether a 1–2 character ``term`` saw only the start of a queue longer than SHORT_SCAN."""
    return is_short(term) and queue().limit(SHORT_SCAN + 1).count() > SHORT_SCAN


def forget(database: Any) -> None:
    """Drop what is known of ``database``'s tables (after a migration in-process)."""
    _fts_present.pop(database, None)


# the searched columns per FTS table: migration 0006's map (its triggers insert the same)
FTS_COLUMNS = {"report_fts": ("ref", "title", "place", "reporter_phone", "reporter"),
               "work_order_fts": ("ref", "content", "caller", "phone", "address"),
               "supervision_item_fts": ("ref", "title")}


def rebuild(model: type) -> None:
    """Index every row of ``model`` afresh in one pass (a bulk import that deferred its
    indexes: 22 s for 1,000,000 work orders, where indexing batch by batch grew to 14 s
    per 50,000 past 400,000 rows, measured).  Nothing where there is no FTS table."""
    kind = getattr(model, "KIND", "")
    if kind in FTS and has_fts(kind):
        _database.execute_sql(f"INSERT INTO {FTS[kind]}({FTS[kind]}) VALUES ('rebuild')")


@contextlib.contextmanager
def bulk_indexed(model: type) -> Iterator[Callable[[list[int]], None]]:
    """A bulk insert into ``model`` indexes its rows once, not row by row.

    Migration 0006's AFTER INSERT trigger indexes each row as it is inserted: for an
    executemany of 20,000 work orders 3.3 s of a 3.7 s insert (measured), where one
    ``INSERT INTO fts SELECT … WHERE id IN (…)`` takes 0.25 s.  Inside the caller's
    transaction (SQLite's DDL is transactional: a rollback, or a killed process, puts the
    trigger back with the rows gone) the trigger is dropped, the caller inserts and hands
    the new ids to the function yielded, which indexes them; the trigger is created again
    on leaving the block (an error leaves it to the rollback).  Elsewhere (PostgreSQL, no FTS) the function does
    nothing.
    """
    table = model._meta.table_name
    fts = FTS.get(getattr(model, "KIND", ""), "")
    trigger = None
    if not dbmod.is_postgres() and fts and has_fts(model.KIND):
        row = _database.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                                      "AND name = ?", (f"{fts}_ai",)).fetchone()
        trigger = row[0] if row else None
    if trigger is None:
        yield lambda ids: None
        return
    cols = ", ".join(FTS_COLUMNS[fts])
    db = _database
    db.execute_sql(f'DROP TRIGGER "{fts}_ai"')

    def index(ids: list[int]) -> None:
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            db.execute_sql(f'INSERT INTO "{fts}"(rowid, {cols}) SELECT id, {cols} FROM '
                           f'"{table}" WHERE id IN ({", ".join("?" * len(part))})', part)

    yield index
    # only on success: after an error the transaction rolls back, and the drop with it
    db.execute_sql(trigger)
