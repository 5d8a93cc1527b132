"""The fake Slack answers at random with 429 + Retry-After, 500s and answers too slow for the
client's timeout, while the real delivery worker and SlackPort deliver a fan-out: every
message arrives, and none twice.

A timeout after the fake stored the message is the duplicate risk: the worker cannot know
whether it arrived. Such rows stay `sending` and, before the next attempt, SlackPort looks
for the message's outbox tag (message metadata) in the conversation's history.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from sqlmodel import col, func, select

from adapters.slack.port import SlackPort, StaticToken
from bot.app import build
from bot.messages import OutboundMessage
from bot.ports import Destination
from bot.store.tables import OutboxItem
from tests.conftest import make_settings
from tests.fakes.slack_api import FakeSlackApi

PEOPLE = 240
CHANNELS = 30
WS = "slack:T111"


async def test_random_429_500_and_timeouts_deliver_everything_once(database_url: str) -> None:
    async with FakeSlackApi() as api:
        api.chaos(20261122, rate_limited=0.08, server_error=0.08, slow=0.08, slow_seconds=0.8)
        port = SlackPort(StaticToken("xoxb-chaos"), base_url=api.url, timeout=0.3)
        port.min_interval = 0.0  # one message per conversation here; pacing is not the point
        core = build(
            make_settings(
                database_url,
                delivery={
                    "lease_seconds": 5,
                    "base_backoff_seconds": 0.05,
                    "max_backoff_seconds": 0.3,
                    "max_attempts": 40,
                },
            )
        )
        core.register_port(port)
        await core.start(deliver=False, schedule=False)
        try:
            users = [f"U{i:06d}" for i in range(PEOPLE)]
            added = await core.outbox.send_dms(
                "slack",
                [
                    (
                        WS,
                        user,
                        OutboundMessage.text(f"What are you working on, {user}?"),
                        f"chaos:dm:{user}",
                    )
                    for user in users
                ],
            )
            assert added == PEOPLE
            channels = [f"C{i:05d}" for i in range(CHANNELS)]
            for channel in channels:
                await core.outbox.send(
                    "slack",
                    Destination(WS, channel),
                    OutboundMessage.text("This week's question"),
                    key=f"chaos:round:{channel}",
                )
            started = time.monotonic()
            core.delivery.start()
            await wait_all_sent(core, PEOPLE + CHANNELS, timeout=45)
            elapsed = time.monotonic() - started
            await api.settle(0.9)  # slow answers still pending would show up as extra posts
        finally:
            await core.stop()
            await port.close()

    delivered = Counter(api.delivered())
    expected = {"D" + u[1:] for u in users} | set(channels)
    assert set(delivered) == expected, "some recipients got nothing"
    assert [c for c, n in delivered.items() if n > 1] == [], "someone got a message twice"
    posts = api.calls_to("chat.postMessage", ok_only=False)
    outcomes = Counter(call.status for call in posts)
    # the faults really happened: 429s, 500s, and answers that came after the client gave up
    assert outcomes[429] >= 5 and outcomes[500] >= 5 and api.slow_answers >= 5, (
        outcomes,
        api.slow_answers,
    )
    assert outcomes[200] == PEOPLE + CHANNELS, "a stored message was posted again"
    checks = api.calls_to("conversations.history", ok_only=False)
    assert len(checks) >= outcomes[500] + api.slow_answers, "uncertain outcomes are checked"
    assert elapsed < 40


async def wait_all_sent(core, expected: int, *, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with core.db.session() as s:
            sent = (
                await s.exec(
                    select(func.count())
                    .select_from(OutboxItem)
                    .where(col(OutboxItem.status) == "sent")
                )
            ).one()
        if sent >= expected:
            return
        if loop.time() > deadline:
            async with core.db.session() as s:
                states = Counter((await s.exec(select(OutboxItem.status))).all())
            raise AssertionError(f"only {sent}/{expected} sent in time: {states}")
        await asyncio.sleep(0.1)
