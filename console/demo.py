"""``dutyroom demo``: a month of realistic duty-room life, dated relative to now.

The month is *replayed*: every intake and every action is scheduled at a time in
the past and run, in time order, through console/actions.py under a clock set
to that moment — so the timeline reads like a real duty log, and the items
still open now are in whatever state the replay reached: some just in, some
near their deadline, some overdue and waiting for the sweep
(``dutyroom sweep`` then escalates them).  Templates live in config/demo/ and
the plan library in config/plans/.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from . import actions, db, sweep
from .actions.scheduled import demo_history as scheduled_demo
from .actions.units import add_working_hours
from .clock import FrozenClock, to_local, to_utc_naive
from .context import Actor, Context
from .errors import DomainError, DutyError
from .i18n import t
from .models import ITEM_MODELS, Event, Report, WorkOrder
from .paths import demo_dir, plans_dir

FORGET_RECENT = 0.18  # share of the last two days' items nobody has handled yet
LATE_ACCEPTANCE = 0.08  # share of orders whose unit accepts after the 2 working hours


def _yaml(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_plans() -> list[dict]:
    out = []
    for path in sorted(plans_dir().glob("*.yaml")):
        data = _yaml(path)
        data["plan_kind"] = data.pop("kind")
        out.append(data)
    return out


def has_data() -> bool:
    return Event.select().exists() or Report.select().exists()


def reset_sqlite(url: str) -> None:
    """--force on SQLite: remove the file (and its WAL) so the demo starts clean.

    No code path deletes events from a live log; replacing a demo database is
    replacing the file.
    """
    if not url.startswith("sqlite:///"):
        raise DutyError(t("error.force_sqlite"))
    path = Path(url[len("sqlite:///"):]).expanduser()
    database = db.models.database.obj
    if database is not None:
        database.close()
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists():
            p.unlink()


class _Replay:
    """Actions scheduled in time; run in order with the clock set to each moment."""

    def __init__(self, ctx: Context, start: dt.datetime, now: dt.datetime) -> None:
        self.clock = FrozenClock(start)
        self.ctx = Context(ctx.settings, self.clock, "demo:replay")
        self.now = now
        self.queue: list[tuple[dt.datetime, int, Callable[[], Any]]] = []
        self.n = 0
        self.skipped = 0

    def at(self, when: dt.datetime, fn: Callable[[], Any]) -> None:
        if when <= self.now:
            self.n += 1
            heapq.heappush(self.queue, (when.replace(microsecond=0), self.n, fn))

    def run(self, progress: Callable[[int], None] | None = None) -> None:
        done = 0
        while self.queue:
            done += 1
            if progress and done % 250 == 0:
                progress(done)
            when, _n, fn = heapq.heappop(self.queue)
            self.clock.set(when)
            try:
                fn()
            except DomainError:
                self.skipped += 1  # e.g. a step already at the top: the replay moves on


def _roster_and_plans(rctx: Context, admin: Actor, departments: list, people: list,
                      plans: list, operator: str | None) -> None:
    for d in departments:
        actions.upsert_department(rctx, admin, code=d["code"], name=d["name"],
                                  phone=str(d.get("phone", "")))
    for p in people:
        actions.upsert_person(rctx, admin, login=p["login"], name=p["name"], role=p["role"],
                              title=p.get("title", ""), phone=str(p.get("phone", "")),
                              department=p.get("department"))  # role unit (issue 11)
    if operator and operator not in {p["login"] for p in people}:
        actions.upsert_person(rctx, admin, login=operator, name=operator, role="admin",
                              title=t("cli.demo_operator"))
    for p in plans:
        actions.upsert_plan(rctx, admin, code=p["code"], title=p["title"],
                            kind=p["plan_kind"], category=p["category"],
                            subtype=p.get("subtype", "other"), owner=p.get("owner", ""),
                            summary=p.get("summary", ""), levels=p.get("levels", {}),
                            contacts=p.get("contacts", []), related=p.get("related", []),
                            shelters=p.get("shelters", []))


def _report_times(rng: random.Random, start: dt.datetime, now: dt.datetime):
    """2–5 reports a day, at any hour (the draws in the order the demo always made them)."""
    day = start
    while day < now:
        for _ in range(rng.randint(2, 5)):
            at = day + dt.timedelta(minutes=rng.randint(0, 24 * 60 - 1))
            if at < now:
                yield at
        day += dt.timedelta(days=1)


def _order_times(ctx: Context, rng: random.Random, start: dt.datetime, now: dt.datetime):
    """~26 work orders a working day, 15 on other days, at busy hours."""
    day = start
    while day < now:
        local_day = to_local(day, ctx.settings.tz).date()
        for _ in range(26 if ctx.settings.calendar.is_workday(local_day) else 15):
            at = day + dt.timedelta(minutes=_busy_minute(rng))
            if at < now:
                yield at
        day += dt.timedelta(days=1)


def build(ctx: Context, *, days: int = 30, seed: int = 12345, force: bool = False,
          url: str = "", progress: Callable[[int], None] | None = None,
          operator: str | None = None) -> dict[str, int]:
    """Fill the (empty) database; returns counts for the summary line.

    ``operator``: the login of whoever runs the demo joins the roster as an admin,
    so the console they open next is theirs to act in (not a read-only view).
    """
    if has_data():
        if not force:
            raise DutyError(t("cli.demo_exists", url=url))
        reset_sqlite(url if url.startswith("sqlite") else db.default_url())
        database = db.open_database(url)
        db.migrate(database)
    rng = random.Random(seed)
    now = ctx.now()
    start = now - dt.timedelta(days=days)
    tz = ctx.settings.tz
    src = demo_dir()
    departments = _yaml(src / "departments.yaml")
    people = _yaml(src / "people.yaml")
    names = _yaml(src / "names.yaml")
    report_tpl = _yaml(src / "reports.yaml")
    order_tpl = _yaml(src / "work_orders.yaml")
    plans = load_plans()
    admin = Actor("admin", "管理员", "admin")
    replay = _Replay(ctx, start - dt.timedelta(days=1), now)
    rctx = replay.ctx
    counts = {"reports": 0, "orders": 0, "items": 0, "plans": len(plans), "shifts": 0}

    with db.write_transaction():
        replay.clock.set(start - dt.timedelta(days=1))
        _roster_and_plans(rctx, admin, departments, people, plans, operator)
        leaders = [Actor(p["login"], p["name"], "leader") for p in people if p["role"] == "leader"]
        officers = [Actor(p["login"], p["name"], "officer") for p in people
                    if p["role"] == "officer"]
        shifts = _shifts(rctx, admin, leaders, officers, start, now, tz, days)
        counts["shifts"] = len(shifts)
        plan_codes = {p["code"] for p in plans}

        def on_duty(at: dt.datetime) -> tuple[Actor, Actor, Actor]:
            for s_start, s_end, team in shifts:
                if s_start <= at < s_end:
                    return team
            return shifts[-1][2]

        # ---- emergency reports: 2–5 a day, more serious ones rarer
        for at in _report_times(rng, start, now):
            tpl = _pick_report(rng, report_tpl)
            _schedule_report(replay, rng, tpl, at, now, on_duty, plan_codes, counts)
        # a serious one in the last hour, not yet acknowledged: the console opens on an alert
        serious = [x for x in report_tpl if x.get("level") in ("I", "II")] or report_tpl
        _schedule_report(replay, rng, rng.choice(serious), now - dt.timedelta(minutes=12), now,
                         on_duty, plan_codes, counts, forget=True)
        # and one more just in, waiting for its first acknowledgement: a few live alerts
        lesser = [x for x in report_tpl if x.get("level") == "III"] or report_tpl
        _schedule_report(replay, rng, rng.choice(lesser), now - dt.timedelta(minutes=25), now,
                         on_duty, plan_codes, counts, forget=True)

        # ---- 12345 work orders: ~26 a working day, fewer at weekends (a sample of the line)
        for at in _order_times(ctx, rng, start, now):
            _schedule_order(replay, rng, rng.choice(order_tpl), at, now, on_duty, names, counts)

        scheduled_demo(replay, rng, start, now, on_duty)  # 定期报送: console/actions/scheduled.py
        _settle_backlog(replay, on_duty, now)
        if progress:
            progress.total = len(replay.queue)  # type: ignore[attr-defined]
        replay.run(progress)
    return counts


SETTLED_BEFORE = dt.timedelta(minutes=40)  # the night shift has caught up until then


def _settle_backlog(replay: _Replay, on_duty, now: dt.datetime) -> None:
    """A realistic night, not a storm of stale escalations (issue 10 §5): the sweep ran
    all month, so at ``now - SETTLED_BEFORE`` what was overdue or unacknowledged is
    escalated then, and the officer on duty acknowledges every open item — each its own
    event, through actions.bulk.  The console then opens on the few alerts of the last
    minutes (new items not yet seen, deadlines just passing)."""
    ctx = replay.ctx
    at = now - SETTLED_BEFORE

    def settle() -> None:
        sweep.auto_escalate(ctx)
        officer = on_duty(at)[1]
        for model in ITEM_MODELS.values():
            open_unacked = (model.select(model.id).where(
                model.closed_at.is_null() & model.acked_at.is_null()).order_by(model.id))
            ids = [i for (i,) in open_unacked.tuples()]
            for start in range(0, len(ids), ctx.settings.bulk_max):
                actions.bulk(ctx, officer, "acknowledge",
                             [(model.KIND, i) for i in ids[start:start + ctx.settings.bulk_max]],
                             note="接班后逐项核实，已确认")
        # 签收 due in the minutes the console opens on: the units' phoned word is taken
        # now.  Every order of a weekend is due at Monday 11:00 (two working hours from
        # 09:00): a demo built that morning opened on 15 "not accepted" at once
        due = (WorkOrder.select(WorkOrder.id).where(
            WorkOrder.closed_at.is_null() & WorkOrder.accepted_at.is_null()
            & WorkOrder.accept_due_at.between(at, now + SETTLED_BEFORE)).order_by(WorkOrder.id))
        for (i,) in due.tuples():
            actions.accept(ctx, officer, ("work_order", i), note="承办单位电话签收")

    replay.at(at, settle)


def _busy_minute(rng: random.Random) -> int:
    """Calls bunch in the working day: 70% between 08:00 and 18:00 local-ish."""
    if rng.random() < 0.7:
        return rng.randint(8 * 60, 18 * 60)
    return rng.randint(0, 24 * 60 - 1)


def _shifts(ctx: Context, admin: Actor, leaders: list[Actor], officers: list[Actor],
            start: dt.datetime, now: dt.datetime, tz, days: int) -> list:
    """24-hour shifts from 08:00 local, a leader and two officers each, rotating."""
    out = []
    first = to_local(start, tz).date() - dt.timedelta(days=1)
    for i in range(days + 9):
        local_start = dt.datetime.combine(first + dt.timedelta(days=i), dt.time(8, 0))
        s = to_utc_naive(local_start, tz)
        e = s + dt.timedelta(days=1)
        team = (leaders[i % len(leaders)], officers[(2 * i) % len(officers)],
                officers[(2 * i + 1) % len(officers)])
        actions.upsert_shift(ctx, admin, starts_at=s, ends_at=e, leader=team[0].login,
                             primary=team[1].login, secondary=team[2].login)
        out.append((s, e, team))
    return out


def _pick_report(rng: random.Random, templates: list[dict]) -> dict:
    weights = {"I": 0.3, "II": 1, "III": 3, "IV": 5, "unknown": 1.5}
    return rng.choices(templates, [weights.get(x.get("level", "IV"), 1) for x in templates])[0]


def _schedule_report(replay: _Replay, rng: random.Random, tpl: dict, at: dt.datetime,
                     now: dt.datetime, on_duty, plan_codes: set[str], counts: dict,
                     forget: bool | None = None) -> None:
    ctx = replay.ctx
    leader, primary, secondary = on_duty(at)
    officer = rng.choice((primary, secondary))
    recent = now - at < dt.timedelta(days=3)
    if forget is None:
        forget = recent and rng.random() < FORGET_RECENT
    box: dict[str, Any] = {}
    counts["reports"] += 1

    def create() -> None:
        box["r"] = actions.create_report(
            ctx, officer, title=tpl["title"], category=tpl["category"],
            subtype=tpl.get("subtype", "other"), level=tpl.get("level", "unknown"),
            received_at=at, occurred_at=at - dt.timedelta(minutes=rng.randint(5, 40)),
            place=tpl.get("place", ""), summary=tpl.get("summary", ""),
            dead=tpl.get("dead", 0), injured=tpl.get("injured", 0),
            missing=tpl.get("missing", 0), area=tpl.get("area", ""),
            trend=tpl.get("trend", ""), measures=tpl.get("measures", ""),
            requests=tpl.get("requests", ""), source_unit=tpl.get("source_unit", ""),
            reporter=_person_name(rng), reporter_phone=_phone(rng), recorder=officer.name,
            sensitive=bool(tpl.get("sensitive", False)))

    def target() -> tuple[str, int]:
        return ("report", box["r"].id)

    replay.at(at, create)
    if forget:
        return
    level = tpl.get("level", "unknown")
    urgent = level in ("I", "II", "unknown") or tpl.get("sensitive")
    t_ack = at + dt.timedelta(minutes=rng.randint(1, 4))
    replay.at(t_ack, lambda: actions.acknowledge(ctx, officer, target()))
    if level == "unknown":
        verified = rng.choice(["III", "IV"])
        replay.at(t_ack + dt.timedelta(minutes=8),
                  lambda: actions.change_level(ctx, officer, target(), verified,
                                               note="核实后定级"))
    t_up = at + dt.timedelta(minutes=rng.randint(8, 25 if urgent else 90))
    replay.at(t_up, lambda: actions.escalate(ctx, officer, target(), note="已电话报告带班领导"))
    replay.at(t_up + dt.timedelta(minutes=3),
              lambda: actions.acknowledge(ctx, leader, target()))
    if urgent:
        replay.at(t_up + dt.timedelta(minutes=10),
                  lambda: actions.escalate(ctx, leader, target(), note="报应急办主任"))
        replay.at(t_up + dt.timedelta(minutes=25),
                  lambda: actions.instruct(ctx, leader, target(),
                                           "请相关部门全力处置，做好伤员救治和善后，及时续报。",
                                           leader=leader.name))
    plan = tpl.get("plan")
    if plan in plan_codes and level in ("I", "II", "III"):
        box["act"] = None

        def activate() -> None:
            box["act"] = actions.activate_plan(ctx, leader, plan, ("report", box["r"].id), level)

        replay.at(t_up + dt.timedelta(minutes=15), activate)
        for k in range(rng.randint(2, 5)):
            replay.at(t_up + dt.timedelta(minutes=20 + 7 * k),
                      lambda k=k: box["act"] and actions.tick_measure(
                          ctx, officer, box["act"].id, k))
    written_due = at + dt.timedelta(minutes=ctx.settings.report_limits[
        "II" if level in ("I", "II", "unknown") else level].written)
    t_fu = min(written_due - dt.timedelta(minutes=rng.randint(2, 15)),
               t_up + dt.timedelta(minutes=40))
    for i, text in enumerate(tpl.get("followups", []) or []):
        replay.at(max(t_fu, t_up + dt.timedelta(minutes=5)) + dt.timedelta(hours=2 * i),
                  lambda text=text: actions.follow_up(ctx, officer, target(), text))
    if level in ("I", "II", "III") and rng.random() < 0.5:
        _schedule_supervision(replay, rng, lambda: box["r"], at, now, on_duty, counts, "YJJ")
    if (recent and rng.random() < 0.7) or rng.random() < 0.04:
        return  # still in hand
    t_close = t_fu + dt.timedelta(hours=rng.randint(3, 30))
    closer = leader if level in ctx.settings.leader_closes else officer
    if "act" in box:
        replay.at(t_close - dt.timedelta(minutes=5),
                  lambda: box.get("act") and actions.deactivate_plan(ctx, leader,
                                                                      box["act"].id))
    replay.at(t_close, lambda: actions.close(ctx, closer, target(),
                                             tpl.get("final") or "处置完毕，终报。"))


def _schedule_order(replay: _Replay, rng: random.Random, tpl: dict, at: dt.datetime,
                    now: dt.datetime, on_duty, names: dict, counts: dict) -> None:
    ctx = replay.ctx
    _leader, primary, secondary = on_duty(at)
    officer = rng.choice((primary, secondary))
    recent = now - at < dt.timedelta(days=2)
    forget = recent and rng.random() < FORGET_RECENT
    dispatch_now = rng.random() < 0.7
    box: dict[str, Any] = {}
    counts["orders"] += 1
    caller = rng.choice(names["surnames"]) + rng.choice(names["given"])
    address = tpl.get("address") or rng.choice(names["streets"])

    def create() -> None:
        box["w"] = actions.create_work_order(
            ctx, officer, content=tpl["content"], type=tpl.get("type", "enquiry"),
            urgency=tpl.get("urgency", "normal"), received_at=at, caller=caller,
            phone=_phone(rng), address=address, category=tpl.get("category", ""),
            department=tpl.get("department") if dispatch_now else None,
            assisting=tpl.get("assisting", []) if dispatch_now else ())

    def target() -> tuple[str, int]:
        return ("work_order", box["w"].id)

    replay.at(at, create)
    if tpl.get("type") in ("complaint", "report") and rng.random() < 0.04:
        _schedule_supervision(replay, rng, lambda: box["w"], at, now, on_duty, counts,
                              tpl.get("department"))
    if forget:
        return
    t = at
    if not dispatch_now:
        t = at + dt.timedelta(minutes=rng.randint(5, 40))
        replay.at(t, lambda: actions.assign(ctx, officer, target(), tpl.get("department"),
                                            assisting=tpl.get("assisting", [])))
    t_ack = t + dt.timedelta(minutes=rng.randint(10, 180))
    replay.at(t_ack, lambda: actions.acknowledge(ctx, officer, target()))
    days = ctx.settings.wo_type_days.get(tpl.get("type", "enquiry"), 5)
    urgency = tpl.get("urgency", "normal")
    span_h = {"very_urgent": 2, "urgent": 12}.get(urgency, max(6, days * 24 * 0.6))
    roll = rng.random()
    t_accept = t + (t_ack - t) / 2
    if roll >= 0.05 and rng.random() < LATE_ACCEPTANCE:  # 签收 after its working hours ran out
        due = add_working_hours(ctx.settings, t, ctx.settings.unitdesk.accept_hours)
        t_accept = due + dt.timedelta(minutes=rng.randint(20, 300))
    if roll >= 0.05:  # 签收 on the unit's phoned word, mostly within 2 working hours (issue 11)
        replay.at(t_accept, lambda: actions.accept(ctx, officer, target()))
    if roll < 0.05:
        replay.at(t_ack + dt.timedelta(hours=2),
                  lambda: actions.return_order(ctx, officer, target(),
                                               "非本单位职责，建议改派属地区政府"))
        replay.at(t_ack + dt.timedelta(hours=3),
                  lambda: actions.assign(ctx, officer, target(), tpl.get("department")))
        replay.at(t_ack + dt.timedelta(hours=4),
                  lambda: actions.acknowledge(ctx, officer, target()))
    elif roll < 0.12 and urgency == "normal":
        replay.at(t_ack + dt.timedelta(hours=span_h * 0.5),
                  lambda: actions.extend(ctx, officer, target(),
                                         "需协调多个部门现场核查，申请延期"))
    if rng.random() < 0.25:
        replay.at(t_ack + dt.timedelta(hours=span_h * 0.7),
                  lambda: actions.urge(ctx, officer, target(), note="电话催办承办单位"))
    t_reply = max(t_ack + dt.timedelta(hours=span_h * rng.uniform(0.3, 1.1)),
                  t_accept + dt.timedelta(minutes=30))  # the unit replies after it accepted
    replay.at(t_reply, lambda: actions.reply(ctx, officer, target(),
                                             "承办单位已现场处理，已向市民答复办理结果。"))
    t_visit = t_reply + dt.timedelta(hours=rng.randint(4, 30))
    score = rng.choices([5, 4, 3, 2, 1], [50, 30, 10, 6, 4])[0]
    replay.at(t_visit, lambda: actions.visit(ctx, officer, target(), score,
                                             note="回访市民，满意度已记录"))
    if rng.random() < 0.93:
        replay.at(t_visit + dt.timedelta(minutes=30),
                  lambda: actions.close(ctx, officer, target()))


def _schedule_supervision(replay: _Replay, rng: random.Random, source: Callable[[], Any],
                          at: dt.datetime, now: dt.datetime, on_duty, counts: dict,
                          department: str | None) -> None:
    """督办件 registered from a serious report or a complaint, with a 3715 class."""
    ctx = replay.ctx
    leader, primary, _secondary = on_duty(at)
    klass = rng.choice(["urgent", "normal", "normal", "complex"])
    t_reg = at + dt.timedelta(hours=rng.randint(1, 20))
    if t_reg >= now:
        return
    counts["items"] += 1
    box: dict[str, Any] = {}

    def register() -> None:
        src = source()
        title = "督办：" + (src.title if isinstance(src, Report) else src.content[:40])
        box["s"] = actions.register_supervision(
            ctx, primary, title=title[:190], klass=klass, source=(src.KIND, src.id),
            department=department, content="按领导批示要求，限期办结并报告办理结果。")

    def target() -> tuple[str, int]:
        return ("supervision", box["s"].id)

    replay.at(t_reg, register)
    replay.at(t_reg + dt.timedelta(hours=2), lambda: actions.acknowledge(ctx, primary, target()))
    days = ctx.settings.sv_classes[klass][0]
    if rng.random() < 0.4:
        replay.at(t_reg + dt.timedelta(days=days * 0.6),
                  lambda: actions.urge(ctx, primary, target(), note="督查科电话催办"))
    if (now - t_reg > dt.timedelta(days=days * 1.2) and rng.random() < 0.85) \
            or rng.random() < 0.3:
        replay.at(t_reg + dt.timedelta(days=days * rng.uniform(0.4, 1.1)),
                  lambda: actions.close(ctx, leader, target(),
                                        "已按期办结，责任单位书面报告办理结果，予以销号。"))


def _person_name(rng: random.Random) -> str:
    return rng.choice("王李张刘陈杨赵黄周吴") + rng.choice(["建国", "立新", "海波", "春生", "志强", "丽娟"])


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3579") + "".join(rng.choice("0123456789") for _ in range(9))
