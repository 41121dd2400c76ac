"""0006: the queue search through an index (issue 14).

A search looked for the text with ``LIKE '%…%'`` over five columns of every row
(1.5 s at a million work orders).  Now:

- SQLite: one FTS5 table per item table with the trigram tokenizer (substring
  matching that needs no word segmenter, so Chinese works), external content
  (the text is not stored twice), kept in step by triggers on insert, delete
  and an update of a searched column — every write path (actions, import,
  bulk loads) is covered without code of its own — and filled here from the
  rows already stored.  Without FTS5 or its trigram tokenizer (SQLite < 3.34)
  nothing is created and the search stays a scan (console/search.py checks).
- PostgreSQL: ``pg_trgm`` GIN indexes on the searched columns (they serve the
  ``ILIKE '%…%'`` the search already runs; no trigger needed).  Creating the
  extension may be refused (not the owner, not installed): then one line is
  logged and the search stays a scan.

Numbered 0006 although 0003–0005 may not exist yet: playhouse's Runner applies
every shipped migration that a database has not recorded, by name, so a gap is
accepted; this one depends on nothing after 0002.
"""

import logging

from peewee import PostgresqlDatabase

log = logging.getLogger("dutyroom.migrations")

# item table → (FTS table, searched columns); console/search.py reads the same map
SEARCHED = {
    "report": ("report_fts", ("ref", "title", "place", "reporter_phone", "reporter")),
    "work_order": ("work_order_fts", ("ref", "content", "caller", "phone", "address")),
    "supervision_item": ("supervision_item_fts", ("ref", "title")),
}


def _sqlite_fts(db) -> bool:
    try:
        db.execute_sql("CREATE VIRTUAL TABLE temp._dutyroom_trigram_probe "
                       "USING fts5(x, tokenize='trigram')")
        db.execute_sql("DROP TABLE temp._dutyroom_trigram_probe")
        return True
    except Exception as exc:  # noqa: BLE001 - no FTS5 or no trigram: keep the scan
        log.warning("search index not created (SQLite has no FTS5 trigram): %s", exc)
        return False


def _sqlite_up(db) -> None:
    if not _sqlite_fts(db):
        return
    for table, (fts, cols) in SEARCHED.items():
        names = ", ".join(cols)
        new = ", ".join(f"new.{c}" for c in cols)
        old = ", ".join(f"old.{c}" for c in cols)
        db.execute_sql(f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', "
                       "content_rowid='id', tokenize='trigram')")
        db.execute_sql(f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
                       f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END")
        db.execute_sql(f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
                       f"INSERT INTO {fts}({fts}, rowid, {names}) "
                       f"VALUES ('delete', old.id, {old}); END")
        # only a change of a searched column touches the index (acknowledge, escalate… do not)
        changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in cols)
        db.execute_sql(f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {names} ON {table} "
                       f"WHEN {changed} BEGIN "
                       f"INSERT INTO {fts}({fts}, rowid, {names}) "
                       f"VALUES ('delete', old.id, {old}); "
                       f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END")
        db.execute_sql(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")  # the rows stored so far


def _pg_trgm_schema(db) -> str | None:
    """The schema holding pg_trgm, creating it in ``public`` if it is not there yet (a
    savepoint: a refusal must not abort the migration's transaction)."""
    find = ("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
            "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")
    row = db.execute_sql(find).fetchone()
    if row:
        return row[0]
    try:
        with db.atomic():  # a savepoint
            db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    except Exception as exc:  # noqa: BLE001 - not permitted or not installed: keep the scan
        row = db.execute_sql(find).fetchone()  # or another migrator created it just now
        if row:
            return row[0]
        log.warning("search index not created (CREATE EXTENSION pg_trgm refused): %s",
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return None
    row = db.execute_sql(find).fetchone()
    return row[0] if row else None


def _pg_up(db) -> None:
    schema = _pg_trgm_schema(db)
    if schema is None:
        return
    for table, (_fts, cols) in SEARCHED.items():
        for col in cols:
            db.execute_sql(f'CREATE INDEX {table}_{col}_trgm ON {table} '
                           f'USING gin ("{col}" "{schema}".gin_trgm_ops)')
    db.execute_sql("ANALYZE")


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        _pg_up(db)
    else:
        _sqlite_up(db)


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        for table, (_fts, cols) in SEARCHED.items():
            for col in cols:
                db.execute_sql(f"DROP INDEX IF EXISTS {table}_{col}_trgm")
        return
    for _table, (fts, _cols) in SEARCHED.items():
        for suffix in ("ai", "ad", "au"):
            db.execute_sql(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        db.execute_sql(f"DROP TABLE IF EXISTS {fts}")
