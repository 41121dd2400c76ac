"""The bulk flow (storms): one verb on the marked items with one prompt and one confirmation.

Each item is still its own action, version check and event (console.actions.bulk),
run in batches in thread workers; what was stale or illegal is named in the summary.
"""

from __future__ import annotations

from typing import Any

from console import actions, queries, rules, verbs
from console.errors import DutyError
from console.i18n import label, t
from console.verbs import Verb
from screens.dbwork import run_db
from screens.flows import ItemScreen, Target
from screens.forms import ActionPrompt, ConfirmScreen, PromptResult

BULK_BATCH = 25  # items per worker call: progress shows, the write lock is never held long


def bulk_label(verb: Verb, kind: str) -> tuple[str, bool]:
    """The text field's label and whether it is required, for ``verb`` on items of ``kind``."""
    if verb.name == "close":
        key = {"report": "field.final", "supervision": "field.result"}.get(kind)
        return t(key) if key else t("ui.form.note_optional"), key is not None
    if verb.name == "note":
        return t("field.note"), True
    return t("ui.form.note_optional"), False


async def bulk_flow(screen: ItemScreen, name: str, targets: list[Target]) -> Any:
    """One verb on many items: one prompt, one note, one confirmation; then each item
    its own action and event (console.actions.bulk), in batches in thread workers.
    Returns the BulkResult, or None when refused or cancelled."""
    from console.actions.bulk import BULK_VERBS, BulkResult, BulkTarget, check_bulk

    app: Any = screen.app
    verb = verbs.by_name(name)
    if verb is None or verb.name not in BULK_VERBS:
        app.notify(t("bulk.not_bulk", verb=t(verb.help_key) if verb else name),
                   severity="warning")
        return None
    refused = _bulk_refusal(app, verb, targets)
    if refused is not None:
        app.notify(refused, severity="warning")
        return None
    args = await _bulk_args(screen, verb, targets)
    if args is None:
        return None
    try:
        check_bulk(app.ctx, verb.name, len(targets), args)
    except DutyError as exc:
        app.notify(str(exc), markup=False, severity="error")
        return None
    refs = "、".join(x.ref for x in targets[:3]) + ("…" if len(targets) > 3 else "")
    if not await screen.prompt(ConfirmScreen(t("ui.storm.confirm", n=len(targets), refs=refs,
                                               action=t(verb.help_key)))):
        return None
    intent = actions.intent_key()  # one key for the confirmation; each item derives its own
    seen = [BulkTarget(x.kind, x.id, x.ref, x.version) for x in targets]
    result = BulkResult()
    for start in range(0, len(seen), BULK_BATCH):
        batch = seen[start:start + BULK_BATCH]
        try:
            result.merge(await run_db(screen, lambda b=batch: actions.bulk(
                app.ctx, app.actor, verb.name, b, intent=intent, **args)))
        except DutyError as exc:  # unreachable: what was done stays done, and is said
            app.notify(result.summary() + " — " + str(exc), markup=False, severity="error",
                       timeout=12)
            break
        if start + BULK_BATCH < len(seen):
            app.notify(t("ui.storm.working", action=t(verb.help_key),
                         done=start + len(batch), total=len(seen)), timeout=2)
    else:
        app.notify(result.summary(), markup=False,
                   severity="warning" if result.skipped else "information",
                   timeout=12 if result.skipped else 5)
    kinds = {k for k, _ in result.kinds} or {x.kind for x in targets}
    app.publish(kinds=frozenset(kinds), items=frozenset(result.kinds))
    app.refresh_counters()
    return result


def _bulk_refusal(app: Any, verb: Verb, targets: list[Target]) -> str | None:
    """Only what holds for every item; each item's own legality is the core's (skipped)."""
    if not targets:
        return t("ui.msg.no_selection")
    if app.is_readonly:
        return t("error.readonly", who=app.actor.name)
    if not rules.role_allows(app.actor.role, verb.rule_name):
        return t("error.role", who=app.actor.name, role=label("role", app.actor.role),
                 action=label("action", verb.rule_name))
    return None


async def _bulk_args(screen: ItemScreen, verb: Verb, targets: list[Target]
                     ) -> dict[str, Any] | None:
    title = t("ui.storm.title", action=t(verb.help_key), n=len(targets))
    kind = targets[0].kind
    subtitle = "、".join(x.ref for x in targets[:4]) + ("…" if len(targets) > 4 else "")
    if verb.name == "assign":
        depts = await run_db(screen, queries.departments, "", 1000)
        res: PromptResult | None = await screen.prompt(ActionPrompt(
            title, subtitle, choices=[(d.code, f"{d.code}  {d.name}") for d in depts],
            filterable=True))
        return None if res is None or not res.choice else {"department": res.choice,
                                                           "note": res.text}
    text_label, required = bulk_label(verb, kind)
    res = await screen.prompt(ActionPrompt(title, subtitle, text_label=text_label,
                                           text_required=required))
    return None if res is None else {"note": res.text}
