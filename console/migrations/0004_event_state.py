"""0004: tamper evidence.  Each event records the digest of the row it is about as it
left it (``state``) and the digests of the child rows it wrote (``children``); the
event hash now covers every stored field.  Events already in the log keep their
older digest: the first event id of the new one is kept in the counter table.
"""


def up(migrator, db):
    db.execute_sql("ALTER TABLE event ADD COLUMN state VARCHAR(64)")
    db.execute_sql("ALTER TABLE event ADD COLUMN children TEXT")
    db.execute_sql("INSERT INTO counter (name, value) "
                   "SELECT 'digest_v2_from', COALESCE(MAX(id), 0) + 1 FROM event")


def down(migrator, db):
    db.execute_sql("DELETE FROM counter WHERE name = 'digest_v2_from'")
    db.execute_sql("ALTER TABLE event DROP COLUMN children")
    db.execute_sql("ALTER TABLE event DROP COLUMN state")
