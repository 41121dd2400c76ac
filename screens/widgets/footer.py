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

import re

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # not exported; the shown keys are filtered

_ITEM = re.compile(r"^item\('(\w+)'\)$")
WRITING = {"new", "checklist", "end_plan"}  # keys besides the item verbs that change data


def offers_item_key(app, kind: str, action: str) -> bool:
    """Whether an item key is worth showing for an item of ``kind`` on this console."""
    match = _ITEM.match(action)
    if match is None:
        return not (action in WRITING and app.is_readonly)
    if app.is_readonly:
        return False
    kinds = _verb_kinds(match.group(1))
    return kinds is None or kind in kinds


def _verb_kinds(name: str) -> tuple[str, ...] | None:
    """The kinds a verb applies to: from the core's verb table where there is one
    (console/verbs.py, issue 8 §1), else from the screens' key table."""
    try:
        from console import verbs
    except ImportError:
        from screens.keymap import BY_VERB

        spec = BY_VERB.get(name)
        return spec.kinds if spec is not None else None
    verb = verbs.by_name(name)
    return verb.kinds if verb is not None else None


def key_cells(key: str, description: str, compact: bool) -> int:
    """The columns one FooterKey takes (Textual's padding: none between key and text
    when compact but one space, else one around the key and one after the text)."""
    cells = cell_len(key) + cell_len(description)
    if not description:
        return cells
    return cells + (1 if compact else 3)


class DutyFooter(Footer):
    """Footer that skips a recompose when its keys did not change.

    Only whole keys are shown: the keys that do not fit the width are left out
    (they are all in ? and the palette), never cut mid-word ("a Acknowled").  The
    palette key is docked right *over* the row of keys; a wide character under its
    edge garbled it ("命令  板"), so the keys' row stops short of it by its own width.
    """

    DEFAULT_CSS = """
    DutyFooter FooterKey.-command-palette { background: $panel; }
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None
        self._check_pending = False

    def _signature(self) -> tuple:
        """What compose would show: every shown binding, enabled state and tooltip."""
        shown = tuple((b.key, b.key_display, b.description, b.action, b.group, enabled, tooltip)
                      for (_node, b, enabled, tooltip) in self.screen.active_bindings.values()
                      if b.show and self._offered(b.action))
        palette = (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE
                   and self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING))
        if palette:
            _node, b, enabled, tooltip = palette
            palette = (b.key, b.description, enabled, b.tooltip or tooltip)
        return shown, palette, self.compact, self.app.size.width

    def _offered(self, action: str) -> bool:
        """Whether the screen offers this key here (a 12345 order has no 续报, a read-only
        console no action keys).  The key itself still answers, with a line saying why."""
        offered = getattr(self.screen, "offers", None)
        return offered(action) if offered is not None else True

    def compose(self) -> ComposeResult:
        self._shown = self._signature() if self._bindings_ready else None
        widgets = list(super().compose())
        palette = [w for w in widgets if isinstance(w, FooterKey)
                   and "-command-palette" in w.classes]
        # the palette key: docked right over the row, with its border and padding
        reserved = sum(key_cells(w.key_display, w.description, False) + 2 for w in palette)
        room = self.app.size.width - reserved
        keys, full = 0, False
        for widget in widgets:
            if isinstance(widget, FooterKey) and widget not in palette:
                if not self._offered(widget.action):
                    continue
                room -= key_cells(widget.key_display, widget.description, self.compact)
                full = full or room < 0  # this key and every later one: in ? and the palette
                if full:
                    continue
                keys += 1
            yield widget
        if self._bindings_ready:
            self.styles.grid_size_columns = keys

    def on_resize(self) -> None:
        if self._bindings_ready and self.is_attached and not self._check_pending:
            self._check_pending = True
            self.call_after_refresh(self._recompose_if_changed)

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
