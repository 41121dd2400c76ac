"""The fifth queue: scheduled department reports — due, missing, received — and the
receive key on a row (with a file), through Pilot."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from console import actions, sweep
from console.models import ScheduledReport
from screens.forms import ActionPrompt
from tests.conftest import ADMIN
from tests.ui.conftest import events_of, messages, settle

DUE_W49 = dt.datetime(2026, 11, 30, 4, 0)  # Monday 12:00 local (shipped weekly reports)


@pytest.fixture
def scheduled(duty, clock):
    ctx, refs = duty
    for code, name, phone in (("XCB", "市委宣传部", "0451-86742121"),
                              ("ZFW", "市委政法委", "0451-86752222")):
        actions.upsert_department(ctx, ADMIN, code=code, name=name, phone=phone)
    sweep.auto_escalate(ctx)  # the W49 rows, due
    clock.set(DUE_W49 + dt.timedelta(hours=3))  # past due + grace: missing
    sweep.auto_escalate(ctx)
    return {r.department.code: r.ref for r in ScheduledReport.select()
            if r.period == "2026-W49"}


async def _open_fifth(pilot):
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot, 3)
    screen = pilot.app.screen
    assert screen.active_kind == "scheduled"
    return screen.pane().item_list


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_the_fifth_queue_shows_the_missing_with_the_departments_phone(
        make_app, scheduled, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        item_list = await _open_fifth(pilot)
        rows = list(item_list.loaded_rows())
        assert {r.ref for r in rows} >= set(scheduled.values())
        missing = [r for r in rows if r.status == "missing"]
        assert len(missing) == len(scheduled) and all(r.overdue_at is not None for r in missing)
        width = item_list.content_width
        row = next(r for r in missing if r.ref == scheduled["XCB"])
        line = item_list.row_text(row, width)
        assert "missing" in line and "2026-W49" in line and "-" in line.split()[-1]
        assert "public-opinion"[:8] in line and "-3h00m" in line  # 3 h past its due time
        if width >= 100:
            assert "0451-86742121" in line  # the department's phone, to chase it
        assert len(line.rstrip()) <= width


async def test_receive_key_on_a_row_with_a_file(make_app, scheduled, tmp_path):
    f = tmp_path / "w49.pdf"
    f.write_bytes(b"%PDF opinion week 49")
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        item_list = await _open_fifth(pilot)
        ref = scheduled["XCB"]
        rows = list(item_list.loaded_rows())
        item_list.cursor = next(i for i, r in enumerate(rows) if r.ref == ref)
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, ActionPrompt)
        await pilot.press(*str(f), "enter")
        await settle(pilot, 3)
        item = ScheduledReport.get(ScheduledReport.ref == ref)
        assert item.status == "late" and item.file_sha256 == hashlib.sha256(
            f.read_bytes()).hexdigest()
        assert events_of(ref)[-1][:2] == ("receive", "liming")
        assert any(ref in m for m in messages(app))
        # closed now: the open scope no longer lists it
        assert ref not in {r.ref for r in app.screen.pane().item_list.loaded_rows()}


async def test_receive_key_refused_on_another_queue(make_app, scheduled):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("g")  # on the reports queue: not for this kind
        await settle(pilot)
        assert not isinstance(app.screen, ActionPrompt)
        assert all(r.status == "missing" for r in ScheduledReport.select()
                   .where(ScheduledReport.period == "2026-W49"))
