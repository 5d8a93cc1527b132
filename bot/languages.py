"""Which language the bot speaks to whom: one rule for every message it sends.

- A message to one person is in that person's language: their own choice (`/wol language`),
  else the language they last wrote in, else (in a DM) their platform's locale, else the
  channel's, else the workspace's.
- A message to several people whose languages differ is bilingual: `for_people` gives every
  language needed, the first person's first (see `bot.features.intros`).
- Public channel posts stay in the channel's language (`channel`).

"The language they last wrote in" is a guess from the words of every message and command a
person sends (`bot.langdetect.detect_language`), stored only when it changes, so writing costs
nothing extra in the usual case: the settings row is read for each event anyway (cached).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from bot.i18n import normalise_language
from bot.personal import PersonalSettings
from bot.setting_registry import SettingsService
from bot.store.tables.admin import PersonSettings

log = logging.getLogger(__name__)


def own_language(row: PersonSettings | None, written: str | None = None) -> str | None:
    """A person's language from their settings row: their choice, else what they wrote
    (`written`: what they are writing now, newer than the row's)."""
    chosen = normalise_language(row.language) if row is not None else None
    return chosen or written or (normalise_language(row.written_language) if row else None)


def choose(
    row: PersonSettings | None,
    fallback: str,
    *,
    locale: str | None = None,
    written: str | None = None,
) -> str:
    """The rule, for callers that already hold the row (an event's context, check-ins)."""
    return own_language(row, written) or normalise_language(locale) or fallback


class Languages:
    def __init__(self, personal: PersonalSettings, settings: SettingsService) -> None:
        self.personal, self.settings = personal, settings

    async def channel(
        self, workspace_id: str, channel_id: str | None = None, channel_name: str | None = None
    ) -> str:
        """The language of a channel (falling back to the workspace's; see the registry)."""
        return str(await self.settings.value(workspace_id, "language", channel_id, channel_name))

    async def person(
        self,
        workspace_id: str,
        user_id: str,
        *,
        channel_id: str | None = None,
        locale: str | None = None,
    ) -> str:
        """The language of a message to `user_id` alone. `channel_id` is where the matter
        came from (its language is the fallback), `locale` the platform's, for DMs."""
        row = await self.personal.row(workspace_id, user_id)
        own = own_language(row) or normalise_language(locale)
        return own or await self.channel(workspace_id, channel_id)

    async def for_people(
        self, workspace_id: str, user_ids: Iterable[str], *, channel_id: str | None = None
    ) -> tuple[str, ...]:
        """Every language a message to all of `user_ids` needs, in the order of the people:
        one language when they share it, else a bilingual message."""
        found: list[str] = []
        for user_id in user_ids:
            lang = await self.person(workspace_id, user_id, channel_id=channel_id)
            if lang not in found:
                found.append(lang)
        return tuple(found)

    async def remember(self, workspace_id: str, user_id: str, lang: str, now: datetime) -> None:
        """Store the language a person just wrote in (`detect_language`), if it changed.
        Not called for anonymous questions: a row updated then would point at the asker."""
        row = await self.personal.row(workspace_id, user_id)
        if row is not None and row.written_language == lang:
            return
        try:
            await self.personal.update(workspace_id, user_id, now, written_language=lang)
        except IntegrityError:  # another replica created the row at the same moment: it wins
            log.debug(
                "written language of %s/%s not stored (concurrent insert)", workspace_id, user_id
            )
