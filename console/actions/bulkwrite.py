"""Bulk writes shared by the import and the sweep: rows as plain tuples through one
prepared statement (executemany on SQLite, COPY on PostgreSQL), and the state digest
of a row computed from the values written (no read back)."""

from __future__ import annotations

import operator
from typing import Any

from .. import search
from ..db import is_postgres
from ..models import ITEM_MODELS, Event, JSONText, database
from .plumbing import GENESIS, _digest, canonical_values


def _head() -> str:
    return Event.select(Event.hash).order_by(Event.id.desc()).limit(1).scalar() or GENESIS


def _full_row(model: type, row: dict) -> dict:
    """Every column of the row, defaults filled in as the model gives them: what is
    written is then exactly what the event's state digest is computed from."""
    out = {}
    for f in model._meta.sorted_fields:
        if f.name == "id":
            continue
        if f.name in row:
            out[f.name] = row[f.name]
        else:
            out[f.name] = f.default() if callable(f.default) else f.default
    return out


def _state(model: type, row: dict) -> str:
    """row_digest of the row as it is written, from the values written (no read back)."""
    return _digest(canonical_values(model, row))


def _insert_rows(model: type, rows: list[dict]) -> None:
    """Bulk insert: one prepared statement, executemany over plain tuples (SQLite),
    COPY (PostgreSQL).

    Peewee's insert_many builds the SQL value by value — most of an import's time at
    100,000 rows; the values still go through each field's db_value (JSON columns).
    """
    if not rows:
        return
    names = sorted({k for row in rows for k in row})
    fields = [model._meta.fields[n] for n in names]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    marks = ", ".join([database.param] * len(fields))
    sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'
    # rows of one import share their chain lists: each object is encoded once (every
    # value is alive while ``rows`` is, so id() cannot be reused within this call)
    memo: dict[int, str | None] = {}
    encode = JSONText().db_value

    def as_json(value: Any) -> str | None:
        if value is None:
            return None
        key = id(value)
        if key not in memo:
            memo[key] = encode(value)
        return memo[key]

    json_cols = [i for i, f in enumerate(fields) if isinstance(f, JSONText)]
    get = operator.itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))

    def as_tuple(row: dict) -> tuple:
        try:
            out = list(get(row))
        except KeyError:  # a row without some column: NULL there
            out = [row.get(n) for n in names]
        for i in json_cols:
            out[i] = as_json(out[i])
        return tuple(out)

    values = (as_tuple(row) for row in rows)
    if is_postgres():  # COPY: one stream instead of a statement per row
        copy_sql = f'COPY "{model._meta.table_name}" ({columns}) FROM STDIN'
        with database.cursor().copy(copy_sql) as copy:
            for row in values:
                copy.write_row(row)
        return
    database.cursor().executemany(sql, values)


def _ids_by_ref(model: type, refs: list[str]) -> dict[str, int]:
    """{ref: id} of the stored rows among ``refs``.

    On PostgreSQL the statement is never prepared: psycopg prepares a statement run five
    times, and the generic plan made while the import's table still looked empty (no
    statistics yet inside the transaction) scanned it with 500 parameters per row — one
    look-up took 6.6 s of a 10,000-order import (measured); a custom plan takes 10 ms.
    """
    out: dict[str, int] = {}
    table = model._meta.table_name
    for start in range(0, len(refs), 500):
        chunk = refs[start:start + 500]
        marks = ", ".join([database.param] * len(chunk))
        sql = f'SELECT "ref", "id" FROM "{table}" WHERE "ref" IN ({marks})'
        if is_postgres():
            cursor = database.cursor()
            cursor.execute(sql, chunk, prepare=False)
        else:
            cursor = database.execute_sql(sql, chunk)
        out.update(cursor.fetchall())
    return out


BULK_FROM = 50_000  # rows an import adds to a table before it drops that table's indexes
KEEP_INDEXES = frozenset({  # what the import itself reads while it writes
    "work_order_repeat_phone", "work_order_repeat_place",  # 重复投诉 look-ups
    "item_link_item",  # merged duplicates among the candidates
})


class DeferredIndexes:
    """SQLite: a large import writes a table without its secondary indexes and builds
    them again, sorted, at its end.

    Each of a work order's 22 indexes takes a random leaf page per row, and past the
    page cache the rows slow down as the table grows: 4,700 rec/s for the first 50,000
    of a 1,000,000-order import, 2,100 rec/s at 200,000 (measured); building an index
    from the finished table is one sort.  A table's indexes go once the import has
    added ``BULK_FROM`` rows and at least as many as the table held when it began (an
    import that doubles the table), so a small import into a large database never
    rebuilds it.  Unique indexes and those the import reads (``KEEP_INDEXES``) stay.
    All of it happens inside the import's transaction: SQLite's DDL is transactional,
    so a failure or a killed process rolls the drop back with the rows, and the other
    consoles read the old snapshot, indexes and all, until the commit.  PostgreSQL
    keeps its indexes (dropping one locks the table against every reader)."""

    def __init__(self) -> None:
        self.start: dict[str, int] = {}
        self.added: dict[str, int] = {}
        self.dropped: dict[str, list[str]] = {}  # table → CREATE INDEX statements
        self.rebuilt = False

    def grew(self, table: str, rows: int) -> None:
        """``rows`` were added to ``table``: drop its indexes if it is now a bulk load."""
        if is_postgres() or self.rebuilt or table in self.dropped:
            return
        if table not in self.start:
            count = database.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
            self.start[table] = count - rows
        self.added[table] = added = self.added.get(table, 0) + rows
        if added >= max(BULK_FROM, self.start[table]):
            self.dropped[table] = self._drop(table)

    @staticmethod
    def _drop(table: str) -> list[str]:
        found = database.execute_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL", (table,)).fetchall()
        kept = []
        for name, sql in found:
            if name in KEEP_INDEXES or sql.lstrip().upper().startswith("CREATE UNIQUE"):
                continue
            database.execute_sql(f'DROP INDEX "{name}"')
            kept.append(sql)
        return kept

    def deferred(self, table: str) -> bool:
        """Whether ``table``'s indexes (its search index too) wait for ``rebuild``."""
        return table in self.dropped

    def rebuild(self) -> None:
        """Every index dropped, built again, and the search index of each such table
        (before the import commits)."""
        items = {m._meta.table_name: m for m in ITEM_MODELS.values()}
        for table, statements in self.dropped.items():
            for sql in statements:
                database.execute_sql(sql)
            if table in items:
                search.rebuild(items[table])
        self.dropped, self.rebuilt = {}, True
