"""UI fixtures: a small duty-room database built through console.actions, and app helpers."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from console import actions, i18n
from console.paths import default_config_file
from screens.app import DutyApp
from tests.conftest import ADMIN, LEADER, OFFICER, OFFICER2, T0, VIEWER

PLANS = ("zx-rq-01.yaml", "zt-01.yaml", "zx-gr-01.yaml")


def build_small(ctx) -> dict[str, str]:
    """A night in a small duty room: a few reports, orders and supervision items."""
    for a in (OFFICER, OFFICER2, LEADER, ADMIN, VIEWER):
        actions.upsert_person(ctx, ADMIN, login=a.login, name=a.name, role=a.role)
    for code, name in (("ZJJ", "市住建局"), ("GRB", "市供热办"), ("GAJ", "市公安局"),
                       ("RQJT", "市燃气集团")):
        actions.upsert_department(ctx, ADMIN, code=code, name=name)
    actions.upsert_shift(ctx, ADMIN, starts_at=T0 - dt.timedelta(hours=2),
                         ends_at=T0 + dt.timedelta(hours=22), leader=LEADER.login,
                         primary=OFFICER.login, secondary=OFFICER2.login)
    plans_dir = default_config_file().parent / "plans"
    for name in PLANS:
        data = yaml.safe_load((plans_dir / name).read_text(encoding="utf-8"))
        actions.upsert_plan(ctx, ADMIN, **data)
    ctx.clock.set(T0 - dt.timedelta(minutes=20))
    gas = actions.create_report(
        ctx, OFFICER, title="道里区安静街燃气泄漏", category="accident", subtype="gas_leak",
        level="II", place="道里区安静街12号", summary="居民楼燃气管道泄漏，已疏散两个单元",
        injured=2, source_unit="道里区应急局", reporter="张伟", reporter_phone="13900001111")
    ctx.clock.set(T0 - dt.timedelta(minutes=10))
    fire = actions.create_report(
        ctx, OFFICER2, title="香坊区仓库火灾", category="accident", subtype="fire", level="III",
        place="香坊区红旗大街88号", summary="仓库起火，无人员被困")
    heat = actions.create_report(
        ctx, OFFICER, title="南岗区小区供热中断", category="accident", subtype="heating",
        level="unknown", place="南岗区学府路", summary="约300户供热中断")
    ctx.clock.set(T0 - dt.timedelta(minutes=5))
    old = actions.create_report(ctx, OFFICER, title="松北区道路结冰", category="natural",
                                subtype="snow_ice", level="IV", place="松北区世茂大道")
    actions.acknowledge(ctx, OFFICER, old, expected_version=old.version)
    old = actions.find_item(old.ref)
    actions.close(ctx, OFFICER, old, "已撒融雪剂，道路恢复通行", expected_version=old.version)
    w1 = actions.create_work_order(
        ctx, OFFICER, content="小区暖气不热，室温只有12度", type="complaint", urgency="urgent",
        caller="刘女士", phone="13800002222", address="南岗区学府路15号", department="GRB")
    w2 = actions.create_work_order(
        ctx, OFFICER2, content="咨询燃气开户需要什么材料", type="enquiry", caller="王先生",
        phone="13800003333", address="道外区")
    w3 = actions.create_work_order(
        ctx, OFFICER, content="路灯不亮已一周", type="help", urgency="very_urgent",
        caller="赵先生", address="平房区友协大街")
    ctx.clock.set(T0)
    sv = actions.register_supervision(ctx, LEADER, title="落实燃气泄漏整改", klass="urgent",
                                      source=gas.ref, department="ZJJ")
    sv2 = actions.register_supervision(ctx, OFFICER, title="冬季供热投诉办理情况", klass="normal",
                                       content="每周报送")
    return {"gas": gas.ref, "fire": fire.ref, "heat": heat.ref, "old": old.ref,
            "w1": w1.ref, "w2": w2.ref, "w3": w3.ref, "sv": sv.ref, "sv2": sv2.ref}


@pytest.fixture
def duty(ctx, sqlite_db):
    """(ctx, refs) over a small database; the clock stands at T0."""
    refs = build_small(ctx)
    return ctx, refs


@pytest.fixture
def make_app(duty):
    ctx, _refs = duty

    def make(actor=OFFICER, readonly=False, language="en") -> DutyApp:
        i18n.set_language(language)
        return DutyApp(ctx, actor, readonly=readonly, live=False)

    return make


async def settle(pilot, rounds: int = 2) -> None:
    """Let workers finish and the screen repaint (repeat: one worker may start another)."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        # "flow" workers wait on the officer (a prompt is open) and "livefeed" runs for the
        # app's life: never wait for those
        for worker in [w for w in app.workers
                       if w.group not in ("flow", "livefeed") and not w.is_finished]:
            try:
                await worker.wait()
            except Exception:  # noqa: BLE001 - cancelled or failed: the test checks the result
                pass
        await pilot.pause()


def messages(app) -> list[str]:
    """The notifications shown so far (newest last)."""
    return [n.message for n in app._notifications]


def events_of(ref: str) -> list[tuple[str, str, str]]:
    """(action, actor, note) of an item's timeline, read directly for assertions."""
    from console.models import Event

    return [(e.action, e.actor, e.note) for e in
            Event.select().where(Event.item_ref == ref).order_by(Event.id)]


async def select(pilot, ref: str) -> None:
    """Put the cursor of the visible queue on ``ref``."""
    screen = pilot.app.screen
    item_list = screen.pane().item_list
    for page, rows in sorted(item_list._pages.items()):
        for i, row in enumerate(rows):
            if row.ref == ref:
                item_list.cursor = page * 50 + i
                await settle(pilot)
                return
    raise AssertionError(f"{ref} not in the visible queue")


def plain(widget, width: int = 160) -> str:
    """A Static's content as plain text (as the terminal would show it)."""
    import io

    from rich.console import Console

    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()
