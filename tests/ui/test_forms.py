"""The intake forms: keys arriving together, dependent lists, number and phone fields,
check boxes (issue 10 §8, §11, §12)."""

from __future__ import annotations

from textual._xterm_parser import XTermParser  # no public parser: the driver's own one
from textual.widgets import Checkbox, Label, OptionList, Select

from console.models import Report, WorkOrder
from screens.forms import FormScreen
from tests.ui.conftest import settle

SIZE = (120, 40)
SUBTYPES = ("environment", "fire", "gas_leak", "hazmat", "heating", "infrastructure",
            "power_outage", "traffic", "water_supply", "work_safety", "other")


async def open_form(pilot, *keys: str) -> FormScreen:
    await settle(pilot)
    await pilot.press(*keys)
    await settle(pilot)
    assert isinstance(pilot.app.screen, FormScreen)
    return pilot.app.screen


def arrive_together(app, chunk: str) -> None:
    """Post ``chunk``'s key events as the driver does after one read of the terminal:
    parsed by Textual's xterm parser, all queued before the app handles the first."""
    for event in XTermParser().feed(chunk):
        event.set_sender(app)
        app.post_message(event)


async def test_keys_arriving_together_fill_each_field(make_app, duty):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "2", "N")
        assert form.focused.id == "f-received_at"
        arrive_together(app, "\t孙先生\t13800001111\t道里区友谊路5号\t暖气不热\t物业不管")
        await settle(pilot)
        got = {name: form.query_one(f"#f-{name}").value
               for name in ("caller", "phone", "address", "cause", "course")}
        assert got == {"caller": "孙先生", "phone": "13800001111", "address": "道里区友谊路5号",
                       "cause": "暖气不热", "course": "物业不管"}
        assert form.focused.id == "f-course"
        # shift+tab twice: back on the address, whose text is selected (as when typed)
        arrive_together(app, "\x1b[Z\x1b[Z道外区\t")
        await settle(pilot)
        assert form.query_one("#f-address").value == "道外区"
        assert form.focused.id == "f-cause"
        await pilot.press("ctrl+s")
        await settle(pilot)
        order = WorkOrder.get(WorkOrder.caller == "孙先生")
        assert (order.phone, order.address) == ("13800001111", "道外区")
        assert order.content.startswith("暖气不热")


def options_of(select) -> list[str]:
    """The labels a select offers (its drop-down list)."""
    listed = select.query_one(OptionList)
    return [str(listed.get_option_at_index(i).prompt) for i in range(listed.option_count)]


async def test_subtype_list_follows_the_category(make_app, duty):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "N")
        subtype = form.query_one("#f-subtype", Select)
        # the template's plans are all accidents: gas leak, heating, other (the master plan)
        assert {"gas leak", "other"} <= {o.lower() for o in options_of(subtype)}
        form.query_one("#f-category", Select).value = "natural"
        await settle(pilot)
        assert [o.lower() for o in options_of(subtype) if o != "—"] == ["other"]
        form.query_one("#f-category", Select).value = "accident"
        await settle(pilot)
        assert {"gas leak", "other"} <= {o.lower() for o in options_of(subtype)}
        subtype.value = "gas_leak"
        await settle(pilot)
        form.query_one("#f-category", Select).value = "natural"  # gas leak is no natural event
        await settle(pilot)
        assert subtype.value is Select.NULL


async def _fill_report(pilot, form) -> None:
    form.query_one("#f-place").value = "道外区北十八道街"
    form.query_one("#f-category", Select).value = "accident"
    form.query_one("#f-title").value = "道外区居民楼燃气爆燃"
    await settle(pilot)


async def test_letters_in_a_number_field_are_said_beside_it_and_nothing_saved(make_app, duty):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        before = Report.select().count()
        form = await open_form(pilot, "N")
        await _fill_report(pilot, form)
        form.query_one("#f-dead").focus()
        await pilot.press("1", "x")  # typed: the default 0 is selected, so "1x"
        await settle(pilot)
        beside = form.query_one("#err-dead", Label)
        assert form.query_one("#f-dead").value == "1x"
        assert beside.has_class("-shown") and "whole number" in str(beside.render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and Report.select().count() == before
        await pilot.press("backspace")
        await settle(pilot)
        assert not beside.has_class("-shown")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert Report.get(Report.title == "道外区居民楼燃气爆燃").dead == 1


async def test_phone_fields_refuse_letters_beside_the_field(make_app, duty):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        before = WorkOrder.select().count()
        form = await open_form(pilot, "2", "N")
        form.query_one("#f-caller").value = "陈女士"
        form.query_one("#f-address").value = "南岗区西大直街"
        form.query_one("#f-cause").value = "楼道灯坏了"
        form.query_one("#f-phone").focus()
        await pilot.press(*"abc123")
        await settle(pilot)
        beside = form.query_one("#err-phone", Label)
        assert beside.has_class("-shown") and "phone number" in str(beside.render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and WorkOrder.select().count() == before
        form.query_one("#f-phone").value = "0451-8888 1234"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert WorkOrder.get(WorkOrder.caller == "陈女士").phone == "0451-8888 1234"
        form = await open_form(pilot, "1", "N")  # the report's reporter phone too
        form.query_one("#f-reporter_phone").value = "call me"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "phone number" in str(form.query_one("#err-reporter_phone", Label).render())


async def test_an_unticked_checkbox_is_an_empty_box(make_app, duty):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot, "N")
        tick = form.query_one("#f-sensitive", Checkbox)
        assert not tick.value and "X" not in str(tick.render())
        tick.focus()
        await pilot.press("space")
        await settle(pilot)
        assert tick.value and "X" in str(tick.render())


def _row(screen: str, text: str) -> int:
    return next(i for i, row in enumerate(screen.splitlines()) if text in row)


def test_select_lists_drawn_over_a_checkbox_keep_every_character(terminal):
    """Seen only on the real screen: the row of a drop-down over the check box lost a wide
    character (`事故  难`, `Ⅰ 特  重大`)."""
    term = terminal((80, 24), "zh-CN")
    term.keys("N")
    shown = term.wait_for(lambda s: "突发事件接报" in s)
    term.tab_to(_row(shown, "事发地点"))
    term.keys("Tab")
    term.settle()
    term.keys("Enter")  # a list opens over the rows below, the check box's among them
    shown = term.wait_for(lambda s: "▲" in s)
    row = shown.splitlines()[_row(shown, "敏感信息")]
    over = row.split("敏感信息", 1)[1].split("│")[0].strip()  # the list's text on that row
    assert over in zh_labels(), (over, shown)


def zh_labels() -> set[str]:
    """Every label the report form's lists can show, in zh-CN."""
    from console import i18n
    from screens.flows import subtype_label

    i18n.set_language("zh-CN")
    try:
        words = {i18n.t(f"category.{c}") for c in ("natural", "accident", "health", "security")}
        words |= {subtype_label(s) for s in SUBTYPES}
        return words | {i18n.t(f"level.{lv}") for lv in ("I", "II", "III", "IV", "unknown")}
    finally:
        i18n.set_language("en")
