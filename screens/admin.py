"""Administration: roster, departments, shifts and plans, edited by admins (M on the main screen).

Every save is one ``actions.upsert_*`` call in a thread worker; that call checks
the role again and writes a ``create``/``update`` event with before and after,
so configuration has the same audit trail as the items.  Lists are small (tens
to hundreds of rows) but are still read in workers.  The levels and measures
of a plan are shown read-only: they are edited by importing the plan's YAML.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    DataTable,
    Input,
    Label,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)
from textual.worker import get_current_worker

from console import actions, rules
from console.errors import DomainError
from console.i18n import label, t
from console.models import Department, Person, Plan, Shift
from console.settings import ROLES
from screens import fmt
from screens.dbwork import in_db
from screens.forms import (
    ConfirmScreen,
    Field,
    FormScreen,
    format_local_time,
    parse_local_time,
    save_in_worker,
)
from screens.keymap import localize_bindings
from screens.widgets.alerts import AlertBanner
from screens.widgets.footer import DutyFooter
from screens.widgets.header import DutyHeader

SECTIONS = ("people", "departments", "shifts", "plans")
LEVELS = ("I", "II", "III", "IV")
LOGIN_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
PHONE_RE = re.compile(r"^[0-9+()\- ]{3,40}$")


def open_admin(app) -> None:
    """M / the palette: admins get the screen, everyone else one clear line."""
    if not rules.role_allows(app.actor.role, "admin"):
        app.notify(t("ui.admin.only_admins", who=app.actor.name,
                     role=label("role", app.actor.role)), severity="error")
        return
    if app.is_readonly:
        app.notify(t("error.readonly", who=app.actor.name), severity="warning")
        return
    app.push_screen(AdminScreen())


# --------------------------------------------------------------------------- reads (threads)


@dataclass(frozen=True)
class Rows:
    """One section as the screen shows it: table rows and the records behind them."""

    section: str
    records: dict[str, dict] = field(default_factory=dict)  # row key → values
    roster: tuple[tuple[str, str], ...] = ()  # (login, name) of active people, for shifts


def read_section(section: str, now: dt.datetime) -> Rows:
    if section == "people":
        return Rows(section, {p.login: {"login": p.login, "name": p.name, "title": p.title,
                                        "phone": p.phone, "role": p.role, "active": p.active,
                                        "version": p.version}
                              for p in Person.select().order_by(Person.login).limit(5000)})
    if section == "departments":
        return Rows(section, {d.code: {"code": d.code, "name": d.name, "phone": d.phone,
                                       "active": d.active, "version": d.version}
                              for d in Department.select().order_by(Department.code).limit(5000)})
    if section == "shifts":
        people = {p.id: p for p in Person.select().limit(5000)}
        shifts = (Shift.select().where(Shift.ends_at > now).order_by(Shift.starts_at).limit(200))

        def login(pid: int | None) -> str:
            return people[pid].login if pid in people else ""

        records = {s.ref: {"ref": s.ref, "starts_at": s.starts_at, "ends_at": s.ends_at,
                           "leader": login(s.leader_id), "primary": login(s.primary_id),
                           "secondary": login(s.secondary_id),
                           "handed_over_at": s.handed_over_at, "version": s.version}
                   for s in shifts}
        roster = tuple((p.login, p.name) for p in sorted(people.values(), key=lambda p: p.login)
                       if p.active and p.role != "viewer")
        return Rows(section, records, roster)
    return Rows(section, {p.code: {"code": p.code, "title": p.title, "kind": p.kind,
                                   "category": p.category, "summary": p.summary,
                                   "contacts": list(p.contacts or []),
                                   "levels": dict(p.levels or {}), "version": p.version}
                          for p in Plan.select().order_by(Plan.kind, Plan.code).limit(2000)})


def _saved(kind: str, row: Any, ref: str) -> SimpleNamespace:
    """What FormScreen dismisses with (it reads KIND, id and ref)."""
    return SimpleNamespace(KIND=kind, id=row.id, ref=ref)


# --------------------------------------------------------------------------- forms


class AdminForm(FormScreen):
    """FormScreen with a locked key field (editing), future times allowed, and cross checks."""

    def __init__(self, title: str, fields: list[Field], submit: Callable[[dict], Any], *,
                 locked: tuple[str, ...] = (),
                 checks: Callable[[dict[str, Any]], dict[str, str]] | None = None,
                 subtitle: str = "") -> None:
        super().__init__(title, fields, submit, subtitle=subtitle)
        self.locked = locked
        self.checks = checks

    def _widget(self, f: Field):
        widget = super()._widget(f)
        if f.name in self.locked:
            widget.disabled = True
        return widget

    def on_mount(self) -> None:
        for f in self.fields:
            if f.name not in self.locked:
                self.query_one(f"#f-{f.name}").focus()
                return

    def validate(self) -> tuple[dict[str, Any], dict[str, str]]:
        values, errors = super().validate()
        app = self.app
        raw = self.raw_values()
        for f in self.fields:
            if f.kind != "when" or not raw[f.name]:
                continue
            try:
                values[f.name] = parse_local_time(raw[f.name], app.ctx.settings.tz, app.ctx.now())
            except ValueError:
                errors[f.name] = t("ui.form.bad_time")
        if self.checks is not None:
            for name, message in self.checks(values).items():
                errors.setdefault(name, message)
        return values, errors


def _pattern(values: dict, errors: dict, name: str, regex: re.Pattern, key: str) -> None:
    value = values.get(name)
    if value and not regex.match(value):
        errors[name] = t(key)


def person_form(app, rows: Rows, login: str | None) -> AdminForm:
    rec = rows.records.get(login) if login else None
    ctx, actor = app.ctx, app.actor
    roles = tuple((r, label("role", r)) for r in ROLES)
    fields = [
        Field("login", t("field.login"), required=True, default=rec["login"] if rec else ""),
        Field("name", t("field.name"), required=True, default=rec["name"] if rec else ""),
        Field("title", t("ui.admin.post"), default=rec["title"] if rec else ""),
        Field("phone", t("field.phone"), default=rec["phone"] if rec else ""),
        Field("role", t("field.role"), "select", True, rec["role"] if rec else "officer",
              choices=roles),
        Field("active", t("ui.admin.active"), "bool",
              default="1" if (rec is None or rec["active"]) else ""),
    ]

    def checks(v: dict) -> dict[str, str]:
        errors: dict[str, str] = {}
        _pattern(v, errors, "login", LOGIN_RE, "ui.admin.bad_login")
        _pattern(v, errors, "phone", PHONE_RE, "ui.admin.bad_phone")
        if rec is None and v.get("login") in rows.records:
            errors["login"] = t("ui.admin.exists", key=v["login"])
        return errors

    version = rec["version"] if rec else None

    def submit(v: dict) -> Any:
        p = actions.upsert_person(ctx, actor, login=v["login"], name=v["name"], role=v["role"],
                                  title=v["title"], phone=v["phone"], active=bool(v["active"]),
                                  expected_version=version or 0)
        return _saved("person", p, p.login)

    title = t("ui.admin.edit_person", login=login) if rec else t("ui.admin.new_person")
    return AdminForm(title, fields, submit, locked=("login",) if rec else (), checks=checks)


def department_form(app, rows: Rows, code: str | None) -> AdminForm:
    rec = rows.records.get(code) if code else None
    ctx, actor = app.ctx, app.actor
    fields = [
        Field("code", t("field.code"), required=True, default=rec["code"] if rec else ""),
        Field("name", t("field.name"), required=True, default=rec["name"] if rec else ""),
        Field("phone", t("field.phone"), default=rec["phone"] if rec else ""),
        Field("active", t("ui.admin.active"), "bool",
              default="1" if (rec is None or rec["active"]) else ""),
    ]

    def checks(v: dict) -> dict[str, str]:
        errors: dict[str, str] = {}
        _pattern(v, errors, "code", CODE_RE, "ui.admin.bad_code")
        _pattern(v, errors, "phone", PHONE_RE, "ui.admin.bad_phone")
        if rec is None and v.get("code") in rows.records:
            errors["code"] = t("ui.admin.exists", key=v["code"])
        if v.get("name") and any(r["name"] == v["name"] and r["code"] != v.get("code")
                                 for r in rows.records.values()):
            errors["name"] = t("ui.admin.name_taken", name=v["name"])
        return errors

    version = rec["version"] if rec else None

    def submit(v: dict) -> Any:
        d = actions.upsert_department(ctx, actor, code=v["code"], name=v["name"],
                                      phone=v["phone"], active=bool(v["active"]),
                                      expected_version=version or 0)
        return _saved("department", d, d.code)

    title = t("ui.admin.edit_department", code=code) if rec else t("ui.admin.new_department")
    return AdminForm(title, fields, submit, locked=("code",) if rec else (), checks=checks)


def shift_form(app, rows: Rows, ref: str | None, last_end: dt.datetime | None) -> AdminForm:
    rec = rows.records.get(ref) if ref else None
    ctx, actor = app.ctx, app.actor
    tz = ctx.settings.tz
    if rec:
        start, end = rec["starts_at"], rec["ends_at"]
    else:
        start = last_end or ctx.now().replace(minute=0, second=0, microsecond=0)
        end = start + dt.timedelta(hours=24)
    people = tuple((login, f"{name} ({login})") for login, name in rows.roster)
    fields = [
        Field("starts_at", t("ui.admin.starts_at"), "when", True, format_local_time(start, tz),
              placeholder=t("ui.form.time_placeholder")),
        Field("ends_at", t("ui.admin.ends_at"), "when", True, format_local_time(end, tz),
              placeholder=t("ui.form.time_placeholder")),
        Field("leader", t("field.leader"), "select", default=rec["leader"] if rec else "",
              choices=people),
        Field("primary", t("field.primary"), "select", default=rec["primary"] if rec else "",
              choices=people),
        Field("secondary", t("field.secondary"), "select",
              default=rec["secondary"] if rec else "", choices=people),
    ]

    def checks(v: dict) -> dict[str, str]:
        errors: dict[str, str] = {}
        s, e = v.get("starts_at"), v.get("ends_at")
        if isinstance(s, dt.datetime) and isinstance(e, dt.datetime):
            if e <= s:
                errors["ends_at"] = t("error.shift_order")
            if rec is None:
                new_ref = fmt.local(s, tz, "ZB-%Y%m%d-%H")
                if new_ref in rows.records:
                    errors["starts_at"] = t("ui.admin.exists", key=new_ref)
        chosen = [v.get(k) for k in ("leader", "primary", "secondary") if v.get(k)]
        if len(chosen) != len(set(chosen)):
            errors["secondary"] = t("ui.admin.same_person")
        return errors

    version = rec["version"] if rec else None

    def submit(v: dict) -> Any:
        # a new shift's reference follows its start hour: expected_version 0 makes sure
        # that never updates another shift by accident
        s = actions.upsert_shift(ctx, actor, starts_at=v["starts_at"], ends_at=v["ends_at"],
                                 leader=v["leader"] or None, primary=v["primary"] or None,
                                 secondary=v["secondary"] or None,
                                 ref=rec["ref"] if rec else None, expected_version=version or 0)
        return _saved("shift", s, s.ref)

    title = t("ui.admin.edit_shift", ref=ref) if rec else t("ui.admin.new_shift")
    return AdminForm(title, fields, submit, checks=checks)


# --------------------------------------------------------------------------- the plan form


@dataclass(frozen=True)
class PlanSaved:
    code: str


class PlanForm(ModalScreen[PlanSaved | None]):
    """A plan's title, summary and contacts; the levels are shown, edited by YAML import."""

    BINDINGS = [
        Binding("ctrl+s", "save", "ui.key.save", id="plan_form.save"),
        Binding("ctrl+n", "add_contact", "ui.admin.add_contact", id="plan_form.add"),
        Binding("escape", "cancel", "ui.key.cancel", id="plan_form.cancel"),
    ]

    DEFAULT_CSS = """
    PlanForm #f-summary { height: 5; width: 1fr; border: none; background: $panel; }
    PlanForm #contacts { height: auto; }
    PlanForm .contact-row { height: 1; }
    PlanForm .contact-row Input { width: 1fr; margin-right: 1; }
    PlanForm .contact-row Input.-name { width: 12; }
    PlanForm .contact-row Input.-phone { width: 16; }
    PlanForm #levels { color: $text-muted; padding-top: 1; }
    PlanForm .section { text-style: bold; padding-top: 1; }
    """

    def __init__(self, record: dict, submit: Callable[[dict], Any]) -> None:
        super().__init__()
        localize_bindings(self)
        self.record = record
        self.submit = submit
        self.saving = False
        self.n_rows = 0

    def compose(self) -> ComposeResult:
        rec = self.record
        with Vertical(classes="dialog form"):
            yield Label(t("ui.admin.edit_plan", code=rec["code"]), markup=False,
                        classes="dialog-title")
            yield Label(f"{label('plan_kind', rec['kind'])} · {label('category', rec['category'])}",
                        markup=False, classes="dialog-subtitle")
            with VerticalScroll(classes="form-body"):
                with Horizontal(classes="form-row"):
                    yield Label("*" + t("field.title"), classes="field-label")
                    yield Input(rec["title"], id="f-title")
                yield Label("", id="err-title", classes="error field-error")
                with Horizontal(classes="form-row"):
                    yield Label(" " + t("field.summary"), classes="field-label")
                    yield TextArea(rec["summary"], id="f-summary", soft_wrap=True)
                yield Label(t("ui.admin.contacts_head"), classes="section")
                with Vertical(id="contacts"):
                    for c in rec["contacts"] or [{}]:
                        yield from self._row(c)
                yield Static(self._levels_text(), id="levels")
            yield Label("", id="form-error", classes="error", markup=False)
            yield Label(t("ui.admin.plan_hint"), classes="hint")

    def _row(self, c: dict) -> tuple[Horizontal, Label]:
        """One contact: name, post, phone inputs, and its message line below."""
        i = self.n_rows
        self.n_rows += 1
        row = Horizontal(
            Input(str(c.get("name", "")), placeholder=t("field.name"), classes="-name",
                  id=f"c-name-{i}"),
            Input(str(c.get("post", "")), placeholder=t("ui.admin.post"), classes="-post",
                  id=f"c-post-{i}"),
            Input(str(c.get("phone", "")), placeholder=t("field.phone"), classes="-phone",
                  id=f"c-phone-{i}"),
            classes="contact-row", id=f"contact-{i}")
        return row, Label("", id=f"err-contact-{i}", classes="error field-error")

    def _levels_text(self) -> Text:
        text = Text(t("ui.admin.levels_head") + "\n", style="bold")
        levels = self.record["levels"] or {}
        for lv in LEVELS:
            spec = levels.get(lv)
            if spec:
                text.append(t("ui.admin.level_line", level=label("level_short", lv),
                              n=len(spec.get("measures", [])),
                              by=spec.get("declared_by", "—")) + "\n", style="")
        text.append(t("ui.admin.levels_note"), style="italic")
        return text

    def on_mount(self) -> None:
        self.query_one("#f-title").focus()

    def action_add_contact(self) -> None:
        i = self.n_rows
        self.query_one("#contacts", Vertical).mount(*self._row({}))
        self.call_after_refresh(lambda: self.query_one(f"#c-name-{i}").focus())

    def contacts(self) -> list[dict[str, str]]:
        out = []
        for i in range(self.n_rows):
            try:
                out.append({k: self.query_one(f"#c-{k}-{i}", Input).value.strip()
                            for k in ("name", "post", "phone")})
            except NoMatches:
                out.append({"name": "", "post": "", "phone": ""})
        return out

    def values(self) -> dict[str, Any]:
        return {"title": self.query_one("#f-title", Input).value.strip(),
                "summary": self.query_one("#f-summary", TextArea).text.strip(),
                "contacts": self.contacts()}

    @property
    def dirty(self) -> bool:
        v = self.values()
        original = [{k: str(c.get(k, "")) for k in ("name", "post", "phone")}
                    for c in self.record["contacts"]]
        kept = [c for c in v["contacts"] if any(c.values())]
        return (v["title"] != self.record["title"] or v["summary"] != self.record["summary"]
                .strip() or kept != original)

    @on(Input.Changed)
    def _edited(self, event: Input.Changed) -> None:
        wid = event.input.id or ""
        name = "title" if wid == "f-title" else "contact-" + wid.rsplit("-", 1)[-1]
        for beside in self.query(f"#err-{name}"):
            beside.set_class(False, "-shown")

    def validate(self) -> tuple[dict[str, Any], dict[str, str]]:
        v = self.values()
        errors: dict[str, str] = {}
        if not v["title"]:
            errors["title"] = t("error.required", field=t("field.title"))
        kept = []
        for i, c in enumerate(v["contacts"]):
            if not any(c.values()):
                continue  # an emptied row is removed
            if not c["name"]:
                errors[f"contact-{i}"] = t("error.required", field=t("field.name"))
            elif c["phone"] and not PHONE_RE.match(c["phone"]):
                errors[f"contact-{i}"] = t("ui.admin.bad_phone")
            kept.append((i, c))
        v["contacts"] = kept
        return v, errors

    async def action_save(self) -> None:
        if self.saving:
            return
        values, errors = self.validate()
        for beside in self.query(".field-error"):
            name = (beside.id or "").removeprefix("err-")
            beside.update(errors.get(name, ""))
            beside.set_class(name in errors, "-shown")
        status = self.query_one("#form-error", Label)
        if errors:
            status.update(t("ui.form.fix_errors", n=len(errors)))
            first = next(iter(errors))
            target = "#f-title" if first == "title" else f"#c-name-{first.split('-')[1]}"
            self.query_one(target).focus()
            return
        ok, _plan = await save_in_worker(self, status, self.submit, values)
        if ok:
            self.dismiss(PlanSaved(self.record["code"]))

    def action_cancel(self) -> None:
        if self.dirty:
            def answer(yes: bool | None) -> None:
                if yes:
                    self.dismiss(None)
            self.app.push_screen(ConfirmScreen(t("ui.form.discard")), answer)
        else:
            self.dismiss(None)


def plan_form(app, rows: Rows, code: str) -> PlanForm:
    rec = rows.records[code]
    ctx, actor = app.ctx, app.actor

    def submit(v: dict) -> Any:
        plan = Plan.get_or_none(Plan.code == code)
        if plan is None:
            raise DomainError(t("error.not_found", ref=code))
        old = list(plan.contacts or [])
        contacts = []
        for i, c in v["contacts"]:  # keep keys the form does not show (e.g. "note")
            extra = dict(old[i]) if i < len(old) and isinstance(old[i], dict) else {}
            extra.update({k: c[k] for k in ("name", "post", "phone")})
            contacts.append(extra)
        return actions.upsert_plan(
            ctx, actor, code=plan.code, title=v["title"], kind=plan.kind, category=plan.category,
            subtype=plan.subtype, owner=plan.owner, summary=v["summary"], levels=plan.levels,
            contacts=contacts, related=plan.related, shelters=plan.shelters,
            expected_version=rec["version"])

    return PlanForm(rec, submit)


# --------------------------------------------------------------------------- the screen

COLUMNS = {
    "people": (("login", "field.login"), ("name", "field.name"), ("title", "ui.admin.post"),
               ("phone", "field.phone"), ("role", "field.role"), ("active", "ui.admin.active")),
    "departments": (("code", "field.code"), ("name", "field.name"), ("phone", "field.phone"),
                    ("active", "ui.admin.active")),
    "shifts": (("ref", "field.ref"), ("starts_at", "ui.admin.starts_at"),
               ("ends_at", "ui.admin.ends_at"), ("leader", "field.leader"),
               ("primary", "field.primary"), ("secondary", "field.secondary"),
               ("handed_over_at", "ui.admin.handed_over")),
    "plans": (("code", "field.code"), ("title", "field.title"), ("kind", "field.kind"),
              ("contacts", "ui.admin.contacts_n")),
}


class AdminScreen(Screen):
    """Four tabs; Enter edits the row, n adds one, Esc goes back."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "ui.key.back", id="admin.back"),
        Binding("n", "add", "ui.admin.key_add", id="admin.add"),
        Binding("e", "edit", "ui.admin.key_edit", id="admin.edit"),
        Binding("ctrl+r", "reload", "ui.key.reload", id="admin.reload"),
        Binding("1", "show('people')", "ui.admin.tab_people", show=False, id="admin.tab1"),
        Binding("2", "show('departments')", "ui.admin.tab_departments", show=False,
                id="admin.tab2"),
        Binding("3", "show('shifts')", "ui.admin.tab_shifts", show=False, id="admin.tab3"),
        Binding("4", "show('plans')", "ui.admin.tab_plans", show=False, id="admin.tab4"),
    ]

    DEFAULT_CSS = """
    #admin-tabs { height: 1fr; }
    #admin-tabs TabPane { padding: 0; height: 1fr; }
    #admin-tabs DataTable { height: 1fr; }
    #admin-hint { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__(id="admin")
        localize_bindings(self)
        self.rows: dict[str, Rows] = {}

    def compose(self) -> ComposeResult:
        yield DutyHeader()
        yield AlertBanner()
        yield Static(t("ui.admin.hint"), id="admin-hint")
        with TabbedContent(initial="admin-people", id="admin-tabs"):
            for i, section in enumerate(SECTIONS, 1):
                with TabPane(f"{i} {t('ui.admin.tab_' + section)}", id=f"admin-{section}"):
                    yield DataTable(id=f"tbl-{section}", cursor_type="row", zebra_stripes=True)
        yield DutyFooter()

    def on_mount(self) -> None:
        for section in SECTIONS:
            table = self.query_one(f"#tbl-{section}", DataTable)
            for key, head in COLUMNS[section]:
                text = t(head)
                table.add_column(text[:1].upper() + text[1:], key=key)
            self.load(section)
        self.query_one("#tbl-people").focus()

    @property
    def section(self) -> str:
        return self.query_one("#admin-tabs", TabbedContent).active.removeprefix("admin-")

    @on(TabbedContent.TabActivated)
    def _tab(self) -> None:
        self.call_after_refresh(lambda: self.query_one(f"#tbl-{self.section}").focus())

    def action_show(self, section: str) -> None:
        self.query_one("#admin-tabs", TabbedContent).active = f"admin-{section}"

    def action_reload(self) -> None:
        for section in SECTIONS:
            self.load(section)

    # ------------------------------------------------------------------ data

    @work(thread=True, group="admin-load")
    def load(self, section: str, keep: str | None = None) -> None:
        app = self.app
        try:
            rows = in_db(read_section, section, app.ctx.now())
        except Exception as exc:  # noqa: BLE001 - busy or unreachable: say so, keep the screen
            app.call_from_thread(app.notify, t("ui.error.unexpected", error=str(exc)),
                                 severity="error")
            return
        if not get_current_worker().is_cancelled:
            app.call_from_thread(self._loaded, rows, keep)

    def _cell(self, section: str, key: str, value: Any) -> Any:
        tz = self.app.ctx.settings.tz
        if key == "active":
            return t("ui.yes") if value else Text(t("ui.no"), style="dim")
        if key == "role":
            return label("role", value)
        if key == "kind":
            return label("plan_kind", value)
        if key == "contacts":
            return str(len(value))
        if isinstance(value, dt.datetime):
            return fmt.local(value, tz, "%Y-%m-%d %H:%M")
        if key in ("leader", "primary", "secondary"):
            names = dict(self.rows[section].roster)
            return names.get(value, value) or "—"
        if value is None or value == "":
            return "—"
        return str(value)

    def _loaded(self, rows: Rows, keep: str | None) -> None:
        self.rows[rows.section] = rows
        table = self.query_one(f"#tbl-{rows.section}", DataTable)
        current = keep or self.selected_key(rows.section)
        table.clear()
        for key, rec in rows.records.items():
            table.add_row(*[self._cell(rows.section, c, rec.get(c))
                            for c, _h in COLUMNS[rows.section]], key=key)
        if current is not None and current in rows.records:
            table.move_cursor(row=table.get_row_index(current))

    def selected_key(self, section: str | None = None) -> str | None:
        table = self.query_one(f"#tbl-{section or self.section}", DataTable)
        if not table.row_count:
            return None
        try:
            key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        except Exception:  # noqa: BLE001 - no row under the cursor
            return None
        return key.value

    # ------------------------------------------------------------------ edit

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def action_edit(self) -> None:
        key = self.selected_key()
        if key is None:
            self.app.notify(t("ui.msg.no_selection"), severity="warning")
            return
        self.open_form(self.section, key)

    def action_add(self) -> None:
        if self.section == "plans":
            self.app.notify(t("ui.admin.plans_by_import"), severity="warning")
            return
        self.open_form(self.section, None)

    def open_form(self, section: str, key: str | None) -> None:
        app = self.app
        if not rules.role_allows(app.actor.role, "admin"):
            app.notify(t("ui.admin.only_admins", who=app.actor.name,
                         role=label("role", app.actor.role)), severity="error")
            return
        rows = self.rows.get(section)
        if rows is None:
            return  # still loading
        if section == "people":
            form = person_form(app, rows, key)
        elif section == "departments":
            form = department_form(app, rows, key)
        elif section == "shifts":
            if key is not None and rows.records[key]["handed_over_at"] is not None:
                app.notify(t("ui.admin.shift_closed", ref=key), severity="warning")
                return
            ends = [r["ends_at"] for r in rows.records.values()]
            form = shift_form(app, rows, key, max(ends) if ends else None)
        else:
            form = plan_form(app, rows, key)

        def done(result: Any) -> None:
            if result is None:
                return
            saved = getattr(result, "ref", None) or getattr(result, "code", None)
            app.notify(t("ui.admin.saved", key=saved))
            self.load(section, saved)
            if section == "shifts" and hasattr(app, "refresh_team"):
                app.refresh_team()

        app.push_screen(form, done)
