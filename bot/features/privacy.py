"""`/wol privacy`: what the bot keeps, an export by DM, and erasure after a confirmation.
Also the daily retention purge."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.authorisation import Verdict, owner
from bot.commands import Subcommand
from bot.events import EventKind, InboundEvent
from bot.features.commands import example
from bot.i18n import N_, Translator, normalise_language
from bot.insight import formats
from bot.messages import Actions, Button, OutboundMessage, Section, fill
from bot.router import Router, action
from bot.scheduler import Job, cron
from bot.store.personal_export import SCHEMA, PersonalExport

EX_EXPORT, EX_FORGET = N_("/wol privacy export"), N_("/wol privacy forget")

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

log = logging.getLogger(__name__)
CONFIRM, CANCEL = "privacy.forget.confirm", "privacy.forget.cancel"
RETENTION_JOB = "retention"

ABOUT = N_(
    "What I keep about you: your narrations (what you said you work on, where and when), "
    "your settings and roles, and what other features record about you (questions, "
    "thanks, introductions). Narrations are kept for {days} days."
)
ABOUT_ACTIONS = N_("{export} sends you all of it as a file; {forget} erases it.")
EXPORT_READY = N_("Here is everything I keep about you, as a JSON file.")
EXPORT_QUEUED = N_("I'm sending your data to you in a direct message.")
FORGET_ASK = N_(
    "This erases your narrations, settings and everything else I keep about you, "
    "for good. Your messages in the chat itself stay where they are. Continue?"
)
FORGET_YES = N_("Yes, erase my data")
FORGET_NO = N_("Cancel")
FORGET_CANCELLED = N_("Nothing was erased.")
# A second click on a confirmation whose person was erased meanwhile (a stale copy).
FORGET_NOTHING_LEFT = N_("There was nothing left to erase: I keep nothing about you any more.")
FORGET_NOTHING_TO_CANCEL = N_("Nothing to cancel: I keep nothing about you any more.")
NOT_YOURS = N_("Only the person whose data it is can confirm this.")
SUMMARY_LINE = N_("{label}: {count}")
SUMMARY_GROUPS = (
    ("narrations", N_("Narrations")),
    ("questions_asked_by_name", N_("Questions asked by name")),
    ("anonymous_questions", N_("Anonymous questions")),
    ("thanks_given", N_("Thanks given")),
    ("thanks_received", N_("Thanks received")),
    ("dialogue_answers", N_("Answers in dialogue rounds")),
    ("connections", N_("Introductions and suggestions")),
    ("profile_topics", N_("Profile topics")),
    ("consent_history", N_("Consent changes")),
)
SUMMARY_RETENTION = N_(
    "Narrations, questions, thanks and answers are kept for {days} days; "
    "settings, topics and connections until you change or erase them."
)
SUMMARY_SCHEMA = N_(
    "Each item in the file has its time, its place and until when it is kept; "
    "the format ({schema}) is described in wolbot's privacy documentation."
)


def register(services: Services, router: Router) -> None:
    router.commands.register(
        Subcommand(
            names={"en": ("privacy",), "nl": ("privacy", "privé")},
            handler=on_privacy,
            summary=N_("What I keep about you; export or erase it"),
            usage=N_("[export|forget]"),
            order=75,
        )
    )
    router.add(
        action("privacy.forget."),
        on_forget_choice,
        name="privacy.forget",
        who=owner("the person whose data it is", _data_subject),
    )
    services.hooks.traceless_events.append(is_forget_choice)
    services.scheduler.add(
        Job(
            RETENTION_JOB,
            cron("15 3 * * *", "UTC"),
            lambda when: purge_all(services, when),
            grace=timedelta(hours=23),
        )
    )


async def on_privacy(event: InboundEvent, ctx: Context, args: str) -> None:
    verb = args.strip().lower()
    if verb in ("export", "exporteer", "download"):
        await export(event, ctx)
    elif verb in ("forget", "vergeet", "delete", "verwijder", "erase"):
        await ctx.respond(
            OutboundMessage.of(
                Section(parts=(ctx.t.gettext(FORGET_ASK),)),
                Actions(
                    elements=(
                        Button(
                            label=ctx.t.gettext(FORGET_YES),
                            action_id=CONFIRM,
                            value=card_value(ctx.t.lang, event.user.user_id),
                            style="danger",
                        ),
                        Button(
                            label=ctx.t.gettext(FORGET_NO),
                            action_id=CANCEL,
                            value=card_value(ctx.t.lang, event.user.user_id),
                        ),
                    )
                ),
            )
        )
    else:
        days = await ctx.config.value(event.workspace_id, "retention.days")
        await ctx.respond(
            OutboundMessage.of(
                Section(parts=fill(ctx.t.gettext(ABOUT), days=int(days))),
                Section(
                    parts=fill(
                        ctx.t.gettext(ABOUT_ACTIONS),
                        export=example(ctx.t, EX_EXPORT),
                        forget=example(ctx.t, EX_FORGET),
                    )
                ),
            )
        )


def fill_text(template: str, **values: str | int) -> str:
    """A translated template with plain values, as one string (for the file)."""
    return "".join(str(part) for part in fill(template, **values))


async def export_document(
    services: Services, workspace_id: str, user_id: str, now: datetime, t: Translator
) -> dict[str, Any]:
    """The export (schema in docs/privacy.md), with its summary in the person's language."""
    days = int(await services.config.value(workspace_id, "retention.days"))
    audit_days = int(await services.config.value(workspace_id, "audit.retention_days"))
    doc = await PersonalExport(services.db).build(
        workspace_id, user_id, now, retention_days=days, audit_days=audit_days
    )
    for exporter in services.hooks.privacy_exporters:
        doc.update(await exporter(workspace_id, user_id))
    doc.setdefault("anonymous_questions", [])
    counts = [(label, len(doc[group])) for group, label in SUMMARY_GROUPS]
    doc["summary"] = [
        fill_text(t.gettext(SUMMARY_LINE), label=t.gettext(label), count=n) for label, n in counts
    ] + [
        fill_text(t.gettext(SUMMARY_RETENTION), days=days),
        fill_text(t.gettext(SUMMARY_SCHEMA), schema=SCHEMA),
    ]
    return {"summary": doc.pop("summary"), **doc}


async def export(event: InboundEvent, ctx: Context) -> None:
    doc = await export_document(
        ctx.services, event.workspace_id, event.user.user_id, ctx.now, ctx.t
    )
    content = json.dumps(doc, ensure_ascii=False, indent=2)
    stamp = ctx.now.strftime("%Y%m%d-%H%M%S")
    message = OutboundMessage.of(
        Section(parts=(ctx.t.gettext(EXPORT_READY),)),
        *[Section(parts=(line,)) for line in doc["summary"]],
    )
    await ctx.outbox.send_file_dm(
        event.platform,
        event.workspace_id,
        event.user.user_id,
        f"wolbot-export-{stamp}.json",
        content,
        message,
        key=ctx.key("export"),
    )
    await ctx.note_sent_by_dm(EXPORT_QUEUED)


def card_value(lang: str, user_id: str) -> str:
    """The confirmation's buttons carry the language the card speaks and the id of the
    person it was sent to: "<lang>:<user id>"."""
    return f"{lang}:{user_id}"


def read_card_value(value: str) -> tuple[str | None, str]:
    """(language, user id) of a confirmation's button; older cards carry the id alone."""
    lang, sep, user_id = value.partition(":")
    if sep and normalise_language(lang) == lang:
        return lang, user_id
    return None, value


async def is_forget_choice(event: InboundEvent) -> bool:
    """A click on the erasure confirmation leaves no trace of its person (no person row,
    no channel, no timed claim, no platform member record): after "Yes" nothing about them
    may be left behind, and a stale copy clicked later must not bring a record back
    (bot/turns.py, `Hooks.traceless_events`)."""
    return (
        event.kind is EventKind.ACTION
        and event.action is not None
        and event.action.action_id in (CONFIRM, CANCEL)
    )


async def _data_subject(event: InboundEvent, ctx: Context) -> Verdict:
    """The confirmation carries the id of the person it was sent to: only they may answer."""
    if event.action is not None:
        _, user_id = read_card_value(event.action.value or "")
        if user_id == event.user.user_id:
            return True
    return ctx.text(NOT_YOURS)


async def on_forget_choice(event: InboundEvent, ctx: Context) -> None:
    """The confirmation is replaced in place by what happened, without buttons. A stale
    copy clicked after the erasure says so (in the card's language: their choice of
    language went with the rest)."""
    assert event.action is not None
    lang, _ = read_card_value(event.action.value or "")
    ctx.hint_language(lang)
    user_id = event.user.user_id
    held = await holds_data(ctx.services, event.workspace_id, user_id)
    if event.action.action_id != CONFIRM:
        answer = ctx.text(FORGET_CANCELLED if held else FORGET_NOTHING_TO_CANCEL)
    else:
        # also when nothing is held: it sweeps what this very click left (a reference)
        total = await forget(ctx.services, event.workspace_id, user_id)
        if held:
            done = ctx.t.ngettext(
                "Done: I erased {count} record about you. You can start afresh any time.",
                "Done: I erased {count} records about you. You can start afresh any time.",
                total,
            )
            answer = OutboundMessage.text(*fill(done, count=formats.number(total, ctx.t.lang)))
        else:
            answer = ctx.text(FORGET_NOTHING_LEFT)
    await ctx.show(answer, own=True)


async def holds_data(services: Services, workspace_id: str, user_id: str) -> bool:
    """Whether anything is kept about the person (tables, and features' own data)."""
    if await services.personal_data.holds(workspace_id, user_id):
        return True
    for exporter in services.hooks.privacy_exporters:
        if any((await exporter(workspace_id, user_id)).values()):
            return True
    return False


async def forget(services: Services, workspace_id: str, user_id: str) -> int:
    """Erase a person everywhere: tables, feature hooks, caches. Returns the records removed."""
    await services.outbox.cancel_for_recipient(workspace_id, user_id)
    counts, narration_ids = await services.personal_data.forget(workspace_id, user_id)
    for listener in services.hooks.narrations_deleted_listeners:
        await listener(workspace_id, narration_ids)
    for eraser in services.hooks.privacy_erasers:
        counts.update(await eraser(workspace_id, user_id))
    services.people.forget(workspace_id, user_id)
    return sum(counts.values())


async def purge_all(services: Services, now: datetime) -> dict[str, dict[str, int]]:
    """The daily retention purge, per workspace, with each workspace's own periods."""
    report: dict[str, dict[str, int]] = {}
    for workspace_id in await services.directory.workspace_ids():
        days = int(await services.config.value(workspace_id, "retention.days"))
        audit_days = int(await services.config.value(workspace_id, "audit.retention_days"))
        counts, narration_ids = await services.personal_data.purge(
            workspace_id, now, retention_days=days, audit_retention_days=audit_days
        )
        for listener in services.hooks.narrations_deleted_listeners:
            await listener(workspace_id, narration_ids)
        if counts:
            report[workspace_id] = counts
            log.info("retention purge in %s: %s", workspace_id, counts)
    await services.scheduler.purge_claims(now - timedelta(days=90))
    return report
