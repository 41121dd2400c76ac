"""Administration: roster, departments, shifts and plans, edited by admins (M on the main screen).

Every save is one ``actions.upsert_*`` call in a thread worker; that call checks
the role again and writes a ``create``/``update`` event with before and after,
so configuration has the same audit trail as the items.  Lists are small (tens
to hundreds of rows) but are still read in workers.  The levels and measures
of a plan are shown read-only: they are edited by importing the plan's YAML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import (
    DataTable,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.data_table import CellDoesNotExist
from textual.worker import get_current_worker

from console import actions, queries, rules
from console import fields as field_rules  # "fields" names each form's field list
from console.errors import DomainError
from console.i18n import label, t
from console.settings import ROLES
from console.textsafe import one_line
from console.views import AdminRows
from screens import fmt
from screens.admin_plan import plan_form
from screens.dbwork import in_db, report_failure
from screens.forms import (
    Field,
    FormScreen,
    format_local_time,
    parse_local_time,
)
from screens.keymap import DutyScreen
from screens.widgets.alerts import AlertBanner
from screens.widgets.footer import DutyFooter
from screens.widgets.header import DutyHeader

SECTIONS = ("people", "departments", "shifts", "plans")
LEVELS = ("I", "II", "III", "IV")


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


Rows = AdminRows  # one section as the screen shows it (console.queries.admin_section)
read_section = queries.admin_section


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


def _core_rule(values: dict, errors: dict, name: str, check: Callable[..., Any]) -> None:
    """The core's rule for the field (console.fields), shown beside it before saving;
    the roster action checks it again, so import and ``act`` get the same rule."""
    value = values.get(name)
    if not value:
        return
    try:
        check(value, name)
    except DomainError as exc:
        errors[name] = str(exc)


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
        Field("department", t("unitdesk.unit_department"),  # role unit only (issue 11)
              default=rec.get("department", "") if rec else ""),
        Field("active", t("ui.admin.active"), "bool",
              default="1" if (rec is None or rec["active"]) else ""),
    ]

    def checks(v: dict) -> dict[str, str]:
        errors: dict[str, str] = {}
        _core_rule(v, errors, "login", field_rules.login)
        _core_rule(v, errors, "phone", field_rules.phone)
        if rec is None and v.get("login") in rows.records:
            errors["login"] = t("ui.admin.exists", key=v["login"])
        return errors

    version = rec["version"] if rec else None

    def submit(v: dict) -> Any:
        p = actions.upsert_person(ctx, actor, login=v["login"], name=v["name"], role=v["role"],
                                  title=v["title"], phone=v["phone"], active=bool(v["active"]),
                                  department=v.get("department") or None,
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
        _core_rule(v, errors, "code", field_rules.code)
        _core_rule(v, errors, "phone", field_rules.phone)
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


class AdminScreen(DutyScreen):
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
            report_failure(app, exc, f"admin {section}")
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
            return Text(one_line(names.get(value, value) or "—"))
        if value is None or value == "":
            return "—"
        return Text(one_line(str(value)))  # the data's text: safe, and markup shown literally

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
        except (CellDoesNotExist, KeyError, IndexError):  # no row under the cursor
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
