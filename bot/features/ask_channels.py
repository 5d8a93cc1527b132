"""Which durf-te-vragen channel a `/wol ask` question goes to.

1. `#channel` as the first word names it (it must be a durf-te-vragen community);
2. asked inside a durf-te-vragen channel: that channel;
3. otherwise the best fit among the workspace's durf-te-vragen channels: for an anonymous
   question only channels that allow them; then the channel in the question's language; then,
   for a named question, a channel of a community the asker takes part in (never used for an
   anonymous question: the choice would say something about who asked); then by name.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.communities import Community, communities
from bot.errors import UserError
from bot.features.references import resolve_channel, split_channel
from bot.i18n import N_, CommandExample
from bot.insight.personal import communities_of

if TYPE_CHECKING:
    from bot.events import InboundEvent
    from bot.services import Services

log = logging.getLogger(__name__)

EX_ADD_DURF = N_("/wol config community add #durf-te-vragen durf-te-vragen")
NO_CHANNEL = N_("There is no durf-te-vragen channel yet. An admin can make one with {example}.")
NOT_DURF = N_("{channel} is not a channel for questions. Ask in one of these: {channels}.")
NO_ANON_ANYWHERE = N_(
    "No channel for questions allows anonymous questions. You can ask with "
    "your name, or ask an admin to allow them."
)


async def exists(services: Services, workspace_id: str) -> bool:
    """Whether the workspace has a durf-te-vragen channel to ask in."""
    return any(
        c.workspace_id == workspace_id for c in await communities(services, kind="durf-te-vragen")
    )


async def choose(
    services: Services, event: InboundEvent, words: list[str], *, anonymous: bool, language: str
) -> tuple[Community, list[str], bool]:
    """(channel, the question's words, whether the asker named the channel)."""
    candidates = sorted(
        (
            c
            for c in await communities(services, kind="durf-te-vragen")
            if c.workspace_id == event.workspace_id
        ),
        key=lambda c: c.channel_id,
    )
    if not candidates:
        raise UserError(NO_CHANNEL, example=CommandExample.of(EX_ADD_DURF))
    ref, first = split_channel(words[:1])
    if ref is not None:
        ref = await resolve_channel(ref, event.workspace_id, services.directory)
        named = next((c for c in candidates if c.channel_id in (ref.id, ref.name)), None)
        if named is None:
            raise UserError(
                NOT_DURF,
                channel=f"#{ref.name or ref.id}",
                channels=", ".join(f"#{c.channel_id}" for c in candidates),
            )
        return named, first + words[1:], True
    here = next((c for c in candidates if c.channel_id == event.conversation.id), None)
    if here is not None:
        return here, words, False
    if anonymous:
        if len(candidates) == 1:  # the caller explains that this one does not allow them
            return candidates[0], words, False
        candidates = [c for c in candidates if c.anonymous]
        if not candidates:
            raise UserError(NO_ANON_ANYWHERE)
        mine: set[str] = set()
    else:
        mine = await communities_of(services.db, event.workspace_id, event.user.user_id)
    best = min(
        candidates, key=lambda c: (c.language != language, c.channel_id not in mine, c.channel_id)
    )
    log.info(
        "question for %s: %d channels, chose %s",
        event.workspace_id,
        len(candidates),
        best.channel_id,
    )
    return best, words, False
