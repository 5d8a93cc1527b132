"""Every setting an admin can change: its type, scope, default and place in app.yaml.

Precedence, for every key: built-in default < app.yaml < admin override in the database.
For a channel-scoped key, the channel's own value (override, then app.yaml) comes before
the workspace's (override, then app.yaml). `SettingsService.get` says which source won.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.config import ChannelConfig, Settings, WorkspaceConfig
from bot.errors import UserError
from bot.i18n import N_, CommandExample
from bot.setting_values import (
    parse_country,
    parse_cron,
    parse_days,
    parse_question_set,
    parse_time,
    parse_zone,
)
from bot.store.engine import Database
from bot.store.settings import SettingOverrideRepo
from bot.store.tables.admin import AuditEntry

EX_SHOW = N_("/wol config show")
EX_SET_CHANNEL = N_("/wol config set {key} … #channel")
# Dutch words for choice values ("/wol instellingen community toevoegen #team dialoog").
CHOICE_WORDS = {
    "dialoog": "dialogue",
    "hardop-werken": "narration",
    "bezig-met": "narration",
    "antwoord": "reply",
    "geen": "none",
}


def choice_word(value: str, lang: str) -> str:
    """A choice value as a reader of `lang` types it: "dialoog" for "dialogue" in Dutch."""
    if lang == "nl":
        return next((word for word, v in CHOICE_WORDS.items() if v == value), value)
    return value


WORKSPACE_SCOPE = "*"
_TRUE = {"on", "yes", "true", "1", "aan", "ja", "y", "j"}
_FALSE = {"off", "no", "false", "0", "uit", "nee", "n"}

BAD_BOOL = N_("{key} is on or off (aan of uit); I can't read {value}.")
BAD_NUMBER = N_("{key} needs a number between {low} and {high}; I can't use {value}.")
BAD_CHOICE = N_("{key} is one of: {choices}. I can't use {value}.")
BAD_TEXT = N_("{key} takes a text of at most {limit} characters.")
UNKNOWN_KEY = N_("There is no setting called {key}. {show} lists them all.")
WRONG_SCOPE_CHANNEL = N_("{key} is set for a channel: add the channel, e.g. {example}.")
WRONG_SCOPE_WORKSPACE = N_("{key} applies to the whole workspace, not to one channel.")


@dataclass(frozen=True)
class Option:
    key: str
    kind: str  # bool int float language timezone cron days time choice text country question_set
    scopes: tuple[str, ...]  # "workspace", "channel"
    default: Any
    summary: str  # msgid
    choices: tuple[str, ...] = ()
    low: float = 0
    high: float = 0
    yaml_channel: Callable[[ChannelConfig], Any] | None = None
    yaml_workspace: Callable[[WorkspaceConfig], Any] | None = None
    yaml_global: Callable[[Settings], Any] | None = None

    @property
    def channel_only(self) -> bool:
        return self.scopes == ("channel",)

    def parse(self, raw: str) -> Any:
        value = raw.strip().strip('"').strip("'").strip()
        low = value.lower()
        if self.kind == "bool":
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise UserError(BAD_BOOL, key=self.key, value=value)
        if self.kind in ("int", "float"):
            try:
                number = float(value.replace(",", "."))
            except ValueError:
                number = float("nan")
            if not self.low <= number <= self.high:
                raise UserError(
                    BAD_NUMBER,
                    key=self.key,
                    low=str(self.low).removesuffix(".0"),
                    high=str(self.high).removesuffix(".0"),
                    value=value,
                )
            return int(number) if self.kind == "int" else number
        if self.kind == "language":
            lang = {"english": "en", "engels": "en", "dutch": "nl", "nederlands": "nl"}.get(
                low, low
            )
            if lang not in ("en", "nl"):
                raise UserError(BAD_CHOICE, key=self.key, choices="en, nl", value=value)
            return lang
        if self.kind == "choice":
            low = CHOICE_WORDS.get(low, low)
            if low not in self.choices:
                raise UserError(
                    BAD_CHOICE, key=self.key, choices=", ".join(self.choices), value=value
                )
            return low
        if self.kind == "timezone":
            return parse_zone(value)
        if self.kind == "cron":
            return parse_cron(value)
        if self.kind == "days":
            return parse_days(value)
        if self.kind == "time":
            return parse_time(value)
        if self.kind == "country":
            return parse_country(value)
        if self.kind == "question_set":
            return parse_question_set(value)
        if not value or len(value) > 300:
            raise UserError(BAD_TEXT, key=self.key, limit=300)
        return value


OPTIONS: tuple[Option, ...] = (
    Option(
        "language",
        "language",
        ("workspace", "channel"),
        "en",
        N_("language of the bot's messages"),
        yaml_channel=lambda c: c.language,
        yaml_workspace=lambda w: w.language,
        yaml_global=lambda s: s.language,
    ),
    Option(
        "timezone",
        "timezone",
        ("workspace", "channel"),
        "Europe/Amsterdam",
        N_("time zone for schedules (people's check-ins use their own)"),
        yaml_channel=lambda c: c.timezone,
        yaml_workspace=lambda w: w.timezone,
        yaml_global=lambda s: s.timezone,
    ),
    Option(
        "country",
        "country",
        ("workspace",),
        None,
        N_("country whose public holidays skip check-ins"),
        yaml_workspace=lambda w: w.country,
    ),
    Option(
        "narrations.capture",
        "bool",
        ("workspace", "channel"),
        True,
        N_('record "I\'m working on …" messages'),
        yaml_channel=lambda c: c.capture_narrations,
        yaml_global=lambda s: s.narrations.capture_in_channels,
    ),
    Option(
        "narrations.ack",
        "choice",
        ("workspace", "channel"),
        None,
        N_(
            "how a narration in a channel is acknowledged: reply (a reaction where the chat "
            "has them), none, or dm; empty: a reaction where it adds no message, else none"
        ),
        choices=("reply", "none", "dm"),
        yaml_channel=lambda c: c.narration_ack,
        yaml_workspace=lambda w: w.narration_ack,
    ),
    Option(
        "community.kind",
        "choice",
        ("channel",),
        None,
        N_("makes the channel a community: narration, dialogue or durf-te-vragen"),
        choices=("narration", "dialogue", "durf-te-vragen"),
        yaml_channel=lambda c: c.kind,
    ),
    Option(
        "community.theme",
        "text",
        ("channel",),
        None,
        N_("the community's theme"),
        yaml_channel=lambda c: c.theme,
    ),
    Option(
        "community.rhythm",
        "cron",
        ("channel",),
        None,
        N_("when dialogue questions are posted (cron, in the channel's time zone)"),
        yaml_channel=lambda c: c.rhythm,
    ),
    Option(
        "community.anonymous",
        "bool",
        ("channel",),
        False,
        N_("whether anonymous questions are allowed"),
        yaml_channel=lambda c: c.anonymous,
    ),
    Option(
        "community.question_set",
        "question_set",
        ("channel",),
        None,
        N_("the question set of the community"),
        yaml_channel=lambda c: c.question_set,
    ),
    Option(
        "community.round_hours",
        "float",
        ("channel",),
        None,
        N_("hours a dialogue round stays open (empty: until the next round)"),
        low=1,
        high=24 * 60,
        yaml_channel=lambda c: c.round_hours,
    ),
    Option(
        "ack_text",
        "text",
        ("workspace", "channel"),
        None,
        N_("the text of a manager's acknowledgement (empty: the built-in one)"),
        yaml_channel=lambda c: c.ack_text,
        yaml_workspace=lambda w: w.ack_text,
    ),
    Option(
        "checkins.days",
        "days",
        ("workspace",),
        "mon",
        N_("default check-in days"),
        yaml_workspace=lambda w: w.checkins.days,
    ),
    Option(
        "checkins.time",
        "time",
        ("workspace",),
        "10:00",
        N_("default check-in time, in each person's own time zone"),
        yaml_workspace=lambda w: w.checkins.time,
    ),
    Option(
        "nudges.ack_hours",
        "float",
        ("workspace",),
        4.0,
        N_("working hours before managers are reminded of unacknowledged questions"),
        low=0.5,
        high=240,
        yaml_workspace=lambda w: w.nudges.ack_hours,
    ),
    Option(
        "nudges.answer_hours",
        "float",
        ("workspace",),
        24.0,
        N_("hours before an unanswered question gets suggestions of who may know"),
        low=0.5,
        high=720,
        yaml_workspace=lambda w: w.nudges.answer_hours,
    ),
    Option(
        "defaults.suggest_me",
        "bool",
        ("workspace",),
        True,
        N_("people may be suggested as someone who may know, unless they opt out"),
        yaml_workspace=lambda w: w.defaults.suggest_me,
    ),
    Option(
        "defaults.share_narrations",
        "bool",
        ("workspace",),
        True,
        N_("narrations may be shown to others in suggestions, unless the author opts out"),
        yaml_workspace=lambda w: w.defaults.share_narrations,
    ),
    Option(
        "defaults.introductions",
        "bool",
        ("workspace",),
        True,
        N_("people receive introductions, unless they opt out"),
        yaml_workspace=lambda w: w.defaults.introductions,
    ),
    Option(
        "defaults.checkins",
        "bool",
        ("workspace",),
        False,
        N_("people get weekly check-ins unless they opt out (off: only those who opt in)"),
        yaml_workspace=lambda w: w.defaults.checkins,
    ),
    Option(
        "matching.followup_days",
        "float",
        ("workspace",),
        3.0,
        N_("days after an introduction before the narrator is asked whether it helped"),
        low=0.5,
        high=60,
    ),
    Option(
        "retention.days",
        "int",
        ("workspace",),
        365,
        N_("days narrations and contributions are kept"),
        low=1,
        high=3650,
        yaml_workspace=lambda w: w.retention_days,
    ),
    Option(
        "audit.retention_days",
        "int",
        ("workspace",),
        730,
        N_("days the configuration history is kept"),
        low=1,
        high=3650,
        yaml_workspace=lambda w: w.audit_retention_days,
    ),
    Option(
        "insight.min_group",
        "int",
        ("workspace",),
        5,
        N_('smallest group shown in participation figures (smaller ones merge into "other")'),
        low=3,
        high=100,
    ),
)
OPTIONS_BY_KEY = {o.key: o for o in OPTIONS}

SOURCE_DEFAULT = N_("built-in default")
SOURCE_YAML = N_("app.yaml")
SOURCE_YAML_CHANNEL = N_("app.yaml, this channel")
SOURCE_OVERRIDE = N_("admin override")
SOURCE_OVERRIDE_CHANNEL = N_("admin override, this channel")


@dataclass(frozen=True, slots=True)
class Resolved:
    option: Option
    value: Any
    source: str  # one of the SOURCE_* msgids


def option(key: str) -> Option:
    found = OPTIONS_BY_KEY.get(key.lower())
    if found is None:
        raise UserError(UNKNOWN_KEY, key=key, show=CommandExample.of(EX_SHOW))
    return found


class SettingsService:
    """Effective settings per workspace and channel, and admin changes with an audit trail."""

    def __init__(self, db: Database, settings: Settings, *, cache_seconds: float = 5.0) -> None:
        self.db, self.settings = db, settings
        self.overrides = SettingOverrideRepo(db)
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, dict[tuple[str, str], Any]]] = {}
        # Called after an admin change: (workspace_id, key, channel_id or None).
        self.listeners: list[Callable[[str, str, str | None], Awaitable[None]]] = []
        self._yaml_channels: dict[str, tuple[Any, dict[str, ChannelConfig]]] = {}

    async def _overrides(self, workspace_id: str) -> dict[tuple[str, str], Any]:
        hit = self._cache.get(workspace_id)
        if hit is not None and time.monotonic() - hit[0] < self.cache_seconds:
            return hit[1]
        found = await self.overrides.of_workspace(workspace_id)
        self._cache[workspace_id] = (time.monotonic(), found)
        return found

    def _yaml_channel(
        self, workspace_id: str, channel_id: str | None, channel_name: str | None
    ) -> ChannelConfig | None:
        configured = self.settings.workspace(workspace_id).channels
        hit = self._yaml_channels.get(workspace_id)
        if hit is None or hit[0] is not configured:  # normalised once per app.yaml mapping
            hit = (configured, {k.lower().removeprefix("#"): v for k, v in configured.items()})
            self._yaml_channels[workspace_id] = hit
        channels = hit[1]
        for key in (channel_id, channel_name):
            if key and key.lower().removeprefix("#") in channels:
                return channels[key.lower().removeprefix("#")]
        return None

    async def get(
        self,
        workspace_id: str,
        key: str,
        channel_id: str | None = None,
        channel_name: str | None = None,
    ) -> Resolved:
        opt = option(key)
        overrides = await self._overrides(workspace_id)
        if channel_id and "channel" in opt.scopes:
            if (channel_id, opt.key) in overrides:
                return Resolved(opt, overrides[(channel_id, opt.key)], SOURCE_OVERRIDE_CHANNEL)
            yaml_channel = self._yaml_channel(workspace_id, channel_id, channel_name)
            if yaml_channel is not None and opt.yaml_channel is not None:
                value = opt.yaml_channel(yaml_channel)
                if value is not None:
                    return Resolved(opt, value, SOURCE_YAML_CHANNEL)
        if opt.channel_only:
            return Resolved(opt, opt.default, SOURCE_DEFAULT)
        if (WORKSPACE_SCOPE, opt.key) in overrides:
            return Resolved(opt, overrides[(WORKSPACE_SCOPE, opt.key)], SOURCE_OVERRIDE)
        ws_config = self.settings.workspaces.get(workspace_id)
        if ws_config is not None and opt.yaml_workspace is not None:
            value = opt.yaml_workspace(ws_config)
            if value is not None:
                return Resolved(opt, value, SOURCE_YAML)
        if opt.yaml_global is not None:
            value = opt.yaml_global(self.settings)
            if value is not None and value != opt.default:
                return Resolved(opt, value, SOURCE_YAML)
        return Resolved(opt, opt.default, SOURCE_DEFAULT)

    async def value(
        self,
        workspace_id: str,
        key: str,
        channel_id: str | None = None,
        channel_name: str | None = None,
    ) -> Any:
        return (await self.get(workspace_id, key, channel_id, channel_name)).value

    async def all(
        self, workspace_id: str, channel_id: str | None = None, channel_name: str | None = None
    ) -> list[Resolved]:
        keys = [o.key for o in OPTIONS if channel_id or not o.channel_only]
        return [await self.get(workspace_id, k, channel_id, channel_name) for k in keys]

    async def channels_with(self, workspace_id: str, key: str) -> dict[str, Any]:
        """Channels that have their own value for a channel-scoped key (override or app.yaml)."""
        opt = option(key)
        found: dict[str, Any] = {}
        for name, config in self.settings.workspace(workspace_id).channels.items():
            value = opt.yaml_channel(config) if opt.yaml_channel else None
            if value is not None:
                found[name.removeprefix("#")] = value
        for (scope, k), value in (await self._overrides(workspace_id)).items():
            if k == opt.key and scope != WORKSPACE_SCOPE:
                found[scope] = value
        return {c: v for c, v in found.items() if v is not None}

    async def set(
        self,
        workspace_id: str,
        key: str,
        value: Any,
        *,
        channel_id: str | None,
        actor_id: str,
        now: datetime,
    ) -> tuple[Any, Any]:
        opt = self._check_scope(key, channel_id)
        scope = channel_id or WORKSPACE_SCOPE
        current = await self.get(workspace_id, opt.key, channel_id)
        old = current.value
        own = SOURCE_OVERRIDE_CHANNEL if channel_id else SOURCE_OVERRIDE
        if current.source == own and old == value:  # already so: nothing to store or audit
            return old, value
        await self.overrides.set(
            workspace_id,
            scope,
            opt.key,
            value,
            audit=AuditEntry(
                workspace_id=workspace_id,
                actor_id=actor_id,
                action="config.set",
                target=_target(opt.key, channel_id),
                old=old,
                new=value,
                at=now,
            ),
        )
        self._cache.pop(workspace_id, None)
        for listener in self.listeners:
            await listener(workspace_id, opt.key, channel_id)
        return old, value

    async def reset(
        self, workspace_id: str, key: str, *, channel_id: str | None, actor_id: str, now: datetime
    ) -> tuple[Any, Any]:
        opt = self._check_scope(key, channel_id)
        scope = channel_id or WORKSPACE_SCOPE
        old = (await self.get(workspace_id, opt.key, channel_id)).value
        await self.overrides.remove(workspace_id, scope, opt.key)
        self._cache.pop(workspace_id, None)
        new = (await self.get(workspace_id, opt.key, channel_id)).value
        await self.overrides.audit(
            AuditEntry(
                workspace_id=workspace_id,
                actor_id=actor_id,
                action="config.reset",
                target=_target(opt.key, channel_id),
                old=old,
                new=new,
                at=now,
            )
        )
        for listener in self.listeners:
            await listener(workspace_id, opt.key, channel_id)
        return old, new

    def _check_scope(self, key: str, channel_id: str | None) -> Option:
        opt = option(key)
        if channel_id and "channel" not in opt.scopes:
            raise UserError(WRONG_SCOPE_WORKSPACE, key=opt.key)
        if not channel_id and "workspace" not in opt.scopes:
            raise UserError(
                WRONG_SCOPE_CHANNEL,
                key=opt.key,
                example=CommandExample.of(EX_SET_CHANNEL, key=opt.key),
            )
        return opt

    def forget_cache(self) -> None:
        self._cache.clear()


def _target(key: str, channel_id: str | None) -> str:
    return f"{key} @ {channel_id}" if channel_id else key
