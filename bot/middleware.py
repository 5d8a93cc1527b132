"""The middleware every event passes through, outermost first: `ignore_bots`, `deduplicate`,
`load_context` (the cheap checks before any lookup), `remember`, `translate_errors`."""

from __future__ import annotations

import asyncio
import logging

from bot.context import Context
from bot.errors import StoreUnavailable, UserError
from bot.events import EventKind, InboundEvent
from bot.i18n import N_
from bot.messages import OutboundMessage
from bot.router import Next
from bot.store.delivery_log import coarse_time
from bot.turns import load

log = logging.getLogger(__name__)

SORRY = N_(
    "Sorry, something went wrong on my side and I could not finish this. It has been "
    "logged for the people who run me. Please try again in a moment."
)


async def ignore_bots(event: InboundEvent, ctx: Context, next_: Next) -> None:
    """Never react to bots, ourselves included: no loops, no echo."""
    if event.is_from_bot:
        return
    await next_()


async def deduplicate(event: InboundEvent, ctx: Context, next_: Next) -> None:
    """Handle each platform event id once, across retries, restarts and replicas.

    The claim is released when handling fails for an unexpected reason, so the
    platform's own retry gets a second chance instead of being silently dropped.
    """
    if ctx.claimed:  # the inbox's row was this event's one duplicate check
        await next_()
        return
    events = ctx.event_log
    event_id = ctx.event_ref or event.event_id  # a keyed hash for an anonymous event
    if not await events.claim(event.workspace_id, event_id, ctx.now):
        log.info("duplicate event %s/%s ignored", event.workspace_id, event_id)
        ctx.handled_by.append("duplicate")
        return
    try:
        await next_()
    except BaseException as exc:
        await _release(ctx, event, retry=not isinstance(exc, asyncio.CancelledError))
        raise
    try:
        await events.complete(event.workspace_id, event_id, ctx.now)
    except StoreUnavailable:  # handled all the same; a late retry may repeat idempotent work
        log.warning("could not mark event %s/%s as handled", event.workspace_id, event_id)


# Seconds between attempts to release a claim while the database is unavailable (about 15 s
# in all): a claim left behind would make the platform's retry look like a duplicate, and
# the event would be lost although it was never handled.
RELEASE_RETRY = (0.2, 0.5, 1.0, 2.0, 4.0, 7.0)


async def _release(ctx: Context, event: InboundEvent, *, retry: bool) -> None:
    for delay in (*(RELEASE_RETRY if retry else ()), None):
        try:
            await ctx.event_log.release(event.workspace_id, ctx.event_ref or event.event_id)
            return
        except StoreUnavailable:
            if delay is None:
                log.error(
                    "could not release the claim on event %s/%s after a failure: a retry "
                    "of it will be ignored as a duplicate",
                    event.workspace_id,
                    ctx.event_ref or event.event_id,
                )
                return
            await asyncio.sleep(delay)


async def load_context(event: InboundEvent, ctx: Context, next_: Next) -> None:
    """The turn's person, languages and roles, looked up once, after the cheap checks above
    (bot messages and duplicates never cost a lookup)."""
    await load(ctx)
    await next_()


async def remember(event: InboundEvent, ctx: Context, next_: Next) -> None:
    """Keep what later, proactive work needs: the conversation reference and the channel.

    An anonymous event keeps only a reference the platform needs to answer at all (Teams),
    dated to the day, and no channel row (a DM's row names its person)."""
    if event.reference is not None:
        await ctx.references.save(
            event.workspace_id,
            event.conversation.id,
            event.platform,
            event.reference,
            coarse_time(ctx.now) if ctx.anonymous else ctx.now,
        )
    if ctx.anonymous:
        await next_()
        return
    if event.kind in (EventKind.MESSAGE, EventKind.COMMAND, EventKind.BOT_ADDED):
        # a DM's "name" is its person, so erasure can find the conversation again
        name = event.user.user_id if event.is_dm else event.conversation.name
        await ctx.directory.remember_channel(
            event.workspace_id, event.conversation.id, event.conversation.kind.value, name, ctx.now
        )
    await next_()


async def translate_errors(event: InboundEvent, ctx: Context, next_: Next) -> None:
    """Bad input gets a friendly answer in the person's language; bugs get an apology and a log
    line with the traceback. Database outages propagate, so the adapter makes the platform retry."""
    try:
        await next_()
    except StoreUnavailable:
        raise
    except UserError as exc:
        log.info(
            "user error on %s/%s: %s",
            event.workspace_id,
            ctx.event_ref or event.event_id,
            exc.msgid,
        )
        await ctx.respond(OutboundMessage.text(*exc.parts(ctx.t)))
    except Exception:
        log.exception(
            "error handling %s event %s/%s",
            event.kind,
            event.workspace_id,
            ctx.event_ref or event.event_id,
        )
        if event.kind in (
            EventKind.MESSAGE,
            EventKind.COMMAND,
            EventKind.ACTION,
            EventKind.FORM_SUBMIT,
            EventKind.SHORTCUT,
        ):
            await ctx.respond(ctx.text(SORRY))
