"""An export restored into an empty database (issue 9 §6): numbering continues (the
first new report failed with UNIQUE constraint failed: report.ref), and the restored
log verifies — chain, versions, rows and child rows."""

from __future__ import annotations

import pytest

from console import actions, export, intake, verify
from console import db as dbmod
from console.models import Report, SupervisionItem
from tests.conftest import ADMIN, LEADER, OFFICER, fresh_url


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_restore_into_an_empty_database_keeps_numbering(ctx, roster, tmp_path, kind, db):
    first = actions.create_report(ctx, OFFICER, title="燃气泄漏", category="accident", level="II")
    second = actions.create_report(ctx, OFFICER, title="积水", category="natural", level="IV")
    actions.follow_up(ctx, OFFICER, first.ref, "续报一", dead=1)
    actions.instruct(ctx, LEADER, first.ref, "全力救治")
    sv = actions.register_supervision(ctx, OFFICER, title="督办积水", source=second.ref)
    actions.note(ctx, OFFICER, sv.ref, "已交办")
    dump = tmp_path / "backup.jsonl"
    export.export_to(dump)
    db.close()

    with fresh_url(kind, tmp_path, "restored.db") as url:
        target = dbmod.open_database(url)
        try:
            dbmod.migrate(target)
            records = intake.load_file(dump, ctx.settings)
            actions.import_records(ctx, ADMIN, records, source=dump.name)
            assert verify.verify_all()[1] == []
            new = actions.create_report(ctx, OFFICER, title="新的一件", category="accident",
                                        level="III")
            refs = sorted(r.ref for r in Report.select())
            assert new.ref == refs[-1] and new.ref not in (first.ref, second.ref)
            assert int(new.ref.rsplit("-", 1)[1]) == int(second.ref.rsplit("-", 1)[1]) + 1
            sv2 = actions.register_supervision(ctx, OFFICER, title="再督办")
            assert sv2.ref != sv.ref and SupervisionItem.select().count() == 2
            assert verify.verify_all()[1] == []
        finally:
            target.close()
