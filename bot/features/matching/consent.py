"""Consent, read in bulk for one search: who may be shown, suggested or introduced.

The person's own choices (`/wol me matching|share|intros off`, `/wol me pause`) live in the
core's `person_settings`; unset choices take the workspace defaults (`defaults.*` settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.clock import utc
from bot.matching.ranking import Item

if TYPE_CHECKING:
    from bot.services import Services

FIELDS = ("suggest_me", "share_narrations", "introductions")


@dataclass(frozen=True, slots=True)
class Consent:
    defaults: dict[str, bool]
    own: dict[str, dict[str, Any]]  # user id -> their explicit choices
    now: datetime

    def allows(self, user_id: str, field: str) -> bool:
        mine = self.own.get(user_id, {}).get(field)
        return self.defaults[field] if mine is None else bool(mine)

    def paused(self, user_id: str) -> bool:
        until = self.own.get(user_id, {}).get("paused_until")
        return until is not None and utc(until) > self.now

    def may_introduce(self, user_id: str) -> bool:
        return self.allows(user_id, "introductions") and not self.paused(user_id)

    def may_suggest(self, item: Item) -> bool:
        """Narrations need "share my narrations", profile topics "suggest me"; both need the
        person to accept introductions (a suggestion offers one) and not to be paused."""
        field = "share_narrations" if item.kind == "narration" else "suggest_me"
        return self.allows(item.author_id, field) and self.may_introduce(item.author_id)


async def defaults(services: Services, workspace_id: str) -> dict[str, bool]:
    """The workspace's defaults for people who chose nothing (settings, no statement once
    read)."""
    return {f: bool(await services.config.value(workspace_id, f"defaults.{f}")) for f in FIELDS}


async def load(services: Services, workspace_id: str, now: datetime) -> Consent:
    own: dict[str, dict[str, Any]] = {
        user_id: {
            "suggest_me": row.suggest_me,
            "share_narrations": row.share_narrations,
            "introductions": row.introductions,
            "paused_until": row.paused_until,
        }
        for user_id, row in (await services.personal.rows(workspace_id)).items()
    }
    return Consent(await defaults(services, workspace_id), own, now)
