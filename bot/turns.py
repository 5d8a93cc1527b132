"""One inbound event, one turn: the context it is handled in, then the router.

The context says who caused the event (as the platform describes them), which language to
answer in and which roles they have; the router's middleware and handlers do the rest.
"""

from __future__ import annotations

import time

from bot.context import Context
from bot.events import ConversationKind, EventKind, InboundEvent
from bot.i18n import normalise_language
from bot.langdetect import detect_language
from bot.languages import choose, own_language
from bot.logs import log_ids
from bot.metrics import METRICS
from bot.ports import PersonInfo
from bot.router import Router
from bot.secrets import ANON_EVENT
from bot.services import Services

# Events whose text tells the language a person writes in (bot.languages).
_WRITTEN = frozenset({EventKind.MESSAGE, EventKind.COMMAND})


class Turns:
    def __init__(self, services: Services, router: Router) -> None:
        self.services, self.router = services, router

    async def handle(self, event: InboundEvent, *, claimed: bool = False) -> Context:
        """Handle one inbound event: de-duplicate, remember, dispatch. Raises StoreUnavailable
        when the database is down, so the adapter can make the platform retry. `claimed`: the
        event comes from the inbox (bot.delivery.inbox), whose row was its duplicate check."""
        METRICS.events_received.labels(event.platform, event.kind).inc()
        start, outcome = time.perf_counter(), "error"
        try:
            with log_ids(workspace_id=event.workspace_id):
                ctx = await self._handle(event, claimed)
            outcome = "ok"
            return ctx
        finally:
            METRICS.handled(event.platform, event.kind, outcome, time.perf_counter() - start)

    async def _handle(self, event: InboundEvent, claimed: bool = False) -> Context:
        s = self.services
        await s.directory.ensure_workspace(event.workspace_id, event.platform)
        anonymous = await self.is_anonymous(event)
        with log_ids(event_id=None if anonymous else event.event_id):
            # Cheap things first: the turn starts with what the event itself says; the bot
            # filter and the duplicate check run on that, and only then the `load_context`
            # middleware looks up the person, their language, the channel's and their roles.
            ctx = self.context(event, anonymous=anonymous, claimed=claimed)
            await self.router.dispatch(event, ctx)
        return ctx

    async def is_anonymous(self, event: InboundEvent) -> bool:
        if event.is_from_bot:
            return False
        for predicate in self.services.hooks.anonymous_events:
            if await predicate(event):
                return True
        return await self.is_traceless(event)

    async def is_traceless(self, event: InboundEvent) -> bool:
        """An anonymous event after which no new record of its person may stay at all
        (`Hooks.traceless_events`)."""
        if event.is_from_bot:
            return False
        for predicate in self.services.hooks.traceless_events:
            if await predicate(event):
                return True
        return False

    def context(
        self, event: InboundEvent, *, anonymous: bool = False, claimed: bool = False
    ) -> Context:
        """The turn as the event alone tells it, without any lookup (see `load_context`)."""
        s = self.services
        person = PersonInfo(
            user_id=event.user.user_id,
            display_name=event.user.display_name or event.user.user_id,
            timezone=event.timezone,
            locale=event.locale,
        )
        event_ref = (
            s.keyring.mac(ANON_EVENT, event.workspace_id, event.event_id)[:40]
            if anonymous
            else event.event_id
        )
        t = s.i18n.get(event.locale)
        return Context(
            services=s,
            event=event,
            t=t,
            channel_t=t,
            person=person,
            anonymous=anonymous,
            event_ref=event_ref,
            claimed=claimed,
        )


async def load(ctx: Context) -> None:
    """Load the turn's person, languages and roles, once, after the bot filter and the
    duplicate check (the `load_context` middleware, bot/middleware.py)."""
    s, event = ctx.services, ctx.event
    person = await s.people.get(
        event.workspace_id,
        event.user.user_id,
        event.platform,
        event.user.display_name,
        remember=not ctx.anonymous,
    )
    written = None
    if event.text and event.kind in _WRITTEN:
        written = detect_language(event.text)
    row = await s.personal.row(event.workspace_id, event.user.user_id)
    explicit = normalise_language(row.language) if row is not None else None
    channel_lang = await s.channel_language(
        event.workspace_id, event.conversation.id, event.conversation.name
    )
    # bot.languages: their choice, else what they last wrote in, else (in a DM) their
    # platform locale, else the channel's language.
    locale = None
    if event.conversation.kind is ConversationKind.DM:
        locale = event.locale or person.locale
    person_lang = choose(row, channel_lang, locale=locale, written=written)
    roles = await s.roles.of(event.workspace_id, person)
    ctx.person, ctx.person_roles, ctx.written = person, frozenset(roles), written
    ctx.t, ctx.channel_t = s.i18n.get(person_lang), s.i18n.get(channel_lang)
    ctx.language_is_explicit = explicit is not None
    ctx.language_is_known = own_language(row, written) is not None
    if written is not None and not ctx.anonymous:
        # stored before the handlers run, so a message to several people made in this very
        # turn (an introduction) already speaks the language this person just wrote in
        await s.languages.remember(event.workspace_id, event.user.user_id, written, ctx.now)
