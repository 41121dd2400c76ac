"""The header: site, local clock, the duty team on shift, per-queue counters."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from console.i18n import t
from console.queries import Counters, DutyTeam
from screens import fmt

QUEUE_KINDS = ("report", "work_order", "supervision")


class DutyHeader(Widget):
    """Two lines; the app feeds it (clock every second, team and counters from workers)."""

    DEFAULT_CSS = """
    DutyHeader { height: 2; dock: top; background: $panel; color: $foreground; }
    """

    team: reactive[DutyTeam | None] = reactive(None, layout=False)
    counters: reactive[dict] = reactive(dict, layout=False)
    clock: reactive[str] = reactive("")
    unreachable: reactive[str] = reactive("")  # why the database cannot be reached, or ""

    def on_mount(self) -> None:
        self.app.apply_header_state(self)

    def render(self) -> Text:
        app = self.app
        width = self.size.width
        line1 = Text(no_wrap=True, overflow="ellipsis")
        line1.append(f" {app.ctx.settings.site_name} ", style="bold reverse")
        line1.append(f" {self.clock} ", style="bold")
        if self.unreachable:
            line1.append(f" {t('ui.header.unreachable')} ", style="bold reverse red")
        team = self.team
        if team is None or team.shift is None:
            line1.append(" " + t("ui.header.no_shift"), style="dim")
        else:
            for key, person in (("leader", team.leader), ("primary", team.primary),
                                ("secondary", team.secondary)):
                line1.append(f" {t('field.' + key)}", style="dim")
                line1.append(f" {person.name if person else '—'}")
        who = app.actor.name + (f" [{t('ui.header.readonly')}]" if app.is_readonly else "")
        gap = width - line1.cell_len - len(who) * 2 - 2
        if gap > 0:
            line1.append(" " * gap)
            line1.append(who, style="italic")
        line2 = Text(no_wrap=True, overflow="ellipsis")
        short = width < 110
        for i, kind in enumerate(QUEUE_KINDS):
            c: Counters | None = self.counters.get(kind)
            line2.append(f" {i + 1}·{t('ui.queue.' + kind + ('_short' if short else ''))} ",
                         style="bold")
            if c is None:
                line2.append("…  ")
                continue
            line2.append(f"{t('ui.counter.new')}{c.shown('new')} ")
            line2.append(f"{t('ui.counter.unacked')}{c.shown('unacked')} ",
                         style="bold #ffaf00" if c.unacked else "")
            line2.append(f"{t('ui.counter.overdue')}{c.shown('overdue')}",
                         style="bold red" if c.overdue else "")
            line2.append("  ")
        return Text("\n").join([line1, line2])


def clock_text(app) -> str:
    return fmt.local(app.ctx.now(), app.ctx.settings.tz, "%Y-%m-%d %H:%M:%S")
