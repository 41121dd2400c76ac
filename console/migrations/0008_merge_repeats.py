"""0008: merge and repeats (issue 11).

- ``item_link``: merged duplicates, related items and repeat candidates (models.ItemLink);
  looked up by either end, and by relation for the queue's repeat filter (a partial
  index of the links still in force);
- repeat matching at intake asks two indexed questions, each a range on received_at
  within one phone, or within one (address, category): ``work_order_repeat_phone`` and
  ``work_order_repeat_place`` (console/repeats.py).  The old phone index stays.
"""
from peewee import CharField, DateTimeField, IntegerField, Model


def up(migrator, db):
    class ItemLink(Model):  # a frozen copy of models.ItemLink as first released
        kind = CharField(max_length=16)
        item_id = IntegerField()
        other_id = IntegerField()
        relation = CharField(max_length=16)
        at = DateTimeField()
        actor = CharField(default="", max_length=64)
        ended_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "item_link"

    db.create_tables([ItemLink])
    db.execute_sql("CREATE INDEX item_link_item ON item_link (kind, item_id, relation)")
    db.execute_sql("CREATE INDEX item_link_other ON item_link (kind, other_id, relation)")
    db.execute_sql("CREATE INDEX item_link_open ON item_link (kind, relation, item_id) "
                   "WHERE ended_at IS NULL")
    db.execute_sql("CREATE INDEX work_order_repeat_phone ON work_order (phone, received_at)")
    db.execute_sql("CREATE INDEX work_order_repeat_place ON work_order "
                   "(address, category, received_at)")
    db.execute_sql("ANALYZE")


def down(migrator, db):
    db.execute_sql("DROP INDEX work_order_repeat_place")
    db.execute_sql("DROP INDEX work_order_repeat_phone")
    db.execute_sql("DROP TABLE item_link")
