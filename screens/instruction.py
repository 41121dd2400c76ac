"""批示 as it happens: the form the ``i`` key opens (screens/flows.py, arg kind "instruction").

Who gave it (a roster leader, or the name and title of a leader outside the roster),
when (default now) and what; saved by ``actions.instruct`` in a thread worker, which
records the officer typing it as ``recorded_by``.
"""

from __future__ import annotations

from typing import Any

from console import actions
from console.errors import StaleVersion
from console.i18n import t
from console.models import Item
from screens.forms import Field, FormScreen, format_local_time

OTHER = "_other"  # a leader outside the roster: name and title typed below


def instruction_form(target: Any, ctx: Any, actor: Any,
                     leaders: list[tuple[str, str]]) -> FormScreen:
    logins = [login for login, _name in leaders]
    default = actor.login if actor.login in logins else (logins[0] if logins else OTHER)
    fields = [
        Field("leader", t("ui.instruction.leader"), "select", required=True, default=default,
              choices=(*leaders, (OTHER, t("ui.instruction.other")))),
        Field("name", t("ui.instruction.name"), placeholder=t("ui.instruction.name_hint")),
        Field("title", t("ui.instruction.title"), placeholder=t("ui.instruction.title_hint")),
        Field("at", t("ui.instruction.at"), "time", required=True,
              default=format_local_time(ctx.now(), ctx.settings.tz)),
        Field("text", t("ui.instruction.text"), required=True),
    ]
    expected = [target.version]

    def submit(v: dict[str, Any]) -> Item:
        who = (target.kind, target.id)
        typed = v["leader"] in (OTHER, "")
        leader = v["name"] if typed else v["leader"]
        try:
            return actions.instruct(ctx, actor, who, v["text"], leader=leader,
                                    title=v["title"], at=v["at"],
                                    expected_version=expected[0])
        except StaleVersion as exc:  # the form keeps what was typed; saving again applies it
            expected[0] = actions.find_item(who).version
            raise StaleVersion(t("ui.msg.stale_resave", error=str(exc))) from None

    return FormScreen(t("ui.instruction.heading", ref=target.ref), fields, submit,
                      subtitle=target.title)
