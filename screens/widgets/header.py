"""The header: site, local clock, the duty team on shift, per-queue counters, health.

The app keeps one ``HeaderState`` and publishes when it moves; each header
(one per screen) subscribes and repaints from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget

from console.i18n import t
from console.queries import Counters, HeaderTeam
from console.textsafe import one_line
from screens import fmt

QUEUE_KINDS = ("report", "work_order", "supervision")


@dataclass(frozen=True)
class HeaderState:
    """What every header shows (plain data; the app replaces it, never mutates it)."""

    clock: str = ""
    team: HeaderTeam | None = None
    counters: dict = field(default_factory=dict)
    unreachable: str = ""  # why the database cannot be reached, or ""

    def with_(self, **changes: Any) -> HeaderState:
        return replace(self, **changes)


class DutyHeader(Widget):
    """Two lines, drawn from the app's HeaderState whenever the app publishes a change."""

    DEFAULT_CSS = """
    DutyHeader { height: 2; dock: top; background: $panel; color: $foreground; }
    """

    def on_mount(self) -> None:
        self.app.published.subscribe(self, self._published)

    def _published(self, published) -> None:
        if not published.header or self.state == self._drawn:
            return
        if self._drawn is not None and self.state.with_(clock=self._drawn.clock) == self._drawn:
            self.refresh(Region(0, 0, self.size.width, 1))  # the clock's line only, each second
        else:
            self.refresh()

    @property
    def state(self) -> HeaderState:
        return self.app.header_state

    # kept for callers that read the header's parts (tests)
    @property
    def clock(self) -> str:
        return self.state.clock

    @property
    def team(self) -> HeaderTeam | None:
        return self.state.team

    @property
    def counters(self) -> dict:
        return self.state.counters

    @property
    def unreachable(self) -> str:
        return self.state.unreachable

    _drawn: HeaderState | None = None

    def render(self) -> Text:
        app = self.app
        self._drawn = self.state
        width = self.size.width
        line1 = Text(no_wrap=True, overflow="ellipsis")
        line1.append(f" {app.ctx.settings.site_name} ", style="bold reverse")
        line1.append(f" {self.clock} ", style="bold")
        if self.unreachable:
            line1.append(f" {t('ui.header.unreachable')} ", style="bold reverse red")
        team = self.team
        if team is None or not team.on_shift:
            line1.append(" " + t("ui.header.no_shift"), style="dim")
        else:
            words = "health.team_narrow." if width < 110 else "field."
            for key, name in (("leader", team.leader), ("primary", team.primary),
                              ("secondary", team.secondary)):
                line1.append(f" {t(words + key)}", style="dim")
                line1.append(f" {name or '—'}")
        # the operator's name always shows, at the right: the team is cut first
        who = one_line(app.actor.name) + (f" [{t('ui.header.readonly')}]" if app.is_readonly else "")
        room = width - cell_len(who) - 1
        if line1.cell_len > room:
            line1.truncate(max(room - 1, 0), overflow="ellipsis")
        line1.append(" " * max(room - line1.cell_len, 1))
        line1.append(who, style="italic")
        line2 = self._counters_line(short=width < 110)
        for line in (line1, line2):  # each line fits, so the two never wrap into three
            line.truncate(width, overflow="ellipsis")
        return Text("\n").join([line1, line2])


    def _counters_line(self, *, short: bool) -> Text:
        """Per queue: new, unacknowledged, overdue; narrow, the two that call for action."""
        line = Text(no_wrap=True, overflow="ellipsis")
        words = "health.counter_short" if short else "ui.counter"
        for i, kind in enumerate(QUEUE_KINDS):
            c: Counters | None = self.counters.get(kind)
            name = t(f"health.queue_narrow.{kind}") if short else t(f"ui.queue.{kind}")
            line.append(f" {i + 1}·{name} ", style="bold")
            if c is None:
                line.append("…  ")
                continue
            if not short:
                line.append(f"{t('ui.counter.new')}{c.shown('new')} ")
            line.append(f"{t(words + '.unacked')}{c.shown('unacked')} ",
                        style="bold #ffaf00" if c.unacked else "")
            line.append(f"{t(words + '.overdue')}{c.shown('overdue')}",
                        style="bold red" if c.overdue else "")
            line.append(" " if short else "  ")
        return line


def clock_text(app) -> str:
    return fmt.local(app.ctx.now(), app.ctx.settings.tz, "%Y-%m-%d %H:%M:%S")
