"""Figures (issue 12) against a hand-computed month and a generated set with known rates.

Every figure of docs/statistics.md is checked here on SQLite and PostgreSQL; the
expected numbers are worked out in the comments, as a leader would by hand.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from console.clock import to_local, to_utc_naive
from console.figures import Period, figures
from console.models import Department, Event, Report, SupervisionItem, WorkOrder

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


def _march(ctx) -> Period:
    tz = ctx.settings.tz
    return Period(to_utc_naive(dt.datetime(2026, 3, 1), tz),
                  to_utc_naive(dt.datetime(2026, 4, 1), tz), tz)


def _order(ref, received, *, dept=None, type="complaint", closed=None, late=False, sat=None,
           ext=0, category="供暖") -> int:
    return WorkOrder.insert(
        ref=ref, status="closed" if closed else "in_progress", created_at=received,
        updated_at=received, received_at=received, type=type, category=category,
        department=dept, closed_at=closed, overdue_at=closed if late else None,
        satisfaction=sat, extensions=ext).execute()


def _event(kind, item_id, action, at) -> None:
    Event.insert(at=at, actor="t", item_kind=kind, item_id=item_id, action=action,
                 prev_hash="", hash="").execute()


def _u(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture
def month(ctx, db):
    zjj = Department.insert(code="ZJJ", name="市住建局").execute()
    grb = Department.insert(code="GRB", name="市供热办").execute()
    # times are UTC; the site is UTC+8
    _order("W1", _u("2026-03-02 01:00"), dept=zjj, closed=_u("2026-03-02 03:00"), sat=5)  # 2 h
    _order("W2", _u("2026-03-03 01:00"), dept=zjj, closed=_u("2026-03-03 11:00"), late=True,
           sat=3, ext=1)  # 10 h, late
    w3 = _order("W3", _u("2026-03-03 01:00"), dept=zjj, type="enquiry")  # open
    w4 = _order("W4", _u("2026-03-10 01:00"), dept=grb, type="help",
                closed=_u("2026-03-11 01:00"), sat=4, ext=2)  # 24 h
    _order("W5", _u("2026-03-10 01:00"), dept=grb, type="help",
           closed=_u("2026-03-10 05:00"))  # 4 h, not rated
    # 00:30 on 1 March local time: in March although UTC says 28 February
    _order("W6", _u("2026-02-28 16:30"), type="enquiry", closed=_u("2026-02-28 17:30"))  # 1 h
    w7 = _order("W7", _u("2026-02-28 15:00"), dept=zjj)  # 23:00 on 28 Feb local: not counted
    _order("W8", _u("2026-03-31 16:30"), dept=zjj)  # 00:30 on 1 April local: not counted
    for item, n in ((w3, 2), (w4, 1), (w7, 1)):
        for _ in range(n):
            _event("work_order", item, "return", _u("2026-03-12 00:00"))
    return {"zjj": zjj, "grb": grb}


def test_work_order_figures_by_hand(ctx, month):
    f = figures("work_order", _march(ctx), settings=ctx.settings, now=ctx.now())
    t = f["total"]
    # W1–W6 received; W1 W2 W4 W5 W6 closed; W2 late
    assert (t["received"], t["closed"], t["on_time"]) == (6, 5, 4)
    assert t["closure_rate"] == pytest.approx(5 / 6)
    assert t["on_time_rate"] == pytest.approx(4 / 5)
    # durations 1 2 4 10 24 h: median rank ⌈5·0.5⌉ = 3 → 4 h; p90 rank ⌈4.5⌉ = 5 → 24 h
    assert (t["median_close_hours"], t["p90_close_hours"]) == (4.0, 24.0)
    assert (t["returns"], t["extensions"]) == (3, 3)  # W7's return is outside the period
    # rated 5, 3, 4: mean 4.0, two of three ≥ 4
    assert (t["rated"], t["satisfaction_mean"], t["satisfied"]) == (3, 4.0, 2)
    assert t["satisfied_rate"] == pytest.approx(2 / 3)


def test_work_order_figures_by_department(ctx, month):
    f = figures("work_order", _march(ctx), "department", settings=ctx.settings, now=ctx.now())
    g = f["groups"]
    assert set(g) == {"ZJJ", "GRB", "-"}
    z, r = g["ZJJ"], g["GRB"]
    assert (z["received"], z["closed"], z["on_time"], z["returns"]) == (3, 2, 1, 2)
    assert z["on_time_rate"] == pytest.approx(0.5)
    # 2 h and 10 h: median rank ⌈1⌉ = 1 → 2 h; p90 rank ⌈1.8⌉ = 2 → 10 h
    assert (z["median_close_hours"], z["p90_close_hours"]) == (2.0, 10.0)
    assert (r["received"], r["closed"], r["on_time_rate"], r["returns"]) == (2, 2, 1.0, 1)
    assert (r["median_close_hours"], r["p90_close_hours"]) == (4.0, 24.0)
    assert g["-"]["received"] == 1 and g["-"]["satisfaction_mean"] is None


def test_work_order_figures_by_local_day_and_month(ctx, month):
    days = figures("work_order", _march(ctx), "day", settings=ctx.settings, now=ctx.now())
    assert {k: v["received"] for k, v in days["groups"].items()} == {
        "2026-03-01": 1, "2026-03-02": 1, "2026-03-03": 2, "2026-03-10": 2}
    months = figures("work_order", _march(ctx), "month", settings=ctx.settings, now=ctx.now())
    assert list(months["groups"]) == ["2026-03"]
    by_type = figures("work_order", _march(ctx), "type", settings=ctx.settings, now=ctx.now())
    assert {k: v["received"] for k, v in by_type["groups"].items()} == {
        "complaint": 2, "enquiry": 2, "help": 2}


def _report(ref, level, received, reported=None, sensitive=False) -> int:
    return Report.insert(ref=ref, status="active", created_at=received, updated_at=received,
                         received_at=received, category="accident", level=level, title=ref,
                         sensitive=sensitive, reported_at=reported).execute()


def test_report_figures_by_hand(ctx, db):
    r1 = _report("R1", "I", _u("2026-03-05 00:00"), _u("2026-03-05 00:20"))  # 20 min ≤ 30
    _event("report", r1, "overdue", _u("2026-03-05 02:00"))  # a follow-up missed
    _report("R2", "I", _u("2026-03-06 00:00"), _u("2026-03-06 01:00"))  # 60 min > 30
    # sensitive: reported as fast as a Ⅱ (30 min): 40 min is late
    r3 = _report("R3", "IV", _u("2026-03-07 00:00"), _u("2026-03-07 00:40"), sensitive=True)
    _event("report", r3, "overdue", _u("2026-03-07 00:31"))  # before the report up: not a follow-up
    _report("R4", "IV", _u("2026-03-08 00:00"), _u("2026-03-08 10:00"))  # 600 min ≤ 1440
    _report("R5", "III", _u("2026-03-09 00:00"))  # not reported up
    f = figures("report", _march(ctx), "level", settings=ctx.settings, now=ctx.now())
    t = f["total"]
    assert (t["received"], t["reported_up"], t["reported_in_time"], t["major"]) == (5, 4, 2, 2)
    assert t["reported_in_time_rate"] == pytest.approx(0.5)
    assert t["median_report_minutes"] == 40.0  # 20 40 60 600: rank ⌈2⌉ = 2
    assert (t["followups_on_time"], t["followups_on_time_rate"]) == (3, 0.75)
    g = f["groups"]
    assert (g["I"]["received"], g["I"]["reported_in_time"], g["I"]["median_report_minutes"]) \
        == (2, 1, 20.0)
    assert (g["IV"]["reported_in_time"], g["IV"]["median_report_minutes"]) == (1, 40.0)
    assert (g["III"]["reported_up"], g["III"]["median_report_minutes"],
            g["III"]["reported_in_time_rate"]) == (0, None, None)


def _item(ref, klass, registered, *, closed=None, late=False, due=None) -> None:
    SupervisionItem.insert(ref=ref, status="closed" if closed else "in_progress",
                           created_at=registered, updated_at=registered, title=ref, klass=klass,
                           registered_at=registered, closed_at=closed,
                           overdue_at=closed if late else None, deadline_at=due).execute()


def test_supervision_figures_by_hand(ctx, db):
    _item("S1", "urgent", _u("2026-03-02 00:00"), closed=_u("2026-03-03 00:00"))
    _item("S2", "normal", _u("2026-03-02 00:00"), closed=_u("2026-03-20 00:00"), late=True)
    _item("S3", "complex", _u("2026-03-02 00:00"), due=_u("2026-03-25 00:00"))  # open, past due
    _item("S4", "normal", _u("2026-03-02 00:00"), due=_u("2027-03-25 00:00"))  # open, in time
    f = figures("supervision", _march(ctx), "class", settings=ctx.settings, now=ctx.now())
    t = f["total"]
    assert (t["registered"], t["closed"], t["on_time"], t["overdue"], t["open_overdue"]) \
        == (4, 2, 1, 2, 1)
    g = f["groups"]
    assert (g["normal"]["registered"], g["normal"]["closed"], g["normal"]["overdue"]) == (2, 1, 1)
    assert (g["complex"]["open_overdue"], g["urgent"]["on_time_rate"]) == (1, 1.0)


def test_generated_orders_match_their_known_rates(ctx, db):
    """1,200 orders whose truth is known from how they were made."""
    zjj = Department.insert(code="ZJJ", name="市住建局").execute()
    grb = Department.insert(code="GRB", name="市供热办").execute()
    start = to_utc_naive(dt.datetime(2026, 3, 1), ctx.settings.tz)
    rows, truth = [], {"ZJJ": [0, 0, 0, []], "GRB": [0, 0, 0, []]}
    for i in range(1200):
        code = "ZJJ" if i % 3 else "GRB"
        received = start + dt.timedelta(minutes=37 * i)
        closed = received + (i % 97 + 1) * H if i % 7 else None
        late = closed is not None and i % 5 == 0
        acc = truth[code]
        acc[0] += 1
        if closed:
            acc[1] += 1
            acc[2] += 0 if late else 1
            acc[3].append(i % 97 + 1)
        rows.append(dict(ref=f"G{i}", status="closed" if closed else "in_progress",
                         created_at=received, updated_at=received, received_at=received,
                         type="complaint", department=zjj if code == "ZJJ" else grb,
                         closed_at=closed, overdue_at=closed if late else None))
    WorkOrder.insert_many(rows).execute()
    period = Period(start, start + dt.timedelta(days=40), ctx.settings.tz)
    g = figures("work_order", period, "department", settings=ctx.settings,
                now=ctx.now())["groups"]
    for code, (n, c, on_time, hours) in truth.items():
        hours.sort()
        assert (g[code]["received"], g[code]["closed"], g[code]["on_time"]) == (n, c, on_time)
        assert g[code]["on_time_rate"] == pytest.approx(on_time / c)
        assert g[code]["median_close_hours"] == hours[math.ceil(len(hours) * 0.5) - 1]
        assert g[code]["p90_close_hours"] == hours[math.ceil(len(hours) * 0.9) - 1]
    # the whole period, each local month and each type (the rank read, the window): the same
    # nearest-rank answers as the hand-sorted durations
    every = sorted(h for _n, _c, _o, hours in truth.values() for h in hours)
    t = figures("work_order", period, settings=ctx.settings, now=ctx.now())["total"]
    assert (t["median_close_hours"], t["p90_close_hours"]) == (
        every[math.ceil(len(every) * 0.5) - 1], every[math.ceil(len(every) * 0.9) - 1])
    by_month: dict[str, list[int]] = {}
    for i in range(1200):
        if i % 7:
            received = start + dt.timedelta(minutes=37 * i)
            month = to_local(received, ctx.settings.tz).strftime("%Y-%m")
            by_month.setdefault(month, []).append(i % 97 + 1)
    months = figures("work_order", period, "month", settings=ctx.settings,
                     now=ctx.now())["groups"]
    assert sorted(months) == sorted(by_month) == ["2026-03"]
    for month, hours in by_month.items():
        hours.sort()
        assert months[month]["median_close_hours"] == hours[math.ceil(len(hours) * 0.5) - 1]
        assert months[month]["p90_close_hours"] == hours[math.ceil(len(hours) * 0.9) - 1]
    by_type = figures("work_order", period, "type", settings=ctx.settings, now=ctx.now())
    assert by_type["groups"]["complaint"]["median_close_hours"] == t["median_close_hours"]


def test_sqlite_reads_percentiles_by_rank_from_the_duration_index(ctx, month, monkeypatch):
    """Work done, not time: the total's and each department's percentiles are index walks
    (migration 0012), not a window numbering every closed order of the period."""
    from console import figures as figures_mod
    from console.db import is_postgres
    from console.models import database

    if is_postgres():
        pytest.skip("PostgreSQL keeps the window")
    period = _march(ctx)
    plans = []
    target = database.obj  # the proxy's database
    real = target.execute_sql

    def spy(sql, params=None, *a, **kw):
        if "OFFSET" in sql and "unixepoch" in sql:
            plans.append(str(real("EXPLAIN QUERY PLAN " + sql, params).fetchall()))
        return real(sql, params, *a, **kw)

    monkeypatch.setattr(target, "execute_sql", spy)
    f = figures_mod.figures("work_order", period, "department", settings=ctx.settings,
                            now=ctx.now())
    assert f["total"]["median_close_hours"] == 4.0
    assert plans and all("work_order_close_secs" in p and "TEMP B-TREE" not in p
                         for p in plans), plans


def test_a_grouped_total_and_each_month_agree_with_their_own_reads(ctx, db):
    """The grouped figures sum their total from the groups and read a month by its own
    range (SQLite): over three local months, a period starting mid-month, each group and
    the total equal what the same period read on its own gives."""
    zjj = Department.insert(code="ZJJ", name="市住建局").execute()
    grb = Department.insert(code="GRB", name="市供热办").execute()
    tz = ctx.settings.tz
    start = to_utc_naive(dt.datetime(2026, 1, 20, 7, 0), tz)
    for i in range(400):
        received = start + dt.timedelta(hours=5 * i + i % 3)
        closed = received + (i % 41 + 1) * H if i % 6 else None
        o = _order(f"A{i}", received, dept=(zjj, grb, None)[i % 3], closed=closed,
                   late=closed is not None and i % 4 == 0, sat=(None, 5, 2, 4)[i % 4],
                   ext=i % 2)
        if i % 9 == 0:
            _event("work_order", o, "return", received + H)
    period = Period(to_utc_naive(dt.datetime(2026, 1, 25), tz),
                    to_utc_naive(dt.datetime(2026, 3, 14), tz), tz)
    alone = figures("work_order", period, settings=ctx.settings, now=ctx.now())["total"]
    for by in ("department", "month", "type"):
        grouped = figures("work_order", period, by, settings=ctx.settings, now=ctx.now())
        assert grouped["total"] == alone, by
        assert sum(g["received"] for g in grouped["groups"].values()) == alone["received"]
    months = figures("work_order", period, "month", settings=ctx.settings,
                     now=ctx.now())["groups"]
    assert list(months) == ["2026-01", "2026-02", "2026-03"]
    for name, first, after in (("2026-01", period.since, dt.datetime(2026, 2, 1)),
                               ("2026-02", dt.datetime(2026, 2, 1), dt.datetime(2026, 3, 1)),
                               ("2026-03", dt.datetime(2026, 3, 1), period.until)):
        own = Period(first if name == "2026-01" else to_utc_naive(first, tz),
                     after if name == "2026-03" else to_utc_naive(after, tz), tz)
        assert months[name] == figures("work_order", own, settings=ctx.settings,
                                       now=ctx.now())["total"], name


def test_sqlite_groups_departments_in_index_order_without_a_sort(ctx, month, monkeypatch):
    """Work done: a year by department sorted every order of the period into a temporary
    B-tree (0.9 s at 600,000 orders); the groups now come in the order of 0012's index."""
    from console import figures as figures_mod
    from console.db import is_postgres
    from console.models import database

    if is_postgres():
        pytest.skip("PostgreSQL plans its own grouping")
    plans = []
    target = database.obj
    real = target.execute_sql

    def spy(sql, params=None, *a, **kw):
        if sql.startswith("SELECT COUNT") and "GROUP BY" in sql and "event" not in sql:
            plans.append(str(real("EXPLAIN QUERY PLAN " + sql, params).fetchall()))
        return real(sql, params, *a, **kw)

    monkeypatch.setattr(target, "execute_sql", spy)
    figures_mod.figures("work_order", _march(ctx), "department", settings=ctx.settings,
                        now=ctx.now())
    assert plans and all("work_order_figures_dept" in p and "TEMP B-TREE" not in p
                         for p in plans), plans
