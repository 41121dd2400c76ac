"""Item actions as flows: key → (prompt) → one console.actions call → message → refresh.

Shared by the queue screen and the detail screen (a mixin on each).  The
pre-checks (read-only, role, legal from this status) only save the officer a
pointless prompt; console/actions.py enforces all of them again under the
write lock.  Every call passes the version the screen showed, so someone
else's change in between is reported ("… was escalated by 李明 at 02:14 —
refreshed") instead of being overwritten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.screen import Screen
from textual.worker import WorkerCancelled

from console import actions, queries, rules
from console.errors import DutyError
from console.i18n import label, t
from console.models import Item
from console.queries import QueueRow
from console.settings import LEVELS
from screens.dbwork import run_db
from screens.forms import ActionPrompt, Field, FormScreen, PromptResult, format_local_time
from screens.keymap import BY_VERB


@dataclass(frozen=True)
class Target:
    """The item an action applies to, as the screen showed it."""

    kind: str
    id: int
    ref: str
    version: int
    status: str
    title: str = ""
    severity: str = ""

    @classmethod
    def from_row(cls, row: QueueRow) -> Target:
        return cls(row.kind, row.id, row.ref, row.version, row.status, row.title or "",
                   row.severity)

    @classmethod
    def from_item(cls, item: Item) -> Target:
        severity = {"report": "level", "work_order": "urgency", "supervision": "klass"}[item.KIND]
        title = getattr(item, "title", "") or (getattr(item, "content", "") or "")[:60]
        return cls(item.KIND, item.id, item.ref, item.version, item.status, title,
                   getattr(item, severity))


class ItemActions:
    """Mixin for a Screen that has a current item (``current_target``)."""

    def current_target(self) -> Target | None:  # pragma: no cover - each screen overrides
        raise NotImplementedError

    # ------------------------------------------------------------------ entry points

    def action_item(self, verb: str) -> None:
        self.start_flow(verb, self.current_target())

    def start_flow(self, verb: str, target: Target | None, arg: str | None = None) -> None:
        assert isinstance(self, Screen)
        self.run_worker(self.flow(verb, target, arg), group="flow", exit_on_error=False)

    # ------------------------------------------------------------------ the flow

    async def flow(self, verb: str, target: Target | None, arg: str | None = None) -> None:
        app = self.app  # type: ignore[attr-defined]
        if target is None:
            app.notify(t("ui.msg.no_selection"), severity="warning")
            return
        spec = BY_VERB[verb]
        if app.is_readonly or app.actor.role == "viewer":
            app.notify(t("error.readonly", who=app.actor.name), severity="warning")
            return
        if target.kind not in spec.kinds:
            app.notify(t("ui.msg.not_for_kind", action=t(f"ui.verb.{verb}"),
                         kind=label("kind", target.kind)), severity="warning")
            return
        if spec.rule in rules.LEGAL_FROM and not rules.is_legal(spec.rule, target.kind,
                                                               target.status):
            app.notify(t("error.illegal", ref=target.ref, action=label("action", spec.rule),
                         status=label(f"status.{target.kind}", target.status)),
                       severity="error")
            return
        if not rules.role_allows(app.actor.role, spec.rule):
            app.notify(t("error.role", who=app.actor.name, role=label("role", app.actor.role),
                         action=label("action", spec.rule)), severity="error")
            return
        try:
            call = await self.ask(verb, target, arg)
        except WorkerCancelled:
            return
        except DutyError as exc:
            app.notify(str(exc), markup=False, severity="error")
            return
        if call is None:
            return  # cancelled at the prompt
        await self.commit(call, target, verb)

    async def commit(self, call: Callable[[], Any], target: Target, verb: str) -> Any:
        """Run the one action in a thread worker; say what happened; refresh."""
        app = self.app  # type: ignore[attr-defined]
        try:
            result = await run_db(self, call)  # type: ignore[arg-type]
        except DutyError as exc:
            app.notify(str(exc), markup=False, severity="error", timeout=8)
            app.data_changed(target.kind, target.id)
            return None
        except Exception as exc:  # noqa: BLE001 - the officer gets a line, not a traceback
            app.notify(t("ui.error.unexpected", error=str(exc) or type(exc).__name__),
                       severity="error", timeout=8)
            return None
        if verb in ("supervise",) and result is not None:
            app.notify(t("ui.msg.created", ref=result.ref))
            app.data_changed("supervision", result.id)
        else:
            app.notify(t("ui.msg.done", ref=target.ref, action=t(f"ui.verb.{verb}")))
        app.data_changed(target.kind, target.id)
        return result

    # ------------------------------------------------------------------ prompts

    async def prompt(self, screen: Any) -> Any:
        return await self.app.push_screen_wait(screen)  # type: ignore[attr-defined]

    def _ask_text(self, verb: str, target: Target, *, label_key: str | None = None,
                  required: bool = False) -> ActionPrompt:
        return ActionPrompt(t("ui.prompt.title", action=t(f"ui.verb.{verb}"), ref=target.ref),
                            target.title,
                            text_label=t(label_key) if label_key else None,
                            text_required=required)

    async def ask(self, verb: str, target: Target, arg: str | None) -> Callable[[], Any] | None:
        """Collect what the action needs (from ``arg`` when typed on the command line)."""
        app = self.app  # type: ignore[attr-defined]
        ctx, actor = app.ctx, app.actor
        who = (target.kind, target.id)
        v = target.version
        cmd = arg is not None

        async def text(label_key: str | None = None, required: bool = False) -> str | None:
            if cmd:
                return arg
            res: PromptResult | None = await self.prompt(
                self._ask_text(verb, target, label_key=label_key, required=required))
            return None if res is None else res.text

        if verb in ("acknowledge", "escalate", "urge"):
            note = await text()
            if note is None:
                return None
            fn = {"acknowledge": actions.acknowledge, "escalate": actions.escalate,
                  "urge": actions.urge}[verb]
            return lambda: fn(ctx, actor, who, expected_version=v, note=note)

        if verb == "escalate_to":
            item = await run_db(self, actions.find_item, who)  # type: ignore[arg-type]
            steps = [(str(i + 1), f"{i + 1}. {name}") for i, (name, _w) in enumerate(item.chain)]
            if cmd:
                step, note = arg, ""
            else:
                default = str(min(item.step + 2, len(steps)))
                res = await self.prompt(ActionPrompt(
                    t("ui.prompt.title", action=t("ui.verb.escalate_to"), ref=target.ref),
                    t("ui.prompt.current_step", step=item.step_name), choices=steps,
                    choice_default=default))
                if res is None:
                    return None
                step, note = res.choice, res.text
            return lambda: actions.escalate(ctx, actor, who, to_step=step, expected_version=v,
                                            note=note)

        if verb == "assign":
            if cmd:
                dept = await run_db(self, resolve_department, arg)  # type: ignore[arg-type]
                note = ""
            else:
                depts = await run_db(self, queries.departments, "", 1000)  # type: ignore[arg-type]
                res = await self.prompt(ActionPrompt(
                    t("ui.prompt.title", action=t("ui.verb.assign"), ref=target.ref),
                    target.title, choices=[(d.code, f"{d.code}  {d.name}") for d in depts],
                    filterable=True))
                if res is None:
                    return None
                dept, note = res.choice, res.text
            return lambda: actions.assign(ctx, actor, who, dept, expected_version=v, note=note)

        if verb in ("extend", "return", "reopen"):
            reason = await text("field.reason", required=True)
            if reason is None:
                return None
            if verb == "extend":
                return lambda: actions.extend(ctx, actor, who, reason, expected_version=v)
            if verb == "return":
                return lambda: actions.return_order(ctx, actor, who, reason, expected_version=v)
            return lambda: actions.reopen(ctx, actor, who, reason, expected_version=v)

        if verb == "follow_up":
            if cmd:
                return lambda: actions.follow_up(ctx, actor, who, arg, expected_version=v)
            form = followup_form(target, ctx, actor)
            res = await self.prompt(form)
            if res is not None:  # the form saved through actions.follow_up itself
                app.notify(t("ui.msg.done", ref=target.ref, action=t("ui.verb.follow_up")))
                app.data_changed(target.kind, target.id)
            return None

        if verb in ("instruct", "note", "reply"):
            body = await text("field.text" if verb != "note" else "field.note", required=True)
            if body is None:
                return None
            fn = {"instruct": actions.instruct, "note": actions.note, "reply": actions.reply}[verb]
            return lambda: fn(ctx, actor, who, body, expected_version=v)

        if verb == "close":
            key = {"report": "field.final", "supervision": "field.result"}.get(target.kind)
            body = await text(key, required=key is not None)
            if body is None:
                return None
            return lambda: actions.close(ctx, actor, who, body, expected_version=v)

        if verb == "change_level":
            if cmd:
                level, note = arg, ""
            else:
                res = await self.prompt(ActionPrompt(
                    t("ui.prompt.title", action=t("ui.verb.change_level"), ref=target.ref),
                    target.title, choices=[(lv, label("level", lv)) for lv in LEVELS],
                    choice_default=target.severity))
                if res is None:
                    return None
                level, note = res.choice, res.text
            return lambda: actions.change_level(ctx, actor, who, level, expected_version=v,
                                                note=note)

        if verb == "visit":
            if cmd:
                score, _, note = arg.partition(" ")
            else:
                res = await self.prompt(ActionPrompt(
                    t("ui.prompt.title", action=t("ui.verb.visit"), ref=target.ref),
                    target.title,
                    choices=[(str(n), t(f"ui.satisfaction.{n}")) for n in range(5, 0, -1)]))
                if res is None:
                    return None
                score, note = res.choice, res.text
            return lambda: actions.visit(ctx, actor, who, score, note=note, expected_version=v)

        if verb == "supervise":
            form = supervision_form(ctx, actor, target)
            res = await self.prompt(form)
            if res is not None:
                app.notify(t("ui.msg.created", ref=res.ref))
                app.data_changed("supervision", res.id)
                app.data_changed(target.kind, target.id)
            return None

        if verb == "activate_plan":
            return await self.ask_plan(target)
        raise AssertionError(verb)

    async def ask_plan(self, target: Target) -> Callable[[], Any] | None:
        """Choose a plan (suggestions for this report first) and a level."""
        app = self.app  # type: ignore[attr-defined]
        suggested, everything = await run_db(self, plan_choices, target.id)  # type: ignore
        choices = [(p.code, f"★ {p.code}  {p.title}") for p in suggested]
        seen = {p.code for p in suggested}
        choices += [(p.code, f"  {p.code}  {p.title}") for p in everything if p.code not in seen]
        res = await self.prompt(ActionPrompt(
            t("ui.prompt.title", action=t("ui.verb.activate_plan"), ref=target.ref),
            t("ui.prompt.plan_hint"), choices=choices, filterable=True))
        if res is None:
            return None
        plan_code = res.choice
        levels = [lv for lv in LEVELS if lv != "unknown"]
        level = await self.prompt(ActionPrompt(
            t("ui.prompt.plan_level", plan=plan_code), target.title,
            choices=[(lv, label("level", lv)) for lv in levels],
            choice_default=target.severity if target.severity in levels else "IV"))
        if level is None:
            return None
        ctx, actor = app.ctx, app.actor
        return lambda: actions.activate_plan(ctx, actor, plan_code, (target.kind, target.id),
                                             level.choice, note=level.text or res.text)


# --------------------------------------------------------------------------- helpers (threads)


def resolve_department(text: str) -> str:
    """A department typed on the command line: its code, exact name, or a unique part."""
    found = queries.departments(text, 50)
    for d in found:
        if text in (d.code, d.name):
            return d.code
    if len(found) == 1:
        return found[0].code
    if not found:
        raise DutyError(t("error.unknown_department", name=text))
    raise DutyError(t("ui.cmd.ambiguous", text=text,
                      options=" / ".join(d.name for d in found[:6])))


def plan_choices(report_id: int) -> tuple[list, list]:
    from console.models import Report

    report = Report.get_by_id(report_id)
    return queries.plans_for(report)[:8], queries.plans(limit=500)


# --------------------------------------------------------------------------- forms


def report_form(ctx, actor, subtypes: list[str], departments: list | None = None) -> FormScreen:
    tz, now = ctx.settings.tz, ctx.now()
    fields = [
        Field("received_at", t("field.received_at"), "time", True, format_local_time(now, tz)),
        Field("source_unit", t("field.source_unit")),
        Field("reporter", t("field.reporter")),
        Field("reporter_phone", t("field.reporter_phone")),
        Field("occurred_at", t("field.occurred_at"), "time",
              placeholder=t("ui.form.time_placeholder")),
        Field("place", t("field.place"), required=True),
        Field("category", t("field.category"), "select", True,
              choices=tuple((c, label("category", c)) for c in
                            ("natural", "accident", "health", "security"))),
        Field("subtype", t("field.subtype"), "select",
              choices=tuple((s, subtype_label(s)) for s in subtypes)),
        Field("level", t("field.level"), "select", True, "unknown",
              choices=tuple((lv, label("level", lv)) for lv in LEVELS)),
        Field("sensitive", t("ui.form.sensitive"), "bool"),
        Field("title", t("field.title"), required=True),
        Field("summary", t("field.summary")),
        Field("dead", t("field.dead"), "int", default="0"),
        Field("injured", t("field.injured"), "int", default="0"),
        Field("missing", t("field.missing"), "int", default="0"),
        Field("area", t("field.area")),
        Field("trend", t("field.trend")),
        Field("measures", t("field.measures")),
        Field("requests", t("field.requests")),
        Field("recorder", t("field.recorder"), required=True, default=actor.name),
    ]

    def submit(v: dict[str, Any]) -> Item:
        return actions.create_report(
            ctx, actor, title=v["title"], category=v["category"], level=v["level"] or "unknown",
            received_at=v["received_at"], occurred_at=v["occurred_at"],
            subtype=v["subtype"] or "other", place=v["place"], summary=v["summary"],
            dead=v["dead"] or 0, injured=v["injured"] or 0, missing=v["missing"] or 0,
            area=v["area"], trend=v["trend"], measures=v["measures"], requests=v["requests"],
            source_unit=v["source_unit"], reporter=v["reporter"],
            reporter_phone=v["reporter_phone"], recorder=v["recorder"],
            sensitive=bool(v["sensitive"]))

    return FormScreen(t("ui.form.new_report"), fields, submit)


def subtype_label(code: str) -> str:
    key = f"ui.subtype.{code}"
    text = t(key)
    return code if text == key else text


def work_order_form(ctx, actor, departments: list) -> FormScreen:
    tz, now = ctx.settings.tz, ctx.now()
    fields = [
        Field("received_at", t("field.received_at"), "time", True, format_local_time(now, tz)),
        Field("caller", t("field.caller"), required=True),
        Field("phone", t("field.phone")),
        Field("address", t("field.address"), required=True),
        Field("cause", t("ui.form.cause"), required=True),
        Field("course", t("ui.form.course")),
        Field("type", t("field.type"), "select", True, "enquiry",
              choices=tuple((x, label("wo_type", x)) for x in
                            ("enquiry", "help", "complaint", "report", "suggestion"))),
        Field("urgency", t("field.urgency"), "select", True, "normal",
              choices=tuple((x, label("urgency", x)) for x in
                            ("normal", "urgent", "very_urgent"))),
        Field("category", t("ui.form.wo_category")),
        Field("department", t("field.department"), "select",
              choices=tuple((d.code, f"{d.code} {d.name}") for d in departments)),
    ]

    def submit(v: dict[str, Any]) -> Item:
        content = v["cause"] + (f"\n{t('ui.form.course')}：{v['course']}" if v["course"] else "")
        return actions.create_work_order(
            ctx, actor, content=content, type=v["type"], urgency=v["urgency"],
            received_at=v["received_at"], caller=v["caller"], phone=v["phone"],
            address=v["address"], category=v["category"], department=v["department"] or None)

    return FormScreen(t("ui.form.new_work_order"), fields, submit)


def supervision_form(ctx, actor, source: Target | None, departments: list | None = None
                     ) -> FormScreen:
    fields = [
        Field("title", t("field.title"), required=True, default=source.title if source else ""),
        Field("klass", t("field.klass"), "select", True, "normal",
              choices=tuple((k, label("klass", k)) for k in ("urgent", "normal", "complex"))),
        Field("content", t("field.content")),
        Field("department", t("field.department"), "select",
              choices=tuple((d.code, f"{d.code} {d.name}") for d in departments or [])),
    ]
    if departments is None:
        fields.pop()  # registering from an item: the unit follows later by assign (d)

    def submit(v: dict[str, Any]) -> Item:
        return actions.register_supervision(
            ctx, actor, title=v["title"], klass=v["klass"], content=v["content"],
            source=(source.kind, source.id) if source else None,
            department=v.get("department") or None)

    subtitle = t("ui.form.source", ref=source.ref) if source else ""
    return FormScreen(t("ui.form.new_supervision"), fields, submit, subtitle=subtitle)


def followup_form(target: Target, ctx, actor) -> FormScreen:
    fields = [
        Field("text", t("ui.form.followup_text"), required=True),
        Field("dead", t("field.dead"), "int", placeholder=t("ui.form.unchanged")),
        Field("injured", t("field.injured"), "int", placeholder=t("ui.form.unchanged")),
        Field("missing", t("field.missing"), "int", placeholder=t("ui.form.unchanged")),
    ]

    def submit(v: dict[str, Any]) -> Item:
        return actions.follow_up(ctx, actor, (target.kind, target.id), v["text"], dead=v["dead"],
                                 injured=v["injured"], missing=v["missing"],
                                 expected_version=target.version)

    return FormScreen(t("ui.form.follow_up", ref=target.ref), fields, submit,
                      subtitle=target.title)
