"""The detail's merge section (issue 11): merged callers, related items, repeat candidates."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from console.i18n import label, t
from console.merge_queries import MergeBlock


def merge_section(block: MergeBlock | None, kind: str) -> list[RenderableType]:
    """Nothing when the item has no link; else a titled block (data already one_line'd)."""
    if block is None or not (block.links or block.callers):
        return []
    lines: list[RenderableType] = []
    for r in block.links:
        line = Text(f"{t('merge.relation.' + r.relation)}  ", no_wrap=True, overflow="ellipsis",
                    style="bold" if r.relation in ("repeat_of", "merged_into") else "")
        line.append(f"{r.ref}  {label(f'status.{kind}', r.status)}  ")
        line.append(" ".join(x for x in (r.caller, r.phone, r.summary) if x))
        lines.append(line)
    relations = {r.relation for r in block.links}
    if "repeat_of" in relations and "merged_into" not in relations:
        lines.append(Text(t("merge.section.hint"), style="dim"))
    if block.callers:
        lines.append(Text(t("merge.section.callers"), style="bold"))
        lines += [Text(f"  {c or '-'}  {p}  ({ref})") for ref, c, p in block.callers]
    return [Group(Text(""), Text(f"── {t('merge.section.title')} ", style="bold"), *lines)]


def with_merge(sections: list[RenderableType], block: MergeBlock | None,
               kind: str) -> list[RenderableType]:
    """The detail's sections with the merge block before the timeline (the last one)."""
    return [*sections[:-1], *merge_section(block, kind), *sections[-1:]]
