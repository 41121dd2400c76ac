"""并单 and 重复投诉 in the console (issue 11): a repeat flagged at intake is merged in two
keys, the master's detail shows the merged callers, a typed command on the duplicate acts
on the master with a notice, the queue filters to repeats, the form shows candidates."""

from __future__ import annotations

from console import actions
from console.models import WorkOrder
from screens.detail import DetailScreen
from screens.forms import ActionPrompt, FormScreen
from tests.conftest import OFFICER
from tests.ui.conftest import events_of, messages, plain, select, settle

SIZE = (120, 40)


def _repeat_of_w1(ctx) -> WorkOrder:
    return actions.create_work_order(ctx, OFFICER, content="暖气还是不热", type="complaint",
                                     caller="刘先生", phone="13800002222",
                                     address="南岗区学府路15号", department="GRB")


async def test_a_repeat_is_merged_in_two_keys_and_its_ref_opens_the_master(make_app, duty):
    ctx, refs = duty
    dup = _repeat_of_w1(ctx)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        pane = app.screen.pane()
        pane.item_list.set_filter(pane.item_list.filter.with_(repeats_only=True))
        await settle(pilot)
        assert pane.item_list.total == 1  # only the flagged order
        await select(pilot, dup.ref)
        await pilot.press("B")
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        await pilot.press("enter")  # the repeat candidate is first (★)
        await settle(pilot)
        assert events_of(dup.ref)[-1][0] == "merge" and events_of(refs["w1"])[-1][0] == "merge_in"
        assert WorkOrder.get(WorkOrder.ref == dup.ref).status == "closed"

        await pilot.press("colon", *f"open {dup.ref}", "enter")
        await settle(pilot, 3)
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.detail.item.ref == refs["w1"]
        assert any(f"{dup.ref} was merged into {refs['w1']}" in m for m in messages(app))
        text = plain(app.screen.query_one("#detail-content"))
        assert "Callers reached by the reply and the visit" in text
        assert "刘先生" in text and "刘女士" in text and f"merged in  {dup.ref}" in text


async def test_the_intake_form_shows_repeat_candidates_and_the_category(make_app, duty):
    _ctx, refs = duty
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#f-phone").value = "13800002222"
        form.query_one("#f-category").value = "0201"
        await pilot.pause(0.5)
        await settle(pilot, 3)
        note = str(form.query_one("#form-note").render())
        assert refs["w1"] in note and "possible repeat" in note
        assert "020101 出租车" in note  # a code prefix lists the classes it starts
        form.query_one("#f-category").value = "出租车"
        await pilot.pause(0.5)
        await settle(pilot, 3)
        assert "交通运输 / 道路出行 / 出租车" in str(form.query_one("#form-note").render())


async def test_a_key_on_the_duplicates_detail_acts_on_the_master(make_app, duty):
    ctx, refs = duty
    dup = _repeat_of_w1(ctx)
    actions.merge(ctx, OFFICER, dup, refs["w1"])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_detail("work_order", dup.id)
        await settle(pilot, 3)
        text = plain(app.screen.query_one("#detail-content"))
        assert f"merged into  {refs['w1']}" in text
        assert "B merge into one of them" not in text  # merged already: no merge hint
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        await pilot.press(*"called back", "enter")
        await settle(pilot)
        assert events_of(refs["w1"])[-1][0::2] == ("note", "called back")
        assert events_of(dup.ref)[-1][0] == "merge"
        assert any(f"{dup.ref} was merged into {refs['w1']}" in m for m in messages(app))
