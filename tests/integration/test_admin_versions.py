"""Roster edits are version-checked like item actions: a stale save is refused, atomically."""

from __future__ import annotations

import pytest

from console import actions
from console.errors import DomainError, StaleVersion
from console.models import Event
from tests.conftest import ADMIN


def test_stale_roster_edit_is_refused_and_changes_nothing(db, ctx):
    dept = actions.upsert_department(ctx, ADMIN, code="ZJJ", name="市住建局", expected_version=0)
    shown = dept.version
    actions.upsert_department(ctx, ADMIN, code="ZJJ", name="市住房和城乡建设局",
                              expected_version=shown)  # another admin saves first
    events = Event.select().count()
    with pytest.raises(StaleVersion):
        actions.upsert_department(ctx, ADMIN, code="ZJJ", name="住建局", phone="110",
                                  expected_version=shown)
    assert Event.select().count() == events
    actions.upsert_person(ctx, ADMIN, login="admin", name="管理员", role="admin")
    with pytest.raises(DomainError):  # "new" but it exists: never overwrite by accident
        actions.upsert_person(ctx, ADMIN, login="admin", name="x", expected_version=0)
