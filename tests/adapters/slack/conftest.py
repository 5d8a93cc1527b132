"""Shared fixtures for the Slack adapter tests: recorded payloads from ./data."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"


def _load(name: str) -> Any:
    path = DATA / name
    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else text


@pytest.fixture
def payload() -> Callable[[str], Any]:
    """`payload("events/event_callback_message.json")` -> a fresh copy of the recorded payload."""
    return _load


@pytest.fixture
async def slack_api():
    """A running fake Slack Web API on 127.0.0.1 (see tests/fakes/slack_api.py)."""
    from tests.fakes.slack_api import FakeSlackApi

    async with FakeSlackApi() as api:
        yield api
