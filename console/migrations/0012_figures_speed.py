"""0012: the year's figures in under a second at 600,000 orders (issue 12).

Measured on the bench's 1M database (one year: 599,820 orders, 542,145 closed):
- the aggregate read the rows again once 0007's unit-desk columns joined it (0.51 s
  against 0.16 s covered): the covering index of 0005 gains accepted_at,
  accept_due_at, accept_overdue_at and redo_count;
- grouped by department it sorted the period's orders (1.05 s): a second covering index
  leads with department_id (0.26 s);
- the median and 90th percentile time to close were a window function over every
  closed order of the period (1.5 s): on SQLite they are now read by rank from an index
  on the duration itself (0.05 s and 0.09 s), for the total and per department
  (console/figures.py ``_by_rank``); a month sorts only its own orders.  SQLite has ``unixepoch`` from 3.38;
  older ones keep the window.  PostgreSQL keeps the window (its own planner sorts fast).
"""

import sqlite3

DURATION = "(unixepoch(closed_at) - unixepoch(received_at))"  # as figures._seconds writes it


def _sqlite(db) -> bool:
    return "sqlite" in type(db).__name__.lower()


def up(migrator, db):
    db.execute_sql("DROP INDEX work_order_figures")
    db.execute_sql("CREATE INDEX work_order_figures ON work_order (received_at, department_id, "
                   "type, category, urgency, closed_at, overdue_at, satisfaction, extensions, "
                   "accepted_at, accept_due_at, accept_overdue_at, redo_count)")
    # by department: the groups in index order, no sort of the period's orders
    db.execute_sql("CREATE INDEX work_order_figures_dept ON work_order (department_id, "
                   "received_at, closed_at, overdue_at, satisfaction, extensions, accepted_at, "
                   "accept_due_at, accept_overdue_at, redo_count)")
    if _sqlite(db) and sqlite3.sqlite_version_info >= (3, 38):
        db.execute_sql(f"CREATE INDEX work_order_close_secs ON work_order ({DURATION}, "
                       "received_at) WHERE closed_at IS NOT NULL")
        db.execute_sql(f"CREATE INDEX work_order_close_secs_dept ON work_order (department_id, "
                       f"{DURATION}, received_at) WHERE closed_at IS NOT NULL")
    db.execute_sql("ANALYZE work_order")  # this table only: a bare ANALYZE takes every schema of a PostgreSQL database (a deadlock with another schema's DDL, seen in the suite)


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS work_order_close_secs")
    db.execute_sql("DROP INDEX IF EXISTS work_order_close_secs_dept")
    db.execute_sql("DROP INDEX work_order_figures_dept")
    db.execute_sql("DROP INDEX work_order_figures")
    db.execute_sql("CREATE INDEX work_order_figures ON work_order (received_at, department_id, "
                   "type, category, urgency, closed_at, overdue_at, satisfaction, extensions)")
