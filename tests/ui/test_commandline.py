"""The `:` command line's parser and completion (pure, no Textual)."""

from __future__ import annotations

import pytest

from console.commands import CommandError, Lookups, complete, parse

LOOK = Lookups(
    refs=lambda p: [r for r in ("BG-2026-0042", "BG-2026-0043", "SV-2026-0007") if r.startswith(p)],
    departments=lambda p: [n for n in ("市住建局", "市供热办") if p in n],
    steps=lambda ref: ["值班员", "带班领导", "秘书长"],
)


@pytest.mark.parametrize("line, action, ref, arg", [
    (":ack BG-2026-0042", "acknowledge", "BG-2026-0042", ""),
    (":esc BG-2026-0042 秘书长", "escalate_to", "BG-2026-0042", "秘书长"),
    (":esc BG-2026-0042", "escalate_to", "BG-2026-0042", ""),
    (":assign 12345-88123 住建局", "assign", "12345-88123", "住建局"),
    (":close SV-2026-0007", "close", "SV-2026-0007", ""),
    (":close BG-1 已处置完毕 无人员伤亡", "close", "BG-1", "已处置完毕 无人员伤亡"),
    ("extend 12345-1 等待配件", "extend", "12345-1", "等待配件"),
    (":level BG-1 II", "change_level", "BG-1", "II"),
    (":fu BG-1 火势已控制", "follow_up", "BG-1", "火势已控制"),
    (":a BG-1", "acknowledge", "BG-1", ""),
    (":open BG-1", "open", "BG-1", ""),
])
def test_parse(line, action, ref, arg):
    cmd = parse(line)
    assert (cmd.action, cmd.ref, cmd.arg) == (action, ref, arg)


@pytest.mark.parametrize("line, key", [
    (":", "cmd.empty"), (":frobnicate BG-1", "cmd.unknown_verb"),
    (":ack", "cmd.need_ref"), (":extend BG-1", "cmd.need_arg"),
    (":assign BG-1", "cmd.need_arg"), (":open BG-1 now", "cmd.no_arg"),
])
def test_parse_errors(line, key):
    with pytest.raises(CommandError) as err:
        parse(line)
    assert err.value.key == key


def test_complete_verb_ref_step_dept_level():
    assert complete(":es", LOOK) == [":esc "]
    assert complete(":esc BG-2026-004", LOOK) == [":esc BG-2026-0042 ", ":esc BG-2026-0043 "]
    assert complete(":esc BG-2026-0042 秘", LOOK) == [":esc BG-2026-0042 秘书长"]
    assert complete(":assign BG-2026-0042 供热", LOOK) == [":assign BG-2026-0042 市供热办"]
    assert complete(":level BG-2026-0042 i", LOOK) == [
        ":level BG-2026-0042 I", ":level BG-2026-0042 II", ":level BG-2026-0042 III",
        ":level BG-2026-0042 IV"]
    assert complete(":nosuch x", LOOK) == []
    assert complete(":note BG-2026-0042 some", LOOK) == []
