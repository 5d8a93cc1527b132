"""The composition root: `build(settings)` wires services, router, features and delivery.

Wiring only: the services are in bot/services.py, the handling of one event in bot/turns.py,
starting and stopping in bot/runtime.py (`Wolbot`, what `build` returns). No work happens at
import time and nothing is global: tests build as many bots as they like. Adapters are loaded
by module name (see `ADAPTERS`) so the core never imports a chat SDK; each adapter registers
its `ChatPort` with `Wolbot.register_port`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.delivery.outbox import Outbox
from bot.delivery.worker import DeliveryWorker
from bot.features import (
    admin,
    ask_ack,
    ask_nudges,
    asks,
    checkin_form,
    checkins,
    commands,
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
from bot.glossary import GlossaryService
from bot.i18n import Catalogues
from bot.languages import Languages
from bot.middleware import deduplicate, ignore_bots, load_context, remember, translate_errors
from bot.people import PersonDirectory
from bot.personal import PersonalSettings
from bot.ports import ChatPort
from bot.roles import Roles
from bot.router import Router
from bot.runtime import Wolbot
from bot.scheduler import Scheduler
from bot.services import Services
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
from bot.store.thanks import ThanksRepo

# Adapter packages by name. Each exposes `enabled(settings) -> bool` and
# `async attach(core, web_app)` (core: the running `Wolbot`); the console adapter is run by
# `wolbot chat` instead.
ADAPTERS: dict[str, str] = {
    "slack": "adapters.slack",
    "teams": "adapters.teams",
    "dashboard": "adapters.dashboard",
}

# Feature modules, each with `register(services, router)`. Order matters only for the help list.
FEATURES: tuple[Callable[[Services, Router], None], ...] = (
    narrations.register,
    matching.register,
    checkins.register,
    checkin_form.register,
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


def services_for(
    settings: Settings, *, clock: Clock | None = None, db: Database | None = None
) -> Services:
    """The services of one bot, on `db` (default: the configured database)."""
    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    config = SettingsService(db, settings)
    personal = PersonalSettings(db, config)
    directory = Directory(db)
    ports: dict[str, ChatPort] = {}
    limits = Limits(db, clock)
    return Services(
        settings=settings,
        clock=clock,
        db=db,
        i18n=Catalogues(),
        config=config,
        personal=personal,
        languages=Languages(personal, config),
        roles=Roles(db, settings),
        directory=directory,
        people=PersonDirectory(ports, directory, clock),
        narrations=NarrationRepo(db),
        outbox=Outbox(db, clock),
        scheduler=Scheduler(db, clock),
        limits=limits,
        audit=AuditLog(db),
        personal_data=PersonalData(db),
        event_log=EventLog(db),
        references=References(db),
        ports=ports,
        rounds=RoundRepo(db),
        profiles=ProfileRepo(db),
        asks=AskRepo(db, limits),
        thanks=ThanksRepo(db, limits),
        checkins=CheckinRepo(db),
        introductions=IntroductionRepo(db),
        participation_counts=ParticipationCountRepo(db),
        report_subscriptions=ReportSubscriptionRepo(db),
        outcome_queries=OutcomeQueries(db),
        dashboard_access=DashboardAccessRepo(db),
        glossary=GlossaryService(db, settings),
    )


def build(settings: Settings, *, clock: Clock | None = None, db: Database | None = None) -> Wolbot:
    services = services_for(settings, clock=clock, db=db)
    router = Router()
    router.use(ignore_bots)
    router.use(deduplicate)
    router.use(load_context)
    router.use(remember)
    router.use(translate_errors)
    commands.register(services, router)
    delivery = DeliveryWorker(
        services.db, services.outbox, services.ports, services.clock, settings.delivery
    )
    bot = Wolbot(services, router, delivery)
    for register in FEATURES:
        register(services, router)
    return bot


def load_adapter(name: str) -> ModuleType:
    return importlib.import_module(ADAPTERS[name])
