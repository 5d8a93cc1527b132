"""A person's own settings and consent, with the workspace defaults filled in.

Every feature that suggests, introduces, nudges or checks in asks `PersonalSettings.get`
first: people who opted out are never suggested, introduced or nudged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.cache import TTLCache
from bot.clock import utc
from bot.setting_registry import SettingsService
from bot.store.engine import Database
from bot.store.person_settings import PersonSettingsRepo
from bot.store.personal_export import CONSENT_ACTION
from bot.store.tables.admin import AuditEntry, PersonSettings

CONSENT_FIELDS = ("suggest_me", "share_narrations", "introductions", "checkins")


@dataclass(frozen=True, slots=True)
class Personal:
    workspace_id: str
    user_id: str
    language: str | None
    suggest_me: bool
    share_narrations: bool
    introductions: bool
    checkins: bool
    checkin_days: str
    checkin_time: str
    country: str | None
    paused_until: datetime | None
    own: frozenset[str]  # fields the person chose themselves

    def paused(self, now: datetime) -> bool:
        return self.paused_until is not None and utc(self.paused_until) > now


class PersonalSettings:
    def __init__(self, db: Database, settings: SettingsService) -> None:
        self.db, self.settings = db, settings
        self.repo = PersonSettingsRepo(db)
        self._rows: TTLCache[tuple[str, str], PersonSettings | None] = TTLCache(ttl=10.0)

    async def row(self, workspace_id: str, user_id: str) -> PersonSettings | None:
        key = (workspace_id, user_id)
        if key in self._rows:
            return self._rows.get(key)
        row = await self.repo.get(workspace_id, user_id)
        self._rows.set(key, row)
        return row

    async def defaults(self, workspace_id: str) -> dict[str, Any]:
        """The workspace's values for everyone who has not chosen themselves."""
        values: dict[str, Any] = {
            name: bool(await self.settings.value(workspace_id, f"defaults.{name}"))
            for name in CONSENT_FIELDS
        }
        values["checkin_days"] = await self.settings.value(workspace_id, "checkins.days")
        values["checkin_time"] = await self.settings.value(workspace_id, "checkins.time")
        values["country"] = await self.settings.value(workspace_id, "country")
        return values

    async def rows(self, workspace_id: str) -> dict[str, PersonSettings]:
        return await self.repo.of_workspace(workspace_id)

    async def get(self, workspace_id: str, user_id: str) -> Personal:
        return resolve(
            workspace_id,
            user_id,
            await self.row(workspace_id, user_id),
            await self.defaults(workspace_id),
        )

    async def update(self, workspace_id: str, user_id: str, now: datetime, **fields: Any) -> None:
        """Change a person's own settings; a change of consent is kept in the audit log (the
        export's consent history, kept `audit.retention_days`)."""

        def consent_change(row: PersonSettings | None) -> AuditEntry | None:
            before = {name: getattr(row, name, None) if row else None for name in CONSENT_FIELDS}
            changed = {
                name: fields[name]
                for name in CONSENT_FIELDS
                if name in fields and fields[name] != before[name]
            }
            if not changed:
                return None
            return AuditEntry(
                workspace_id=workspace_id,
                actor_id=user_id,
                action=CONSENT_ACTION,
                target=user_id,
                old={k: before[k] for k in changed},
                new=changed,
                at=now,
            )

        await self.repo.update(workspace_id, user_id, now, fields, consent_change)
        self._rows.pop((workspace_id, user_id))

    async def language(self, workspace_id: str, user_id: str) -> str | None:
        row = await self.row(workspace_id, user_id)
        return row.language if row else None


def resolve(
    workspace_id: str, user_id: str, row: PersonSettings | None, defaults: dict[str, Any]
) -> Personal:
    """A person's effective settings: their own choices over the workspace defaults."""
    own: set[str] = set()
    values: dict[str, Any] = {}
    for name in (*CONSENT_FIELDS, "checkin_days", "checkin_time", "country"):
        mine = getattr(row, name) if row is not None else None
        if mine is None:
            values[name] = defaults[name]
        else:
            values[name] = mine
            own.add(name)
    if row is not None and row.language:
        own.add("language")
    return Personal(
        workspace_id=workspace_id,
        user_id=user_id,
        language=row.language if row else None,
        paused_until=row.paused_until if row else None,
        own=frozenset(own),
        **values,
    )
