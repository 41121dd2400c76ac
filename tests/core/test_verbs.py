"""The verb table: every reader derives from it, a new verb is one row; `act` (issue 10 §14, 9 §2)."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout

import pytest

from console import actions, cli, commands, rules, settings, verbs
from console.errors import ConfigError, DomainError
from console.verbs import Verb
from tests.conftest import ADMIN, OFFICER

FLAG = Verb("flag", "note", "text", key="g", command="flag", aliases=("fl",),
            legal=dict.fromkeys(verbs.KINDS, "*open"), help="ui.verb.note", footer=True)


@pytest.fixture
def extra_verb():
    verbs.register(FLAG)
    yield FLAG
    verbs.unregister(FLAG.name)


def act_help() -> str:
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit):
        cli.main(["--lang", "en", "act", "--help"])
    return out.getvalue()


def lookups() -> commands.Lookups:
    return commands.Lookups(refs=lambda p: ["BG-2026-0001"], departments=lambda p: [],
                            steps=lambda r: [])


def test_a_registered_verb_reaches_parser_completion_act_help_and_rules(extra_verb):
    cmd = commands.parse(":flag BG-2026-0001 watch the gas main")
    assert (cmd.verb, cmd.action, cmd.arg) == ("flag", "flag", "watch the gas main")
    assert commands.parse(":fl BG-1 x").action == "flag"
    with pytest.raises(commands.CommandError) as err:
        commands.parse(":flag BG-1")  # a text argument is required
    assert err.value.key == "cmd.need_arg"
    assert ":flag " in commands.complete(":fl", lookups())
    assert "flag REF TEXT" in act_help()
    assert "flag" in rules.ITEM_ACTIONS and "flag" in rules.LEGAL_FROM
    assert rules.is_legal("flag", "report", "new") and not rules.is_legal("flag", "report",
                                                                           "closed")
    assert rules.role_allows("officer", "flag") and not rules.role_allows("viewer", "flag")
    assert settings.load(overrides={"keys": {"item.flag": "ctrl+g"}}).keys == {
        "item.flag": "ctrl+g"}


def test_unregistered_verb_is_gone(extra_verb):
    verbs.unregister("flag")
    with pytest.raises(commands.CommandError):
        commands.parse(":flag BG-1 x")
    assert "flag" not in rules.ITEM_ACTIONS
    verbs.register(FLAG)  # the fixture removes it again


def test_rules_tables_come_from_the_verb_table():
    assert verbs.legal_rules() == rules.LEGAL_FROM
    assert rules.ACTION_ROLE["instruct"] == "officer"  # officers record leaders' 批示
    assert rules.ACTION_ROLE["escalate_any"] == "leader"  # not an item verb: rules' own
    assert "escalate_to" not in rules.LEGAL_FROM  # a second key of escalate, one rule
    for v in verbs.VERBS:
        assert v.arg in verbs.ARG_KINDS


def test_act_help_lists_every_verb_with_its_argument():
    text = act_help()
    for usage in ("ack REF [note]", "esc REF [STEP]", "assign REF DEPT", "extend REF [+DAYS] REASON",
                  "visit REF 1-5 [note]", "level REF LEVEL", "note REF TEXT"):
        assert usage in text
    assert "\n  open REF" not in text  # the console's, not an action


def test_unknown_verb_on_act_names_act_help(ctx, db):
    with pytest.raises(DomainError) as err:
        commands.run_command(ctx, OFFICER, "frobnicate BG-2026-0001")
    assert "dutyroom act --help" in str(err.value)
    assert "see ?" not in str(err.value)


def test_act_passes_the_version_it_read(ctx, db, monkeypatch):
    actions.upsert_person(ctx, ADMIN, login=OFFICER.login, name=OFFICER.name, role="officer")
    report = actions.create_report(ctx, OFFICER, title="t", category="accident", level="IV",
                                   place="p")
    seen: list = []
    real = verbs.call

    def spy(verb, *args, **kwargs):
        seen.append(kwargs.get("expected_version"))
        return real(verb, *args, **kwargs)

    monkeypatch.setattr(verbs, "call", spy)
    message = commands.run_command(ctx, OFFICER, f"note {report.ref} checked")
    assert seen == [report.version]
    assert report.ref in message and "Add a note" not in message  # the event's label


def test_keys_config_errors_name_the_key_path():
    with pytest.raises(ConfigError) as err:
        settings.load(overrides={"keys": {"item.acknowlege": "ctrl+a"}})
    assert err.value.path == "keys.item.acknowlege"
    with pytest.raises(ConfigError) as err:
        settings.load(overrides={"keys": {"item.acknowledge": 3}})
    assert err.value.path == "keys.item.acknowledge"
    with pytest.raises(ConfigError):
        settings.load(overrides={"keys": {"item.acknowledge": "ctrl+"}})
    assert settings.load(overrides={"keys": {"app.help": "f1, question_mark"}}).keys == {
        "app.help": "f1,question_mark"}


def test_act_help_keeps_a_gap_after_the_longest_usage():
    """*Found*: ``ins REF [@LEADER[/TITLE]] [HH:MM] TEXTRecord a leader's instruction``."""
    lines = act_help().split("verbs:", 1)[1].splitlines()
    ins = next(ln for ln in lines if ln.strip().startswith("ins "))
    assert "TEXT  Record" in ins, ins
    starts = set()
    for line in (ln for ln in lines if ln.startswith("  ")):
        usage, description = re.split(r"\s{2,}", line.strip(), maxsplit=1)
        starts.add(line.index(description, 2 + len(usage)))
    assert len(starts) == 1, lines  # the descriptions in one column
