"""The printable record: handover (交接班记录), duty log (值班日志) and bulletin (简报).

One ``Document`` — title, header lines, sections of text, a numbered entry table,
signature lines for 带班领导 and 值班员, and the event chain's head (last event id and
hash: a later edit of the log no longer matches a printed copy) — rendered as
Markdown, CSV (the entries), HTML (config/templates/record.html, string.Template)
or PDF (console/printing_pdf.py, the optional ``dutyroom[print]`` extra).

Every value from the data has been through console.textsafe before it gets here;
HTML also escapes it, Markdown escapes its table and heading syntax.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import html
import io
import os
import string
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .clock import to_local
from .context import Context
from .errors import DutyError
from .i18n import language, t
from .models import Event, Person, Shift
from .paths import config_dir
from .textsafe import csv_cell, one_line

ENTRY_COLUMNS = ("n", "at", "who", "ref", "action", "note")
FORMATS = ("md", "csv", "html", "pdf")


@dataclass
class Section:
    heading: str
    lines: list[str] = field(default_factory=list)  # a line starting "  " is a list entry


@dataclass
class Document:
    title: str
    header: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    entries: list[dict[str, Any]] | None = None  # the numbered log entries, if any
    signatures: bool = True
    chain: str = ""


# --------------------------------------------------------------------------- building


def chain_head() -> str:
    """The event chain's head: ``SELECT id, hash FROM event ORDER BY id DESC LIMIT 1``."""
    row = Event.select(Event.id, Event.hash).order_by(Event.id.desc()).limit(1).tuples().first()
    if row is None:
        return t("record.print.chain_empty")
    return t("record.print.chain", id=row[0], hash=one_line(row[1]))


def _fmt(ctx: Context, at: dt.datetime | None) -> str:
    return to_local(at, ctx.settings.tz).strftime("%Y-%m-%d %H:%M") if at else "—"


def _name(person: Any) -> str:
    return one_line(person.name) if person else "—"


def team_lines(start: dt.datetime, end: dt.datetime) -> list[str]:
    """The duty team of every shift that overlaps the period."""
    shifts = list(Shift.select().where((Shift.starts_at < end) & (Shift.ends_at > start))
                  .order_by(Shift.starts_at).limit(20))
    ids = {i for s in shifts for i in (s.leader_id, s.primary_id, s.secondary_id) if i}
    people = {p.id: p for p in Person.select().where(Person.id.in_(list(ids)))} if ids else {}
    if not shifts:
        return [t("record.print.no_team")]
    return [t("record.print.shift", ref=one_line(s.ref)) + " — " + t(
        "record.print.team", leader=_name(people.get(s.leader_id)),
        primary=_name(people.get(s.primary_id)), secondary=_name(people.get(s.secondary_id)))
        for s in shifts]


def handover_document(ctx: Context, shift_ref: str | None = None, actor: Any = None
                      ) -> Document:
    """The handover of the current shift, or of the shift ``shift_ref`` (at its end);
    ``actor``: who produces it (named, with their post, instead of the console)."""
    from . import shiftwork
    from .handover import _produced, handover_body, handover_since, items_lines, three_lines

    now = ctx.now()
    if shift_ref:
        shift = Shift.get_or_none(Shift.ref == shift_ref)
        if shift is None:
            raise DutyError(t("record.no_shift", ref=one_line(shift_ref)))
        now = min(now, shift.ends_at - dt.timedelta(seconds=1))
    team, since = handover_since(now)
    site = one_line(ctx.settings.site_name)
    doc = Document(t("record.print.handover_title", site=site))
    doc.header.append(t("record.print.period", since=_fmt(ctx, since), until=_fmt(ctx, now)))
    doc.header += team_lines(since, now) if team.shift else [t("record.print.no_team")]
    state = shiftwork.state(ctx, actor.login if actor else "", now)  # the three 清 (0010)
    doc.header.append(_produced(ctx, ctx.now(), actor, state) if actor else t(
        "record.print.generated", at=_fmt(ctx, ctx.now()), who=one_line(ctx.console)))
    doc.sections = _sections(three_lines(ctx, state) + items_lines(state)
                             + handover_body(ctx, now, since))
    doc.chain = chain_head()
    return doc


def _sections(lines: list[str]) -> list[Section]:
    """Lines as the handover writes them: a heading, then its "  " entries, blank between."""
    out: list[Section] = []
    for line in lines:
        if not line.strip():
            continue
        if line.startswith("  ") and out:
            out[-1].lines.append(line)
        else:
            out.append(Section(line))
    return out


def log_document(ctx: Context, *, date: str | None = None, since: str | None = None,
                 until: str | None = None, actor: Any = None) -> Document:
    """The duty log of a local day (``date``) or of ``since``…``until``; ``actor``: who
    prints it (named instead of the console, as on the handover)."""
    from .handover import log_entries, log_period

    if date:
        day = _parse_date(date)
        since, until = f"{day.isoformat()}T00:00:00", f"{day.isoformat()}T23:59:59.999999"
    start, end = log_period(ctx, since, until)
    doc = Document(t("record.print.log_title", site=one_line(ctx.settings.site_name)))
    doc.header.append(t("record.print.period", since=_fmt(ctx, start), until=_fmt(ctx, end)))
    doc.header += team_lines(start, end)
    doc.header.append(t("record.print.generated", at=_fmt(ctx, ctx.now()),
                        who=one_line(actor.name if actor else ctx.console)))
    doc.entries = list(log_entries(ctx, start, end))
    doc.chain = chain_head()
    return doc


def _parse_date(text: str) -> dt.date:
    from .figures_out import parse_day

    return parse_day(text, "date")


# --------------------------------------------------------------------------- rendering


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("#", "\\#")


def _heads() -> list[str]:
    names = {"n": "no", "at": "time"}
    return [t(f"record.print.col_{names.get(c, c)}") for c in ENTRY_COLUMNS]


def to_markdown(doc: Document) -> str:
    out = [f"# {_md_escape(doc.title)}", ""]
    if doc.header:
        out += [f"{_md_escape(line)}  " for line in doc.header] + [""]
    for sec in doc.sections:
        out += [f"## {_md_escape(sec.heading)}", ""]
        out += [f"- {_md_escape(line.strip())}" for line in sec.lines] + [""]
    if doc.entries is not None:
        out += [f"## {t('record.print.entries')}", ""]
        if doc.entries:
            out.append("| " + " | ".join(_heads()) + " |")
            out.append("|" + "---|" * len(ENTRY_COLUMNS))
            for e in doc.entries:
                out.append("| " + " | ".join(_md_escape(str(e[c])) for c in ENTRY_COLUMNS)
                           + " |")
        else:
            out.append(t("record.print.no_entries"))
        out.append("")
    if doc.signatures:
        out += [t("record.print.sign_leader"), "", t("record.print.sign_officer"), ""]
    if doc.chain:
        out.append(f"`{doc.chain}`")
    return "\n".join(out) + "\n"


def to_csv(doc: Document) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_heads())
    for e in doc.entries or []:
        w.writerow([csv_cell(str(e[c])) for c in ENTRY_COLUMNS])
    return buf.getvalue()


def _template() -> string.Template:
    path = config_dir() / "templates" / "record.html"
    return string.Template(path.read_text(encoding="utf-8"))


def to_html(doc: Document) -> str:
    e = html.escape
    parts: list[str] = []
    for sec in doc.sections:
        parts.append(f"<h2>{e(sec.heading)}</h2>")
        if sec.lines:
            parts.append("<ul>" + "".join(f"<li>{e(x.strip())}</li>" for x in sec.lines)
                         + "</ul>")
    if doc.entries is not None:
        parts.append(f"<h2>{e(t('record.print.entries'))}</h2>")
        if doc.entries:
            head = "".join(f"<th>{e(h)}</th>" for h in _heads())
            body = "".join("<tr>" + "".join(f"<td>{e(str(x[c]))}</td>" for c in ENTRY_COLUMNS)
                           + "</tr>" for x in doc.entries)
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        else:
            parts.append(f"<p>{e(t('record.print.no_entries'))}</p>")
    signatures = ""
    if doc.signatures:
        signatures = "".join(f'<p class="sign">{e(t(k))}</p>'
                             for k in ("record.print.sign_leader", "record.print.sign_officer"))
    return _template().substitute(
        lang=e(language()), title=e(doc.title),
        header="".join(f"<p>{e(line)}</p>" for line in doc.header),
        body="\n".join(parts), signatures=signatures, chain=e(doc.chain))


def render(doc: Document, fmt: str) -> str | bytes:
    if fmt == "md":
        return to_markdown(doc)
    if fmt == "csv":
        return to_csv(doc)
    if fmt == "html":
        return to_html(doc)
    if fmt == "pdf":
        from .printing_pdf import to_pdf

        return to_pdf(doc)
    raise AssertionError(fmt)


def write_atomic(path: str | Path, data: str | bytes) -> None:
    """Written beside ``path`` and renamed onto it: a failure leaves no partial file;
    a missing folder or a full disk is one line naming the file."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                   dir=path.parent if str(path.parent) else ".")
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise DutyError(t("error.cannot_write", file=one_line(path),
                          why=one_line(exc.strerror or exc))) from None


def output(doc: Document, fmt: str, out: str | None) -> str | None:
    """Write ``doc`` to ``out`` (or return its text for standard output; PDF needs a file)."""
    data = render(doc, fmt)
    if out:
        write_atomic(out, data)
        return None
    if isinstance(data, bytes):
        raise DutyError(t("record.pdf_needs_file"))
    return data
