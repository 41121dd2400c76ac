"""0003: exactly once — each event may carry the idempotency key of the intent that
wrote it (a key press, a CLI call, an import).  UNIQUE: a transaction retried after
its COMMIT's answer was lost finds its key and does not write the event again.
NULL for events written before (and for a transaction's further events).
"""


def up(migrator, db):
    db.execute_sql("ALTER TABLE event ADD COLUMN intent VARCHAR(64)")
    db.execute_sql("CREATE UNIQUE INDEX event_intent ON event (intent)")


def down(migrator, db):
    db.execute_sql("DROP INDEX event_intent")
    db.execute_sql("ALTER TABLE event DROP COLUMN intent")
