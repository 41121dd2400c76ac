"""0010: handover to the 三清 standard and leaders' instructions with their leader.

shift: the three 清 as submitted (situation, problems, tasks), the open items handed
over (JSON), when the incoming officer accepted (taken_over_by names who) and the
reason of a take-over.  instruction: the leader's roster login and title.  All NULL for
rows written before; a NULL one is left out of the row's digest (models.py), so
``dutyroom verify`` still matches older rows.
"""

_SHIFT = (("situation", "TEXT"), ("problems", "TEXT"), ("tasks", "TEXT"),
          ("handed_items", "TEXT"), ("accepted_at", "TIMESTAMP"), ("takeover_reason", "TEXT"))
_INSTRUCTION = (("leader_login", "VARCHAR(64)"), ("leader_title", "VARCHAR(64)"))


def up(migrator, db):
    for name, kind in _SHIFT:
        db.execute_sql(f"ALTER TABLE shift ADD COLUMN {name} {kind}")
    for name, kind in _INSTRUCTION:
        db.execute_sql(f"ALTER TABLE instruction ADD COLUMN {name} {kind}")


def down(migrator, db):
    for name, _kind in _SHIFT:
        db.execute_sql(f"ALTER TABLE shift DROP COLUMN {name}")
    for name, _kind in _INSTRUCTION:
        db.execute_sql(f"ALTER TABLE instruction DROP COLUMN {name}")
