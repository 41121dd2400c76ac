"""A unit liaison (role unit, bound to one department) at the console sees its own
department's items only: the work orders and supervision items of its unit, no room
reports, and no alert about another unit's order (issue 11)."""

from __future__ import annotations

from console import actions
from console.context import Actor
from tests.conftest import ADMIN, OFFICER
from tests.ui.conftest import plain, settle

GRB = Actor("grb_liaison", "供热联络员", "unit")

def _liaison(ctx, department: str = "GRB") -> Actor:
    actions.upsert_person(ctx, ADMIN, login=GRB.login, name=GRB.name, role="unit",
                          department=department)
    return GRB

async def test_a_unit_liaison_sees_its_own_units_orders_only(make_app, duty):
    ctx, refs = duty
    other = actions.create_work_order(ctx, OFFICER, content="楼道积水", type="help",
                                      department="ZJJ")
    app = make_app(actor=_liaison(ctx))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen.pane().item_list.total == 0  # the room's reports: none of its own
        counts = app.header_state.counters
        assert counts["report"].open == 0 and counts["work_order"].open == 1  # its own only
        await pilot.press("2")
        await settle(pilot)
        pane = app.screen.pane()
        assert pane.item_list.total == 1 and pane.item_list.selected.ref == refs["w1"]
        assert "unit GRB only" in plain(pane.query_one(".filter-line"), 200)
        await pilot.press("z", "z")  # every scope: still its own unit only
        await settle(pilot)
        assert pane.item_list.total == 1 and pane.item_list.selected.ref != other.ref
        await pilot.press("3")
        await settle(pilot)
        assert app.screen.pane().item_list.total == 0  # the supervision items are ZJJ's/none

async def test_an_officer_still_sees_every_unit(make_app, duty):
    app = make_app(actor=OFFICER)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert app.screen.pane().item_list.total == 3
        assert "only" not in plain(app.screen.pane().query_one(".filter-line"), 200)


async def test_a_unit_liaison_cannot_open_another_units_item(make_app, duty):
    """Found: `:open` of another unit's order (or a room report) showed it whole — the
    caller's name, phone and address — to a unit that sees its own items only."""
    from screens.detail import DetailScreen
    from tests.ui.conftest import messages

    ctx, refs = duty
    other = actions.create_work_order(ctx, OFFICER, content="楼道积水", type="help",
                                      caller="刘先生", phone="13900000000", department="ZJJ")
    app = make_app(actor=_liaison(ctx))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for ref in (other.ref, refs["gas"], refs["sv"]):
            await pilot.press("colon", *f"open {ref}", "enter")
            await settle(pilot, 3)
            assert not isinstance(app.screen, DetailScreen), ref
            assert any(f"{ref} is not an item of unit GRB" in m for m in messages(app)), ref
        await pilot.press("colon", *f"open {refs['w1']}", "enter")  # its own: shown
        await settle(pilot, 3)
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.detail.item.ref == refs["w1"]


async def test_a_unit_liaison_is_not_alerted_about_another_units_order(make_app, duty):
    """Found: the banner of a unit liaison's console named another unit's order
    ("12345-…669: not accepted in time", CGJ's, on GRB's console) — the feed's alerts were
    scoped by kind only; the alert list (A) was scoped, the banner was not."""
    ctx, refs = duty
    other = actions.create_work_order(ctx, OFFICER, content="楼道积水", type="help",
                                      department="ZJJ")
    mine = actions.create_work_order(ctx, OFFICER, content="暖气不热", type="complaint",
                                     department="GRB")
    app = make_app(actor=_liaison(ctx))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.poll_changes()  # the feed learns where the log ends
        await settle(pilot)
        ctx.clock.advance(days=4)  # both miss the acceptance limit (2 working hours)
        app.sweep_now()
        await settle(pilot)
        await settle(pilot)
        alerted = {a.ref for a in app.alerts}
        assert mine.ref in alerted
        assert other.ref not in alerted


async def test_a_unit_liaisons_footer_offers_its_own_verbs_with_sign_for(make_app, duty):
    """Found: a liaison's order detail offered a 确认 e 升级 d 交办 c 办结 — all refused for
    the role — and not S 签收, the one key it came for."""
    from screens.detail import DetailScreen

    ctx, refs = duty
    app = make_app(actor=_liaison(ctx))
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        shown = {ab.binding.action for ab in app.screen.active_bindings.values()
                 if ab.binding.show and ab.binding.action.startswith("item(")}
        assert "item('accept')" in shown
        assert not shown & {f"item('{v}')" for v in ("acknowledge", "escalate", "assign",
                                                       "close")}
