"""Pilot: the handover screen's flow — 交班 with the three 清, 接班 confirming each, 接管
with a reason, w asking where — and the roster warning in the console (issue 10 §3)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import stat

from console import actions
from console.context import Actor
from console.models import Event, Report, Shift, SupervisionItem, WorkOrder
from screens.forms import ActionPrompt, FormScreen
from screens.handover import HandoverScreen
from tests.conftest import ADMIN, OFFICER, T0
from tests.ui.conftest import messages, plain, settle

SIZE = (120, 40)
INCOMING = Actor("zhoumin", "周敏", "officer")


def next_shift(ctx, primary=INCOMING.login, leader=None):
    actions.upsert_person(ctx, ADMIN, login=INCOMING.login, name=INCOMING.name, role="officer")
    return actions.upsert_shift(ctx, ADMIN, starts_at=T0 + dt.timedelta(hours=22),
                                ends_at=T0 + dt.timedelta(hours=46), primary=primary,
                                leader=leader)


def archive_to(ctx, folder) -> None:
    ctx.settings = dataclasses.replace(ctx.settings, handover=dataclasses.replace(
        ctx.settings.handover, archive_dir=str(folder)))


async def open_handover(pilot) -> HandoverScreen:
    await settle(pilot)
    await pilot.press("H")
    await settle(pilot)
    assert isinstance(pilot.app.screen, HandoverScreen)
    return pilot.app.screen


def open_refs() -> set[str]:
    return {r.ref for model in (Report, WorkOrder, SupervisionItem)
            for r in model.select().where(model.closed_at.is_null())}


async def test_submit_then_accept_owns_every_item(make_app, duty, tmp_path):
    ctx, _refs = duty
    archive_to(ctx, tmp_path / "archive")
    next_shift(ctx)
    app = make_app(actor=OFFICER)  # 李明, primary of the shift on duty
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_handover(pilot)
        status = plain(screen.query_one("#handover-status"))
        assert "not handed over yet" in status and "you are the primary officer" in status
        await pilot.press("h")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.query_one("#f-situation").value.startswith("Handed over: 3 reports")
        await pilot.press("ctrl+s")  # open problems and tasks are required
        await settle(pilot)
        assert app.screen is form and not Shift.get_by_id(1).handed_over_at
        form.query_one("#f-problems").value = "燃气泄漏待续报"
        form.query_one("#f-tasks").value = "08:00 前报送续报"
        await pilot.press("ctrl+s")
        await settle(pilot, 3)
        assert app.screen is screen
        shift = Shift.get_by_id(1)
        assert shift.handed_over_by == OFFICER.login and shift.problems == "燃气泄漏待续报"
        assert {ref for _k, _i, ref in shift.handed_items} == open_refs()
        assert "waiting for the next shift" in plain(screen.query_one("#handover-status"))
        saved = tmp_path / "archive" / f"handover-{shift.ref}.txt"
        assert "燃气泄漏待续报" in saved.read_text(encoding="utf-8")
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600
        assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700

    handed = open_refs()
    app = make_app(actor=INCOMING)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_handover(pilot)
        assert "you are the primary officer of the next shift" in plain(
            screen.query_one("#handover-status"))
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#f-situation").value = True
        form.query_one("#f-problems").value = True
        await pilot.press("ctrl+s")  # tasks not confirmed: nothing changes
        await settle(pilot, 3)
        assert app.screen is form and Shift.get_by_id(1).accepted_at is None
        form.query_one("#f-tasks").value = True
        await pilot.press("ctrl+s")
        await settle(pilot, 3)
        assert app.screen is screen
        assert Shift.get_by_id(1).taken_over_by == INCOMING.login
        owners = {r.ref: r.owner for model in (Report, WorkOrder, SupervisionItem)
                  for r in model.select().where(model.closed_at.is_null())}
        assert set(owners.values()) == {INCOMING.login} and set(owners) == handed
        per_item = [e.item_ref for e in Event.select().where(Event.action == "take_over_item")]
        assert sorted(per_item) == sorted(handed)  # one event each
        assert any(f"周敏 now owns {len(handed)} items" in m for m in messages(app))
        assert "accepted" in plain(screen.query_one("#handover-status"))


async def test_not_on_the_shift_is_refused_in_one_line(make_app, duty):
    """Found: someone on neither shift got the 交班 form and was refused only on Ctrl+S,
    after typing the three 清; now h, a and t refuse at once (the core still checks)."""
    ctx, _refs = duty
    next_shift(ctx)
    app = make_app(actor=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_handover(pilot)
        assert "you are on neither shift" in plain(screen.query_one("#handover-status"))
        for key, said in (("h", "is not on shift"), ("a", "is not on the next shift"),
                          ("t", "is not on the next shift")):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is screen, key  # no form to type into
            assert any("管理员 " + said in m for m in messages(app)), (key, messages(app))
        assert Shift.get_by_id(1).handed_over_at is None
        assert Shift.get_by_id(1).accepted_at is None


async def test_take_over_needs_a_reason(make_app, duty, tmp_path):
    ctx, _refs = duty
    archive_to(ctx, tmp_path)
    next_shift(ctx)
    app = make_app(actor=INCOMING)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_handover(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        await pilot.press("enter")  # the reason is required
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        await pilot.press(*"李明突发疾病", "enter")
        await settle(pilot, 3)
        assert app.screen is screen
        shift = Shift.get_by_id(1)
        assert shift.takeover_reason == "李明突发疾病" and shift.taken_over_by == "zhoumin"
        assert Event.select().where(Event.action == "take_over").count() == 1
        assert "taken over" in plain(screen.query_one("#handover-status"))


async def test_write_asks_where_prefilled_with_the_archive(make_app, duty, tmp_path,
                                                          monkeypatch):
    """Found: w wrote into the current folder without asking."""
    ctx, _refs = duty
    archive_to(ctx, tmp_path / "archive")
    monkeypatch.chdir(tmp_path)
    app = make_app(actor=OFFICER)
    async with app.run_test(size=SIZE) as pilot:
        await open_handover(pilot)
        await pilot.press("w")
        await settle(pilot)
        prompt = app.screen
        assert isinstance(prompt, ActionPrompt)
        shift = Shift.get_by_id(1)
        expected = tmp_path / "archive" / f"handover-{shift.ref}.txt"
        assert prompt.query_one("#text").value == str(expected)
        assert not list(tmp_path.glob("handover-*"))  # nothing in the current folder
        await pilot.press("enter")
        await settle(pilot, 3)
        assert "Event chain head: " in expected.read_text(encoding="utf-8")
        assert "Produced by 李明 (primary officer)" in expected.read_text(encoding="utf-8")
        assert any(str(expected) in m for m in messages(app))


async def test_roster_warning_shown_once(make_app, duty):
    ctx, _refs = duty
    next_shift(ctx, primary=None)  # no leader, no officer
    ctx.clock.set(T0 + dt.timedelta(hours=12))  # it starts within handover.warn_hours
    app = make_app(actor=OFFICER)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, 3)
        warned = [a.message for a in app.alerts if a.kind == "shift"]
        assert any("no duty leader" in w for w in warned)
        assert any("no duty officer" in w for w in warned)
        app.refresh_team()  # the next refresh: no second alert for the same shift
        await settle(pilot, 3)
        assert [a.message for a in app.alerts if a.kind == "shift"] == warned
        screen = await open_handover(pilot)
        assert "no duty leader" in plain(screen.query_one("#handover-status"))
