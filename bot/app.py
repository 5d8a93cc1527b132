"""The composition root: `build(settings)` wires store, router, features and delivery.

No work happens at import time and nothing is global: tests build as many cores as
they like. Adapters are loaded by module name (see `ADAPTERS`) so the core never
imports a chat SDK; each adapter registers its `ChatPort` with `register_port`.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from types import ModuleType
from typing import Any

from bot import __version__
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import Context
from bot.delivery.outbox import Outbox
from bot.delivery.scheduler import Scheduler
from bot.delivery.worker import DeliveryWorker
from bot.events import ConversationKind, EventKind, InboundEvent
from bot.features import (
    admin,
    ask_ack,
    ask_nudges,
    asks,
    checkins,
    kudos,
    language,
    matching,
    me,
    narrations,
    participation,
    privacy,
    round_admin,
    rounds,
    share_work,
    welcome,
)
from bot.features import help as help_feature
from bot.features.commands import (
    Commands,
    handle_command,
    handle_other_command,
    is_other_command,
    is_wol_command,
)
from bot.glossary import GlossaryService
from bot.i18n import Catalogues, Translator, normalise_language
from bot.langdetect import detect_language
from bot.languages import Languages, choose, own_language
from bot.logs import log_ids
from bot.metrics import METRICS
from bot.middleware import deduplicate, ignore_bots, remember, translate_errors
from bot.people import PersonDirectory
from bot.personal import PersonalSettings
from bot.ports import ChatPort, PersonInfo
from bot.roles import ADMIN, Roles
from bot.router import Router
from bot.secrets import ANON_EVENT, Keyring, keyring_for
from bot.setting_registry import SettingsService
from bot.store.asks import AskRepo
from bot.store.audit import AuditLog
from bot.store.dashboard_access import DashboardAccessRepo
from bot.store.delivery_log import EventLog, References
from bot.store.directory import Directory
from bot.store.engine import Database
from bot.store.limits import Limits
from bot.store.narrations import NarrationRepo
from bot.store.outcomes import OutcomeQueries
from bot.store.participation_counts import ParticipationCountRepo
from bot.store.personal_data import PersonalData
from bot.store.profiles import ProfileRepo
from bot.store.report_subscriptions import ReportSubscriptionRepo
from bot.store.rounds import RoundRepo

log = logging.getLogger(__name__)

# Adapter packages by name. Each exposes `enabled(settings) -> bool` and
# `async attach(core, web_app)`; the console adapter is run by `wolbot chat` instead.
ADAPTERS: dict[str, str] = {
    "slack": "adapters.slack",
    "teams": "adapters.teams",
    "dashboard": "adapters.dashboard",
}

# Feature modules, each with `register(core)`. Order matters only for the help list.
FEATURES: tuple[Callable[[Core], None], ...] = (
    narrations.register,
    matching.register,
    checkins.register,
    rounds.register,
    asks.register,
    ask_ack.register,
    ask_nudges.register,
    kudos.register,
    welcome.register,
    me.register,
    language.register,
    privacy.register,
    admin.register,
    round_admin.register,
    participation.register,
    help_feature.register,
    share_work.register,
)
NarrationsDeleted = Callable[[str, list[int]], Awaitable[None]]
PersonHook = Callable[[str, str], Awaitable[dict[str, Any]]]
ExpertFinder = Callable[[str, str, set[str]], Awaitable[list[str]]]
# (workspace_id, asker_id, topic, channel_id, visibility, limit) -> colleagues, best first
ColleagueFinder = Callable[[str, str, str, str | None, str, int], Awaitable[list[Any]]]

EVENT_ID_RETENTION = timedelta(days=7)
# Events whose text tells the language a person writes in (bot.languages).
_WRITTEN = frozenset({EventKind.MESSAGE, EventKind.COMMAND})


class Core:
    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, db: Database | None = None
    ) -> None:
        self.version = __version__
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.db = db or Database(settings.database_url)
        self.i18n = Catalogues()
        self.router = Router()
        self.commands = Commands()
        self.ports: dict[str, ChatPort] = {}
        self.directory = Directory(self.db)
        self.event_log = EventLog(self.db)
        self.references = References(self.db)
        self.narrations = NarrationRepo(self.db)
        # Repositories of the features' aggregates (bot/store/): features hold no SQL.
        self.rounds = RoundRepo(self.db)
        self.profiles = ProfileRepo(self.db)
        self.asks = AskRepo(self.db)
        self.participation_counts = ParticipationCountRepo(self.db)
        self.report_subscriptions = ReportSubscriptionRepo(self.db)
        self.outcome_queries = OutcomeQueries(self.db)
        self.dashboard_access = DashboardAccessRepo(self.db)
        self.config = SettingsService(self.db, settings)
        self.personal = PersonalSettings(self.db, self.config)
        self.languages = Languages(self.personal, self.config)
        self.roles = Roles(self.db, settings)
        self.audit = AuditLog(self.db)
        self.glossary = GlossaryService(self.db, settings)  # the organisation's jargon
        self.personal_data = PersonalData(self.db)
        self.scheduler = Scheduler(self.db, self.clock)
        self._keyring: Keyring | None = None
        self.outbox = Outbox(self.db, self.clock)
        self.limits = Limits(self.db, self.clock)
        self.delivery = DeliveryWorker(
            self.db, self.outbox, self.ports, self.clock, settings.delivery
        )
        self.people = PersonDirectory(self.ports, self.directory, self.clock)
        self.narration_listeners: list[narrations.NarrationListener] = []
        self.narration_updated_listeners: list[narrations.NarrationListener] = []
        self.narration_removed_listeners: list[narrations.NarrationListener] = []
        # Bulk removals (erasure, retention): (workspace_id, narration ids).
        self.narrations_deleted_listeners: list[NarrationsDeleted] = []
        # Features with personal data of their own: (workspace_id, user_id) -> data / counts.
        self.privacy_exporters: list[PersonHook] = []
        self.privacy_erasers: list[PersonHook] = []
        # Who may know about a text: (workspace_id, text, people to leave out) -> user ids.
        self.expert_finders: list[ExpertFinder] = []
        # "Who knows about …?" (bot/features/who.py): the matching engine's search for it.
        self.colleague_finders: list[ColleagueFinder] = []
        # Events that must leave no trace of who caused them (anonymous questions): asked
        # before anything is written, so no person row, channel, claim or log names them.
        self.anonymous_events: list[Callable[[InboundEvent], Awaitable[bool]]] = []
        # Async work each feature needs at start, after migrations (e.g. scheduling jobs).
        self.start_hooks: list[Callable[[], Awaitable[None]]] = []
        # ... and at stop, before the database closes (e.g. ending background work).
        self.stop_hooks: list[Callable[[], Awaitable[None]]] = []
        self._prompts: Any = None
        self._started = False

    # -- wiring --------------------------------------------------------------------------------
    def register_port(self, port: ChatPort) -> None:
        self.ports[port.platform] = port

    async def start(self, *, deliver: bool = True, schedule: bool | None = None) -> None:
        """Migrate (unless WOLBOT_AUTO_MIGRATE=0), start delivering the outbox and, with
        `schedule`, run scheduled jobs (catching up what fell due while the bot was down)."""
        self.keyring  # noqa: B018  (fail fast: a shared database needs WOLBOT_SECRET_KEY)
        if self.settings.auto_migrate:
            await self.db.upgrade()
        purged = await self.event_log.purge_before(self.clock.now() - EVENT_ID_RETENTION)
        if purged:
            log.info("purged %d old event ids", purged)
        for hook in self.start_hooks:
            await hook()
        if deliver:
            self.delivery.start()
        if deliver if schedule is None else schedule:
            now = self.clock.now()
            await self.scheduler.log_dropped(now)
            await self.scheduler.run_due(now)
            self.scheduler.start()
        self._started = True

    async def stop(self) -> None:
        self.scheduler.shutdown()
        await self.delivery.stop()
        for hook in self.stop_hooks:
            await hook()
        await self.db.dispose()
        self._started = False

    # -- handling ------------------------------------------------------------------------------
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
        await self.directory.ensure_workspace(event.workspace_id, event.platform)
        anonymous = await self.is_anonymous(event)
        with log_ids(event_id=None if anonymous else event.event_id):
            ctx = await self._context(event, anonymous=anonymous)
            ctx.claimed = claimed
            await self.router.dispatch(event, ctx)
        if ctx.written is not None and not ctx.anonymous:
            await self.languages.remember(event.workspace_id, event.user.user_id, ctx.written,
                                          self.clock.now())
        return ctx

    async def is_anonymous(self, event: InboundEvent) -> bool:
        if event.is_from_bot:
            return False
        for predicate in self.anonymous_events:
            if await predicate(event):
                return True
        return False

    async def _context(self, event: InboundEvent, *, anonymous: bool = False) -> Context:
        person = PersonInfo(user_id=event.user.user_id,
                            display_name=event.user.display_name or event.user.user_id,
                            timezone=event.timezone, locale=event.locale)
        if not event.is_from_bot:
            person = await self.people.get(event.workspace_id, event.user.user_id,
                                           event.platform, event.user.display_name,
                                           remember=not anonymous)
        written = None
        if not event.is_from_bot and event.text and event.kind in _WRITTEN:
            written = detect_language(event.text)
        row = await self.personal.row(event.workspace_id, event.user.user_id)
        explicit = normalise_language(row.language) if row is not None else None
        channel_lang = await self.channel_language(event.workspace_id, event.conversation.id,
                                                   event.conversation.name)
        # bot.languages: their choice, else what they last wrote in, else (in a DM) their
        # platform locale, else the channel's language.
        locale = None
        if event.conversation.kind is ConversationKind.DM:
            locale = event.locale or person.locale
        person_lang = choose(row, channel_lang, locale=locale, written=written)
        roles = await self.roles.of(event.workspace_id, person)
        event_ref = (self.keyring.mac(ANON_EVENT, event.workspace_id, event.event_id)[:40]
                     if anonymous else event.event_id)
        return Context(core=self, event=event, t=self.i18n.get(person_lang),
                       channel_t=self.i18n.get(channel_lang), person=person,
                       roles=frozenset(roles), language_is_explicit=explicit is not None,
                       anonymous=anonymous, event_ref=event_ref, written=written,
                       language_is_known=own_language(row, written) is not None)

    async def channel_language(self, workspace_id: str, channel_id: str | None,
                               channel_name: str | None = None) -> str:
        """The language of a channel: see bot.setting_registry for the precedence."""
        return await self.languages.channel(workspace_id, channel_id, channel_name)

    @property
    def keyring(self) -> Keyring:
        """Keyed hashes and encryption from WOLBOT_SECRET_KEY (see bot/secrets.py)."""
        if self._keyring is None:
            self._keyring = keyring_for(self.settings)
        return self._keyring

    @property
    def prompts(self) -> Any:
        """The question sets (bot.prompts.PromptLibrary), loaded on first use."""
        if self._prompts is None:
            from bot.prompts import PromptLibrary

            self._prompts = PromptLibrary.load()
        return self._prompts

    def translator(self, lang: str | None) -> Translator:
        return self.i18n.get(lang)

    async def is_admin(self, workspace_id: str, person: PersonInfo) -> bool:
        return ADMIN in await self.roles.of(workspace_id, person)


def build(settings: Settings, *, clock: Clock | None = None, db: Database | None = None) -> Core:
    core = Core(settings, clock=clock, db=db)
    router = core.router
    router.use(ignore_bots)
    router.use(deduplicate)
    router.use(remember)
    router.use(translate_errors)
    router.add(is_wol_command, handle_command, name="commands")
    router.add(is_other_command, handle_other_command, name="commands.other")
    for register in FEATURES:
        register(core)
    return core


def load_adapter(name: str) -> ModuleType:
    return importlib.import_module(ADAPTERS[name])
