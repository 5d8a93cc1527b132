"""The per-event context handed to every handler.

Replies go through the outbox with idempotency keys derived from the event id and the
order of calls, so if an event is handled again (a platform retry after a failure),
the same replies carry the same keys and are delivered once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.events import InboundEvent
from bot.i18n import Translator
from bot.messages import Form, Inline, OutboundMessage, fill
from bot.ports import Destination, PersonInfo

if TYPE_CHECKING:
    from bot.app import Core


@dataclass
class Context:
    core: Core
    event: InboundEvent
    t: Translator  # the language for the person who caused the event
    channel_t: Translator  # the language of the conversation (for what everyone there sees)
    person: PersonInfo
    language_is_explicit: bool = False  # the person chose their language themselves
    match: Any = None
    handled_by: list[str] = field(default_factory=list)
    _seq: int = 0

    # -- language ------------------------------------------------------------------------------
    def use_language(self, lang: str, *, only_if_implicit: bool = True) -> None:
        """Answer in `lang` (e.g. the language the person just wrote in)."""
        if only_if_implicit and self.language_is_explicit:
            return
        self.t = self.core.i18n.get(lang)

    def text(self, msgid: str, **values: Inline | int) -> OutboundMessage:
        """A one-paragraph message from a translated template in the person's language."""
        return OutboundMessage.text(*fill(self.t.gettext(msgid), **values))

    @property
    def now(self) -> datetime:
        return self.core.clock.now()

    @property
    def is_admin(self) -> bool:
        return self.core.is_admin(self.event.workspace_id, self.person)

    # -- answering -----------------------------------------------------------------------------
    def key(self, label: str) -> str:
        """An idempotency key unique to this event and call order."""
        self._seq += 1
        return f"{self.event.workspace_id}:{self.event.event_id}:{label}:{self._seq}"

    def destination(self, *, thread: bool = True, ephemeral: bool = False) -> Destination:
        conv = self.event.conversation
        thread_id = None
        if thread:
            thread_id = conv.thread_id or self.event.message_id
        return Destination(
            workspace_id=self.event.workspace_id,
            channel_id=conv.id,
            thread_id=thread_id,
            ephemeral_user=self.event.user.user_id if ephemeral else None,
            hints=dict(self.event.reply_hints),
        )

    async def reply(self, message: OutboundMessage) -> str:
        """Answer in the event's thread (or start one under the message). Returns the key."""
        key = self.key("reply")
        await self.core.outbox.send(self.event.platform, self.destination(), message, key=key)
        return key

    async def say(self, message: OutboundMessage) -> str:
        """Post in the conversation itself, not in a thread."""
        key = self.key("say")
        await self.core.outbox.send(
            self.event.platform, self.destination(thread=False), message, key=key
        )
        return key

    async def respond(self, message: OutboundMessage) -> str:
        """Answer only the person who caused the event (ephemeral; a DM where impossible)."""
        key = self.key("respond")
        dest = self.destination(thread=bool(self.event.conversation.thread_id), ephemeral=True)
        await self.core.outbox.send(self.event.platform, dest, message, key=key)
        return key

    async def react(self, emoji: str) -> None:
        if self.event.message_id is None:
            return
        await self.core.outbox.react(
            self.event.platform,
            self.destination(thread=False),
            self.event.message_id,
            emoji,
            key=self.key("react"),
        )

    async def dm(
        self,
        user_ids: tuple[str, ...],
        message: OutboundMessage,
        *,
        deliver_after: datetime | None = None,
    ) -> str:
        key = self.key("dm")
        await self.core.outbox.send_dm(
            self.event.platform,
            self.event.workspace_id,
            user_ids,
            message,
            key=key,
            deliver_after=deliver_after,
        )
        return key

    async def open_form(self, form: Form) -> None:
        await self.core.outbox.form(
            self.event.platform, self.destination(thread=False), form, key=self.key("form")
        )
