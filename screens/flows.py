"""Item actions as flows: key → (prompt) → one console.actions call → message → refresh.

Shared by the queue screen and the detail screen (both are ItemScreens).  The
verb's row in console/verbs.py says everything; the one table here, PROMPTS,
maps its argument kind to the prompt that collects it.  The
pre-checks (read-only, role, legal from this status) only save the officer a
pointless prompt; console/actions.py enforces all of them again under the
write lock.  Every call passes the version the screen showed, so someone
else's change in between is reported ("… was escalated by 李明 at 02:14 —
refreshed") instead of being overwritten.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from textual.binding import ActiveBinding
from textual.worker import WorkerCancelled

from console import actions, categories, merge_queries, queries, rules, verbs
from console.errors import DutyError, StaleVersion
from console.i18n import label, t
from console.models import Item
from console.queries import QueueRow
from console.settings import LEVELS
from console.verbs import Verb
from console.views import SEVERITY_FIELD
from screens.dbwork import run_db
from screens.forms import (
    ActionPrompt,
    ConfirmScreen,
    Field,
    FormScreen,
    PromptResult,
    format_local_time,
)
from screens.keymap import DutyScreen, for_role


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
        severity = SEVERITY_FIELD[item.KIND]
        title = getattr(item, "title", "") or (getattr(item, "content", "") or "")[:60]
        return cls(item.KIND, item.id, item.ref, item.version, item.status, title,
                   getattr(item, severity))


@dataclass(frozen=True)
class Answer:
    """What a prompt collected: the verb's argument and an optional note."""

    value: Any = ""
    note: str = ""

    @property
    def typed(self) -> bool:
        return bool(str(self.value or "").strip() or self.note.strip())


DONE = Answer("\0done")  # a form saved through its action itself: nothing left to call

Prompt = Callable[["ItemScreen", Verb, Target, "str | None"], Awaitable["Answer | None"]]


class ItemScreen(DutyScreen):
    """A screen with a current item (``current_target``): the item keys act on it.

    key → pre-checks → the prompt of the verb's argument kind (PROMPTS) → one
    console.actions call in a thread worker → message → refresh.
    """

    def current_target(self) -> Target | None:  # pragma: no cover - each screen overrides
        raise NotImplementedError

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        return for_role(self.app, super().active_bindings)

    # ------------------------------------------------------------------ entry points

    def action_item(self, verb: str) -> None:
        self.start_flow(verb, self.current_target())

    def start_flow(self, verb: str, target: Target | None, arg: str | None = None) -> None:
        self.run_worker(self.flow(verb, target, arg), group="flow", exit_on_error=False)

    # ------------------------------------------------------------------ the flow

    async def _master_of(self, target: Target) -> Target:
        try:
            ref, notice = await run_db(self, merge_queries.resolve, target.ref)
            if not notice:
                return target
            self.app.notify(notice, markup=False)
            return Target.from_item(await run_db(self, actions.find_item, ref))
        except DutyError:
            return target  # the flow's own checks say what is wrong

    def refusal(self, verb: Verb, target: Target | None) -> tuple[str, str] | None:
        """(message, severity) when the verb cannot apply here; the core checks again."""
        app: Any = self.app
        if target is None:
            return t("ui.msg.no_selection"), "warning"
        if app.is_readonly or app.actor.role == "viewer":
            return t("error.readonly", who=app.actor.name), "warning"
        if not verb.applies_to(target.kind):
            return t("ui.msg.not_for_kind", action=t(verb.help_key),
                     kind=label("kind", target.kind)), "warning"
        if verb.legal is not None and not rules.is_legal(verb.rule_name, target.kind,
                                                         target.status):
            return t("error.illegal", ref=target.ref, action=label("action", verb.rule_name),
                     status=label(f"status.{target.kind}", target.status)), "error"
        if not rules.role_allows(app.actor.role, verb.rule_name):
            return t("error.role", who=app.actor.name, role=label("role", app.actor.role),
                     action=label("action", verb.rule_name)), "error"
        return None

    async def flow(self, name: str, target: Target | None, arg: str | None = None) -> None:
        app: Any = self.app
        verb = verbs.by_name(name)
        if verb is None:
            return
        if target is not None and target.status == "closed" and name not in ("merge", "unmerge"):
            target = await self._master_of(target)  # 并单: a key on a duplicate acts on the master
        refused = self.refusal(verb, target)
        if refused is not None or target is None:
            message, severity = refused or ("", "warning")
            app.notify(message, severity=severity)
            return
        try:
            answer = await PROMPTS[verb.arg](self, verb, target, arg)
        except WorkerCancelled:
            return
        except DutyError as exc:
            app.notify(str(exc), markup=False, severity="error")
            return
        if answer is None:
            return  # cancelled at the prompt
        if answer is DONE:
            app.notify(t("ui.msg.done", ref=target.ref, action=t(verb.help_key)))
            app.data_changed(target.kind, target.id)
            return
        await self.commit_verb(verb, target, answer)

    def call_for(self, verb: Verb, target: Target, answer: Answer) -> Callable[[], Any]:
        app: Any = self.app
        ctx, actor = app.ctx, app.actor
        return lambda: verbs.call(verb, ctx, actor, (target.kind, target.id), answer.value,
                                  answer.note, expected_version=target.version)

    async def commit_verb(self, verb: Verb, target: Target, answer: Answer) -> Any:
        """The verb's action with what the officer typed.

        Someone else changed the item first (StaleVersion): what was typed is
        not dropped; the officer is asked whether to apply it to the item as
        it is now.
        """
        async def stale(error: str) -> Any:
            return await self.retry_stale(verb, target, answer, error)

        return await self.commit(self.call_for(verb, target, answer), target, verb.name,
                                 on_stale=stale)

    async def commit(self, call: Callable[[], Any], target: Target | None, verb: str, *,
                     on_stale: Callable[[str], Awaitable[Any]] | None = None) -> Any:
        """Run one action in a thread worker; say what happened; refresh."""
        app: Any = self.app
        try:
            result = await run_db(self, call)
        except DutyError as exc:
            if target is not None:
                app.data_changed(target.kind, target.id)
            if on_stale is not None and isinstance(exc, StaleVersion):
                return await on_stale(str(exc))
            app.notify(str(exc), markup=False, severity="error", timeout=8)
            return None
        except Exception as exc:  # noqa: BLE001 - the officer gets a line, not a traceback
            app.notify(t("ui.error.unexpected", error=str(exc) or type(exc).__name__),
                       severity="error", timeout=8)
            return None
        if target is not None:
            app.notify(t("ui.msg.done", ref=target.ref, action=t(f"ui.verb.{verb}")))
            app.data_changed(target.kind, target.id)
        return result

    async def retry_stale(self, verb: Verb, target: Target, answer: Answer, error: str) -> Any:
        app: Any = self.app
        if not answer.typed:
            app.notify(error, markup=False, severity="error", timeout=8)
            return None
        if not await self.prompt(ConfirmScreen(t("ui.msg.stale_retry", error=error))):
            app.notify(error, markup=False, severity="error", timeout=8)
            return None
        fresh = Target.from_item(await run_db(self, actions.find_item, (target.kind, target.id)))
        refused = self.refusal(verb, fresh)
        if refused is not None:
            app.notify(refused[0], markup=False, severity=refused[1], timeout=8)
            return None
        return await self.commit_verb(verb, fresh, answer)

    # ------------------------------------------------------------------ prompts

    async def prompt(self, screen: Any) -> Any:
        app: Any = self.app
        return await app.push_screen_wait(screen)

    def title_of(self, verb: Verb, target: Target) -> str:
        return t("ui.prompt.title", action=t(verb.help_key), ref=target.ref)

    async def ask_text(self, verb: Verb, target: Target, arg: str | None, *,
                       label_key: str | None = None, required: bool = False,
                       subtitle: str | None = None) -> Answer | None:
        if arg is not None:
            return Answer(arg)
        res: PromptResult | None = await self.prompt(ActionPrompt(
            self.title_of(verb, target), target.title if subtitle is None else subtitle,
            text_label=t(label_key) if label_key else None, text_required=required))
        return None if res is None else Answer(res.text)

    async def ask_choice(self, verb: Verb, target: Target, choices: list[tuple[str, str]],
                         subtitle: str | None = None, **options: Any) -> Answer | None:
        res: PromptResult | None = await self.prompt(ActionPrompt(
            self.title_of(verb, target), target.title if subtitle is None else subtitle,
            choices=choices, **options))
        return None if res is None else Answer(res.choice, res.text)


# --------------------------------------------------------------------------- argument kinds → prompt


async def _none(screen: ItemScreen, verb: Verb, target: Target, arg: str | None) -> Answer:
    return Answer("")


async def _note(screen: ItemScreen, verb: Verb, target: Target, arg: str | None
                ) -> Answer | None:
    subtitle = None
    if verb.rule_name == "escalate" and arg is None:  # say where it goes (issue 10 §6)
        item = await run_db(screen, actions.find_item, (target.kind, target.id))
        subtitle = next_step_text(item.chain, item.step, target.title)
    return await screen.ask_text(verb, target, arg, subtitle=subtitle)


def next_step_text(chain: list, step: int, title: str) -> str:
    if step + 1 >= len(chain):
        return t("ui.prompt.last_step", step=chain[step][0] if chain else "—")
    return t("ui.prompt.escalates_to", n=step + 2, step=chain[step + 1][0], title=title)


async def _reason(screen: ItemScreen, verb: Verb, target: Target, arg: str | None
                  ) -> Answer | None:
    return await screen.ask_text(verb, target, arg, label_key=verb.prompt or "field.reason",
                                 required=True)


async def _extension(screen: ItemScreen, verb: Verb, target: Target, arg: str | None
                     ) -> Answer | None:
    """延期: its length (1 day up to the rule's grant, each with the new due) and why."""
    if arg is not None:
        return Answer(arg)
    app: Any = screen.app
    item = await run_db(screen, actions.find_item, (target.kind, target.id))
    now, tz = app.ctx.now(), app.ctx.settings.tz
    current = item.deadline_at or now
    options = rules.extension_options(app.ctx.settings, target.kind,
                                      item.type if target.kind == "work_order" else item.klass,
                                      current)
    key = "ui.prompt.extend_" + ("" if options[0][2] else "calendar_")
    choices = [(f"+{n}", t(key + ("day" if n == 1 else "days"), n=n,
                           due=format_local_time(due, tz))) for n, due, _w in options]
    subtitle = t("ui.prompt.extend_current", due=format_local_time(current, tz),
                 title=target.title)
    return await screen.ask_choice(verb, target, choices, subtitle, choice_default=choices[-1][0],
                                   text_label=t("field.reason"), text_required=True)


async def _text(screen: ItemScreen, verb: Verb, target: Target, arg: str | None
                ) -> Answer | None:
    return await screen.ask_text(verb, target, arg, label_key=verb.prompt or "field.text",
                                 required=True)


async def _closing(screen: ItemScreen, verb: Verb, target: Target, arg: str | None
                   ) -> Answer | None:
    """办结; a report whose plan response still runs asks first to end it with the close."""
    plans = (await run_db(screen, queries.running_plans, target.id)
             if target.kind == "report" else [])
    if plans and not await screen.prompt(ConfirmScreen(t(
            "ui.msg.close_ends_plans", ref=target.ref, plans=", ".join(plans)))):
        return None
    key = {"report": "field.final", "supervision": "field.result"}.get(target.kind)
    answer = await screen.ask_text(verb, target, arg, label_key=key, required=key is not None)
    if answer is None or not plans:
        return answer
    app: Any = screen.app
    await screen.commit(lambda: actions.close(
        app.ctx, app.actor, (target.kind, target.id), answer.value, end_plans=True,
        expected_version=target.version), target, verb.name)
    return None  # closed here, with its plans' ends


async def _followup(screen: ItemScreen, verb: Verb, target: Target, arg: str | None
                    ) -> Answer | None:
    if arg is not None:
        return Answer(arg)
    app: Any = screen.app
    res = await screen.prompt(followup_form(target, app.ctx, app.actor))
    return None if res is None else DONE


async def _step(screen: ItemScreen, verb: Verb, target: Target, arg: str | None
                ) -> Answer | None:
    if arg is not None:
        return Answer(arg)
    item = await run_db(screen, actions.find_item, (target.kind, target.id))
    steps = [(str(i + 1), f"{i + 1}. {name}") for i, (name, _w) in enumerate(item.chain)]
    return await screen.ask_choice(verb, target, steps,
                                   t("ui.prompt.current_step", step=item.step_name),
                                   choice_default=str(min(item.step + 2, len(steps))))


async def _department(screen: ItemScreen, verb: Verb, target: Target, arg: str | None
                      ) -> Answer | None:
    if arg is not None:
        return Answer(await run_db(screen, resolve_department, arg))
    depts = await run_db(screen, queries.departments, "", 1000)
    return await screen.ask_choice(verb, target, [(d.code, f"{d.code}  {d.name}") for d in depts],
                                   filterable=True)


async def _level(screen: ItemScreen, verb: Verb, target: Target, arg: str | None
                 ) -> Answer | None:
    if arg is not None:
        return Answer(arg)
    return await screen.ask_choice(verb, target, [(lv, label("level", lv)) for lv in LEVELS],
                                   choice_default=target.severity)


async def _score(screen: ItemScreen, verb: Verb, target: Target, arg: str | None
                 ) -> Answer | None:
    if arg is not None:
        return Answer(arg)
    return await screen.ask_choice(
        verb, target, [(str(n), t(f"ui.satisfaction.{n}")) for n in range(5, 0, -1)])


async def _supervise(screen: ItemScreen, verb: Verb, target: Target, arg: str | None
                     ) -> Answer | None:
    app: Any = screen.app
    depts = await run_db(screen, queries.departments, "", 1000)  # 承办单位, chosen at 挂号
    res = await screen.prompt(supervision_form(app.ctx, app.actor, target, depts))
    if res is None:
        return None
    app.notify(t("ui.msg.created", ref=res.ref))
    app.data_changed("supervision", res.id)
    return DONE


async def _plan(screen: ItemScreen, verb: Verb, target: Target, arg: str | None
                ) -> Answer | None:
    """Choose a plan (suggestions for this report first) and a level."""
    if arg is not None:
        return Answer(arg)
    suggested, everything = await run_db(screen, queries.plan_choices, target.id)
    choices = [(p.code, f"★ {p.code}  {p.title}") for p in suggested]
    seen = {p.code for p in suggested}
    choices += [(p.code, f"  {p.code}  {p.title}") for p in everything if p.code not in seen]
    plan = await screen.ask_choice(verb, target, choices, t("ui.prompt.plan_hint"),
                                   filterable=True)
    if plan is None:
        return None
    levels = [lv for lv in LEVELS if lv != "unknown"]
    level: PromptResult | None = await screen.prompt(ActionPrompt(
        t("ui.prompt.plan_level", plan=plan.value), target.title,
        choices=[(lv, label("level", lv)) for lv in levels],
        choice_default=target.severity if target.severity in levels else "IV"))
    if level is None:
        return None
    return Answer(f"{plan.value} {level.choice}", level.text or plan.note)


async def _instruction(screen: ItemScreen, verb: Verb, target: Target, arg: str | None
                       ) -> Answer | None:
    """批示: who gave it (a roster leader, or a name and title), when, what."""
    if arg is not None:
        return Answer(arg)
    from console.shiftwork import leaders
    from screens.instruction import instruction_form

    app: Any = screen.app
    res = await screen.prompt(instruction_form(target, app.ctx, app.actor,
                                               await run_db(screen, leaders, app.ctx.now())))
    return None if res is None else DONE


async def _file(screen: ItemScreen, verb: Verb, target: Target, arg: str | None
                ) -> Answer | None:
    """Receive a scheduled report: the path of its file, or nothing (on paper, by phone)."""
    return await screen.ask_text(verb, target, arg, label_key="schedule.field.file_prompt")


async def _ref(screen: ItemScreen, verb: Verb, target: Target, arg: str | None
               ) -> Answer | None:
    """merge / link: the other item, its repeat candidates first (issue 11)."""
    if arg is not None:
        return Answer(arg)
    choices = await run_db(screen, lambda: merge_queries.ref_choices(
        target.kind, target.id, open_only=verb.name == "merge"))
    return await screen.ask_choice(verb, target, choices, t(verb.prompt), filterable=True)


PROMPTS: dict[str, Prompt] = {
    "none": _none, "note": _note, "reason": _reason, "extension": _extension, "text": _text,
    "closing": _closing,
    "followup": _followup, "step": _step, "department": _department, "level": _level,
    "score": _score, "supervise": _supervise, "plan": _plan, "file": _file, "ref": _ref,
    "instruction": _instruction,  # handover and instructions
}


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


# --------------------------------------------------------------------------- forms


def report_form(ctx, actor, subtypes: list[str], departments: list | None = None) -> FormScreen:
    tz, now = ctx.settings.tz, ctx.now()
    fields = [
        Field("received_at", t("field.received_at"), "time", True, format_local_time(now, tz)),
        Field("source_unit", t("field.source_unit")),
        Field("reporter", t("field.reporter")),
        Field("reporter_phone", t("field.reporter_phone"), "phone"),
        Field("occurred_at", t("field.occurred_at"), "time",
              placeholder=t("ui.form.time_placeholder")),
        Field("place", t("field.place"), required=True),
        Field("category", t("field.category"), "select", True,
              choices=tuple((c, label("category", c)) for c in
                            ("natural", "accident", "health", "security"))),
        Field("subtype", t("field.subtype"), "select", depends_on="category",  # "cat/sub" or "sub"
              choices=tuple((s, subtype_label(s), c) for c, _, s in (x.rpartition("/") for x in subtypes))),
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
        Field("phone", t("field.phone"), "phone"),
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
            address=v["address"], department=v["department"] or None,
            category=categories.lookup(v["category"]).name if v["category"] else "")

    return FormScreen(t("ui.form.new_work_order"), fields, submit,  # repeats shown live
                      watch=lambda raw: merge_queries.intake_note(ctx.settings, ctx.now(), raw))


def supervision_form(ctx, actor, source: Target | None, departments: list | None = None
                     ) -> FormScreen:
    fields = [
        Field("title", t("field.title"), required=True, default=source.title if source else ""),
        Field("klass", t("field.klass"), "select", True, "normal",
              choices=tuple((k, label("klass", k)) for k in ("urgent", "normal", "complex"))),
        Field("content", t("field.content")),
        Field("department", t("field.department"), "select",  # 承办单位 (may follow by d)
              choices=tuple((d.code, f"{d.code} {d.name}") for d in departments or [])),
    ]

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

    expected = [target.version]

    def submit(v: dict[str, Any]) -> Item:
        who = (target.kind, target.id)
        try:
            return actions.follow_up(ctx, actor, who, v["text"], dead=v["dead"],
                                     injured=v["injured"], missing=v["missing"],
                                     expected_version=expected[0])
        except StaleVersion as exc:
            # the form stays open with what was typed; saving again applies it to the
            # item as it is now (the officer has seen who changed it)
            expected[0] = actions.find_item(who).version
            raise StaleVersion(t("ui.msg.stale_resave", error=str(exc))) from None

    return FormScreen(t("ui.form.follow_up", ref=target.ref), fields, submit,
                      subtitle=target.title)
