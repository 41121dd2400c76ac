"""0011: scheduled reports are items too: the acknowledgement expiry of 0007 on their table.

0007 (the unit desk) and 0009 (scheduled reports) were written side by side; 0007 gave
``ack_expires_at`` to the three item tables it knew, so the fourth gets it here.
"""


def _ts(db) -> str:
    # peewee's DateTimeField is DATETIME on SQLite and TIMESTAMP on PostgreSQL
    return "DATETIME" if "sqlite" in type(db).__name__.lower() else "TIMESTAMP"


def up(migrator, db):
    db.execute_sql(f"ALTER TABLE scheduled_report ADD COLUMN ack_expires_at {_ts(db)}")
    db.execute_sql("CREATE INDEX scheduled_report_ack_expires ON scheduled_report "
                   "(ack_expires_at) WHERE ack_expires_at IS NOT NULL")


def down(migrator, db):
    db.execute_sql("DROP INDEX scheduled_report_ack_expires")
    db.execute_sql("ALTER TABLE scheduled_report DROP COLUMN ack_expires_at")
