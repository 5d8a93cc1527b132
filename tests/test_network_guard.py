"""The suite cannot reach the internet: the guard in conftest.py refuses it."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import NetworkBlocked


def test_connecting_outside_loopback_fails() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(NetworkBlocked):
        sock.connect(("93.184.216.34", 80))


def test_resolving_an_external_name_fails() -> None:
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("slack.com", 443)


async def test_an_http_client_cannot_reach_out() -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        with pytest.raises((NetworkBlocked, aiohttp.ClientError)):
            await session.get("https://slack.com/api/api.test", proxy=None)


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
