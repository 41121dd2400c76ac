"""重复投诉 and the category tree (issue 11): flagged at intake and import, by index.

The 1M-order test asserts the work done — the plan uses the repeat indexes, and the
virtual machine steps SQLite takes to find the candidates stay bounded (a scan of a
million rows takes tens of millions) — never the time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from console import actions, categories, commands, intake, merge_queries, repeats
from console.errors import DomainError, ImportRejected
from console.models import ItemLink, WorkOrder, database
from tests.conftest import ADMIN, OFFICER, T0

pytestmark = pytest.mark.usefixtures("roster")
DAY = dt.timedelta(days=1)


def order(ctx, phone: str = "", address: str = "", category: str = "", days_ago: int = 0,
          **kw) -> WorkOrder:
    return actions.create_work_order(ctx, OFFICER, type="complaint", content="暖气不热",
                                     phone=phone, address=address, category=category,
                                     received_at=T0 - days_ago * DAY, **kw)


def flagged(item) -> set[int]:
    return {i for (i,) in ItemLink.select(ItemLink.other_id).where(
        (ItemLink.item_id == item.id) & (ItemLink.relation == "repeat")).tuples()}


def test_same_phone_or_same_place_within_the_window_is_a_repeat(ctx, db):
    old = order(ctx, "13800000001", "幸福路1号", "供热", days_ago=31)
    last_week = order(ctx, "13800000001", "幸福路2号", "供热", days_ago=7)
    same_place = order(ctx, "13900000009", "幸福路2号", "供热", days_ago=3)
    other = order(ctx, "13700000000", "别处", "噪声", days_ago=2)
    new = order(ctx, "13800000001", "幸福路2号", "供热")
    assert flagged(last_week) == {old.id}  # 24 days after old: within 30
    assert flagged(new) == {last_week.id, same_place.id}  # old is outside 30 days
    assert flagged(same_place) == {last_week.id}
    assert flagged(other) == set()
    assert merge_queries.is_repeat(new) and not merge_queries.is_repeat(other)
    assert {r.ref for r in merge_queries.links(new)} == {last_week.ref, same_place.ref}
    # the figures: repeats per unit and per category (an order counts once)
    assert dict(repeats.counts(T0 - 40 * DAY, T0 + DAY, by="category")) == {"供热": 3}


def test_the_batched_look_up_answers_as_the_one_by_one(ctx, db):
    """An import's look-up for a whole batch (PostgreSQL: one LATERAL statement per match;
    SQLite: one correlated subquery over a JSON array) gives each order the candidates
    the one-order look-up gives, in the same order."""
    from console.db import is_postgres

    made = []
    for i in range(24):  # phones and places that repeat, some outside the window
        made.append(order(ctx, f"1380000{i % 5:04d}", f"幸福路{i % 4}号", "供热" if i % 3 else "",
                          days_ago=40 - i * 2))
    rules = repeats.rules_of(ctx.settings)
    rules = dataclasses.replace(rules, max_candidates=3)
    orders = list(WorkOrder.select().where(WorkOrder.id.in_([o.id for o in made])))
    one_by_one = {o.id: repeats._earlier(rules, o) for o in orders}
    assert any(len(v) == 3 for v in one_by_one.values())  # the limit cuts some
    batched = repeats._earlier_many if is_postgres() else repeats._earlier_batch
    assert batched(rules, orders) == one_by_one
    # the same instant twice: the tie is broken the same way by both
    twin = order(ctx, "13800000001", "幸福路1号", "供热", days_ago=0)
    again = order(ctx, "13800000001", "幸福路1号", "供热", days_ago=0)
    pair = list(WorkOrder.select().where(WorkOrder.id.in_([twin.id, again.id])))
    assert batched(rules, pair) == {o.id: repeats._earlier(rules, o) for o in pair}


def test_window_and_match_are_configuration(ctx, db):
    narrow = dataclasses.replace(repeats.rules_of(ctx.settings), window_days=60,
                                 match=("phone",))
    old = order(ctx, "1", "幸福路1号", "供热", days_ago=45)
    probe = order(ctx, "2", "幸福路1号", "供热")
    assert repeats.candidates(dataclasses.replace(ctx.settings, merge=narrow), probe) == []
    wide = dataclasses.replace(narrow, match=("place",))
    assert repeats.candidates(dataclasses.replace(ctx.settings, merge=wide), probe) == [old.id]


def test_repeat_merges_with_one_command_and_acts_on_the_master(ctx, db):
    last_week = order(ctx, "13800000001", days_ago=7, department="ZJJ")
    new = order(ctx, "13800000001", department="ZJJ")
    (candidate,) = merge_queries.links(new)
    commands.run_command(ctx, OFFICER, f"merge {new.ref} {candidate.ref}")
    out = commands.run_command(ctx, OFFICER, f"note {new.ref} called back")
    assert f"{new.ref} was merged into {last_week.ref}" in out


def _import(ctx, tmp_path, rows: list[dict], name: str = "orders.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    records = intake.load_file(path, ctx.settings)
    return actions.import_records(ctx, ADMIN, records, source=name)


WO = {"kind": "work_order", "type": "complaint", "content": "暖气不热",
      "received_at": "2026-11-26T09:00:00"}


def test_import_takes_a_category_by_code_or_name_and_flags_repeats(ctx, db, tmp_path):
    _import(ctx, tmp_path, [{**WO, "ticket": "A1", "category": "010101", "phone": "555"},
                            {**WO, "ticket": "A2", "category": "出租车", "phone": "555"}])
    a1, a2 = (WorkOrder.get(WorkOrder.ref == r) for r in ("A1", "A2"))
    assert (a1.category, a2.category) == ("供热", "出租车")
    assert flagged(a2) == {a1.id} or flagged(a1) == {a2.id}  # same time: one of them


def test_import_with_an_unknown_category_is_one_line_naming_the_line(ctx, db, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({**WO, "ticket": "B1", "category": "010101"}) + "\n"
                    + json.dumps({**WO, "ticket": "B2", "category": "天上掉馅饼"},
                                 ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as err:
        intake.load_file(path, ctx.settings)
    line = str(err.value)
    assert "\n" not in line and line.startswith("bad.jsonl:2: category: unknown category")
    assert "天上掉馅饼" in line and WorkOrder.select().count() == 0


def test_the_shipped_tree_has_twelve_classes_three_levels():
    tree = categories.tree()
    tops = [c for c in tree.by_code.values() if c.level == 1]
    assert len(tops) == 12 and {"城乡建设", "政务服务", "卫生健康"} <= {c.name for c in tops}
    assert 90 <= len(tree.leaves()) <= 200
    assert categories.lookup("020101").path == "交通运输 / 道路出行 / 出租车"
    assert categories.group("出租车") == "交通运输" and categories.group("供热", 2) == "供热"
    assert categories.matching("0201")[0].code.startswith("0201")
    with pytest.raises(DomainError, match="unknown category"):
        categories.lookup("999999")


def test_a_bad_tree_is_one_line_naming_the_entry(tmp_path):
    path = tmp_path / "categories.yaml"
    path.write_text("categories:\n  - {code: '01', name: A, children: [{code: '0201', "
                    "name: B}]}\n", encoding="utf-8")
    with pytest.raises(DomainError, match=r"categories.yaml: categories\[0\].children\[0\]: "
                                          "code '0201' must be 4 digits starting with 01"):
        categories.load(path)


@pytest.mark.parametrize("over, where", [
    ({"repeat": {"window_days": 0}}, "hotline.repeat.window_days"),
    ({"repeat": {"max_candidates": 500}}, "hotline.repeat.max_candidates"),
    ({"repeat": {"match": ["email"]}}, "hotline.repeat.match[0]"),
    ({"count_merged_once": "yes"}, "hotline.count_merged_once"),
])
def test_bad_merge_settings_are_one_line_naming_the_key(tmp_path, over, where):
    import yaml

    from console import settings
    from console.errors import ConfigError

    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump({"hotline": over}), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        settings.load(site)
    assert str(err.value).startswith(f"site.yaml: {where}: ") and "\n" not in str(err.value)


def test_the_shipped_merge_settings():
    from console import settings

    rules = repeats.rules_of(settings.load())
    assert rules == repeats.MergeRules(True, 30, 5, ("phone", "place"))


# --------------------------------------------------------------------------- 1M orders

N = 1_000_000


def _million() -> None:
    """1M orders inside SQLite (recursive CTE INSERT…SELECT), indexes built after: one
    phone in ten is the same hot number; 1000 addresses × 10 categories; 30 s apart."""
    indexes = database.execute_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'work_order' "
        "AND sql IS NOT NULL").fetchall()
    database.execute_sql("PRAGMA synchronous = OFF")
    with database.atomic():
        for name, _sql in indexes:
            database.execute_sql(f'DROP INDEX "{name}"')
        database.execute_sql(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {N}) "
            "INSERT INTO work_order (ref, status, created_at, updated_at, closed_at, chain, "
            "step, rank, sort_key, version, received_at, channel, caller, phone, address, "
            "type, category, content, urgency, assisting, extensions, reply) "
            "SELECT 'M' || i, 'closed', t, t, t, '[]', 0, 9, 0, 1, t, 'phone', '市民', "
            "CASE WHEN i % 10 = 0 THEN '12345000000' ELSE '138' || i END, "
            "'道里区' || (i % 1000) || '号', 'complaint', '类' || (i % 10), '暖气不热', 'normal', '[]', 0, '' "
            "FROM (SELECT i, datetime(1700000000 + i * 30, 'unixepoch') AS t FROM n)")
        for _name, create in indexes:
            database.execute_sql(create)
    database.execute_sql("ANALYZE")


def _steps(run, every: int = 1) -> tuple[object, int]:
    """Run ``run`` counting SQLite's virtual-machine steps (the work done, not the time), to
    within ``every`` per statement (the handler's counter starts again with each one)."""
    conn = database.connection()
    count = [0]

    def tick() -> int:
        count[0] += 1
        return 0

    conn.set_progress_handler(tick, every)
    try:
        return run(), count[0] * every
    finally:
        conn.set_progress_handler(None, 0)


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_repeat_matching_on_a_million_orders_reads_the_index(ctx, db):
    _million()
    assert WorkOrder.select().count() == N
    at = dt.datetime.utcfromtimestamp(1700000000 + N * 30)
    hot = WorkOrder(id=-1, phone="12345000000", address="道里区7号", category="类7",
                    received_at=at)
    since = WorkOrder.received_at.db_value(at - 30 * DAY)
    for match, keys in (("phone", [hot.phone]), ("place", [hot.address, hot.category])):
        sql = repeats.window_sql(match, 5)  # the statement candidates() runs
        plan = " ".join(str(r[-1]) for r in database.execute_sql(
            "EXPLAIN QUERY PLAN " + sql, [*keys, since, at, hot.id]).fetchall())
        assert "USING INDEX work_order_repeat_" in plan or "USING COVERING INDEX " \
            "work_order_repeat_" in plan, plan
        assert "SCAN work_order" not in plan and "TEMP B-TREE" not in plan, plan
    found, steps = _steps(lambda: repeats.candidates(ctx.settings, hot))
    # 8,640 orders share the hot phone within 30 days, ~9 share the place: at most 5 read
    assert len(found) == 5
    assert steps < 1_000, steps  # measured: ~110; one scan of 1M rows: ~3,000,000
    # the import's batched look-up reads the same ranges (two orders: two of each)
    rules = repeats.rules_of(ctx.settings)
    twin = WorkOrder(id=-2, phone=hot.phone, address=hot.address, category=hot.category,
                     received_at=at)
    batch, batch_steps = _steps(lambda: repeats._earlier_batch(rules, [hot, twin]))
    assert batch[-1] == batch[-2] and batch_steps < 2_000, batch_steps
    full, scan_steps = _steps(lambda: WorkOrder.select().where(
        WorkOrder.content == "x").count(), 1000)
    assert full == 0 and scan_steps > 1000 * steps  # the measure can tell a scan
    print(f"repeat candidates: {steps} VM steps; one scan of work_order: {scan_steps}")


def test_a_merged_duplicate_is_not_offered_again(ctx, db):
    first = order(ctx, "13800000001", days_ago=5)
    second = order(ctx, "13800000001", days_ago=2)
    actions.merge(ctx, OFFICER, second, first)
    third = order(ctx, "13800000001")
    assert flagged(third) == {first.id}  # not the duplicate merged into it
