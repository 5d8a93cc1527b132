"""A database outage: events are refused (so the platform retries) instead of acknowledged and
lost, health reports it, and everything recovers by itself when the database returns."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from bot.app import build
from bot.errors import StoreUnavailable
from bot.store.tables import Narration
from tests.conftest import make_settings
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort
from tests.fakes.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres


@pytest.fixture
async def proxied(postgres_schema_url: str):
    async with TcpProxy("127.0.0.1", 5432) as proxy:
        yield proxy, postgres_schema_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")


async def test_outage_refuses_then_recovers_without_restart(proxied, clock) -> None:
    proxy, url = proxied
    port = RecordingPort()
    core = build(make_settings(url), clock=clock)
    core.register_port(port)
    await core.start(deliver=False)
    try:
        event = ev.message("I'm working on the outage drill", event_id="Ev-outage")
        proxy.cut()
        with pytest.raises(StoreUnavailable):
            await core.handle(event)  # the adapter answers non-2xx: Slack/Teams will retry
        assert await core.db.ping() is False
        proxy.restore()
        assert await core.db.ping() is True
        await core.handle(event)  # the platform's retry is processed normally
        await core.delivery.drain()
        async with core.db.session() as s:
            assert (await s.exec(select(func.count()).select_from(Narration))).one() == 1
        assert len(port.sent("react")) == 1
    finally:
        await core.stop()


async def test_delivery_pauses_during_an_outage_and_resumes(proxied, clock) -> None:
    proxy, url = proxied
    port = RecordingPort()
    core = build(make_settings(url), clock=clock)
    core.register_port(port)
    await core.start(deliver=False)
    try:
        from bot.messages import OutboundMessage
        from bot.ports import Destination

        await core.outbox.send(
            "test",
            Destination("test:T1", "C1"),
            OutboundMessage.text("after the storm"),
            key="storm",
        )
        proxy.cut()
        with pytest.raises(StoreUnavailable):
            await core.delivery.run_once()
        proxy.restore()
        await core.delivery.drain()
        assert [r.text for r in port.sent()] == ["after the storm"]
    finally:
        await core.stop()


async def test_healthz_reports_degraded_during_the_outage(proxied, clock) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from adapters.web import build_web_app

    proxy, url = proxied
    core = build(make_settings(url), clock=clock)
    await core.start(deliver=False)
    client = TestClient(TestServer(build_web_app(core, adapters=[])))
    await client.start_server()
    try:
        assert (await client.get("/healthz")).status == 200
        proxy.cut()
        response = await client.get("/healthz")
        body = await response.json()
        assert response.status == 503 and body["status"] == "degraded"
        assert body["database"]["ok"] is False
        proxy.restore()
        assert (await client.get("/healthz")).status == 200
    finally:
        await client.close()
        await core.stop()
