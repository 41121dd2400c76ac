"""Pilot tests: the handover screen (H) and the admin screen (M)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from console import actions
from console.errors import DutyError
from console.models import Department, Event, Person, Shift
from screens.admin import AdminScreen
from screens.admin_plan import PlanForm
from screens.forms import ActionPrompt, ConfirmScreen, FormScreen
from screens.handover import HandoverScreen
from tests.conftest import ADMIN, OFFICER, OFFICER2, T0, VIEWER
from tests.ui.conftest import messages, plain, settle

SIZE = (120, 40)


def config_events(kind: str) -> list[Event]:
    return list(Event.select().where(Event.item_kind == kind).order_by(Event.id))


async def open_handover(pilot) -> HandoverScreen:
    await settle(pilot)
    await pilot.press("H")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, HandoverScreen)
    return screen


async def test_handover_shows_report_hands_over_once_and_saves(make_app, duty, tmp_path,
                                                              monkeypatch):
    """The report, 交班 once (the three 清; more in test_handover_accept.py), and w."""
    ctx, refs = duty
    monkeypatch.chdir(tmp_path)
    ctx.settings = dataclasses.replace(ctx.settings, handover=dataclasses.replace(
        ctx.settings.handover, archive_dir=str(tmp_path / "archive")))
    actions.upsert_shift(ctx, ADMIN, starts_at=T0 + dt.timedelta(hours=22),
                         ends_at=T0 + dt.timedelta(hours=46), primary=OFFICER2.login)
    shift = Shift.select().order_by(Shift.starts_at).first()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_handover(pilot)
        text = plain(screen.query_one("#handover-text"))
        assert "Handover report" in text and shift.ref in text and refs["gas"] in text
        assert "Produced by 李明 (primary officer)" in text and "test:console" not in text
        assert "not handed over yet" in plain(screen.query_one("#handover-status"))

        await pilot.press("h")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#f-problems").value = "BG 待续报"
        form.query_one("#f-tasks").value = "续报"
        await pilot.press("ctrl+s")
        await settle(pilot, 3)
        assert app.screen is screen
        handovers = [e for e in config_events("shift") if e.action == "submit_handover"]
        assert len(handovers) == 1 and handovers[0].actor == OFFICER.login
        shift = Shift.get_by_id(shift.id)
        assert shift.handed_over_by == OFFICER.login and shift.handed_over_at == T0
        assert "waiting for the next shift" in plain(screen.query_one("#handover-status"))

        await pilot.press("h")  # a second handover of the same shift is refused
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot, 3)
        assert "already handed over" in str(app.screen.query_one("#form-error").render())
        await pilot.press("escape")
        await settle(pilot)
        # and the action itself refuses it too (another console, stale screen)
        with pytest.raises(DutyError, match="already handed over"):
            actions.handover(ctx, OFFICER, shift.id, "again")
        assert len([e for e in config_events("shift") if e.action.endswith("handover")]) == 1

        await pilot.press("w")  # asks where, pre-filled with the archive path
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        await pilot.press("enter")
        await settle(pilot, 3)
        written = tmp_path / "archive" / f"handover-{shift.ref}.txt"
        assert "BG 待续报" in written.read_text(encoding="utf-8")
        assert not list(tmp_path.glob("handover-*.txt"))
        assert any(str(written) in m for m in messages(app))


async def test_viewer_cannot_hand_over(make_app, duty):
    app = make_app(actor=VIEWER)
    async with app.run_test(size=SIZE) as pilot:
        await open_handover(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HandoverScreen)
        assert "read-only" in messages(app)[-1]
        assert not [e for e in config_events("shift") if e.action == "handover"]


async def test_non_admin_is_refused_admin(make_app, duty):
    app = make_app(actor=OFFICER)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        assert not isinstance(app.screen, AdminScreen)
        assert "Only admins" in messages(app)[-1]


async def test_admin_adds_a_person_and_edits_a_department(make_app, duty):
    before = len(list(Event.select()))
    app = make_app(actor=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        assert isinstance(app.screen, AdminScreen)
        # a new person: a bad login and an existing one are refused beside the field
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        await pilot.press(*"liming", "tab", *"Someone", "ctrl+s")
        await settle(pilot)
        assert "already exists" in str(form.query_one("#err-login").render())
        form.query_one("#f-login").value = "zhou min"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "no spaces" in str(form.query_one("#err-login").render())
        form.query_one("#f-login").value = "zhoumin"
        form.query_one("#f-name").value = "周敏"
        form.query_one("#f-phone").value = "13900009999"
        await pilot.press("ctrl+s")
        await settle(pilot, 3)
        assert isinstance(app.screen, AdminScreen)
        assert Person.get(Person.login == "zhoumin").name == "周敏"
        created = config_events("person")[-1]
        assert (created.action, created.actor, created.item_ref) == ("create", "admin", "zhoumin")
        assert created.before is None and created.after["name"] == "周敏"

        # edit a department: Esc with a change asks first; then save
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#tbl-departments")
        table.move_cursor(row=table.get_row_index("GRB"))
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen) and form.query_one("#f-code").disabled
        form.query_one("#f-phone").value = "0451-12345"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is form
        form.query_one("#f-name").value = "市供热管理办公室"
        await pilot.press("ctrl+s")
        await settle(pilot, 3)
        assert app.screen is screen
        dept = Department.get(Department.code == "GRB")
        assert dept.name == "市供热管理办公室" and dept.phone == "0451-12345"
        updated = config_events("department")[-1]
        assert updated.action == "update" and updated.item_ref == "GRB"
        assert updated.before == {"name": "市供热办", "phone": ""}
        assert updated.after == {"name": "市供热管理办公室", "phone": "0451-12345"}
        assert len(list(Event.select())) == before + 2  # one event each
        assert any("GRB saved" in m for m in messages(app))


async def test_admin_edits_plan_contacts_and_adds_a_shift(make_app, duty):
    app = make_app(actor=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        screen = app.screen
        await pilot.press("4")
        await settle(pilot)
        table = screen.query_one("#tbl-plans")
        table.move_cursor(row=table.get_row_index("ZX-RQ-01"))
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, PlanForm)
        n = form.n_rows
        form.query_one("#c-name-0").value = ""  # an emptied row is removed
        form.query_one("#c-post-0").value = ""
        form.query_one("#c-phone-0").value = ""
        await pilot.press("ctrl+n")
        await settle(pilot)
        form.query_one(f"#c-post-{n}").value = "值班室"  # a name is required
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "required" in str(form.query_one(f"#err-contact-{n}").render())
        form.query_one(f"#c-name-{n}").value = "新联系人"
        form.query_one(f"#c-phone-{n}").value = "0451-80000000"
        await pilot.press("ctrl+s")
        await settle(pilot, 3)
        assert app.screen is screen
        ev = config_events("plan")[-1]
        assert ev.action == "update" and list(ev.after) == ["contacts"]
        assert ev.after["contacts"][-1] == {"name": "新联系人", "post": "值班室",
                                            "phone": "0451-80000000"}
        assert len(ev.after["contacts"]) == len(ev.before["contacts"])  # one out, one in

        await pilot.press("3", "n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#f-primary").value = OFFICER2.login
        form.query_one("#f-secondary").value = OFFICER2.login
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "two posts" in str(form.query_one("#err-secondary").render())
        form.query_one("#f-secondary").value = OFFICER.login
        await pilot.press("ctrl+s")
        await settle(pilot, 3)
        assert app.screen is screen
        ev = config_events("shift")[-1]
        assert ev.action == "create" and ev.item_ref == "ZB-20261128-08"  # after the last one
