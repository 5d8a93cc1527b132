"""Communities: channels with a theme, a language and a rhythm, from app.yaml and admins'
overrides (see bot/setting_registry.py). Several per workspace, each its own rhythm."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services import Services

DEFAULT_SET = "general"


@dataclass(frozen=True, slots=True)
class Community:
    workspace_id: str
    channel_id: str
    kind: str  # narration | dialogue | durf-te-vragen
    language: str
    timezone: str
    rhythm: str | None
    question_set: str
    round_hours: float | None
    anonymous: bool
    theme: str | None

    @property
    def platform(self) -> str:
        return platform_of(self.workspace_id)


def platform_of(workspace_id: str) -> str:
    """Workspace ids are platform-qualified: "slack:T1" → "slack"."""
    return workspace_id.split(":", 1)[0]


async def workspace_ids(services: Services) -> list[str]:
    known = set(await services.directory.workspace_ids())
    return sorted(known | set(services.settings.workspaces))


async def community(services: Services, workspace_id: str, channel_id: str) -> Community | None:
    config = services.config
    kind = await config.value(workspace_id, "community.kind", channel_id)
    if kind is None:
        return None
    values = {
        key: await config.value(workspace_id, key, channel_id)
        for key in (
            "language",
            "timezone",
            "community.rhythm",
            "community.question_set",
            "community.round_hours",
            "community.anonymous",
            "community.theme",
        )
    }
    return Community(
        workspace_id=workspace_id,
        channel_id=channel_id,
        kind=str(kind),
        language=str(values["language"]),
        timezone=str(values["timezone"]),
        rhythm=values["community.rhythm"],
        question_set=values["community.question_set"] or DEFAULT_SET,
        round_hours=values["community.round_hours"],
        anonymous=bool(values["community.anonymous"]),
        theme=values["community.theme"],
    )


async def communities(services: Services, kind: str | None = None) -> list[Community]:
    found: list[Community] = []
    for workspace_id in await workspace_ids(services):
        channels = await services.config.channels_with(workspace_id, "community.kind")
        known = await services.directory.channels(workspace_id)
        by_name = {c.name.lower(): c.channel_id for c in known if c.name}
        ids = {c.channel_id for c in known}
        for key in sorted(channels):
            # app.yaml may name a channel ("general") where the platform needs its id ("C0123")
            channel_id = key if key in ids else by_name.get(key.lower(), key)
            item = await community(services, workspace_id, channel_id)
            if item is not None and (kind is None or item.kind == kind):
                found.append(item)
    return found
