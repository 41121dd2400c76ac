"""Nothing in the data can drive the terminal (issue 9 §3), checked on the rendered screen.

Found: a report titled "\\x1b[2J\\x1b[31mHACK" with summary "\\x1b]0;TITLE\\x07…\\x1b[5m" wiped
the header, turned the rows red, set blink and changed the terminal title.  Here such
text is put in every field shown — queue row, detail, timeline, header, alert banner,
notification — and the screen as rendered must hold no ESC, C1 or bidi control from
the data, show the visible placeholders instead, and keep Rich markup literal.
"""

from __future__ import annotations

import dataclasses
import html
import re

from console import actions
from console.context import Actor
from console.models import Report
from tests.conftest import ADMIN, LEADER, OFFICER
from tests.ui.conftest import select, settle

HOSTILE_TITLE = "\x1b[2J\x1b[31mHACK [bold]markup[/bold]"
HOSTILE_SUMMARY = "\x1b]0;TITLE\x07…\x1b[5m blink [b]lit[/b]"
BIDI = "\u202eevil\u202c"
C1 = "\x9b31m"
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def screen_text(app) -> str:
    """The screen as rendered (Textual's SVG screenshot, tags stripped)."""
    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def _assert_safe(text: str) -> None:
    bad = sorted({f"U+{ord(c):04X}" for c in FORBIDDEN.findall(text)})
    assert bad == [], f"control characters reached the screen: {bad}"


async def test_hostile_text_never_reaches_the_terminal(make_app, duty):
    ctx, refs = duty
    # the duty leader's name (header) and another console's officer (notification)
    actions.upsert_person(ctx, ADMIN, login=LEADER.login, name="赵\x1b[5m强", role="leader")
    other = dataclasses.replace(ctx, console="evil\x1b]0;T\x07:pts/9")
    intruder = Actor("wangfang", "王\x1b[31m芳\u202e", "officer")
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        app.poll_changes()  # the feed's starting point
        await settle(pilot)
        report = actions.create_report(
            other, intruder, title=HOSTILE_TITLE, category="accident", subtype="fire",
            level="II", place=BIDI + "place", summary=HOSTILE_SUMMARY, reporter=C1 + "reporter",
            source_unit="\x1b[31munit", measures="line one\n\x1b[2Kline two")
        report = actions.note(other, intruder, report, "\x1b[31mnote\x1b[0m [red]x[/red]",
                              expected_version=report.version)
        app.poll_changes()  # learns of the events: the alert banner for a new level Ⅱ report
        await settle(pilot)
        main = screen_text(app)
        _assert_safe(main)
        assert "␛[2J␛[31mHACK [bold]markup[/bold]" in main  # row (and banner), literally
        assert "赵␛[5m强" in main  # header
        assert app.alerts and "HACK" in app.alerts[-1].message

        await select(pilot, report.ref)
        await pilot.press("enter")
        await settle(pilot)
        # another console changes the item while it is open: the notification names them
        fresh = Report.get(Report.ref == report.ref)
        actions.note(other, intruder, fresh, "again \x1b[1m", expected_version=fresh.version)
        app.poll_changes()
        await settle(pilot)
        detail = screen_text(app)
        _assert_safe(detail)
        assert "␛]0;TITLE␇" in detail and "[b]lit[/b]" in detail  # summary, markup literal
        assert "⟨U+202E⟩evil" in detail  # place, bidi override shown, not obeyed
        assert "⟨U+009B⟩31mreporter" in detail
        assert "␛[31mnote␛[0m [red]x[/red]" in detail  # timeline note, markup literal
        assert "王␛[31m芳" in detail  # timeline actor and the notification
        assert any("王␛[31m芳" in n.message for n in app._notifications)
        # stored text keeps the original as evidence
        assert Report.get(Report.ref == report.ref).title == HOSTILE_TITLE
    assert refs  # the rest of the small duty room was on screen too
    assert OFFICER.login
