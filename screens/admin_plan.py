"""The plan form of the admin screen: a plan's title, summary and contacts.

The levels and measures of a plan are shown read-only: they are edited by
importing the plan's YAML.  Saving is one ``actions.upsert_plan`` in a worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import (
    Input,
    Label,
    Static,
    TextArea,
)

from console import actions, fields, queries
from console.errors import DomainError
from console.i18n import label, t
from console.views import AdminRows
from console.vocab import LEVELS
from screens.forms import (
    ConfirmScreen,
    save_in_worker,
)
from screens.keymap import DutyModalScreen

Rows = AdminRows
DECLARED_LEVELS = tuple(lv for lv in LEVELS if lv != "unknown")  # a plan's response levels


def phone_problem(value: str) -> str | None:
    """The core's phone rule (console.fields), as the line shown beside the field."""
    try:
        fields.phone(value)
    except DomainError as exc:
        return str(exc)
    return None


# --------------------------------------------------------------------------- the plan form


@dataclass(frozen=True)
class PlanSaved:
    code: str


class PlanForm(DutyModalScreen[PlanSaved | None]):
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
        for lv in DECLARED_LEVELS:
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
            elif (bad := phone_problem(c["phone"])) is not None:
                errors[f"contact-{i}"] = bad
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
        plan = queries.plan_record(code)
        if plan is None:
            raise DomainError(t("error.not_found", ref=code))
        old = list(plan["contacts"] or [])
        contacts = []
        for i, c in v["contacts"]:  # keep keys the form does not show (e.g. "note")
            extra = dict(old[i]) if i < len(old) and isinstance(old[i], dict) else {}
            extra.update({k: c[k] for k in ("name", "post", "phone")})
            contacts.append(extra)
        return actions.upsert_plan(
            ctx, actor, code=code, title=v["title"], kind=plan["kind"], category=plan["category"],
            subtype=plan["subtype"], owner=plan["owner"], summary=v["summary"],
            levels=plan["levels"], contacts=contacts, related=plan["related"],
            shelters=plan["shelters"],
            expected_version=rec["version"])

    return PlanForm(rec, submit)
