"""0002: indexes measured on a million work orders (docs/benchmarks.md).

- open and unacknowledged: the header's "unacknowledged" counter and the
  unacknowledged-only filter count index entries instead of reading rows;
- supervision items by source: a report's or order's detail lists them;
- statistics: received_at with the grouped columns, so a year's figures come
  from the index alone.
- sort_key as BIGINT on PostgreSQL: epoch seconds of deadlines after 2038 do
  not fit a 32-bit integer (SQLite's integers are 64-bit already).
Then ANALYZE, so SQLite's planner knows which index is selective.
"""

from peewee import PostgresqlDatabase

ITEM_TABLES = ("report", "work_order", "supervision_item")


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        for table in ITEM_TABLES:
            db.execute_sql(f"ALTER TABLE {table} ALTER COLUMN sort_key TYPE BIGINT")
    for table in ITEM_TABLES:
        db.execute_sql(f"CREATE INDEX {table}_unacked ON {table} (id) "
                       "WHERE closed_at IS NULL AND acked_at IS NULL")
    db.execute_sql("CREATE INDEX supervision_item_source_ref ON supervision_item (source_ref)")
    db.execute_sql("CREATE INDEX work_order_stats ON work_order (received_at, type, urgency, "
                   "department_id, closed_at, overdue_at, satisfaction)")
    db.execute_sql("ANALYZE")


def down(migrator, db):
    for table in ITEM_TABLES:
        db.execute_sql(f"DROP INDEX {table}_unacked")
    db.execute_sql("DROP INDEX supervision_item_source_ref")
    db.execute_sql("DROP INDEX work_order_stats")
