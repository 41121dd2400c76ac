"""Modal screens: the intake forms, the one-key action prompt, confirmations.

Each returns a typed result (a dataclass, or None when cancelled).  Forms
validate every field with the message beside it, save through one action in a
thread worker, and stay open with the action's message if it refuses; Esc
with typed text asks before discarding.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Checkbox, Input, Label, OptionList, Select
from textual.widgets.option_list import Option, OptionDoesNotExist

from console import rules
from console.clock import to_local, to_utc_naive
from console.errors import DutyError
from console.i18n import t
from screens.dbwork import run_db
from screens.keymap import DutyModalScreen

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PromptResult:
    """What an action prompt collected: the chosen option (if any) and the text."""

    choice: str | None
    text: str


@dataclass(frozen=True)
class FormResult:
    """The item a form created."""

    kind: str
    id: int
    ref: str


# --------------------------------------------------------------------------- parsing

_TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%m-%d %H:%M", "%H:%M")


def parse_local_time(text: str, tz: dt.tzinfo, now: dt.datetime) -> dt.datetime:
    """Officer-typed local time → naive UTC.  "HH:MM" is today, "MM-DD HH:MM" this year."""
    value = re.sub(r"\s+", " ", text.strip().replace("/", "-").replace("：", ":"))
    today = to_local(now, tz)
    for pattern in _TIME_FORMATS:
        try:
            parsed = dt.datetime.strptime(value, pattern)
        except ValueError:
            continue
        if pattern == "%H:%M":
            parsed = dt.datetime.combine(today.date(), parsed.time())
        elif pattern == "%m-%d %H:%M":
            parsed = parsed.replace(year=today.year)
        return to_utc_naive(parsed, tz)
    raise ValueError(value)


def format_local_time(at: dt.datetime, tz: dt.tzinfo) -> str:
    return to_local(at, tz).strftime("%Y-%m-%d %H:%M")


# --------------------------------------------------------------------------- keys

# Tab as a *priority* binding: keys that arrive in one read (a paste, a slow SSH link
# bunching `AAA<Tab>BBB`) are dispatched one after another to the focused widget, and
# an ordinary binding only runs once its key has bubbled up from that widget — after
# the keys behind it were already handed to the same field.  A priority binding moves
# the focus before the next key is dispatched.
NEXT_FIELD = [
    Binding("tab", "app.focus_next", show=False, priority=True, id="form.next"),
    Binding("shift+tab", "app.focus_previous", show=False, priority=True, id="form.previous"),
]


# --------------------------------------------------------------------------- confirm


class ConfirmScreen(DutyModalScreen[bool]):
    """A yes/no question: y or Enter for yes, n or Esc for no."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "ui.key.yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "ui.key.no", id="confirm.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm"):
            yield Label(self.question, markup=False, classes="dialog-title")
            yield Label(t("ui.form.yes_no"), classes="hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


# --------------------------------------------------------------------------- prompt


class ActionPrompt(DutyModalScreen[PromptResult | None]):
    """One key opens it, Enter confirms: an optional choice list and a text line.

    ``text_required`` turns the text from an optional note into a required
    reason/text; ``filterable`` puts a filter line above long choice lists
    (departments), moved with ↑/↓ while typing.
    """

    BINDINGS = [
        *NEXT_FIELD,
        Binding("escape", "cancel", "ui.key.cancel", id="prompt.cancel"),
        Binding("up", "move(-1)", "ui.key.up", show=False, id="prompt.up"),
        Binding("down", "move(1)", "ui.key.down", show=False, id="prompt.down"),
    ]

    def __init__(self, title: str, subtitle: str = "", *,
                 choices: list[tuple[str, str]] | None = None, choice_default: str | None = None,
                 filterable: bool = False, text_label: str | None = None,
                 text_required: bool = False, numeric: bool = False,
                 text_default: str = "") -> None:
        super().__init__()
        self.title_text, self.subtitle = title, subtitle
        self.choices = choices
        self.choice_default = choice_default
        self.filterable = filterable
        self.text_label = text_label or t("ui.form.note_optional")
        self.text_required = text_required
        self.numeric = numeric
        self.text_default = text_default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog prompt"):
            yield Label(self.title_text, markup=False, classes="dialog-title")
            if self.subtitle:
                yield Label(self.subtitle, markup=False, classes="dialog-subtitle")
            if self.choices is not None:
                if self.filterable:
                    yield Input(placeholder=t("ui.form.filter"), id="filter")
                yield OptionList(*self._options(""), id="choices")
            yield Label(self.text_label, classes="field-label")
            # never type="integer": it drops letters without a word (confirm says so)
            yield Input(value=self.text_default, id="text")
            yield Label("", id="error", classes="error", markup=False)
            yield Label(t("ui.form.prompt_hint"), classes="hint")

    def _options(self, term: str) -> list[Option]:
        term = term.strip().lower()
        return [Option(Text(label), id=value) for value, label in self.choices or []
                if not term or term in label.lower() or term in value.lower()]

    def on_mount(self) -> None:
        if self.choices is not None:
            options = self.query_one("#choices", OptionList)
            if self.choice_default is not None:
                try:
                    options.highlighted = options.get_option_index(self.choice_default)
                except OptionDoesNotExist:  # an unknown default just highlights the first
                    options.highlighted = 0
            elif options.option_count:
                options.highlighted = 0
            if self.filterable:  # ↑/↓ move the list from the filter; Tab goes on to the note
                options.can_focus = False
            (self.query_one("#filter") if self.filterable else options).focus()
        else:
            self.query_one("#text").focus()

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        options = self.query_one("#choices", OptionList)
        options.clear_options()
        options.add_options(self._options(event.value))
        if options.option_count:
            options.highlighted = 0

    def action_move(self, delta: int) -> None:
        if self.choices is None:
            return
        options = self.query_one("#choices", OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + delta))

    @on(Input.Submitted)
    @on(OptionList.OptionSelected)
    def _submit(self, event: Any) -> None:
        event.stop()
        self.confirm()

    def confirm(self) -> None:
        error = self.query_one("#error", Label)
        choice = None
        if self.choices is not None:
            options = self.query_one("#choices", OptionList)
            if options.highlighted is None or not options.option_count:
                error.update(t("ui.form.choose"))
                return
            choice = options.get_option_at_index(options.highlighted).id
        text = self.query_one("#text", Input).value.strip()
        if self.text_required and not text:
            error.update(t("error.required", field=self.text_label))
            self.query_one("#text").focus()
            return
        if self.numeric and text and not text.lstrip("-").isdigit():
            error.update(t("ui.form.bad_number"))
            return
        self.dismiss(PromptResult(choice, text))

    def action_cancel(self) -> None:
        typed = self.query_one("#text", Input).value.strip()
        if typed and typed != self.text_default:
            def answer(yes: bool | None) -> None:
                if yes:
                    self.dismiss(None)
            self.app.push_screen(ConfirmScreen(t("ui.form.discard")), answer)
        else:
            self.dismiss(None)


# --------------------------------------------------------------------------- forms


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text / int / phone / time / select / bool
    required: bool = False
    default: str = ""
    # (value, label), or (value, label, parent) where the list follows ``depends_on``'s
    # value: a choice shows under its parent only ("" = under any)
    choices: tuple[tuple[str, ...], ...] = ()
    placeholder: str = ""
    depends_on: str = ""


def field_error(f: Field, raw: str) -> str:
    """The message beside a field whose text cannot be its kind ("" when it can)."""
    if not raw:
        return ""
    if f.kind == "int" and not raw.isdigit():
        return t("ui.form.bad_number")
    if f.kind == "phone" and not rules.is_phone(raw):
        return t("ui.form.bad_phone")
    return ""


def select_options(f: Field, parent: str) -> list[tuple[str, str]]:
    """(label, value) of a select, those under ``parent`` only when it depends on one."""
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for value, label, *under in f.choices:
        if f.depends_on and parent and under and under[0] not in ("", parent):
            continue
        if value not in seen:
            seen.add(value)
            out.append((label, value))
    return out


class Tick(Checkbox):
    """A check box whose unticked state is an empty box (Textual draws a dim X, which
    reads as ticked wherever the colours do not come through)."""

    @property
    def BUTTON_INNER(self) -> str:  # noqa: N802 - Textual's class attribute, per state
        return "X" if self.value else " "


async def save_in_worker(screen: Any, status: Label, submit: Callable[[dict[str, Any]], Any],
                         values: dict[str, Any]) -> tuple[bool, Any]:
    """Run a form's save in a thread worker; a refusal is said on the status line.

    Returns (saved, what submit returned).  ``screen.saving`` guards double submits.
    """
    status.update(t("ui.form.saving"))
    screen.saving = True
    try:
        return True, await run_db(screen, submit, values)
    except DutyError as exc:
        status.update(str(exc))
    except Exception as exc:  # noqa: BLE001 - never crash a form: say what failed
        status.update(t("ui.error.unexpected", error=str(exc) or type(exc).__name__))
    finally:
        screen.saving = False
    return False, None


class FormScreen(DutyModalScreen[FormResult | None]):
    """A modal form: fields with their messages beside them; Ctrl+S saves."""

    BINDINGS = [
        Binding("ctrl+s", "save", "ui.key.save", id="form.save"),
        Binding("escape", "cancel", "ui.key.cancel", id="form.cancel"),
        *NEXT_FIELD,
    ]

    def __init__(self, title: str, fields: list[Field],
                 submit: Callable[[dict[str, Any]], Any], *, subtitle: str = "",
                 watch: Callable[[dict[str, Any]], str] | None = None) -> None:
        super().__init__()
        self.title_text, self.subtitle = title, subtitle
        self.fields = fields
        self.submit = submit
        self.saving = False
        # a live note under the fields (repeat candidates, issue 11): ``watch`` runs in a
        # thread worker with the raw values, a moment after the typing stops
        self.watch, self._watch_timer = watch, None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form"):
            yield Label(self.title_text, markup=False, classes="dialog-title")
            if self.subtitle:
                yield Label(self.subtitle, markup=False, classes="dialog-subtitle")
            with VerticalScroll(classes="form-body"):
                for f in self.fields:
                    with Horizontal(classes="form-row"):
                        mark = "*" if f.required else " "
                        yield Label(f"{mark}{f.label}", classes="field-label")
                        yield self._widget(f)
                    yield Label("", id=f"err-{f.name}", classes="error field-error")
            if self.watch is not None:
                yield Label("", id="form-note", classes="hint", markup=False)
            yield Label("", id="form-error", classes="error", markup=False)
            yield Label(t("ui.form.form_hint"), classes="hint")

    def _field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def _widget(self, f: Field):
        wid = f"f-{f.name}"
        if f.kind == "select":
            parent = self._field(f.depends_on) if f.depends_on else None
            return Select(select_options(f, parent.default if parent else ""), id=wid,
                          value=f.default if f.default else Select.NULL,
                          allow_blank=not f.required or not f.default, prompt=f.placeholder or "—")
        if f.kind == "bool":
            return Tick(t("ui.yes"), value=f.default == "1", id=wid)
        # never type="integer": it drops letters without a word, and 0 was saved
        return Input(value=f.default, placeholder=f.placeholder, id=wid)

    @on(Input.Changed)
    @on(Select.Changed)
    def _edited(self, event: Any) -> None:
        """A field being corrected loses its message; a number or phone field says at once
        when its text cannot be one; a select's dependent lists follow it."""
        name = (event.control.id or "").removeprefix("f-")
        f = self._field(name)
        if f is None:
            return
        message = field_error(f, event.value.strip()) if isinstance(event, Input.Changed) else ""
        for beside in self.query(f"#err-{name}").results(Label):
            beside.update(message)
            beside.set_class(bool(message), "-shown")
        if isinstance(event, Select.Changed):
            self._follow(name, "" if event.value is Select.NULL else str(event.value))
        if self.watch is not None and self.is_mounted:
            if self._watch_timer is not None:
                self._watch_timer.stop()
            self._watch_timer = self.set_timer(0.3, self._run_watch)

    def _run_watch(self) -> None:
        self.run_worker(self._watched, exclusive=True, group="form-watch",
                        exit_on_error=False)

    async def _watched(self) -> None:
        raw = self.raw_values()
        try:
            note = await run_db(self, self.watch, raw)
        except DutyError as exc:
            note = str(exc)
        self.query_one("#form-note", Label).update(note)

    def _follow(self, parent: str, value: str) -> None:
        """Refill the selects that depend on ``parent``, keeping a choice still offered."""
        for f in self.fields:
            if f.depends_on != parent:
                continue
            select = self.query_one(f"#f-{f.name}", Select)
            kept = select.value
            options = select_options(f, value)
            select.set_options(options)
            if kept is not Select.NULL and any(v == kept for _label, v in options):
                select.value = kept

    def on_mount(self) -> None:
        first = self.fields[0]
        self.query_one(f"#f-{first.name}").focus()

    def raw_values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields:
            widget = self.query_one(f"#f-{f.name}")
            if isinstance(widget, Select):
                out[f.name] = "" if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, Checkbox):
                out[f.name] = "1" if widget.value else ""
            else:
                out[f.name] = widget.value.strip()
        return out

    @property
    def dirty(self) -> bool:
        raw = self.raw_values()
        return any(raw[f.name] != f.default for f in self.fields)

    def validate(self) -> tuple[dict[str, Any], dict[str, str]]:
        """Parsed values and the message for each bad field."""
        app = self.app
        tz, now = app.ctx.settings.tz, app.ctx.now()
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for f in self.fields:
            raw = self.raw_values()[f.name]
            if not raw:
                if f.required:
                    errors[f.name] = t("error.required", field=f.label)
                values[f.name] = None if f.kind in ("int", "time") else ""
                continue
            if f.kind in ("int", "phone") and field_error(f, raw):
                errors[f.name] = field_error(f, raw)
            elif f.kind == "int":
                values[f.name] = int(raw)
            elif f.kind == "time":
                try:
                    values[f.name] = parse_local_time(raw, tz, now)
                except ValueError:
                    errors[f.name] = t("ui.form.bad_time")
                    continue
                if values[f.name] > now + dt.timedelta(minutes=5):
                    errors[f.name] = t("error.future", field=f.label)
            elif f.kind == "bool":
                values[f.name] = raw == "1"
            else:
                values[f.name] = raw
        return values, errors

    async def action_save(self) -> None:
        if self.saving:
            return
        values, errors = self.validate()
        for f in self.fields:
            message = errors.get(f.name, "")
            beside = self.query_one(f"#err-{f.name}", Label)
            beside.update(message)
            beside.set_class(bool(message), "-shown")
        status = self.query_one("#form-error", Label)
        if errors:
            status.update(t("ui.form.fix_errors", n=len(errors)))
            self.query_one(f"#f-{next(iter(errors))}").focus()
            return
        ok, item = await save_in_worker(self, status, self.submit, values)
        if ok:
            self.dismiss(FormResult(item.KIND, item.id, item.ref))

    def action_cancel(self) -> None:
        if self.dirty:
            def answer(yes: bool | None) -> None:
                if yes:
                    self.dismiss(None)
            self.app.push_screen(ConfirmScreen(t("ui.form.discard")), answer)
        else:
            self.dismiss(None)
