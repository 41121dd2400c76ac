"""The queue search goes through an index (issue 14): work done, never time.

SQLite: the plan names the FTS5 trigram table, and the virtual machine's work
(counted with a progress handler) does not grow with rows that do not match.
PostgreSQL: the plan can use the pg_trgm GIN index.  Both: the index follows
every write (triggers, not code in actions), counts are capped, a 1–2
character search looks at a bounded part of the queue.
"""

from __future__ import annotations

import pytest

from console import actions, models, queries, search
from console import db as dbmod
from console.models import WorkOrder
from console.queries import QueueFilter
from tests.conftest import ADMIN, OFFICER


@pytest.fixture
def data(db, roster):
    ctx = roster
    for i in range(30):
        actions.create_work_order(ctx, OFFICER, content=f"小区暖气不热 第{i}户", caller="张先生",
                                  phone=f"1380000{i:04d}", address="建设路")
    actions.create_work_order(ctx, OFFICER, content="折扣50%_促销 投诉", caller="王")
    actions.create_work_order(ctx, OFFICER, content="折扣50x促销 投诉", caller="王")
    return ctx


def _filler(n: int) -> None:
    """``n`` more work orders that match none of the searches (one INSERT … SELECT, as a
    bulk load would write them: the triggers must see them too)."""
    fields = [f for f in WorkOrder._meta.sorted_fields if f.name != "id"]
    cols = ", ".join(f.column_name for f in fields)
    values = ", ".join("'FILL-' || n.i" if f.name == "ref" else
                       "'路灯不亮 无关内容'" if f.name == "content" else
                       "''" if f.name in ("caller", "phone", "address") else
                       f"w.{f.column_name}" for f in fields)
    models.database.execute_sql(
        f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) "
        f"INSERT INTO work_order ({cols}) SELECT {values} FROM n, "
        "(SELECT * FROM work_order ORDER BY id LIMIT 1) AS w")


def _sqlite_steps(fn) -> int:
    """SQLite virtual-machine instructions run by ``fn`` (in thousands): the work done."""
    conn = models.database.obj.connection()
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    conn.set_progress_handler(tick, 1000)
    try:
        fn()
    finally:
        conn.set_progress_handler(None, 0)
    return steps[0]


def _plan(query) -> str:
    sql, params = query.sql()
    if dbmod.is_postgres():
        rows = models.database.execute_sql("EXPLAIN " + sql, params).fetchall()
        return "\n".join(r[0] for r in rows)
    rows = models.database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return "\n".join(r[-1] for r in rows)


def test_search_finds_what_it_should(data):
    f = QueueFilter("work_order", search="暖气不热")
    assert queries.count(f) == 30
    assert {r.title for r in queries.window(f, 0, 50)} == {f"小区暖气不热 第{i}户"
                                                          for i in range(30)}
    # % and _ are text, not wildcards (the index and the scan agree)
    assert [r.title for r in queries.window(QueueFilter("work_order", search="50%_"), 0, 9)] \
        == ["折扣50%_促销 投诉"]
    assert queries.count(QueueFilter("work_order", search="%_促")) == 1
    assert queries.count(QueueFilter("work_order", search="13800000012")) == 1  # phone
    assert queries.count(QueueFilter("work_order", search='"暖气')) == 0  # a quote is text


def test_the_plan_uses_the_index(data, db_url):
    f = QueueFilter("work_order", search="暖气不热")
    model = WorkOrder
    query = queries._where(model.select(model.id), f)
    if dbmod.is_postgres():  # every scope: the queue's own index does not compete
        query = queries._where(model.select(model.id), f.with_(scope="all"))
        models.database.execute_sql("SET enable_seqscan = off")  # a tiny table: ask for it
        try:
            plan = _plan(query)
        finally:
            models.database.execute_sql("SET enable_seqscan = on")
        for col in ("ref", "content", "caller", "phone", "address"):
            assert f"work_order_{col}_trgm" in plan, plan
        return
    plan = _plan(query)
    assert "work_order_fts VIRTUAL TABLE INDEX" in plan, plan
    assert "SCAN work_order" not in plan.replace("SCAN work_order_fts", ""), plan


def test_work_does_not_grow_with_rows_that_do_not_match(data, db_url):
    if dbmod.is_postgres():
        pytest.skip("the instruction count is SQLite's; PostgreSQL's plan is checked above")
    f = QueueFilter("work_order", search="暖气不热")

    def ask():
        queries.count(f, cap=search.CAP)
        queries.window(f, 0, 50)

    before = _sqlite_steps(ask)
    _filler(5000)  # 160× the matching rows
    after = _sqlite_steps(ask)
    assert queries.count(f) == 30
    # a LIKE scan reads every row: its work grew ~150×; through the index it stays put
    assert after <= before * 2 + 5, (before, after)


def test_the_index_follows_inserts_updates_and_deletes(data):
    f = QueueFilter("work_order", search="燃气泄漏", scope="all")
    assert queries.count(f) == 0
    wo = actions.create_work_order(data, OFFICER, content="闻到燃气泄漏", caller="李")
    assert [r.id for r in queries.window(f, 0, 9)] == [wo.id]
    WorkOrder.update(content="已修好").where(WorkOrder.id == wo.id).execute()
    assert queries.count(f) == 0
    assert queries.count(QueueFilter("work_order", search="已修好", scope="all")) == 1
    WorkOrder.update(status=WorkOrder.status).where(WorkOrder.id == wo.id).execute()
    assert queries.count(QueueFilter("work_order", search="已修好", scope="all")) == 1
    WorkOrder.delete().where(WorkOrder.id == wo.id).execute()
    assert queries.count(QueueFilter("work_order", search="已修好", scope="all")) == 0
    _filler(3)
    assert queries.count(QueueFilter("work_order", search="FILL-2", scope="all")) == 1


def test_count_is_capped(data):
    f = QueueFilter("work_order", search="暖气不热")
    assert queries.count(f, cap=9) == 10  # shown as "9+"
    assert queries.count(f, cap=99) == 30


def test_short_search_looks_at_a_bounded_start_of_the_queue(data, monkeypatch):
    f = QueueFilter("work_order", search="暖气")
    assert queries.count(f) == 30 and not queries.short_partial(f)
    monkeypatch.setattr(search, "SHORT_SCAN", 10)
    assert queries.count(f) == 10  # only the first ten rows of the queue were looked at
    assert queries.short_partial(f)
    assert [r.key for r in queries.window(f, 0, 50)] == \
        [r.key for r in queries.window(QueueFilter("work_order"), 0, 10)]


def test_rows_stored_before_the_migration_are_found(tmp_path, cfg, clock):
    """The migration fills the index from the rows already there."""
    import importlib

    from console.context import Context

    database = dbmod.open_database(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        # every migration, then 0006 taken back: the schema as it stood before the index
        dbmod.migrate(database)
        index = importlib.import_module("console.migrations.0006_search_index")
        with database.atomic():
            index.down(None, database)
        search.forget(database)
        ctx = Context(cfg, clock, "test:old")
        actions.upsert_person(ctx, ADMIN, login=OFFICER.login, name=OFFICER.name,
                              role=OFFICER.role)
        actions.create_work_order(ctx, OFFICER, content="旧库里的暖气投诉", caller="赵")
        assert not search.has_fts("work_order")
        with database.atomic():
            index.up(None, database)  # the migration fills the index from the stored rows
        search.forget(database)
        assert search.has_fts("work_order")
        f = QueueFilter("work_order", search="旧库里")
        assert "VIRTUAL TABLE" in _plan(queries._where(WorkOrder.select(WorkOrder.id), f))
        assert queries.count(f) == 1
    finally:
        database.close()
