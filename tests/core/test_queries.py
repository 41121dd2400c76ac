"""The read side: queue windows, keyset pages, positions, counts and counters agree.

One data set of ~300 mixed items per backend (built once per module through
actions, inside one transaction), checked against hand-computed answers for
many filters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from console import actions, categories, models, queries
from console import db as dbmod
from console.clock import FrozenClock
from console.context import Context
from console.models import Department, Report, SupervisionItem, WorkOrder
from console.queries import QueueFilter
from tests.conftest import (
    ADMIN,
    LEADER,
    OFFICER,
    OFFICER2,
    T0,
    VIEWER,
    drop_pg_schema,
    make_pg_schema,
    pg_available,
)

PLACES = ["建设路与人民街交叉口", "高新区化工园", "老城区东大街", "滨江公园", "北站货场"]
CALLERS = ["张先生", "李女士", "王大爷", "赵同学"]
N = 300
CATEGORIES = ["accident", "natural", "health", "security"]
WO_CLASSES = ["供热", "停水", "路灯", ""]  # leaves of 0101, 0102 and 0105, all under 01


@dataclasses.dataclass
class Dataset:
    db: object
    ctx: Context
    now: dt.datetime


def _build(ctx: Context) -> None:
    for a in (OFFICER, OFFICER2, LEADER, ADMIN, VIEWER):
        actions.upsert_person(ctx, ADMIN, login=a.login, name=a.name, role=a.role)
    actions.upsert_department(ctx, ADMIN, code="ZJJ", name="市住建局")
    actions.upsert_department(ctx, ADMIN, code="GRB", name="市供热办")
    clock: FrozenClock = ctx.clock  # type: ignore[assignment]
    clock.set(T0 - dt.timedelta(days=12))
    levels = ["I", "II", "III", "IV", "unknown"]
    urgencies = ["normal", "urgent", "very_urgent"]
    types = ["enquiry", "help", "complaint", "report", "suggestion"]
    depts = ["ZJJ", "GRB", None]
    for i in range(N):
        who = OFFICER if i % 2 else OFFICER2
        clock.advance(minutes=37 + (i % 4) * 11)
        kind = i % 3
        n = i // 3
        if kind == 0:
            r = actions.create_report(
                ctx, who, title=f"事件{n}：{PLACES[n % 5][:2]}险情", category=CATEGORIES[n % 4],
                level=levels[n % 5], place=PLACES[n % 5], reporter=CALLERS[n % 4],
                reporter_phone=f"0431-8{n:04d}", sensitive=n % 11 == 0)
            if n % 4 == 0:
                r = actions.acknowledge(ctx, OFFICER, r)
            if n % 6 == 1:
                r = actions.escalate(ctx, who, r)
            if n % 7 == 0:
                actions.close(ctx, LEADER, r, "终报：处置完毕")
        elif kind == 1:
            wo = actions.create_work_order(
                ctx, who, content=f"{CALLERS[n % 4]}反映{PLACES[n % 5]}路灯不亮 #{n}",
                type=types[n % 5], urgency=urgencies[n % 3], department=depts[n % 3],
                caller=CALLERS[n % 4], phone=f"1380000{n:04d}", address=PLACES[(n + 2) % 5],
                category=WO_CLASSES[n % 4])
            if n % 3 != 2 and n % 2 == 0:
                wo = actions.acknowledge(ctx, OFFICER, wo)
                if n % 4 == 0:
                    wo = actions.reply(ctx, OFFICER, wo, "已处理")
                    if n % 8 == 0:
                        actions.close(ctx, OFFICER, wo)
        else:
            sv = actions.register_supervision(
                ctx, who, title=f"督办{n}：{PLACES[n % 5]}整改", klass=["urgent", "normal",
                                                                   "complex"][n % 3],
                department=depts[n % 3])
            if n % 5 == 0:
                actions.close(ctx, OFFICER, sv, "已销号")
            elif n % 3 == 0:
                actions.acknowledge(ctx, OFFICER2, sv)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def dataset(request, tmp_path_factory, cfg):
    if request.param == "sqlite":
        url, schema = f"sqlite:///{tmp_path_factory.mktemp('q') / 'q.db'}", None
    else:
        reason = pg_available()
        if reason:
            pytest.skip(reason)
        schema, url = make_pg_schema()
    database = dbmod.open_database(url)
    try:
        dbmod.migrate(database)
        ctx = Context(cfg, FrozenClock(T0), "test:queries")
        with database.atomic():  # one transaction: actions join it
            _build(ctx)
        yield Dataset(database, ctx, T0)
    finally:
        database.close()
        if schema:
            drop_pg_schema(schema)


@pytest.fixture(autouse=True)
def _bound(dataset):
    models.database.initialize(dataset.db)  # other modules' tests re-bind the proxy
    yield


# --------------------------------------------------------------------------- hand answers

SEARCH = {
    "report": ("ref", "title", "place", "reporter_phone", "reporter"),
    "work_order": ("ref", "content", "caller", "phone", "address"),
    "supervision": ("ref", "title"),
}
SEV = {"report": "level", "work_order": "urgency", "supervision": "klass"}


def hand(f: QueueFilter) -> list[tuple[int, int, int]]:
    """The filter applied in Python to every row: the keys, in queue order."""
    model = models.ITEM_MODELS[f.kind]
    codes = {d.id: d.code for d in Department.select()}
    out = []
    for it in model.select():
        if f.scope == "open" and it.closed_at is not None:
            continue
        if f.scope == "closed" and it.closed_at is None:
            continue
        if f.status and it.status != f.status:
            continue
        if f.severity and getattr(it, SEV[f.kind]) != f.severity:
            continue
        if f.department and f.kind != "report" and codes.get(it.department_id) != f.department:
            continue
        if f.mine and it.owner != f.mine:
            continue
        if f.overdue_only and not (it.closed_at is None and it.deadline_at is not None
                                   and it.deadline_at <= f.now):
            continue
        if f.unacked_only and not (it.closed_at is None and it.acked_at is None):
            continue
        if f.category and f.kind == "report" and it.category != f.category:
            continue
        if f.category and f.kind == "work_order" and not (
                it.category and categories.find(it.category).code.startswith(f.category)):
            continue
        received = getattr(it, queries.RECEIVED[f.kind])
        if f.received_from and received < f.received_from:
            continue
        if f.received_before and received >= f.received_before:
            continue
        term = f.search.strip().lower()
        if term and not any(term in str(getattr(it, c) or "").lower() for c in SEARCH[f.kind]):
            continue
        out.append((it.rank, it.sort_key, it.id))
    return sorted(out)


def _filters(now: dt.datetime) -> list[QueueFilter]:
    out = []
    for kind in ("report", "work_order", "supervision"):
        for scope in ("open", "closed", "all"):
            out.append(QueueFilter(kind, scope=scope))
        out.append(QueueFilter(kind, overdue_only=True, now=now))
        out.append(QueueFilter(kind, unacked_only=True))
        out.append(QueueFilter(kind, mine="wangfang"))
        out.append(QueueFilter(kind, scope="all", mine="liming"))
    out += [
        QueueFilter("report", status="new"),
        QueueFilter("report", status="active", scope="all"),
        QueueFilter("report", severity="I", scope="all"),
        QueueFilter("report", severity="unknown"),
        QueueFilter("report", search="BG-2026-001", scope="all"),
        QueueFilter("report", search="化工"),  # title and place
        QueueFilter("report", search="0431-80"),  # reporter's phone
        QueueFilter("report", search="李女士", scope="all"),  # reporter
        QueueFilter("report", search="找不到的内容"),
        QueueFilter("work_order", department="ZJJ"),
        QueueFilter("work_order", department="GRB", scope="all"),
        QueueFilter("work_order", status="replied"),
        QueueFilter("work_order", severity="very_urgent", scope="all"),
        QueueFilter("work_order", search="张先生"),  # caller and content
        QueueFilter("work_order", search="13800000"),  # phone
        QueueFilter("work_order", search="滨江", scope="closed"),  # address/content
        QueueFilter("work_order", search="12345-2026", department="ZJJ", mine="liming"),
        QueueFilter("supervision", department="GRB"),
        QueueFilter("supervision", severity="urgent", scope="all", search="督办1"),
        QueueFilter("supervision", status="in_progress"),
        # the filter screen's category and days received (issue 10 §12)
        QueueFilter("report", category="natural"),
        QueueFilter("report", category="health", scope="all", severity="I"),
        QueueFilter("work_order", category="0101", scope="all"),  # 供热 and what is under it
        QueueFilter("work_order", category="01"),  # 城乡建设: three of the four
        QueueFilter("work_order", category="02", scope="all"),  # none
        QueueFilter("report", received_from=now - dt.timedelta(days=8),
                    received_before=now - dt.timedelta(days=4)),
        QueueFilter("work_order", received_from=now - dt.timedelta(days=6), scope="all",
                    category="0102"),
        QueueFilter("supervision", received_before=now - dt.timedelta(days=9), scope="all"),
    ]
    return out


FILTERS = _filters(T0)


def _ids(f: QueueFilter) -> str:
    parts = [f.kind, f.scope] + [f"{k}={v}" for k, v in dataclasses.asdict(f).items()
                                 if k not in ("kind", "scope", "now") and v]
    return ",".join(parts)


# --------------------------------------------------------------------------- consistency


def test_the_data_set_is_mixed():
    assert Report.select().count() == WorkOrder.select().count() == 100
    assert SupervisionItem.select().count() == 100
    for model in (Report, WorkOrder, SupervisionItem):
        assert model.select().where(model.closed_at.is_null(False)).count() > 5
        assert model.select().where(model.closed_at.is_null()).count() > 50
    assert len(hand(QueueFilter("report", overdue_only=True, now=T0))) > 5


@pytest.mark.parametrize("f", FILTERS, ids=_ids)
def test_window_count_keyset_and_position_agree(f):
    expected = hand(f)
    total = queries.count(f)
    assert total == len(expected)
    full = queries.window(f, 0, total + 10)
    assert [r.key for r in full] == expected
    if not expected:
        assert queries.window(f, 0, 10, total=0) == []
        return
    assert len({r.id for r in full}) == total
    for off, lim in ((0, 7), (3, 10), (total // 2, 9), (total // 2 + 1, 5), (total - 1, 10),
                     (max(0, total - 4), 30), (total, 5), (total + 3, 5)):
        want = full[off:off + lim]
        assert queries.window(f, off, lim) == want, (off, lim)
        assert queries.window(f, off, lim, total=total) == want, ("backwards", off, lim)
    for i in sorted(i for i in {0, 1, total // 3, total // 2, total - 2, total - 1} if i >= 0):
        key = full[i].key
        assert queries.position_of(f, key) == i
        assert queries.after(f, key, 6) == full[i + 1:i + 7]
        assert queries.before(f, key, 6) == full[max(0, i - 6):i]
        assert queries.row_by_id(f.kind, full[i].id) == full[i]


def test_paging_forward_and_back_visits_every_row_once():
    f = QueueFilter("work_order", scope="all")
    total = queries.count(f)
    page = queries.window(f, 0, 13)
    seen = [r.id for r in page]
    while page:
        page = queries.after(f, page[-1].key, 13)
        seen += [r.id for r in page]
    assert len(seen) == len(set(seen)) == total
    tail = queries.window(f, total - 13, 13, total=total)
    back = [r.id for r in tail]
    page = tail
    while page:
        page = queries.before(f, page[0].key, 13)
        back = [r.id for r in page] + back
    assert back == seen


def test_window_near_the_end_reads_backwards_identically():
    f = QueueFilter("report", scope="all")
    total = queries.count(f)
    assert total == 100
    forward = queries.window(f, 0, total)
    for off in (51, 80, 95, 99):
        assert queries.window(f, off, 10, total=total) == forward[off:off + 10]
    assert queries.window(f, 100, 10, total=total) == []


def test_queue_order_open_first_then_severity():
    rows = queries.window(QueueFilter("report", scope="all"), 0, 200)
    open_rows = [r for r in rows if r.closed_at is None]
    closed_rows = [r for r in rows if r.closed_at is not None]
    assert rows == open_rows + closed_rows
    order = {"I": 0, "II": 1, "unknown": 2, "III": 3, "IV": 4}
    sensitive = {r.id for r in Report.select(Report.id).where(Report.sensitive == True)}  # noqa: E712
    # sensitive information ranks as reporting.sensitive_as (Ⅱ) at least
    sev = [min(order[r.severity], order["II"]) if r.id in sensitive else order[r.severity]
           for r in open_rows]
    assert sev == sorted(sev)
    closed_times = [r.closed_at for r in closed_rows if r.severity == "I"]
    assert closed_times == sorted(closed_times, reverse=True)


def test_rows_carry_what_the_list_shows():
    wo = WorkOrder.select().where(WorkOrder.department.is_null(False)).first()
    row = queries.row_by_id("work_order", wo.id)
    assert row.ref == wo.ref and row.where in ("市住建局", "市供热办")
    assert row.extra == {"caller": wo.caller, "type": wo.type}
    r = Report.select().where(Report.step == 1).first()
    row = queries.row_by_id("report", r.id)
    assert (row.step, row.step_name, row.where) == (1, "带班领导", r.place)
    assert queries.row_by_id("report", 10**6) is None


# --------------------------------------------------------------------------- counters


@pytest.mark.parametrize("kind", ["report", "work_order", "supervision"])
def test_counters_match_hand_counts(kind, dataset):
    model = models.ITEM_MODELS[kind]
    items = list(model.select())
    new_status = {"report": "new", "work_order": "received", "supervision": "registered"}[kind]
    c = queries.counters(kind, dataset.now)
    assert c.open == sum(1 for i in items if i.closed_at is None)
    assert c.new == sum(1 for i in items if i.status == new_status)
    assert c.unacked == sum(1 for i in items if i.closed_at is None and i.acked_at is None)
    assert c.overdue == sum(1 for i in items if i.deadline_at is not None
                            and i.deadline_at <= dataset.now)
    assert c.overdue == queries.count(QueueFilter(kind, overdue_only=True, now=dataset.now))
    assert c.unacked == queries.count(QueueFilter(kind, unacked_only=True))
    assert c.open == queries.count(QueueFilter(kind))


# --------------------------------------------------------------------------- detail and feed


def test_detail_and_timeline():
    r = Report.select().where(Report.closed_at.is_null(False)).first()
    d = queries.detail("report", r.id)
    assert d.item.ref == r.ref
    assert [u.stage for u in d.updates][0] == "initial" and d.updates[-1].stage == "final"
    actions_seen = [e.action for e in d.events]
    assert actions_seen[0] == "create" and actions_seen[-1] == "close"
    assert [e.id for e in d.events] == sorted(e.id for e in d.events)
    assert queries.detail("report", 10**6) is None


def test_events_after_and_last_event_id():
    last = queries.last_event_id()
    assert last > N
    tail = queries.events_after(last - 5)
    assert [e.id for e in tail] == list(range(last - 4, last + 1))
    assert queries.events_after(last) == []


def test_refs_starting():
    refs = queries.refs_starting("BG-2026-000")
    assert refs and all(r.startswith("BG-2026-000") for r in refs)
    closed = {r.ref for r in Report.select().where(Report.closed_at.is_null(False))}
    assert not closed & set(refs)


# --------------------------------------------------------------------------- duty team


def test_duty_team_picks_the_shift_covering_now(dataset):
    ctx = dataset.ctx
    h = dt.timedelta(hours=1)
    day0 = T0 - 2 * h  # 08:00 local on Fri 27 Nov
    with dataset.db.atomic() as txn:
        day = actions.upsert_shift(ctx, ADMIN, starts_at=day0, ends_at=day0 + 12 * h,
                                   leader="zhaoqiang", primary="liming", secondary="wangfang")
        night = actions.upsert_shift(ctx, ADMIN, starts_at=day0 + 12 * h,
                                     ends_at=day0 + 24 * h, leader="admin", primary="wangfang")
        assert queries.duty_team(T0).shift.ref == day.ref
        team = queries.duty_team(T0)
        assert (team.leader.name, team.primary.name, team.secondary.name) == ("赵强", "李明",
                                                                              "王芳")
        at_handover = queries.duty_team(day0 + 12 * h)  # 20:00 exactly: the night shift
        assert at_handover.shift.ref == night.ref
        assert (at_handover.leader.login, at_handover.primary.login,
                at_handover.secondary) == ("admin", "wangfang", None)
        assert queries.duty_team(day0 + 24 * h - dt.timedelta(seconds=1)).shift.ref == night.ref
        empty = queries.duty_team(day0 + 24 * h)
        assert empty == queries.DutyTeam(None, None, None, None)
        assert queries.duty_team(day0 - dt.timedelta(seconds=1)).shift is None
        txn.rollback()  # leave the shared data set as it was


def test_day_bounds_are_local_days_as_utc():
    """The filter's days are the site's days: from 00:00 local, to the next day's 00:00."""
    from zoneinfo import ZoneInfo

    from console import fields
    from console.errors import DomainError

    tz = ZoneInfo("Asia/Shanghai")
    since, before = queries.day_bounds(tz, dt.date(2026, 12, 1), dt.date(2026, 12, 3))
    assert (since, before) == (dt.datetime(2026, 11, 30, 16), dt.datetime(2026, 12, 3, 16))
    assert queries.day_bounds(tz, None, None) == (None, None)
    assert fields.day_range("2026-12-01", "") == (dt.date(2026, 12, 1), None)
    with pytest.raises(DomainError, match="after"):
        fields.day_range("2026-12-05", "2026-12-01")
    with pytest.raises(DomainError, match="expected a date YYYY-MM-DD, got 12/01"):
        fields.day_range("12/01", "")


def test_category_and_days_select_part_of_the_queue():
    def n(**kw):
        return queries.count(QueueFilter(scope="all", **kw))

    for kind, code in (("report", "natural"), ("work_order", "0101"), ("work_order", "01")):
        assert 0 < n(kind=kind, category=code) < n(kind=kind), (kind, code)
    assert n(kind="work_order", category="01") == 3 * n(kind="work_order", category="0101")
    assert n(kind="work_order", category="02") == 0
    window = {"received_from": T0 - dt.timedelta(days=8), "received_before": T0 - dt.timedelta(days=4)}
    for kind in ("report", "work_order", "supervision"):
        assert 0 < n(kind=kind, **window) < n(kind=kind), kind
