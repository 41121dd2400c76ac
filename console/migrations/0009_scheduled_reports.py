"""0009: scheduled department reports (定期报送, console/schedule.py), an item kind of
their own: one row per department, topic and period, UNIQUE, so two sweepers creating
the coming period's rows at once create each one once.  0006–0008 belong to other
branches (peewee's runner applies pending migrations in numeric order, gaps allowed).
"""
from peewee import (
    BigIntegerField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


def up(migrator, db):
    class Department(Model):
        class Meta:
            database = db
            table_name = 'department'

    class ScheduledReport(Model):
        ref = CharField(unique=True, max_length=40)
        status = CharField(index=True, max_length=16)
        owner = CharField(null=True, max_length=64)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        closed_at = DateTimeField(null=True)
        chain = TextField(default='[]')
        step = IntegerField(default=0)
        acked_by = CharField(null=True, max_length=64)
        acked_at = DateTimeField(null=True)
        next_escalation_at = DateTimeField(null=True, index=True)
        deadline_at = DateTimeField(null=True, index=True)
        overdue_at = DateTimeField(null=True)
        rank = IntegerField(default=0)
        sort_key = BigIntegerField(default=0)
        version = IntegerField(default=1)
        department = ForeignKeyField(Department, on_delete='RESTRICT', backref='+')
        topic = CharField(max_length=32)
        cadence = CharField(max_length=16)
        period = CharField(max_length=16)
        due_at = DateTimeField(index=True)
        grace = IntegerField(default=0)
        received_at = DateTimeField(null=True)
        received_by = CharField(null=True, max_length=64)
        file_path = TextField(default='')
        file_sha256 = CharField(default='', max_length=64)

        class Meta:
            database = db
            table_name = 'scheduled_report'
            indexes = ((('rank', 'sort_key', 'id'), False),
                       (('department', 'topic', 'period'), True))

    db.create_tables([ScheduledReport])
    db.execute_sql("CREATE INDEX scheduled_report_unacked ON scheduled_report (id) "
                   "WHERE closed_at IS NULL AND acked_at IS NULL")


def down(migrator, db):
    db.execute_sql("DROP TABLE scheduled_report")
