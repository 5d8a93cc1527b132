"""The services features receive: typed, named, built once by `bot.app.build`.

A feature's `register(services, router)` takes what it uses from `Services` and its handlers
reach the same services through the per-turn `Context` (`ctx.narrations`, `ctx.outbox`,
`ctx.config`, …), both by way of `ServiceAccess`. `Hooks` holds the extension points where
one feature plugs into another's work (narration listeners, privacy exporters, expert
finders, …), so features never import each other to be called.

This module imports no feature and not `bot.app`, so the composition root stays on top of the
import graph and no circle runs through the features (tests/test_architecture.py measures
it); the only circle here is with bot/context.py, whose handlers' types the hooks name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.clock import Clock
from bot.config import Settings
from bot.delivery.outbox import Outbox
from bot.events import InboundEvent
from bot.glossary import GlossaryService
from bot.i18n import Catalogues, Translator
from bot.languages import Languages
from bot.people import PersonDirectory
from bot.personal import PersonalSettings
from bot.ports import ChatPort
from bot.roles import Roles
from bot.scheduler import Scheduler
from bot.secrets import Keyring, keyring_for
from bot.setting_registry import SettingsService
from bot.store.asks import AskRepo
from bot.store.audit import AuditLog
from bot.store.checkins import CheckinRepo
from bot.store.dashboard_access import DashboardAccessRepo
from bot.store.delivery_log import EventLog, References
from bot.store.directory import Directory
from bot.store.engine import Database
from bot.store.introductions import IntroductionRepo
from bot.store.limits import Limits
from bot.store.narrations import NarrationRepo
from bot.store.outcomes import OutcomeQueries
from bot.store.participation_counts import ParticipationCountRepo
from bot.store.personal_data import PersonalData
from bot.store.profiles import ProfileRepo
from bot.store.report_subscriptions import ReportSubscriptionRepo
from bot.store.rounds import RoundRepo
from bot.store.tables import Narration
from bot.store.thanks import ThanksRepo

if TYPE_CHECKING:
    from bot.context import Context
    from bot.prompts import PromptLibrary

# A narration was recorded, edited or removed (bot/features/narrations.py calls these).
NarrationListener = Callable[[Narration, "Context"], Awaitable[None]]
# Bulk removals (erasure, retention): (workspace_id, narration ids).
NarrationsDeleted = Callable[[str, list[int]], Awaitable[None]]
# Features with personal data of their own: (workspace_id, user_id) -> data / counts.
PersonHook = Callable[[str, str], Awaitable[dict[str, Any]]]
# Who may know about a text: (workspace_id, text, people to leave out) -> user ids.
ExpertFinder = Callable[[str, str, set[str]], Awaitable[list[str]]]
# (workspace_id, asker_id, topic, channel_id, visibility, limit) -> colleagues, best first
ColleagueFinder = Callable[[str, str, str, str | None, str, int], Awaitable[list[Any]]]
# An event that must leave no trace of who caused it (an anonymous question, a click on
# the erasure confirmation).
AnonymousEvent = Callable[[InboundEvent], Awaitable[bool]]
Lifecycle = Callable[[], Awaitable[None]]


@dataclass
class Hooks:
    """Extension points: a feature appends to a list at registration, another calls them."""

    # Before a narration is stored: may fill in its columns (matching: its vector), so that
    # storing it stays one INSERT. A failure must leave the narration as it was.
    narration_preparers: list[NarrationListener] = field(default_factory=list)
    narration_listeners: list[NarrationListener] = field(default_factory=list)
    narration_updated_listeners: list[NarrationListener] = field(default_factory=list)
    narration_removed_listeners: list[NarrationListener] = field(default_factory=list)
    narrations_deleted_listeners: list[NarrationsDeleted] = field(default_factory=list)
    privacy_exporters: list[PersonHook] = field(default_factory=list)
    privacy_erasers: list[PersonHook] = field(default_factory=list)
    expert_finders: list[ExpertFinder] = field(default_factory=list)
    # "Who knows about …?" (bot/features/who.py): the matching engine's search for it.
    colleague_finders: list[ColleagueFinder] = field(default_factory=list)
    # Asked before anything is written, so no person row, channel, claim or log names them.
    anonymous_events: list[AnonymousEvent] = field(default_factory=list)
    # Anonymous events stricter still: not even a new person's platform record (which an
    # anonymous asker needs for relayed answers) is written. The erasure confirmation: its
    # click is answered at once, and nothing may outlive the erasure.
    traceless_events: list[AnonymousEvent] = field(default_factory=list)
    # Async work at start, after migrations (e.g. scheduling jobs), and at stop, before the
    # database closes (e.g. ending background work).
    start_hooks: list[Lifecycle] = field(default_factory=list)
    stop_hooks: list[Lifecycle] = field(default_factory=list)


@dataclass(eq=False)
class Services:
    """Everything a feature may use, one instance per running bot (no globals)."""

    settings: Settings  # app.yaml and the environment, as started
    clock: Clock
    db: Database
    i18n: Catalogues
    config: SettingsService  # runtime settings: app.yaml, admins' changes, defaults
    personal: PersonalSettings  # each person's own choices
    languages: Languages
    roles: Roles
    directory: Directory  # workspaces, channels and people as stored
    people: PersonDirectory  # people as the platform describes them, cached
    narrations: NarrationRepo
    outbox: Outbox
    scheduler: Scheduler
    limits: Limits
    audit: AuditLog
    personal_data: PersonalData
    event_log: EventLog
    references: References
    ports: dict[str, ChatPort]  # by platform; adapters add theirs when they attach
    # Repositories of the features' aggregates (bot/store/): features hold no SQL.
    rounds: RoundRepo
    profiles: ProfileRepo
    asks: AskRepo
    participation_counts: ParticipationCountRepo
    report_subscriptions: ReportSubscriptionRepo
    outcome_queries: OutcomeQueries
    dashboard_access: DashboardAccessRepo
    thanks: ThanksRepo
    checkins: CheckinRepo
    introductions: IntroductionRepo
    glossary: GlossaryService  # the organisation's jargon (bot/glossary.py)
    hooks: Hooks = field(default_factory=Hooks)
    _keyring: Keyring | None = field(default=None, init=False, repr=False)
    _prompts: PromptLibrary | None = field(default=None, init=False, repr=False)

    @property
    def keyring(self) -> Keyring:
        """Keyed hashes and encryption from WOLBOT_SECRET_KEY (see bot/secrets.py)."""
        if self._keyring is None:
            self._keyring = keyring_for(self.settings)
        return self._keyring

    @property
    def prompts(self) -> PromptLibrary:
        """The question sets, loaded on first use."""
        if self._prompts is None:
            from bot.prompts import PromptLibrary

            self._prompts = PromptLibrary.load()
        return self._prompts

    def translator(self, lang: str | None) -> Translator:
        return self.i18n.get(lang)

    async def channel_language(
        self, workspace_id: str, channel_id: str | None, channel_name: str | None = None
    ) -> str:
        """The language of a channel: see bot.setting_registry for the precedence."""
        return await self.languages.channel(workspace_id, channel_id, channel_name)


class ServiceAccess:
    """The services by name, for objects that carry them (`Context`, the running bot)."""

    services: Services

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def i18n(self) -> Catalogues:
        return self.services.i18n

    @property
    def config(self) -> SettingsService:
        return self.services.config

    @property
    def personal(self) -> PersonalSettings:
        return self.services.personal

    @property
    def languages(self) -> Languages:
        return self.services.languages

    @property
    def roles(self) -> Roles:
        return self.services.roles

    @property
    def directory(self) -> Directory:
        return self.services.directory

    @property
    def people(self) -> PersonDirectory:
        return self.services.people

    @property
    def narrations(self) -> NarrationRepo:
        return self.services.narrations

    @property
    def outbox(self) -> Outbox:
        return self.services.outbox

    @property
    def scheduler(self) -> Scheduler:
        return self.services.scheduler

    @property
    def limits(self) -> Limits:
        return self.services.limits

    @property
    def audit(self) -> AuditLog:
        return self.services.audit

    @property
    def personal_data(self) -> PersonalData:
        return self.services.personal_data

    @property
    def event_log(self) -> EventLog:
        return self.services.event_log

    @property
    def references(self) -> References:
        return self.services.references

    @property
    def ports(self) -> dict[str, ChatPort]:
        return self.services.ports

    @property
    def rounds(self) -> RoundRepo:
        return self.services.rounds

    @property
    def profiles(self) -> ProfileRepo:
        return self.services.profiles

    @property
    def asks(self) -> AskRepo:
        return self.services.asks

    @property
    def participation_counts(self) -> ParticipationCountRepo:
        return self.services.participation_counts

    @property
    def report_subscriptions(self) -> ReportSubscriptionRepo:
        return self.services.report_subscriptions

    @property
    def glossary(self) -> GlossaryService:
        return self.services.glossary

    @property
    def outcome_queries(self) -> OutcomeQueries:
        return self.services.outcome_queries

    @property
    def dashboard_access(self) -> DashboardAccessRepo:
        return self.services.dashboard_access

    @property
    def thanks(self) -> ThanksRepo:
        return self.services.thanks

    @property
    def checkins(self) -> CheckinRepo:
        return self.services.checkins

    @property
    def introductions(self) -> IntroductionRepo:
        return self.services.introductions

    @property
    def hooks(self) -> Hooks:
        return self.services.hooks

    @property
    def keyring(self) -> Keyring:
        return self.services.keyring

    @property
    def prompts(self) -> PromptLibrary:
        return self.services.prompts

    def translator(self, lang: str | None) -> Translator:
        return self.services.i18n.get(lang)
