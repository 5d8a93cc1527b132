"""The port every chat adapter implements, and the errors it reports.

The core never calls a platform directly while handling an event: it queues
outbound work in the outbox (`bot.delivery.outbox`), and the delivery worker
calls these methods. So an adapter's `ChatPort` only has to do one request
well and report failures precisely; retries, rate limits and idempotency are
the core's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bot.messages import Form, OutboundMessage


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a message goes.

    `channel_id` is a conversation id on the platform; `thread_id` makes it a
    reply in that thread; `ephemeral_user` makes it visible to that person only
    (adapters without ephemeral messages send it to the person's DM instead).
    `hints` carries adapter data captured from the inbound event, e.g. Slack's
    `response_url`; it is JSON-serialisable and opaque to the core.
    """

    workspace_id: str
    channel_id: str
    thread_id: str | None = None
    ephemeral_user: str | None = None
    hints: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PersonInfo:
    user_id: str
    display_name: str
    timezone: str | None = None  # IANA name, e.g. "Europe/Amsterdam"
    locale: str | None = None  # e.g. "nl-NL"
    is_admin: bool = False  # platform workspace admin/owner
    is_bot: bool = False
    deleted: bool = False
    email: str | None = None
    # Another stable id the organisation's directory knows the person by, accepted wherever
    # people are listed in app.yaml (Teams: the Entra ID object id; None where there is none).
    directory_id: str | None = None

    def identities(self) -> frozenset[str]:
        """Every name app.yaml may list this person under (id, directory id, display name)."""
        return frozenset(n for n in (self.user_id, self.directory_id, self.display_name) if n)


@dataclass(frozen=True, slots=True)
class Sent:
    """What the platform answered for a sent message: its id, for threads and updates."""

    message_id: str
    channel_id: str


class DeliveryError(Exception):
    """A platform refused a request.

    `retry_after` (seconds) means "rate limited, try again then"; `permanent`
    means retrying cannot help (channel gone, bot removed, person deactivated).
    Anything else is treated as transient and retried with back-off. `uncertain`
    means the request may have reached the platform (a timeout, a dropped
    connection, a 5xx): where the port is a `DeliveryVerifier`, the worker asks
    the platform before sending again.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        uncertain: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.uncertain = uncertain


@runtime_checkable
class FileSender(Protocol):
    """Optional: ports that can deliver a file (a data export) into a conversation."""

    async def send_file(
        self, dest: Destination, filename: str, content: bytes, message: OutboundMessage
    ) -> Sent: ...


@runtime_checkable
class DeliveryVerifier(Protocol):
    """Optional: ports that can tag a posted message with an opaque key and later find it.

    The delivery worker posts `send`/`dm` rows with `send_tagged`. When an attempt's outcome
    is unknown (the process died during the request and its lease expired, or the request
    timed out), it calls `find_tagged` before sending again, so a message that did arrive is
    recorded as sent instead of posted twice. `since` is the earliest moment the first
    attempt can have happened. Ports without these methods are at-least-once in that case.
    """

    async def send_tagged(self, dest: Destination, message: OutboundMessage, tag: str) -> Sent: ...

    async def find_tagged(self, dest: Destination, tag: str, since: datetime) -> Sent | None: ...


@dataclass(frozen=True, slots=True)
class GroupConversations:
    """How a message to several people together (an introduction) reaches them, for admins.

    `shared`: in one conversation with all of them (Slack's group DM, a Teams group chat);
    otherwise each gets it in their own DM with the bot. `cause` says why not: "permission"
    (the platform refused; `permission` names exactly what an admin can grant), "signin"
    (the platform's sign-in service refused the app's credentials in this workspace: a wrong
    secret, or no admin consent there yet), "failure" (the platform's service failed;
    `status` is its HTTP status when there was one),
    "not_configured" (the deployment lacks what it needs) or "off" (switched off).
    `detail` is the platform's own words, for logs and operators; `retry_at` is when the
    shared conversation is tried again.
    """

    shared: bool
    cause: str | None = None
    permission: str | None = None
    status: int | None = None
    detail: str | None = None
    since: datetime | None = None
    retry_at: datetime | None = None


@runtime_checkable
class GroupConversationReporter(Protocol):
    """Optional: ports whose `open_dm` for several people may fall back to separate DMs
    say whether it does in a workspace, and why (shown in `/wol config show`)."""

    async def group_conversations(self, workspace_id: str) -> GroupConversations: ...


@runtime_checkable
class ChatPort(Protocol):
    """One chat platform. Optional attributes the delivery worker reads for pacing:
    `min_interval` (seconds between two requests to one conversation) and
    `workspace_interval` (seconds between any two requests to one workspace).
    `reactions_post_messages` (default false): `react` has to post a message to be seen, so
    the core avoids it where a reaction would have been quiet (bot/features/narration_ack.py).
    `ephemeral_as_dm` (default false): the platform has no only-you messages, so an answer to
    one person (`ephemeral_user`) is a message in their DM with the bot, where what the core
    sends them by DM lands too (a file after its figures: bot/features/participation.py; no
    note that something was sent there: `Context.note_sent_by_dm`)."""

    platform: str

    async def send(self, dest: Destination, message: OutboundMessage) -> Sent:
        """Post a message (in a thread when `dest.thread_id`; ephemeral when `ephemeral_user`)."""
        ...

    async def update(self, dest: Destination, message_id: str, message: OutboundMessage) -> None:
        """Replace the content of a message the bot sent earlier."""
        ...

    async def react(self, dest: Destination, message_id: str, emoji: str) -> None:
        """Add a reaction (a neutral name such as "memo") to a message; no-op where unsupported."""
        ...

    async def open_dm(self, workspace_id: str, user_ids: tuple[str, ...]) -> str:
        """Open (or find) a DM with one person or a group DM with several; returns its id.

        For several people a port opens one conversation with all of them where the
        platform lets it, else an address that reaches each in their own DM (see
        `GroupConversationReporter`); the same people get the same conversation again."""
        ...

    async def open_form(self, dest: Destination, form: Form) -> None:
        """Show a modal / task module; `dest.hints` carries what the platform needs."""
        ...

    async def lookup_person(self, workspace_id: str, user_id: str) -> PersonInfo:
        """Name, time zone, locale and admin flag of a person, as the platform knows them."""
        ...
