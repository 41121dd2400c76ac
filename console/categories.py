"""The 12345 category tree (config/categories.yaml): three levels with codes (issue 11).

``lookup(value)`` takes a code or a name (intake, import, the form's filter) and
returns the class; an order stores the class's name, so the queue, the detail and
the figures show it as they always did, and ``group(name, level)`` maps it to its
middle or top class for the figures.  Names are unique among the leaves; a name
shared by a leaf and a higher class means the leaf.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import DomainError
from .i18n import t
from .paths import config_dir

LEVELS = {2: 1, 4: 2, 6: 3}  # code length → level


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    level: int  # 1 top, 2 middle, 3 leaf
    parent: str  # the parent's code ("" at the top)

    @property
    def path(self) -> str:
        return " / ".join(c.name for c in ancestry(self.code))


class Tree:
    def __init__(self, entries: list[Category]) -> None:
        self.by_code = {c.code: c for c in entries}
        self.by_name: dict[str, Category] = {}
        for c in sorted(entries, key=lambda c: c.level):  # deeper classes win a shared name
            self.by_name[c.name] = c

    def leaves(self) -> list[Category]:
        return [c for c in self.by_code.values() if c.level == 3]


def _bad(path: Path, where: str, problem: str) -> DomainError:
    return DomainError(f"{path.name}: {where}: {problem}")


def _walk(path: Path, node: object, parent: str, out: list[Category], where: str) -> None:
    if not isinstance(node, list):
        raise _bad(path, where, "expected a list of classes")
    for i, entry in enumerate(node):
        here = f"{where}[{i}]"
        if not isinstance(entry, dict) or not {"code", "name"} <= set(entry):
            raise _bad(path, here, "expected a mapping with code and name")
        code, name = str(entry["code"]), str(entry["name"]).strip()
        level = LEVELS.get(len(code))
        if not code.isdigit() or level is None or not code.startswith(parent) \
                or level != (LEVELS[len(parent)] + 1 if parent else 1):
            raise _bad(path, here, f"code {code!r} must be {len(parent) + 2} digits "
                       f"starting with {parent or 'nothing'}")
        if not name:
            raise _bad(path, here, "empty name")
        out.append(Category(code, name, level, parent))
        if level < 3:
            _walk(path, entry.get("children") or [], code, out, f"{here}.children")


def load(path: Path | None = None) -> Tree:
    """Read and check the tree: codes by level and parent, unique codes and leaf names."""
    path = path or config_dir() / "categories.yaml"
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    out: list[Category] = []
    _walk(path, data.get("categories") if isinstance(data, dict) else None, "", out,
          "categories")
    seen_codes: set[str] = set()
    seen_leaves: set[str] = set()
    for c in out:
        if c.code in seen_codes:
            raise _bad(path, c.code, "code given twice")
        if c.level == 3 and c.name in seen_leaves:
            raise _bad(path, c.code, f"leaf name {c.name!r} given twice")
        seen_codes.add(c.code)
        seen_leaves.update([c.name] if c.level == 3 else [])
    return Tree(out)


@lru_cache(maxsize=1)
def tree() -> Tree:
    return load()


def ancestry(code: str) -> list[Category]:
    by_code = tree().by_code
    return [by_code[code[:n]] for n in (2, 4, 6) if len(code) >= n and code[:n] in by_code]


def find(value: str) -> Category | None:
    """The class a code or a name names (None when it names none)."""
    text = str(value or "").strip()
    t_ = tree()
    return t_.by_code.get(text) or t_.by_name.get(text)


def lookup(value: str) -> Category:
    """A code or a name → its class; an unknown one is one line naming the value."""
    found = find(value)
    if found is None:
        raise DomainError(t("merge.category.unknown", value=str(value).strip()))
    return found


def matching(text: str, limit: int = 20) -> list[Category]:
    """The form's completion: classes whose code starts with, or name contains, ``text``
    (leaves first)."""
    probe = text.strip()
    hits = [c for c in tree().by_code.values()
            if c.code.startswith(probe) or (probe and probe in c.name)]
    return sorted(hits, key=lambda c: (-c.level, c.code))[:limit]


def names_under(code: str) -> list[str]:
    """The queue filter: the names an order under the class ``code`` may carry (the
    class's own and every class below it; an order stores one class's name)."""
    return sorted({c.name for c in tree().by_code.values() if c.code.startswith(code)})


def upper_classes() -> list[Category]:
    """The top and middle classes, in code order (what a queue filters by)."""
    return sorted((c for c in tree().by_code.values() if c.level < 3), key=lambda c: c.code)


def group(name: str, level: int = 1) -> str:
    """The figures: the name of an order's class at ``level`` (1 top, 2 middle, 3 itself);
    a name not in the tree (older data) is its own group."""
    found = find(name)
    if found is None:
        return name
    chain = ancestry(found.code)
    return chain[min(level, len(chain)) - 1].name
