"""Participation: observe consume / contribute / create signals, `/wol stats` and the weekly
report for admins and managers, `/wol dashboard` sign-in links.

The observer runs in a late router group, after every other feature, so it sees each event
without taking it from anyone. Which signal counts for what is in docs/insight.md.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.authorisation import ANYONE
from bot.commands import Subcommand
from bot.errors import UserError
from bot.events import EventKind, InboundEvent
from bot.features.commands import example
from bot.i18n import N_, CommandExample, Translator
from bot.insight import access, record
from bot.insight.charts import render_png
from bot.insight.levels import MONTH, WEEK
from bot.insight.render import summary
from bot.insight.report import build_report, community_names, resolve_community
from bot.messages import Context as ContextBlock
from bot.messages import Link, OutboundMessage, Section, Strong, fill
from bot.router import Group, Router
from bot.scheduler import Job, cron

EX_WEEKLY_ON, EX_WEEKLY_OFF = N_("/wol stats weekly on"), N_("/wol stats weekly off")

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services
    from bot.store.tables import Narration

log = logging.getLogger(__name__)
WEEKLY_JOB = "insight.weekly"
PURGE_JOB = "insight.purge"

OFFER_ACTIONS = ("matching.done", "matching.someone", "matching.pick")
ACK_ACTIONS = ("ask.ack",)
# Clicks that change someone's own settings or data say nothing about participation.
IGNORED_ACTIONS = ("checkin.", "privacy.", "dashboard.", "insight.")
THANKS_WORDS = ("thanks", "thank", "bedankt", "dank")
ASK_WORDS = ("ask", "vraag")
# `/wol ask <word> …` that is not a named question (anonymous, or the asker's follow-ups)
ANONYMOUS_WORDS = (
    "anon",
    "anoniem",
    "anonymous",
    "reply",
    "antwoord",
    "answered",
    "beantwoord",
    "hide",
    "verberg",
    "verbergen",
)

MANAGERS_ONLY = N_("Participation figures are for admins and community managers.")
UNKNOWN_COMMUNITY = N_("I don't know the community {name}. Communities: {names}.")
NO_COMMUNITIES = N_("none yet")
CHART_CAPTION = N_("Chart: consume, contribute, create and outcomes.")
CHART_SENT = N_("I've sent you the chart in a direct message.")
WEEKLY_ON = N_("You'll get these figures every Monday in a direct message. Stop with {off}.")
WEEKLY_OFF = N_("No more weekly figures. Start again with {on}.")
WEEKLY_TITLE = N_("Your weekly participation figures")
LINK_TEXT = N_("Your sign-in link for the dashboard, valid once for {minutes} minutes:")
LINK_LABEL = N_("open the dashboard")
LINK_SENT = N_("I've sent you a sign-in link in a direct message.")
LINK_NOTE = N_("Don't forward it: whoever opens it first is signed in as you.")
USAGE = N_("Use {example}: an optional community and week or month.")


def register(services: Services, router: Router) -> None:
    router.add(
        _observed, observe, group=Group.OBSERVERS, name="participation.observe", who=ANYONE
    )  # counts the clicker's own participation
    services.hooks.narration_preparers.append(counted_in_community)
    router.commands.register(
        Subcommand(
            names={"en": ("stats", "statistics"), "nl": ("cijfers", "statistieken")},
            handler=on_stats,
            order=85,
            summary=N_("Participation figures and a chart (admins and managers)"),
            usage=N_("[community] [week|month] · weekly on|off [community]"),
        )
    )
    router.commands.register(
        Subcommand(
            names={"en": ("dashboard",), "nl": ("dashboard",)},
            handler=on_dashboard,
            order=86,
            summary=N_("A sign-in link for the web dashboard (admins and managers)"),
        )
    )
    services.scheduler.add(
        Job(
            WEEKLY_JOB,
            cron("0 7 * * mon", "UTC"),
            lambda when: weekly_reports(services, when),
            grace=timedelta(hours=12),
        )
    )
    services.scheduler.add(
        Job(
            PURGE_JOB,
            cron("17 3 * * *", "UTC"),
            lambda when: purge(services, when),
            latest_only=True,
        )
    )


async def purge(services: Services, now: datetime) -> None:
    """Expired sign-in links and sessions; weekly counts older than the retention period."""
    from bot.communities import workspace_ids
    from bot.insight import week_of

    await access.purge_expired(services, now)
    for workspace_id in await workspace_ids(services):
        days = int(await services.config.value(workspace_id, "retention.days"))
        await services.participation_counts.purge_before(
            workspace_id, week_of(now - timedelta(days=days))
        )


# -- observing -----------------------------------------------------------------------------------
def _observed(event: InboundEvent) -> bool | None:
    if event.is_from_bot:
        return None
    return (
        True
        if event.kind
        in (
            EventKind.MESSAGE,
            EventKind.REACTION_ADDED,
            EventKind.HOME_OPENED,
            EventKind.ACTION,
            EventKind.COMMAND,
        )
        else None
    )


async def community_of(ctx: Context, channel_id: str | None) -> str | None:
    if not channel_id:
        return None
    kind = await ctx.config.value(ctx.event.workspace_id, "community.kind", channel_id)
    return channel_id if kind else None


async def classify(event: InboundEvent, ctx: Context) -> str | None:
    """The signal an event gives, if any (narrations arrive through `on_narration`)."""
    if event.kind is EventKind.HOME_OPENED:
        return "home"
    if event.kind is EventKind.REACTION_ADDED:
        return "reaction"
    if event.kind is EventKind.ACTION and event.action is not None:
        action_id = event.action.action_id
        if action_id.startswith(IGNORED_ACTIONS):
            return None
        if action_id.startswith(OFFER_ACTIONS):
            return "offer"
        if action_id.startswith(ACK_ACTIONS):
            return "acknowledgement"
        if action_id.startswith("ask."):  # the asker's own clicks: maybe anonymous, never
            return None
        return "click"
    if event.kind is EventKind.COMMAND:
        words = [w.lower() for w in event.text.split()]
        if len(words) > 1 and words[0] in THANKS_WORDS:
            return "thanks"
        if len(words) > 1 and words[0] in ASK_WORDS and words[1] not in ANONYMOUS_WORDS:
            return await _named_question(event, ctx, by_message=False)
        return None
    thread = event.conversation.thread_id
    if event.kind is EventKind.MESSAGE and not event.is_dm:
        if thread and thread != event.message_id:
            return await _thread_reply(event, ctx)
        kind = await ctx.config.value(event.workspace_id, "community.kind", event.conversation.id)
        if kind == "durf-te-vragen":  # every top-level message there is a question
            return await _named_question(event, ctx, by_message=True)
    return None


async def _named_question(event: InboundEvent, ctx: Context, *, by_message: bool) -> str | None:
    """A durf-te-vragen question the asks feature (an earlier router group) just stored under
    the person's name. Anonymous questions are never counted for anyone."""
    counts = ctx.participation_counts
    if by_message:
        found = await counts.asked_by(
            event.workspace_id,
            event.user.user_id,
            in_message=(event.conversation.id, event.message_id),
        )
    else:
        found = await counts.asked_by(
            event.workspace_id, event.user.user_id, since=ctx.now - timedelta(minutes=1)
        )
    return "question" if found else None


async def _thread_reply(event: InboundEvent, ctx: Context) -> str:
    """A reply in a thread: an answer to a dialogue round is the person's own view (create),
    an answer under a durf-te-vragen question is an answer, anything else a reply."""
    replied_to = await ctx.participation_counts.replied_to(
        event.workspace_id, event.message_id, event.conversation.id, event.conversation.thread_id
    )
    return {"round": "dialogue_answer", "question": "answer"}.get(replied_to or "", "reply")


async def observe(event: InboundEvent, ctx: Context) -> None:
    if ctx.anonymous:  # an anonymous asker's events are never counted for anyone
        return
    try:
        signal = await classify(event, ctx)
        if signal is None:
            return
        await record(
            ctx.db,
            event.workspace_id,
            event.user.user_id,
            signal,
            when=ctx.now,
            community=await community_of(ctx, event.conversation.id),
        )
    except Exception:  # figures must never break a conversation
        log.exception("could not record participation for %s", event.event_id)


async def counted_in_community(narration: Narration, ctx: Context) -> None:
    """A narration counts as its author's participation by its own row, in the community
    it is told in ("" for none): set before it is stored, so recording it stays one INSERT
    (bot/store/participation_counts.py)."""
    try:
        narration.community = await community_of(ctx, narration.channel_id) or ""
    except Exception:  # figures must never break a conversation
        log.exception("could not tell the community of a narration in %s", narration.channel_id)


# -- /wol stats ----------------------------------------------------------------------------------
async def on_stats(event: InboundEvent, ctx: Context, args: str) -> None:
    if not ctx.is_manager:
        await ctx.respond(ctx.text(MANAGERS_ONLY))
        return
    words = args.split()
    if words and words[0].lower() in ("weekly", "wekelijks"):
        await _subscription(event, ctx, words[1:])
        return
    period, community = WEEK, None
    names = await community_names(ctx.services, event.workspace_id)
    for word in words:
        low = word.lower()
        if low in ("week", "weeks", "weken", "weekly"):
            period = WEEK
        elif low in ("month", "months", "maand", "maanden"):
            period = MONTH
        else:
            community = resolve_community(names, word)
            if community is None:
                raise UserError(
                    UNKNOWN_COMMUNITY,
                    name=word,
                    names=", ".join(sorted(names.values())) or ctx.t.gettext(NO_COMMUNITIES),
                )
    report = await build_report(
        ctx.services, event.workspace_id, community=community, period=period
    )
    figures = await ctx.respond(summary(report, ctx.t))
    chart = await asyncio.to_thread(render_png, report, ctx.t)
    # Where the figures land in the person's DM too (Teams: its personal chat), the chart
    # (there: a file consent card) waits until they are delivered, so it never comes first.
    await ctx.outbox.send_file_dm(
        event.platform,
        event.workspace_id,
        event.user.user_id,
        f"wolbot-stats-{report.current_key}.png",
        chart,
        OutboundMessage.text(ctx.t.gettext(CHART_CAPTION)),
        key=ctx.key("stats.chart"),
        after=figures if ctx.ephemeral_as_dm else None,
    )
    await ctx.note_sent_by_dm(CHART_SENT)


async def _subscription(event: InboundEvent, ctx: Context, words: list[str]) -> None:
    on = not words or words[0].lower() in ("on", "aan", "yes", "ja")
    off = bool(words) and words[0].lower() in ("off", "uit", "no", "nee")
    if not (on or off):
        raise UserError(USAGE, example=CommandExample.of(EX_WEEKLY_ON))
    community = None
    if on and len(words) > 1:  # the figures of one community instead of the workspace
        names = await community_names(ctx.services, event.workspace_id)
        community = resolve_community(names, words[1])
        if community is None:
            raise UserError(
                UNKNOWN_COMMUNITY,
                name=words[1],
                names=", ".join(sorted(names.values())) or ctx.t.gettext(NO_COMMUNITIES),
            )
    subscriptions = ctx.report_subscriptions
    if on:
        await subscriptions.subscribe(
            event.workspace_id, event.user.user_id, event.platform, community, ctx.now
        )
        await ctx.respond(ctx.text(WEEKLY_ON, off=example(ctx.t, EX_WEEKLY_OFF)))
    else:
        await subscriptions.unsubscribe(event.workspace_id, event.user.user_id)
        await ctx.respond(ctx.text(WEEKLY_OFF, on=example(ctx.t, EX_WEEKLY_ON)))


async def weekly_reports(services: Services, when: datetime) -> None:
    """Monday's report to every manager who opted in and still holds the role."""
    for sub in await services.report_subscriptions.all():
        try:
            if not await access.may_view(services, sub.workspace_id, sub.user_id, sub.platform):
                continue
            t = await _language_of(services, sub.workspace_id, sub.user_id)
            report = await build_report(
                services, sub.workspace_id, community=sub.community, now=when
            )
            chart = await asyncio.to_thread(render_png, report, t)
            message = summary(report, t)
            title = Section(parts=(Strong(text=t.gettext(WEEKLY_TITLE)),))
            await services.outbox.send_file_dm(
                sub.platform,
                sub.workspace_id,
                sub.user_id,
                f"wolbot-week-{report.current_key}.png",
                chart,
                OutboundMessage(blocks=(title, *message.blocks)),
                key=f"{WEEKLY_JOB}:{sub.workspace_id}:{sub.user_id}:{when.date().isoformat()}",
            )
        except Exception:
            log.exception("weekly report for %s in %s failed", sub.user_id, sub.workspace_id)


async def _language_of(services: Services, workspace_id: str, user_id: str) -> Translator:
    return services.i18n.get(await services.languages.person(workspace_id, user_id))


# -- /wol dashboard ------------------------------------------------------------------------------
async def on_dashboard(event: InboundEvent, ctx: Context, args: str) -> None:
    if not ctx.is_manager:
        await ctx.respond(ctx.text(MANAGERS_ONLY))
        return
    link = await access.create_link(
        ctx.services, event.workspace_id, event.user.user_id, event.platform, ctx.t.lang
    )
    minutes = int(access.LINK_TTL.total_seconds() // 60)
    message = OutboundMessage.of(
        Section(
            parts=(
                *fill(ctx.t.gettext(LINK_TEXT), minutes=minutes),
                " ",
                Link(url=link, label=ctx.t.gettext(LINK_LABEL)),
            )
        ),
        Section(parts=(ctx.t.gettext(LINK_NOTE),)),
    )
    # By DM, and gone from the outbox once delivered: the link is a key.
    await ctx.outbox.send_dm(
        event.platform,
        event.workspace_id,
        (event.user.user_id,),
        message,
        key=ctx.key("dashboard.link"),
        erase_after_delivery=True,
    )
    await ctx.note_sent_by_dm(LINK_SENT)


# -- /wol me stats -------------------------------------------------------------------------------
MY_TITLE = N_("Your participation (only you see this):")
MY_WEEK = N_("This week: {level}. Last week: {previous}.")
MY_UP = N_("You moved up a level.")
MY_FIRST = N_("Your first week with activity here: welcome!")
MY_DOWN = N_("A quieter week than the one before, and that's fine.")
MY_SAME = N_("The same level as last week.")
MY_COUNTED = N_("What counted this week: {signals}.")
MY_NOTHING = N_("Nothing recorded yet this week. Reading in channels leaves no trace I can see.")
MY_WEEKS = N_("Your last {n} weeks: {levels}")
MY_NO_LEVEL = N_("no signal")
MY_PRIVACY = N_(
    "Only you see this. Managers see totals of groups of at least {n} people, never "
    "a person. Every level is valuable, reading too."
)


async def my_stats(event: InboundEvent, ctx: Context) -> None:
    from bot.insight.personal import my_weeks
    from bot.insight.signals import LEVEL_LABELS, SIGNALS

    t = ctx.t.gettext
    weeks = await my_weeks(ctx.db, event.workspace_id, event.user.user_id, ctx.now)
    this, before = weeks[-1], weeks[-2]

    def name(level: int) -> str:
        return t(LEVEL_LABELS[level]) if level else t(MY_NO_LEVEL)

    blocks: list[Section] = [
        Section(parts=(Strong(text=t(MY_TITLE)),)),
        Section(parts=fill(t(MY_WEEK), level=name(this.level), previous=name(before.level))),
    ]
    if this.level and before.level:
        change = (
            MY_UP
            if this.level > before.level
            else (MY_DOWN if this.level < before.level else MY_SAME)
        )
        blocks.append(Section(parts=(t(change),)))
    elif this.level:  # nothing last week: up from a quiet week, or someone new
        new = not any(w.level for w in weeks[:-1])
        blocks.append(Section(parts=(t(MY_FIRST if new else MY_UP),)))
    if this.signals:
        counted = ", ".join(
            f"{t(SIGNALS[s][1])} ({n}×)"
            for s, n in sorted(
                this.signals.items(), key=lambda item: (-SIGNALS[item[0]][0], item[0])
            )
            if s in SIGNALS
        )
        blocks.append(Section(parts=fill(t(MY_COUNTED), signals=counted)))
    else:
        blocks.append(Section(parts=(t(MY_NOTHING),)))
    blocks.append(
        Section(
            parts=fill(t(MY_WEEKS), n=len(weeks), levels=" · ".join(name(w.level) for w in weeks))
        )
    )
    min_group = await ctx.config.value(event.workspace_id, "insight.min_group")
    message = OutboundMessage(
        blocks=(*blocks, ContextBlock(parts=fill(t(MY_PRIVACY), n=int(min_group))))
    )
    await ctx.respond(message)
