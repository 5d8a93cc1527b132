"""Which Slack mode the secrets select, and clear errors for incomplete ones."""

from __future__ import annotations

import pytest

from adapters.slack import enabled
from adapters.slack.config import SlackConfig
from bot.config import Settings
from bot.errors import ConfigError


def settings(**env: str) -> Settings:
    return Settings.model_validate({"env": env})


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, False),  # no way to receive events
        ({"SLACK_SIGNING_SECRET": "s"}, False),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, True),
        ({"SLACK_APP_TOKEN": "xapp-1", "SLACK_BOT_TOKEN": "xoxb-1"}, True),
        ({"SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "c", "SLACK_SIGNING_SECRET": "s"}, True),
        ({"SLACK_BOT_TOKEN": " ", "SLACK_SIGNING_SECRET": " "}, False),  # blank is unset
    ],
)
def test_enabled(env, expected):
    assert enabled(settings(**env)) is expected


def test_modes_and_defaults():
    http = SlackConfig.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"})
    assert http.http and not http.socket_mode and not http.oauth
    assert http.api_url == "https://slack.com/api/"
    assert http.inbox_worker
    custom = SlackConfig.from_env(
        {"SLACK_API_URL": "http://127.0.0.1:9/api", "SLACK_INBOX_WORKER": "off"}
    )
    assert custom.api_url == "http://127.0.0.1:9/api/"
    assert not custom.inbox_worker
    socket = SlackConfig.from_env({"SLACK_APP_TOKEN": "xapp-1", "SLACK_BOT_TOKEN": "xoxb-1"})
    assert socket.socket_mode and not socket.http


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN: missing while SLACK_APP_TOKEN"),
        ({"SLACK_APP_TOKEN": "xoxb-wrong", "SLACK_BOT_TOKEN": "xoxb-1"}, "xapp-"),
        ({"SLACK_BOT_TOKEN": "secret", "SLACK_SIGNING_SECRET": "s"}, "xoxb-"),
        ({"SLACK_CLIENT_ID": "1", "SLACK_SIGNING_SECRET": "s"}, "expected both, or neither"),
    ],
)
def test_validation_names_the_secret(env, message):
    with pytest.raises(ConfigError, match=message):
        SlackConfig.from_env(env).validate()


def test_validation_never_echoes_secret_values():
    with pytest.raises(ConfigError) as info:
        SlackConfig.from_env(
            {"SLACK_BOT_TOKEN": "s3cr3t-value", "SLACK_SIGNING_SECRET": "s"}
        ).validate()
    assert "s3cr3t-value" not in str(info.value)
