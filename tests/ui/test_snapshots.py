"""Appearance: each main screen at 80×24 and 160×50, in both languages, frozen clock.

Update after an intended change with ``pytest tests/ui --snapshot-update`` and look at
the SVGs in tests/ui/__snapshots__/.
"""

from __future__ import annotations

import pytest

from tests.ui.conftest import settle

SCREENS = {
    "reports": (),
    "work_orders": ("2",),
    "supervision": ("3",),
    "plans": ("4",),
    "detail": ("enter",),
}


@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, make_app, screen, size, language):
    app = make_app(language=language)

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press(*SCREENS[screen])
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
