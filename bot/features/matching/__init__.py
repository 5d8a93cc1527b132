"""Matching: connect narrations to colleagues who did similar work or know about it.

`register(services, router)` wires one `MatchingEngine` (see engine.py) in: the narration
listeners (index every narration and answer with suggestions), bulk removals and erasure,
the suggestion buttons, introductions (bot/features/intros.py) and profile topics
(bot/features/profiles.py). The engine lives in the closures registered here; nothing is
global.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import TYPE_CHECKING

from bot.authorisation import ANYONE, owner
from bot.config import Settings
from bot.router import Router, action

if TYPE_CHECKING:
    from bot.matching.encoder import Encoder
    from bot.services import Services

log = logging.getLogger(__name__)


def register(services: Services, router: Router) -> None:
    from bot.features import intros, profiles, who
    from bot.features.matching.feature import VIEW, Suggestions
    from bot.matching.engine import MatchingEngine

    engine = MatchingEngine(
        services.db,
        encoder=encoder_for(services.settings),
        clock=services.clock,
        glossary=services.glossary.pairs,
    )
    services.glossary.listeners.append(engine.glossary_changed)
    hooks = services.hooks

    async def preload() -> None:
        started = time.perf_counter()
        count = await engine.preload()
        log.info("matching ready: %d items in %.1f s", count, time.perf_counter() - started)

    hooks.start_hooks.append(preload)
    hooks.stop_hooks.append(engine.stop)
    suggestions = Suggestions(engine)
    hooks.narration_preparers.append(suggestions.prepare)
    hooks.narration_listeners.append(suggestions.on_narration)
    hooks.narration_updated_listeners.append(suggestions.on_updated)
    hooks.narration_removed_listeners.append(suggestions.on_removed)
    hooks.narrations_deleted_listeners.append(suggestions.on_bulk_removed)
    hooks.privacy_erasers.append(suggestions.on_erase)
    hooks.expert_finders.append(functools.partial(suggestions.find_experts, services))
    narrator = owner("the narrator of the suggestion", suggestions.narrator_only)
    router.add(
        action("matching.connect"), suggestions.on_connect, name="matching.connect", who=narrator
    )
    router.add(
        action("matching.dismiss"), suggestions.on_dismiss, name="matching.dismiss", who=narrator
    )
    # Only shows the card to whoever looks (platforms that render per viewer ask).
    router.add(action(VIEW), suggestions.on_view, name="matching.view", who=ANYONE)
    intros.register(services, router)
    profiles.register(services, router, engine)
    who.register(services, router, engine)


def encoder_for(settings: Settings) -> Encoder:
    """The configured local model (app.yaml `matching.encoder`), or the configured
    embeddings endpoint with that local model as its fallback."""
    from dataclasses import replace

    from bot.matching.encoder import local_encoder
    from bot.matching.ranking import MatchPolicy
    from bot.matching.remote import EndpointEncoder, FallbackEncoder

    conf = settings.matching
    local = local_encoder(conf.encoder)
    if not conf.embeddings_url:
        return local
    policy = MatchPolicy()
    if conf.embeddings_threshold is not None:
        policy = replace(policy, threshold=conf.embeddings_threshold)
    if conf.embeddings_margin is not None:
        policy = replace(policy, margin=conf.embeddings_margin)
    endpoint = EndpointEncoder(
        conf.embeddings_url,
        conf.embeddings_model,
        api_key=settings.secret(conf.embeddings_api_key_env),
        timeout=conf.embeddings_timeout_seconds,
        batch=conf.embeddings_batch,
        policy=policy,
        common_directions=conf.embeddings_common_directions,
    )
    return FallbackEncoder(endpoint, local)
