"""A ChatPort that records what the bot does, and can be told to fail (zulip's test stub)."""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field

from bot.messages import Form, OutboundMessage
from bot.ports import DeliveryError, Destination, PersonInfo, Sent


@dataclass
class Record:
    op: str
    dest: Destination | None
    message: OutboundMessage | None = None
    message_id: str | None = None
    emoji: str | None = None
    user_ids: tuple[str, ...] = ()
    form: Form | None = None

    @property
    def text(self) -> str:
        return self.message.plain_text() if self.message else ""


@dataclass
class RecordingPort:
    platform: str = "test"
    min_interval: float = 0.0
    people: dict[str, PersonInfo] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    failures: deque[DeliveryError] = field(default_factory=deque)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fail_next(self, *errors: DeliveryError) -> None:
        self.failures.extend(errors)

    def _maybe_fail(self) -> None:
        if self.failures:
            raise self.failures.popleft()

    def sent(self, op: str = "send") -> list[Record]:
        return [r for r in self.records if r.op == op]

    async def send(self, dest: Destination, message: OutboundMessage) -> Sent:
        self._maybe_fail()
        message_id = f"M{next(self._ids)}"
        self.records.append(Record("send", dest, message, message_id))
        return Sent(message_id=message_id, channel_id=dest.channel_id)

    async def update(self, dest: Destination, message_id: str, message: OutboundMessage) -> None:
        self._maybe_fail()
        self.records.append(Record("update", dest, message, message_id))

    async def react(self, dest: Destination, message_id: str, emoji: str) -> None:
        self._maybe_fail()
        self.records.append(Record("react", dest, None, message_id, emoji))

    async def open_dm(self, workspace_id: str, user_ids: tuple[str, ...]) -> str:
        self._maybe_fail()
        self.records.append(Record("open_dm", None, user_ids=user_ids))
        return "D-" + "-".join(user_ids)

    async def open_form(self, dest: Destination, form: Form) -> None:
        self._maybe_fail()
        self.records.append(Record("form", dest, form=form))

    async def lookup_person(self, workspace_id: str, user_id: str) -> PersonInfo:
        return self.people.get(user_id) or PersonInfo(user_id=user_id, display_name=user_id)
