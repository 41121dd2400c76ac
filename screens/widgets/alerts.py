"""The alert banner: stays until the officer acknowledges it (Shift+A)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

from console.i18n import t


@dataclass(frozen=True)
class Alert:
    kind: str
    item_id: int
    ref: str
    message: str
    at: str  # local hh:mm


class AlertBanner(Widget):
    """Shows the newest alert and how many more wait; hidden when there are none.

    In the flow under the header, not docked: two widgets docked to the top overlap,
    and the banner hid the header's clock and duty team.
    """

    DEFAULT_CSS = """
    AlertBanner { height: auto; max-height: 3; display: none;
                  background: $error; color: $text; text-style: bold; padding: 0 1; }
    AlertBanner.-active { display: block; }
    """

    def on_mount(self) -> None:
        self.app.published.subscribe(self, self._published)
        self.sync()

    def _published(self, published) -> None:
        if published.alerts:
            self.sync()

    def render(self) -> Text:
        alerts: list[Alert] = self.app.alerts
        if not alerts:
            return Text("")
        newest = alerts[-1]
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"⚠ {newest.at} {newest.message}")
        if len(alerts) > 1:
            text.append("  " + t("ui.alert.more", n=len(alerts) - 1))
        text.append("  " + t("ui.alert.hint"), style="not bold")
        return text

    def sync(self) -> None:
        self.set_class(bool(self.app.alerts), "-active")
        self.refresh(layout=True)
