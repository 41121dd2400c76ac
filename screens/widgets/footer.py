"""The footer, rebuilt only when the keys it shows change.

Textual's ``Footer`` recomposes (one ``FooterKey`` widget per shown binding, each
styled against the whole stylesheet) on every ``bindings_updated`` signal: a
screen push, every focus change, a screen resume.  Opening the detail asked
for four rebuilds of the same ten keys (≈ 40 widgets, ≈ 370 stylesheet
applications, most of the key's 100 ms on the event loop; docs/benchmarks.md).
This footer coalesces the signals of one refresh into one check and rebuilds
only when the shown keys differ from what it shows.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class DutyFooter(Footer):
    """Footer that skips a recompose when its keys did not change."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None
        self._check_pending = False

    def _signature(self) -> tuple:
        """What compose would show: every shown binding, enabled state and tooltip."""
        shown = tuple((b.key, b.key_display, b.description, b.action, b.group, enabled, tooltip)
                      for (_node, b, enabled, tooltip) in self.screen.active_bindings.values()
                      if b.show)
        palette = (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE
                   and self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING))
        if palette:
            _node, b, enabled, tooltip = palette
            palette = (b.key, b.description, enabled, b.tooltip or tooltip)
        return shown, palette, self.compact

    def compose(self) -> ComposeResult:
        self._shown = self._signature() if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._check_pending:
            self._check_pending = True
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        self._check_pending = False
        if not self.is_attached:
            return
        if self._shown is not None and self._signature() == self._shown:
            return
        await self.recompose()
