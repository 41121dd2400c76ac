"""The 批示 form's leaders (issue 10 §2).

*Found* at the keyboard on the demo: the 批示人 list offered 系统管理员, 徐晨（信息中心
工程师） and root（演示用户） — the roster's admins — beside the leaders, and an admin
typing an instruction had their own name preselected as the instructing leader.
"""

from __future__ import annotations

from textual.widgets import Select

from screens.forms import FormScreen
from tests.conftest import ADMIN, LEADER
from tests.ui.conftest import settle


async def test_the_leader_list_holds_leaders_not_the_admin_typing(make_app, duty):
    app = make_app(actor=ADMIN, language="zh-CN")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        select = app.screen.query_one("#f-leader", Select)
        values = [value for _prompt, value in select._options]
        assert ADMIN.login not in values
        assert LEADER.login in values
        assert select.value == LEADER.login
