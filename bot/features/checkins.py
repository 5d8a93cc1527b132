"""Check-ins: "What are you working on?" by DM, at each person's own local time.

One job runs every five minutes; for every opted-in person it works out whether one of
their slots (their days, their time, in their time zone) fell due, skipping public
holidays of their country. Each slot is claimed in the database before anything is sent,
so a restart or a second replica never asks twice. The rules that keep it from nagging:
never more than one unanswered check-in (an unanswered one counts as skipped when the
next is due), at most one gentle reminder, and none after a skipped one.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

from bot.authorisation import ADDRESSEE
from bot.clock import utc
from bot.commands import Subcommand
from bot.communities import platform_of, workspace_ids
from bot.events import InboundEvent
from bot.features.checkin_form import narrate_button
from bot.features.commands import example
from bot.i18n import N_
from bot.languages import choose
from bot.messages import Actions, Button, OutboundMessage, Section, Strong, fill
from bot.messages import Context as ContextBlock
from bot.personal import Personal, resolve
from bot.router import Router, shortcut
from bot.scheduler import Job, cron
from bot.setting_values import DAYS
from bot.store.checkins import CheckinAsk
from bot.store.tables import Narration
from bot.store.tables.admin import PersonSettings
from bot.store.tables.rhythms import CheckinState

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

log = logging.getLogger(__name__)
CHECKIN_JOB = "checkins"
CATCH_UP = timedelta(hours=2)  # a slot missed while the bot was down is still asked this late
REMIND_AFTER = timedelta(hours=4)
CHUNK = 500  # people per bulk claim / queue / save
WORKDAY_END = time(17, 30)

ASK = N_("Hi {name}! What are you working on this week?")
# {button}: the label of the narrate button under it ("Narrate my work"), as the button shows it
ASK_HOW = N_(
    "Answer here in a sentence or two, or use the {button} button below to write it in a "
    "form. I'll keep it so colleagues who work on something similar can find you. Not this "
    "week? Skip it, no problem."
)
SKIP = N_("Skip this week")
TURN_OFF = N_("Turn check-ins off")
REMIND = N_(
    "A gentle reminder: what are you working on this week? One sentence is plenty. "
    "I won't ask again."
)
SKIPPED = N_("No problem, until next time.")
TURNED_OFF = N_("Check-ins are off. Turn them on again with {example}.")
EX_ON = N_("/wol me checkins on")
THANKS = N_("Thanks! Colleagues working on something similar can find you now.")
SKIP_BUTTON, OFF_BUTTON = "checkin.skip", "checkin.off"


def register(services: Services, router: Router) -> None:
    services.scheduler.add(
        Job(
            CHECKIN_JOB,
            cron("*/5 * * * *", "UTC"),
            lambda when: run_checkins(services, when),
            grace=timedelta(minutes=30),
            latest_only=True,
        )
    )
    services.hooks.narration_listeners.append(on_narration)
    router.add(shortcut(SKIP_BUTTON, OFF_BUTTON), on_action, name="checkins.action", who=ADDRESSEE)
    router.commands.register(
        Subcommand(
            names={"en": ("pause",), "nl": ("pauze",)},
            handler=on_pause,
            summary=N_("Pause check-ins, nudges and introductions for some days"),
            usage=N_("<days>"),
            order=72,
        )
    )


@lru_cache(maxsize=64)
def _holidays(country: str, year: int) -> holidays.HolidayBase | None:
    try:
        return holidays.country_holidays(country.upper(), years=year)
    except NotImplementedError:
        log.warning("no public holidays known for country %r", country)
        return None


def is_holiday(country: str | None, day: date) -> bool:
    if not country:
        return False
    calendar = _holidays(country, day.year)
    return calendar is not None and day in calendar


def due_slots(person: Personal, zone: str, start: datetime, end: datetime) -> list[datetime]:
    """The person's check-in moments in (start, end], as UTC, holidays left out."""
    tz = ZoneInfo(zone)
    days = {DAYS.index(d) for d in person.checkin_days.split(",") if d in DAYS}
    hour, minute = (int(x) for x in person.checkin_time.split(":"))
    found = []
    local_day = start.astimezone(tz).date()
    while local_day <= end.astimezone(tz).date():
        if local_day.weekday() in days and not is_holiday(person.country, local_day):
            slot = datetime.combine(local_day, time(hour, minute), tzinfo=tz).astimezone(
                ZoneInfo("UTC")
            )
            if start < slot <= end:
                found.append(slot)
        local_day += timedelta(days=1)
    return found


async def run_checkins(services: Services, now: datetime) -> dict[str, int]:
    """Send what is due and the one reminder; returns counts (for logs and tests).

    Due slots are worked out in memory, then claimed, queued and recorded in bulk, a chunk of
    people at a time, so a fan-out to thousands stays a handful of statements per chunk."""
    counts = {"sent": 0, "skipped": 0, "reminded": 0}
    for workspace_id in await workspace_ids(services):
        people = await services.directory.people(workspace_id)
        if not people:
            continue
        defaults = await services.personal.defaults(workspace_id)
        rows = await services.personal.rows(workspace_id)
        zone = str(await services.config.value(workspace_id, "timezone"))
        states = await services.checkins.states(workspace_id)
        due: list[tuple[Personal, str, datetime]] = []
        for person in people:
            me = resolve(workspace_id, person.user_id, rows.get(person.user_id), defaults)
            if not me.checkins or me.paused(now):
                continue
            their_zone = person.timezone or zone
            due += [
                (me, person.display_name or person.user_id, slot)
                for slot in due_slots(me, their_zone, now - CATCH_UP, now)
            ]
            state = states.get(person.user_id)
            pending = state.pending_since if state is not None else None
            if state is not None and pending is not None and _reminder_due(state, now, their_zone):
                reminder_id = f"checkin-reminder:{workspace_id}:{person.user_id}"
                if await services.scheduler.claim(reminder_id, utc(pending)):
                    await _remind(services, me)
                    state.reminded = True
                    states[person.user_id] = await _save(services, state)
                    counts["reminded"] += 1
        for start in range(0, len(due), CHUNK):
            sent, skipped = await _ask_chunk(
                services, workspace_id, due[start : start + CHUNK], states, rows, now
            )
            counts["sent"] += sent
            counts["skipped"] += skipped
    if counts["sent"] or counts["reminded"]:
        log.info("check-ins: %s", counts)
    return counts


async def _ask_chunk(
    services: Services,
    workspace_id: str,
    chunk: list[tuple[Personal, str, datetime]],
    states: dict[str, CheckinState],
    rows: dict[str, PersonSettings],
    now: datetime,
) -> tuple[int, int]:
    """Claim, queue and record a chunk of check-ins in one transaction: a crash or an outage
    leaves either all three or none (then the next run asks again)."""
    default_lang = await services.channel_language(workspace_id, None)
    job_ids = [f"checkin:{workspace_id}:{me.user_id}" for me, _, _ in chunk]
    asks = []
    for job_id, (me, name, slot) in zip(job_ids, chunk, strict=True):
        previous = states.get(me.user_id)
        asks.append(
            CheckinAsk(
                job_id,
                slot,
                me.user_id,
                ask_message(services, choose(rows.get(me.user_id), default_lang), me.user_id, name),
                key=f"{job_id}:{slot.isoformat()}",
                # the last one went unanswered: it counts as skipped
                skipped=previous is not None and previous.pending_since is not None,
            )
        )
    mine = await services.checkins.ask(
        workspace_id,
        platform_of(workspace_id),
        asks,
        now,
        scheduler=services.scheduler,
        outbox=services.outbox,
    )
    if not mine:
        return 0, 0
    services.outbox.wake()
    return len(mine), sum(a.skipped for a in mine)


def _reminder_due(state: CheckinState, now: datetime, zone: str) -> bool:
    if state.pending_since is None or state.reminded or state.last_skipped:
        return False
    if utc(state.pending_since) + REMIND_AFTER > now:
        return False
    local = now.astimezone(ZoneInfo(zone))
    return (
        local.time() <= WORKDAY_END
        and local.date() == utc(state.pending_since).astimezone(ZoneInfo(zone)).date()
    )


async def _save(services: Services, state: CheckinState) -> CheckinState:
    return await services.checkins.save(state)


def ask_message(services: Services, language: str, user_id: str, name: str) -> OutboundMessage:
    t = services.translator(language)
    # the answer in a form (bot/features/checkin_form.py), as if typed here; the hint names
    # the button by its own label
    narrate = narrate_button(t, user_id)
    return OutboundMessage.of(
        Section(parts=(t.gettext(ASK).replace("{name}", name),)),
        ContextBlock(parts=fill(t.gettext(ASK_HOW), button=Strong(text=narrate.label))),
        Actions(
            elements=(
                narrate,
                Button(label=t.gettext(SKIP), action_id=SKIP_BUTTON, value=user_id),
                Button(label=t.gettext(TURN_OFF), action_id=OFF_BUTTON, value=user_id),
            )
        ),
    )


async def _remind(services: Services, me: Personal) -> None:
    t = services.translator(await services.languages.person(me.workspace_id, me.user_id))
    state_key = f"checkin-reminder:{me.workspace_id}:{me.user_id}:{services.clock.now().date()}"
    await services.outbox.send_dm(
        platform_of(me.workspace_id),
        me.workspace_id,
        (me.user_id,),
        OutboundMessage.text(t.gettext(REMIND)),
        key=state_key,
    )


async def _pending(services: Services, workspace_id: str, user_id: str) -> CheckinState | None:
    return await services.checkins.pending(workspace_id, user_id)


async def on_narration(narration: Narration, ctx: Context) -> None:
    """A DM narration while a check-in waits is its answer."""
    if narration.visibility != "dm" or narration.source != "dm":
        return
    state = await _pending(ctx.services, narration.workspace_id, narration.author_id)
    if state is None:
        return
    state.pending_since, state.answered_at, state.last_skipped = None, ctx.now, False
    await ctx.checkins.answered(state, narration.id)
    narration.source = "checkin"
    await ctx.reply(ctx.text(THANKS))


async def on_action(event: InboundEvent, ctx: Context) -> None:
    assert event.action is not None
    state = await _pending(ctx.services, event.workspace_id, event.user.user_id)
    if state is not None:
        state.pending_since, state.last_skipped = None, True
        await _save(ctx.services, state)
    if event.action.action_id == OFF_BUTTON:
        await ctx.personal.update(event.workspace_id, event.user.user_id, ctx.now, checkins=False)
        await ctx.respond(ctx.text(TURNED_OFF, example=example(ctx.t, EX_ON)))
    else:
        await ctx.respond(ctx.text(SKIPPED))


async def on_pause(event: InboundEvent, ctx: Context, args: str) -> None:
    from bot.features.me import on_me

    await on_me(event, ctx, f"pause {args}")
