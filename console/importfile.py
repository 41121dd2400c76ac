"""Reading an import file: JSON Lines, a YAML list or CSV → (line, raw mapping) pairs.

A file from outside is hostile until checked.  Whatever it holds, reading ends in
bounded time and memory with the raw records or one ``FILE:LINE: reason`` line:
the file size, a value's size, the nesting and the numbers are capped, YAML is plain
data (no anchors, aliases or tags), CSV quotes must close and rows may not carry
more cells than the header.  console.intake validates the fields; the limits are
documented in docs/formats.md ("Limits").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import yaml

from .errors import ImportRejected
from .i18n import t
from .textsafe import one_line

# Bounds on what an import file may hold, so a hostile file costs bounded time and
# memory and gets one line (docs/formats.md, "Limits").
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_FIELD = 128 * 1024  # characters in one value (the csv module's own limit)
MAX_DEPTH = 16  # nesting of lists and mappings inside one record
MAX_INT = 2**63 - 1  # what the database stores
YEARS = (2000, 2100)  # any date outside these years is refused


class _Bad(Exception):
    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason


# --------------------------------------------------------------------------- reading


def detect_format(path: Path, fmt: str | None = None) -> str:
    if fmt:
        return fmt
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".csv":
        return "csv"
    raise ImportRejected(f"{path.name}: " + t("import.unknown_format"))


def read_raw(path: Path, fmt: str | None = None) -> Iterator[tuple[int, dict]]:
    """(line number, raw record) pairs, read as a stream (memory flat in the file's
    size); a malformed line rejects the file."""
    name = path.name
    fmt = detect_format(path, fmt)
    readers = {"jsonl": _read_jsonl, "yaml": _read_yaml, "csv": _read_csv}
    if fmt not in readers:
        raise ImportRejected(f"{name}: " + t("import.unknown_format"))
    with _open_text(path, newline="" if fmt == "csv" else "\n") as fh:
        try:
            yield from readers[fmt](name, fh)
        except UnicodeDecodeError:
            raise ImportRejected(f"{name}: " + t("import.not_utf8")) from None


def _open_text(path: Path, newline: str) -> io.TextIOWrapper:
    """The file as UTF-8 text (a BOM dropped), refused when over MAX_FILE_BYTES."""
    name = path.name
    try:
        fh = open(path, "rb")  # noqa: SIM115 - handed to the caller's with
    except OSError as exc:
        raise ImportRejected(f"{name}: " + t("import.cannot_read", why=exc.strerror or exc)) from None
    try:
        size = os.fstat(fh.fileno()).st_size
    except OSError:
        size = 0
    if size > MAX_FILE_BYTES:
        fh.close()
        raise ImportRejected(f"{name}: " + t("import.file_too_big", mb=MAX_FILE_BYTES >> 20))
    return io.TextIOWrapper(io.BufferedReader(_Capped(fh, name), 1 << 16), encoding="utf-8-sig",
                            newline=newline)


class _Capped(io.RawIOBase):
    """A byte stream that refuses to go past MAX_FILE_BYTES (a pipe or a file that
    grows while it is read has no size to check up front)."""

    def __init__(self, fh: Any, name: str) -> None:
        self.fh, self.name_, self.read_so_far = fh, name, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.fh.readinto(buffer)
        self.read_so_far += n or 0
        if self.read_so_far > MAX_FILE_BYTES:
            raise ImportRejected(f"{self.name_}: "
                                 + t("import.file_too_big", mb=MAX_FILE_BYTES >> 20))
        return n

    def close(self) -> None:
        self.fh.close()
        super().close()


def _no_constant(name: str) -> Any:
    raise ValueError(t("import.not_number", got=name))  # NaN, Infinity: not JSON numbers


def _json_loads(text: str) -> Any:
    """json.loads with NaN/Infinity refused and every failure a ValueError."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError(t("import.too_deep", max=MAX_DEPTH)) from None
    except json.JSONDecodeError as exc:
        raise ValueError(exc.msg) from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # a 5,000-digit integer
            raise ValueError(t("import.too_large")) from None
        raise


def _read_jsonl(name: str, fh: TextIO) -> Iterator[tuple[int, dict]]:
    # "\n" only (the file is opened with newline="\n"): splitlines() also splits at
    # U+2028, U+0085 …, which JSON strings (and dutyroom export) carry unescaped
    for number, line in enumerate(fh, 1):
        if not line.strip():
            continue
        try:
            value = _json_loads(line)  # ValueError also for a 5,000-digit integer
        except ValueError as exc:
            raise ImportRejected(f"{name}:{number}: " + t("import.bad_json", why=exc)) from None
        if not isinstance(value, dict):
            raise ImportRejected(f"{name}:{number}: " + t("import.json_object"))
        yield number, value


def _read_csv(name: str, fh: TextIO) -> Iterator[tuple[int, dict]]:
    # strict: an unterminated quote is an error, not a field running to the end of the file
    reader = csv.DictReader(fh, strict=True)
    start = 1  # where the row being read starts (an open quote runs to the end)
    try:
        header = reader.fieldnames
        if not header or "kind" not in header:
            raise ImportRejected(f"{name}:1: " + t("import.csv_kind"))
        while True:
            start = reader.reader.line_num + 1
            row = next(reader, None)
            if row is None:
                return
            if None in row:  # more cells than the header names: never drop them silently
                raise ImportRejected(f"{name}:{reader.line_num}: "
                                     + t("import.csv_extra", n=len(header)))
            record = {k: _uncell(v) for k, v in row.items() if v is not None and v != ""}
            extra = record.pop("extra", None)  # dutyroom export's nested fields, as JSON
            if extra:
                try:
                    value = _json_loads(extra)
                except ValueError:
                    value = None
                if not isinstance(value, dict):
                    raise ImportRejected(f"{name}:{reader.line_num}: extra: " + t("import.json"))
                record.update(value)
            yield reader.line_num, record
    except csv.Error as exc:  # a field over MAX_FIELD, a quote left open, …
        raise ImportRejected(f"{name}:{start}: " + t("import.bad_csv", why=_csv_why(exc))) \
            from None


def _csv_why(exc: csv.Error) -> str:
    """The csv module's reason in the officer's language where it is one we expect."""
    text = str(exc)
    if text.startswith("field larger than field limit"):
        return t("import.too_long", max=MAX_FIELD)
    if text.startswith(("unexpected end of data", "newline inside string")):
        return t("import.csv_quote")
    return text


def _uncell(value: str) -> str:
    """Undo dutyroom export's formula guard (textsafe.csv_cell): ``'=1+1`` was ``=1+1``."""
    if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return value[1:]
    return value


class _Refused(yaml.YAMLError):
    def __init__(self, mark: Any, problem: str) -> None:
        self.problem_mark, self.problem = mark, problem


class _ImportLoader(yaml.SafeLoader):
    """SafeLoader for imports: no anchors or aliases (an alias bomb expands without
    bound), nesting capped before the recursive composer can overflow, and scalars
    that look like dates or numbers but are not valid stay text for the validator."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused(event.start_mark, t("import.yaml_alias"))
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            if self._depth > MAX_DEPTH:
                raise _Refused(event.start_mark, t("import.too_deep", max=MAX_DEPTH))
            self._depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        return super().compose_node(parent, index)


def _lenient(constructor: Callable) -> Callable:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        try:
            return constructor(loader, node)
        except ValueError:  # 2026-13-01, a 5,000-digit integer
            return loader.construct_scalar(node)
    return construct


_ImportLoader.add_constructor("tag:yaml.org,2002:timestamp",
                              _lenient(yaml.SafeLoader.construct_yaml_timestamp))
_ImportLoader.add_constructor("tag:yaml.org,2002:int", _lenient(yaml.SafeLoader.construct_yaml_int))


def _read_yaml(name: str, fh: TextIO) -> Iterator[tuple[int, dict]]:
    """The list's items one at a time: each is composed and constructed alone, so a
    large file never becomes one tree in memory."""
    loader = None
    try:
        loader = _ImportLoader(fh)  # a NUL or other unprintable character: ReaderError
        yield from _yaml_items(name, loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        why = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        tag = re.search(r"for the tag '([^']*)'", why) if isinstance(
            exc, yaml.constructor.ConstructorError) else None
        if tag:  # !!python/object and the like: plain data only
            why = t("import.yaml_tag", tag=tag.group(1).replace("tag:yaml.org,2002:", "!!"))
        raise ImportRejected(f"{name}{where}: " + t("import.bad_yaml", why=why)) from None
    finally:
        if loader is not None:
            loader.dispose()


def _yaml_items(name: str, loader: _ImportLoader) -> Iterator[tuple[int, dict]]:
    loader.get_event()  # StreamStart
    if loader.check_event(yaml.StreamEndEvent):
        return  # an empty file
    loader.get_event()  # DocumentStart
    if not loader.check_event(yaml.SequenceStartEvent):
        event = loader.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused(event.start_mark, t("import.yaml_alias"))
        raise ImportRejected(f"{name}:1: " + t("import.yaml_list"))
    event = loader.get_event()
    if event.anchor:
        raise _Refused(event.start_mark, t("import.yaml_alias"))
    loader._depth = 1  # the list itself is one level, as when composed whole
    index = 0
    while not loader.check_event(yaml.SequenceEndEvent):
        node = loader.compose_node(None, index)
        index += 1
        value = loader.construct_document(node)  # !!python/object: a ConstructorError
        line = node.start_mark.line + 1
        if not isinstance(value, dict):
            raise ImportRejected(f"{name}:{line}: " + t("import.mapping"))
        yield line, value
    loader.get_event()  # SequenceEnd
    loader.get_event()  # DocumentEnd
    if not loader.check_event(yaml.StreamEndEvent):
        event = loader.get_event()
        raise yaml.composer.ComposerError("expected a single document in the stream", None,
                                          "but found another document", event.start_mark)


def _shown(value: Any) -> str:
    """A value quoted in an error line: one line, safe for a terminal, not too long."""
    text = one_line(repr(value) if not isinstance(value, int) or abs(value) < 10**30 else "…")
    return text if len(text) <= 60 else text[:57] + "…"


_SCALARS = (str, bool, int, float, dt.date, type(None))


def _flat_ok(value: Any) -> bool:
    """A flat record of short text and small numbers (the common case): nothing to walk."""
    if type(value) is not dict:
        return False
    for k, v in value.items():
        t_ = type(v)
        if type(k) is not str:
            return False
        if t_ is str:
            if len(v) > MAX_FIELD:
                return False
        elif t_ is int:
            if not -MAX_INT <= v <= MAX_INT:
                return False
        elif t_ in (list, dict):
            if v:
                return False
        elif v is not None and t_ is not bool:
            return False
    return True


def _check_shape(value: Any, where: str) -> None:
    """Bounded nesting, field size and numbers, plain data only (no YAML sets, bytes …)."""
    if _flat_ok(value):
        return
    stack = [(value, where, 0)]
    while stack:
        v, path, depth = stack.pop()
        if isinstance(v, str):
            if len(v) > MAX_FIELD:
                raise _Bad(path, t("import.too_long", max=MAX_FIELD))
        elif isinstance(v, bool) or v is None or isinstance(v, dt.date):
            continue
        elif isinstance(v, int):
            if abs(v) > MAX_INT:
                raise _Bad(path, t("import.too_large"))
        elif isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                raise _Bad(path, t("import.not_number", got=_shown(v)))
        elif isinstance(v, (list, dict)):
            if depth >= MAX_DEPTH:
                raise _Bad(path, t("import.too_deep", max=MAX_DEPTH))
            if isinstance(v, list):
                stack.extend((x, f"{path}[{i}]", depth + 1) for i, x in enumerate(v))
                continue
            for k, x in v.items():
                if not isinstance(k, str):
                    raise _Bad(path, t("import.key_text", got=_shown(k)))
                stack.append((x, f"{path}.{k}" if path else k, depth + 1))
        else:
            raise _Bad(path, t("import.text", got=type(v).__name__))
