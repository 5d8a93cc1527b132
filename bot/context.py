"""The per-event context handed to every handler.

Replies go through the outbox with idempotency keys derived from the event id and the
order of calls, so if an event is handled again (a platform retry after a failure),
the same replies carry the same keys and are delivered once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.events import InboundEvent
from bot.i18n import N_, Translator
from bot.languages import choose, own_language
from bot.messages import Actions, Form, Inline, OutboundMessage, fill
from bot.ports import Destination, PersonInfo
from bot.roles import ADMIN, MANAGER
from bot.services import ServiceAccess, Services

FORMS_ELSEWHERE = N_("forms need Slack or Teams")


# Set in `InboundEvent.reply_hints` by adapters whose platform takes a form as the direct
# answer to this event (a Teams dialog opened or re-shown by a click): `open_form` then leaves
# the form in `Context.opened_form` for the adapter instead of sending it later.
FORM_INLINE_HINT = "form_answers_event"
# Set by adapters whose platform shows what the person is told in its direct answer to this
# event, to them alone (Teams: the card or text answering a click, a dialog's closing
# message): `respond` then leaves a message without buttons in `Context.told` only, instead
# of sending it to the person's personal chat as well.
RESPOND_INLINE_HINT = "respond_answers_event"


@dataclass
class Context(ServiceAccess):
    """One event's turn: the services by name (`ctx.outbox`, `ctx.narrations`, …, see
    `bot.services.ServiceAccess`), who caused the event, their language, and the answers."""

    services: Services
    event: InboundEvent
    t: Translator  # the language for the person who caused the event
    channel_t: Translator  # the language of the conversation (for what everyone there sees)
    person: PersonInfo
    person_roles: frozenset[str] = frozenset()  # ADMIN, MANAGER (bot/roles.py)
    language_is_explicit: bool = False  # the person chose their language themselves
    written: str | None = None  # the language the event's text is in, when its words tell
    language_is_known: bool = False  # chosen, or known from what they write (bot.languages)
    match: Any = None
    handled_by: list[str] = field(default_factory=list)
    # Field-level errors for a submitted form (field id -> message in the person's language);
    # adapters that can show them in the form (Slack modals) answer with them synchronously.
    form_errors: dict[str, str] = field(default_factory=dict)
    # Set by handlers whose event must leave no trace tied to the person (anonymous questions):
    # observers such as participation statistics skip it.
    anonymous: bool = False
    # The event id as stored (claims, idempotency keys): a keyed hash for anonymous events,
    # whose platform id could be matched with the platform's own logs.
    event_ref: str = ""
    # The event's id was claimed before handling (the inbox's row, bot.delivery.inbox): the
    # de-duplication middleware does not check it again.
    claimed: bool = False
    # The clicked message as it now looks (`show`), and what the person was told
    # (`respond`): adapters that answer a click at once (Teams' Universal Actions) use them.
    shown: OutboundMessage | None = None
    opened_form: Form | None = None
    told: list[OutboundMessage] = field(default_factory=list)
    _seq: int = 0

    # -- language ------------------------------------------------------------------------------
    def use_language(self, lang: str, *, only_if_implicit: bool = True) -> None:
        """Answer in `lang` (e.g. the language the person just wrote in)."""
        if only_if_implicit and self.language_is_explicit:
            return
        self.t = self.i18n.get(lang)

    async def choose_language_again(self) -> None:
        """After the person changed or reset their choice: speak as `bot.languages` says."""
        row = await self.personal.row(self.event.workspace_id, self.event.user.user_id)
        self.language_is_explicit = bool(row is not None and row.language)
        self.language_is_known = own_language(row, self.written) is not None
        locale = self.event.locale or self.person.locale if self.event.is_dm else None
        self.t = self.i18n.get(choose(row, self.channel_t.lang, locale=locale))

    def hint_language(self, lang: str | None) -> None:
        """A weaker sign of the person's language (the words of a command): followed only
        when neither their choice nor their writing tells."""
        if lang and not self.language_is_known:
            self.t = self.i18n.get(lang)

    def text(self, msgid: str, **values: Inline | int) -> OutboundMessage:
        """A one-paragraph message from a translated template in the person's language."""
        return OutboundMessage.text(*fill(self.t.gettext(msgid), **values))

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.person_roles

    @property
    def is_manager(self) -> bool:
        return MANAGER in self.person_roles or self.is_admin

    # -- answering -----------------------------------------------------------------------------
    def key(self, label: str) -> str:
        """An idempotency key unique to this event and call order."""
        self._seq += 1
        return (
            f"{self.event.workspace_id}:{self.event_ref or self.event.event_id}:{label}:{self._seq}"
        )

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

    @property
    def ephemeral_as_dm(self) -> bool:
        """The platform has no only-you messages: what `respond` says lands in the person's
        DM with the bot, beside what is sent them by DM (`ChatPort.ephemeral_as_dm`: Teams)."""
        return bool(getattr(self.ports.get(self.event.platform), "ephemeral_as_dm", False))

    @property
    def _dm_recipient(self) -> str | None:
        """Rows for a DM name their person, so erasure finds the conversation's history."""
        return self.event.user.user_id if self.event.is_dm else None

    async def reply(self, message: OutboundMessage) -> str:
        """Answer in the event's thread (or start one under the message). Returns the key."""
        key = self.key("reply")
        await self.outbox.send(
            self.event.platform,
            self.destination(),
            message,
            key=key,
            recipient_id=self._dm_recipient,
        )
        return key

    async def say(self, message: OutboundMessage) -> str:
        """Post in the conversation itself, not in a thread."""
        key = self.key("say")
        await self.outbox.send(
            self.event.platform,
            self.destination(thread=False),
            message,
            key=key,
            recipient_id=self._dm_recipient,
        )
        return key

    async def respond(self, message: OutboundMessage, *, erase_after_delivery: bool = False) -> str:
        """Answer only the person who caused the event (ephemeral; a DM where impossible).
        `erase_after_delivery` drops the outbox record once delivered (privacy answers; every
        answer to an anonymous event)."""
        key = self.key("respond")
        self.told.append(message)
        if self.event.reply_hints.get(RESPOND_INLINE_HINT) and not any(
            isinstance(b, Actions) for b in message.blocks
        ):
            return key
        erase_after_delivery = erase_after_delivery or self.anonymous
        dest = self.destination(thread=bool(self.event.conversation.thread_id), ephemeral=True)
        await self.outbox.send(
            self.event.platform, dest, message, key=key, erase_after_delivery=erase_after_delivery
        )
        return key

    async def note_sent_by_dm(self, msgid: str) -> None:
        """Tell the person that something was sent to their DM with the bot ("I've sent you
        … in a direct message"), only where they read this answer somewhere else: not when
        they asked in that DM, nor where an answer to them lands in it anyway, next to what
        was sent (`ephemeral_as_dm`)."""
        if not (self.event.is_dm or self.ephemeral_as_dm):
            await self.respond(self.text(msgid))

    async def show(
        self,
        message: OutboundMessage,
        *,
        shared_at: Destination | None = None,
        message_id: str | None = None,
        personal: OutboundMessage | None = None,
        own: bool = False,
    ) -> None:
        """The clicked message re-rendered with its new state.

        Adapters that answer a click synchronously show `message` (or `personal`, the
        clicker's own version where it differs) to the clicker at once. With `shared_at` and
        `message_id` the message itself is updated for everyone, through the outbox (Slack
        `chat.update`, Teams `update_activity`). `own`: the clicked message was the
        clicker's alone (an only-you card, e.g. a confirmation): where the click is not
        answered synchronously it is replaced through the outbox (Slack: the click's
        `response_url`; console: printed again), and that record is dropped once delivered.
        """
        self.shown = personal or message
        if shared_at is not None and message_id:
            await self.outbox.update(
                self.event.platform, shared_at, message_id, message, key=self.key("show")
            )
        elif own and not self.event.reply_hints.get(RESPOND_INLINE_HINT):
            dest = self.destination(thread=bool(self.event.conversation.thread_id), ephemeral=True)
            await self.outbox.update(
                self.event.platform,
                dest,
                message_id or (self.event.action.message_id if self.event.action else None) or "",
                message,
                key=self.key("show"),
                erase_after_delivery=True,
            )

    async def react(self, emoji: str) -> None:
        if self.event.message_id is None:
            return
        await self.outbox.react(
            self.event.platform,
            self.destination(thread=False),
            self.event.message_id,
            emoji,
            key=self.key("react"),
            recipient_id=self._dm_recipient,
        )

    async def dm(
        self,
        user_ids: tuple[str, ...],
        message: OutboundMessage,
        *,
        deliver_after: datetime | None = None,
    ) -> str:
        key = self.key("dm")
        await self.outbox.send_dm(
            self.event.platform,
            self.event.workspace_id,
            user_ids,
            message,
            key=key,
            deliver_after=deliver_after,
        )
        return key

    async def open_form(self, form: Form) -> None:
        if not form.elsewhere:
            form = form.model_copy(update={"elsewhere": self.t.gettext(FORMS_ELSEWHERE)})
        if self.event.reply_hints.get(FORM_INLINE_HINT):
            self.opened_form = form
            return
        await self.outbox.form(
            self.event.platform, self.destination(thread=False), form, key=self.key("form")
        )
