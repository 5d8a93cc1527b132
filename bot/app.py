"""The composition root: `build(settings)` wires store, router, features and delivery.

No work happens at import time and nothing is global: tests build as many cores as
they like. Adapters are loaded by module name (see `ADAPTERS`) so the core never
imports a chat SDK; each adapter registers its `ChatPort` with `register_port`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import timedelta
from types import ModuleType

from bot import __version__
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import Context
from bot.delivery.outbox import Outbox
from bot.delivery.worker import DeliveryWorker
from bot.events import ConversationKind, InboundEvent
from bot.features import help as help_feature
from bot.features import language, matching, narrations
from bot.features.commands import (
    Commands,
    handle_command,
    handle_other_command,
    is_other_command,
    is_wol_command,
)
from bot.i18n import Catalogues, Translator, normalise_language
from bot.middleware import deduplicate, ignore_bots, remember, translate_errors
from bot.people import PersonDirectory
from bot.ports import ChatPort, PersonInfo
from bot.router import Router
from bot.store.delivery_log import EventLog, References
from bot.store.directory import Directory
from bot.store.engine import Database
from bot.store.narrations import NarrationRepo

log = logging.getLogger(__name__)

# Adapter packages by name. Each exposes `enabled(settings) -> bool` and
# `async attach(core, web_app)`; the console adapter is run by `wolbot chat` instead.
ADAPTERS: dict[str, str] = {
    "slack": "adapters.slack",
    "teams": "adapters.teams",
}

# Feature modules, each with `register(core)`. Order matters only for the help list.
FEATURES: tuple[Callable[[Core], None], ...] = (
    narrations.register,
    matching.register,
    language.register,
    help_feature.register,
)

EVENT_ID_RETENTION = timedelta(days=7)


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
        self.outbox = Outbox(self.db, self.clock)
        self.delivery = DeliveryWorker(
            self.db, self.outbox, self.ports, self.clock, settings.delivery
        )
        self.people = PersonDirectory(self.ports, self.directory, self.clock)
        self.narration_listeners: list[narrations.NarrationListener] = []
        self.narration_updated_listeners: list[narrations.NarrationListener] = []
        self.narration_removed_listeners: list[narrations.NarrationListener] = []
        self._started = False

    # -- wiring --------------------------------------------------------------------------------
    def register_port(self, port: ChatPort) -> None:
        self.ports[port.platform] = port

    async def start(self, *, deliver: bool = True) -> None:
        """Migrate (unless WOLBOT_AUTO_MIGRATE=0) and start delivering the outbox."""
        if self.settings.auto_migrate:
            await self.db.upgrade()
        purged = await self.event_log.purge_before(self.clock.now() - EVENT_ID_RETENTION)
        if purged:
            log.info("purged %d old event ids", purged)
        if deliver:
            self.delivery.start()
        self._started = True

    async def stop(self) -> None:
        await self.delivery.stop()
        await self.db.dispose()
        self._started = False

    # -- handling ------------------------------------------------------------------------------
    async def handle(self, event: InboundEvent) -> Context:
        """Handle one inbound event: de-duplicate, remember, dispatch. Raises StoreUnavailable
        when the database is down, so the adapter can make the platform retry."""
        await self.directory.ensure_workspace(event.workspace_id, event.platform)
        ctx = await self._context(event)
        await self.router.dispatch(event, ctx)
        return ctx

    async def _context(self, event: InboundEvent) -> Context:
        person = PersonInfo(
            user_id=event.user.user_id,
            display_name=event.user.display_name or event.user.user_id,
            timezone=event.timezone,
            locale=event.locale,
        )
        if not event.is_from_bot:
            person = await self.people.get(
                event.workspace_id, event.user.user_id, event.platform, event.user.display_name
            )
        stored = await self.directory.person(event.workspace_id, event.user.user_id)
        explicit = normalise_language(stored.language) if stored else None
        channel_lang = await self.channel_language(
            event.workspace_id, event.conversation.id, event.conversation.name
        )
        # The person's own choice wins; in a DM their platform locale comes next; otherwise
        # the channel's language (itself falling back to the workspace's and the default).
        person_lang = explicit or channel_lang
        if explicit is None and event.conversation.kind is ConversationKind.DM:
            person_lang = (
                normalise_language(event.locale)
                or normalise_language(person.locale)
                or channel_lang
            )
        return Context(
            core=self,
            event=event,
            t=self.i18n.get(person_lang),
            channel_t=self.i18n.get(channel_lang),
            person=person,
            language_is_explicit=explicit is not None,
        )

    async def channel_language(
        self, workspace_id: str, channel_id: str, channel_name: str | None = None
    ) -> str:
        """Channel override > app.yaml channel > workspace override > app.yaml > default."""
        channel = await self.directory.channel(workspace_id, channel_id)
        if channel is not None and normalise_language(channel.language):
            return channel.language or ""
        ws_config = self.settings.workspace(workspace_id)
        for key in (channel_id, channel_name or ""):
            configured = ws_config.channels.get(key)
            if configured is not None and configured.language:
                return configured.language
        workspace = await self.directory.workspace(workspace_id)
        if workspace is not None and normalise_language(workspace.language):
            return workspace.language or ""
        return ws_config.language or self.settings.language

    def translator(self, lang: str | None) -> Translator:
        return self.i18n.get(lang)

    def is_admin(self, workspace_id: str, person: PersonInfo) -> bool:
        admins = self.settings.workspace(workspace_id).admins
        return (
            person.is_admin
            or person.user_id in admins
            or (person.display_name in admins if person.display_name else False)
        )


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
