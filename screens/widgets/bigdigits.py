"""Digits that grow with the wall: Textual's 3-row Digits up to a large terminal, then a
5-row block font scaled by a whole factor, so the clock and the counters of the wall board
stay legible from across the room on a 4K terminal (issue 13).

Each glyph is 3 pixels wide and 5 high; a pixel is ``2·scale`` columns by ``scale`` rows
(a terminal cell is about twice as high as it is wide)."""

from __future__ import annotations

from rich.text import Text
from textual.app import RenderResult
from textual.geometry import Size
from textual.widgets import Digits

FONT: dict[str, tuple[str, ...]] = {
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", "###", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", "..#", "..#", "..#"),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
    ":": (".", "#", ".", "#", "."),
    "-": ("...", "...", "###", "...", "..."),
    "+": ("...", ".#.", "###", ".#.", "..."),
    "…": ("...", "...", "...", "...", "#.#"),
    " ": ("..", "..", "..", "..", ".."),
}
ROWS = 5


def scale_for(width: int, height: int) -> int:
    """0 (Textual's own Digits) below 240×60 cells; above, the block font at 1, 2, 3…
    as the terminal grows (a 4K screen of a 10-pixel font is about 384×108: 2)."""
    if width < 240 or height < 60:
        return 0
    return max(1, min(width // 160, height // 45))


def _glyphs(value: str) -> list[tuple[str, ...]]:
    return [FONT.get(ch, FONT[" "]) for ch in value]


def block_width(value: str, scale: int) -> int:
    """Cells the value takes in the block font: each pixel 2·scale wide, a pixel between."""
    glyphs = _glyphs(value)
    return 2 * scale * (sum(len(g[0]) for g in glyphs) + max(0, len(glyphs) - 1))


def block_lines(value: str, scale: int) -> list[str]:
    """The value in the block font, one string per terminal row."""
    glyphs = _glyphs(value)
    rows = []
    for r in range(ROWS):
        cells = " " * scale * 2
        line = cells.join("".join(("█" if px == "#" else " ") * (2 * scale) for px in g[r])
                          for g in glyphs)
        rows.extend([line] * scale)
    return rows


class BigDigits(Digits):
    """Digits with a ``scale``: 0 renders as Textual's Digits, 1+ in the block font."""

    scale = 0

    def set_scale(self, scale: int) -> None:
        if scale != self.scale:
            self.scale = scale
            self.refresh(layout=True)

    def update(self, value: str) -> None:
        if not self.scale:
            super().update(value)
            return
        layout = block_width(value, self.scale) != block_width(self.value, self.scale)
        self._value = value
        self.refresh(layout=layout)

    def render(self) -> RenderResult:
        if not self.scale:
            return super().render()
        return Text("\n".join(block_lines(self.value, self.scale)), style=self.rich_style,
                    no_wrap=True, overflow="crop")

    def get_content_width(self, container: Size, viewport: Size) -> int:
        if not self.scale:
            return super().get_content_width(container, viewport)
        return block_width(self.value or " ", self.scale)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return ROWS * self.scale if self.scale else 3
