"""The running bot: what `bot.app.build` returns and adapters drive.

It starts and stops the background work (migrations, the delivery worker, the scheduler,
features' start and stop hooks) and hands each inbound event to `Turns`. Features never see
it: they receive `Services` (bot/services.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot import __version__
from bot.commands import Commands
from bot.context import Context
from bot.delivery.worker import DeliveryWorker
from bot.events import InboundEvent
from bot.ports import ChatPort
from bot.router import Router
from bot.services import ServiceAccess, Services
from bot.turns import Turns

log = logging.getLogger(__name__)

EVENT_ID_RETENTION = timedelta(days=7)


class Wolbot(ServiceAccess):
    def __init__(self, services: Services, router: Router, delivery: DeliveryWorker) -> None:
        self.version = __version__
        self.services = services
        self.router = router
        self.delivery = delivery
        self.turns = Turns(services, router)
        self._started = False

    @property
    def commands(self) -> Commands:
        return self.router.commands

    def register_port(self, port: ChatPort) -> None:
        self.services.ports[port.platform] = port

    async def start(self, *, deliver: bool = True, schedule: bool | None = None) -> None:
        """Migrate (unless WOLBOT_AUTO_MIGRATE=0), start delivering the outbox and, with
        `schedule`, run scheduled jobs (catching up what fell due while the bot was down)."""
        s = self.services
        s.keyring  # noqa: B018  (fail fast: a shared database needs WOLBOT_SECRET_KEY)
        if s.settings.auto_migrate:
            await s.db.upgrade()
        purged = await s.event_log.purge_before(s.clock.now() - EVENT_ID_RETENTION)
        if purged:
            log.info("purged %d old event ids", purged)
        for hook in s.hooks.start_hooks:
            await hook()
        if deliver:
            self.delivery.start()
        if deliver if schedule is None else schedule:
            now = s.clock.now()
            await s.scheduler.log_dropped(now)
            await s.scheduler.run_due(now)
            s.scheduler.start()
        self._started = True

    async def stop(self) -> None:
        self.services.scheduler.shutdown()
        await self.delivery.stop()
        for hook in self.services.hooks.stop_hooks:
            await hook()
        await self.services.db.dispose()
        self._started = False

    async def handle(self, event: InboundEvent, *, claimed: bool = False) -> Context:
        """Handle one inbound event (bot/turns.py). Raises StoreUnavailable when the database
        is down, so the adapter can make the platform retry. `claimed`: the event comes from
        the inbox (bot.delivery.inbox), whose row was its duplicate check."""
        return await self.turns.handle(event, claimed=claimed)

    async def is_anonymous(self, event: InboundEvent) -> bool:
        return await self.turns.is_anonymous(event)

    async def is_traceless(self, event: InboundEvent) -> bool:
        return await self.turns.is_traceless(event)

    async def channel_language(
        self, workspace_id: str, channel_id: str | None, channel_name: str | None = None
    ) -> str:
        return await self.services.channel_language(workspace_id, channel_id, channel_name)
