"""0007: the 12345 unit desk (issue 11) — 签收 by the handling unit, 退单 approval,
problem orders (问题工单), redo (发回重办) and acknowledgements that expire.

Columns only (no table): the work order's acceptance and counters, a person's
department (role unit), and ``ack_expires_at`` on each item table.  The sweep's
new questions each have a partial index, so they stay index walks at 1M orders.
"""

_WO = (
    ("accept_due_at", "TIMESTAMP"), ("accepted_at", "TIMESTAMP"),
    ("accepted_by", "VARCHAR(64)"), ("accept_overdue_at", "TIMESTAMP"),
    ("return_asked_at", "TIMESTAMP"), ("returns", "INTEGER NOT NULL DEFAULT 0"),
    ("dept_trail", "TEXT"), ("dept_count", "INTEGER NOT NULL DEFAULT 0"),
    ("problem_ref", "VARCHAR(40)"), ("redo_count", "INTEGER NOT NULL DEFAULT 0"),
)
_ITEMS = ("report", "work_order", "supervision_item")
_INDEXES = (
    "CREATE INDEX wo_accept_due ON work_order (accept_due_at) "
    "WHERE accepted_at IS NULL AND accept_overdue_at IS NULL AND accept_due_at IS NOT NULL",
    "CREATE INDEX wo_problem_returns ON work_order (returns) "
    "WHERE problem_ref IS NULL AND closed_at IS NULL",
    "CREATE INDEX wo_problem_depts ON work_order (dept_count) "
    "WHERE problem_ref IS NULL AND closed_at IS NULL",
    *(f"CREATE INDEX {t}_ack_expires ON {t} (ack_expires_at) "
      "WHERE ack_expires_at IS NOT NULL" for t in _ITEMS),
)


def _ts(db, kind: str) -> str:
    # peewee's DateTimeField is DATETIME on SQLite and TIMESTAMP on PostgreSQL
    return kind.replace("TIMESTAMP", "DATETIME") if "sqlite" in type(db).__name__.lower() \
        else kind


def up(migrator, db):
    for name, kind in _WO:
        db.execute_sql(f"ALTER TABLE work_order ADD COLUMN {name} {_ts(db, kind)}")
    for table in _ITEMS:
        db.execute_sql(f"ALTER TABLE {table} ADD COLUMN ack_expires_at {_ts(db, 'TIMESTAMP')}")
    db.execute_sql("ALTER TABLE person ADD COLUMN department VARCHAR(32)")
    for sql in _INDEXES:
        db.execute_sql(sql)


def down(migrator, db):
    for sql in _INDEXES:
        db.execute_sql("DROP INDEX " + sql.split()[2])
    db.execute_sql("ALTER TABLE person DROP COLUMN department")
    for table in _ITEMS:
        db.execute_sql(f"ALTER TABLE {table} DROP COLUMN ack_expires_at")
    for name, _kind in reversed(_WO):
        db.execute_sql(f"ALTER TABLE work_order DROP COLUMN {name}")
