"""The `:` command line as a person sees it: in a real terminal (tmux), 80×24 and 160×50,
zh-CN and English (issue 10 §1).

Every Pilot test passed while the footer covered the line: these read the terminal.
"""

from __future__ import annotations

import re

import pytest

SIZES = [(80, 24), (160, 50)]
# the footer's label of the line's Tab key: the line has the focus
COMPLETE = {"en": "Complete", "zh-CN": "补全"}
MATCHES = {"en": re.compile(r"(\d+) matches"), "zh-CN": re.compile(r"(\d+) 个候选")}


def _line_with(screen: str, text: str) -> int:
    rows = [i for i, row in enumerate(screen.splitlines()) if text in row]
    assert rows, f"{text!r} is not on the screen:\n{screen}"
    return rows[-1]


def _open_line(term, language: str) -> str:
    before = term.screen()
    term.keys(":")
    term.wait_for(lambda s: COMPLETE[language] in s)
    return before


@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x50"])
def test_typed_command_is_on_screen_with_its_cursor(terminal, size, language):
    term = terminal(size, language)
    before = _open_line(term, language)
    term.write("esc BG")
    after = term.wait_for(lambda s: ":esc BG" in s)
    row = _line_with(after, ":esc BG")
    width, height = size
    assert row == height - 2, after
    # more than the footer changed: the rows above it too
    assert before.splitlines()[:height - 1] != after.splitlines()[:height - 1]
    # the cursor is drawn after the typed text: a cell in another style, then the rest
    styled = term.styled().splitlines()[row]
    assert re.search(r":esc BG(\x1b\[[0-9;]*m)+ (\x1b\[[0-9;]*m)+", styled), styled


@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x50"])
def test_tab_lists_the_candidates_above_the_line(terminal, size, language):
    term = terminal(size, language)
    _open_line(term, language)
    term.write("esc BG")
    term.wait_for(lambda s: ":esc BG" in s)
    term.keys("Tab")
    shown = term.wait_for(lambda s: MATCHES[language].search(s) is not None)
    line = _line_with(shown, ":esc BG-")
    found = MATCHES[language].search(shown)
    strip = shown.splitlines()[_line_with(shown, found.group(0)):line]
    refs = re.findall(r"BG-\d{4}-\d{4}", "\n".join(strip))
    assert len(refs) >= min(int(found.group(1)), 2), shown
    # the line holds the first candidate; Tab again moves to the next one, still listed
    first = re.search(r":esc (BG-\d{4}-\d{4})", shown.splitlines()[line]).group(1)
    assert first == refs[0]
    term.keys("Tab")
    moved = term.wait_for(lambda s: f":esc {refs[1]}" in s)
    assert MATCHES[language].search(moved)
    # typing makes the list stale: it goes
    term.keys("BSpace")
    term.wait_for(lambda s: MATCHES[language].search(s) is None)
