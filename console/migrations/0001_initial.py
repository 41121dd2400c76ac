"""0001: the initial schema (a frozen copy of console/models.py as first released)."""
from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


def up(migrator, db):
    class Plan(Model):
        code = CharField(unique=True, max_length=32)
        title = CharField(max_length=200)
        kind = CharField(max_length=16)
        category = CharField(max_length=16)
        subtype = CharField(max_length=32, default='other')
        owner = CharField(max_length=32, default='')
        summary = TextField(default='')
        levels = TextField(default='{}')
        contacts = TextField(default='[]')
        related = TextField(default='[]')
        shelters = TextField(default='[]')
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'plan'
    db.create_tables([Plan])

    class Report(Model):
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
        next_escalation_at = DateTimeField(index=True, null=True)
        deadline_at = DateTimeField(index=True, null=True)
        overdue_at = DateTimeField(null=True)
        rank = IntegerField(default=0)
        sort_key = IntegerField(default=0)
        version = IntegerField(default=1)
        received_at = DateTimeField(index=True)
        occurred_at = DateTimeField(null=True)
        place = CharField(max_length=200, default='')
        category = CharField(max_length=16)
        subtype = CharField(max_length=32, default='other')
        level = CharField(index=True, max_length=8)
        sensitive = BooleanField(default=False)
        title = CharField(max_length=200)
        summary = TextField(default='')
        dead = IntegerField(default=0)
        injured = IntegerField(default=0)
        missing = IntegerField(default=0)
        area = TextField(default='')
        trend = TextField(default='')
        measures = TextField(default='')
        requests = TextField(default='')
        source_unit = CharField(max_length=100, default='')
        reporter = CharField(max_length=64, default='')
        reporter_phone = CharField(max_length=40, default='')
        recorder = CharField(max_length=64, default='')
        reported_at = DateTimeField(null=True)
        followups = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'report'
            indexes = ((('rank', 'sort_key', 'id'), False),)
    db.create_tables([Report])

    class PlanActivation(Model):
        plan = ForeignKeyField(Plan, on_delete='RESTRICT')
        report = ForeignKeyField(Report, null=True, on_delete='RESTRICT')
        level = CharField(max_length=8)
        declared_by = CharField(max_length=64, default='')
        activated_by = CharField(max_length=64)
        activated_at = DateTimeField()
        deactivated_by = CharField(null=True, max_length=64)
        deactivated_at = DateTimeField(null=True)
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'plan_activation'
            indexes = ((('report',), False),)
    db.create_tables([PlanActivation])

    class ActivationMeasure(Model):
        activation = ForeignKeyField(PlanActivation, on_delete='CASCADE')
        idx = IntegerField()
        text = TextField()
        done_at = DateTimeField(null=True)
        done_by = CharField(null=True, max_length=64)
        class Meta:
            database = db
            table_name = 'activation_measure'
            indexes = ((('activation', 'idx'), True),)
    db.create_tables([ActivationMeasure])

    class Counter(Model):
        name = CharField(primary_key=True, max_length=40)
        value = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'counter'
    db.create_tables([Counter])

    class Department(Model):
        code = CharField(unique=True, max_length=32)
        name = CharField(unique=True, max_length=100)
        phone = CharField(max_length=40, default='')
        active = BooleanField(default=True)
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'department'
    db.create_tables([Department])

    class Event(Model):
        at = DateTimeField(index=True)
        actor = CharField(max_length=64)
        actor_name = CharField(max_length=64, default='')
        console = CharField(max_length=100, default='')
        item_kind = CharField(max_length=16)
        item_id = IntegerField()
        item_ref = CharField(max_length=40, default='')
        action = CharField(max_length=24)
        before = TextField(null=True)
        after = TextField(null=True)
        note = TextField(default='')
        prev_hash = CharField(max_length=64)
        hash = CharField(max_length=64)
        class Meta:
            database = db
            table_name = 'event'
            indexes = ((('item_kind', 'item_id', 'id'), False),)
    db.create_tables([Event])

    class Instruction(Model):
        item_kind = CharField(max_length=16)
        item_id = IntegerField()
        leader = CharField(max_length=64)
        text = TextField()
        at = DateTimeField()
        recorded_by = CharField(max_length=64)
        class Meta:
            database = db
            table_name = 'instruction'
            indexes = ((('item_kind', 'item_id'), False),)
    db.create_tables([Instruction])

    class Person(Model):
        login = CharField(unique=True, max_length=64)
        name = CharField(max_length=64)
        title = CharField(max_length=64, default='')
        phone = CharField(max_length=40, default='')
        role = CharField(max_length=16, default='officer')
        active = BooleanField(default=True)
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'person'
    db.create_tables([Person])

    class ReportUpdate(Model):
        report = ForeignKeyField(Report, on_delete='CASCADE')
        stage = CharField(max_length=16)
        seq = IntegerField(default=0)
        at = DateTimeField()
        text = TextField()
        dead = IntegerField(null=True)
        injured = IntegerField(null=True)
        missing = IntegerField(null=True)
        author = CharField(max_length=64)
        class Meta:
            database = db
            table_name = 'report_update'
            indexes = ((('report', 'seq'), False),)
    db.create_tables([ReportUpdate])

    class Shift(Model):
        ref = CharField(unique=True, max_length=32)
        starts_at = DateTimeField(index=True)
        ends_at = DateTimeField(index=True)
        leader = ForeignKeyField(Person, null=True, on_delete='RESTRICT')
        primary = ForeignKeyField(Person, null=True, on_delete='RESTRICT')
        secondary = ForeignKeyField(Person, null=True, on_delete='RESTRICT')
        handed_over_at = DateTimeField(null=True)
        handed_over_by = CharField(null=True, max_length=64)
        taken_over_by = CharField(null=True, max_length=64)
        handover_note = TextField(default='')
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'shift'
    db.create_tables([Shift])

    class SupervisionItem(Model):
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
        next_escalation_at = DateTimeField(index=True, null=True)
        deadline_at = DateTimeField(index=True, null=True)
        overdue_at = DateTimeField(null=True)
        rank = IntegerField(default=0)
        sort_key = IntegerField(default=0)
        version = IntegerField(default=1)
        title = CharField(max_length=200)
        content = TextField(default='')
        klass = CharField(max_length=16)
        source_kind = CharField(max_length=16, default='')
        source_ref = CharField(max_length=40, default='')
        department = ForeignKeyField(Department, null=True, on_delete='RESTRICT')
        registered_at = DateTimeField(index=True)
        result = TextField(default='')
        class Meta:
            database = db
            table_name = 'supervision_item'
            indexes = ((('rank', 'sort_key', 'id'), False),)
    db.create_tables([SupervisionItem])

    class WorkOrder(Model):
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
        next_escalation_at = DateTimeField(index=True, null=True)
        deadline_at = DateTimeField(index=True, null=True)
        overdue_at = DateTimeField(null=True)
        rank = IntegerField(default=0)
        sort_key = IntegerField(default=0)
        version = IntegerField(default=1)
        received_at = DateTimeField(index=True)
        channel = CharField(max_length=16, default='phone')
        caller = CharField(max_length=64, default='')
        phone = CharField(index=True, max_length=40, default='')
        address = CharField(max_length=200, default='')
        type = CharField(max_length=16)
        category = CharField(max_length=64, default='')
        content = TextField(default='')
        urgency = CharField(max_length=16, default='normal')
        department = ForeignKeyField(Department, null=True, on_delete='RESTRICT')
        assisting = TextField(default='[]')
        assigned_at = DateTimeField(null=True)
        extensions = IntegerField(default=0)
        satisfaction = IntegerField(null=True)
        reply = TextField(default='')
        class Meta:
            database = db
            table_name = 'work_order'
            indexes = ((('rank', 'sort_key', 'id'), False),)
    db.create_tables([WorkOrder])

    # The sweep asks "deadline passed and not yet marked overdue" and the header
    # asks "open and unacknowledged": partial indexes keep both to the rows that match.
    for table in ("report", "work_order", "supervision_item"):
        db.execute_sql(
            f"CREATE INDEX {table}_deadline_unmarked ON {table} (deadline_at) "
            "WHERE overdue_at IS NULL AND deadline_at IS NOT NULL")
        db.execute_sql(
            f"CREATE INDEX {table}_open_rank ON {table} (rank, sort_key, id) "
            "WHERE closed_at IS NULL")


def down(migrator, db):
    migrator.migrate(migrator.drop_table('work_order'))
    migrator.migrate(migrator.drop_table('supervision_item'))
    migrator.migrate(migrator.drop_table('shift'))
    migrator.migrate(migrator.drop_table('report_update'))
    migrator.migrate(migrator.drop_table('person'))
    migrator.migrate(migrator.drop_table('instruction'))
    migrator.migrate(migrator.drop_table('event'))
    migrator.migrate(migrator.drop_table('department'))
    migrator.migrate(migrator.drop_table('counter'))
    migrator.migrate(migrator.drop_table('activation_measure'))
    migrator.migrate(migrator.drop_table('plan_activation'))
    migrator.migrate(migrator.drop_table('report'))
    migrator.migrate(migrator.drop_table('plan'))

