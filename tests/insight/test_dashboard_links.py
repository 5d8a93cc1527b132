"""Links from the durf-te-vragen queue to the question's thread on its platform."""

from __future__ import annotations

from typing import Any

from adapters.dashboard.links import message_links, slack_permalink, teams_deep_link


def test_slack_permalink_has_the_form_chat_get_permalink_returns() -> None:
    assert (
        slack_permalink("https://acme.slack.com/", "C0123", "1700000000.123456")
        == "https://acme.slack.com/archives/C0123/p1700000000123456"
    )


def test_teams_deep_link_names_the_channel_message_and_tenant() -> None:
    link = teams_deep_link("teams:tenant-1", "19:abc@thread.tacv2", "1700000000123")
    assert link == (
        "https://teams.microsoft.com/l/message/19%3Aabc%40thread.tacv2/1700000000123"
        "?tenantId=tenant-1&parentMessageId=1700000000123"
    )


class _SlackPort:
    """The one thing the dashboard asks a Slack port: its auth.test answer (cached there)."""

    def __init__(self, url: str | None, fail: bool = False) -> None:
        self.url, self.fail, self.calls = url, fail, 0

    async def identity(self, workspace_id: str) -> dict[str, Any]:
        self.calls += 1
        if self.fail:
            raise RuntimeError("no token")
        return {"url": self.url}


class _Core:
    def __init__(self, port: Any = None) -> None:
        self.ports = {"slack": port} if port else {}


async def test_links_per_platform() -> None:
    messages = [("C1", "1.2"), ("C1", None)]
    port = _SlackPort("https://acme.slack.com/")
    found = await message_links(_Core(port), "slack:T1", messages)
    assert found == ["https://acme.slack.com/archives/C1/p12", None] and port.calls == 1
    assert await message_links(_Core(_SlackPort(None, fail=True)), "slack:T1", messages) == [
        None,
        None,
    ]
    assert await message_links(_Core(), "slack:T1", messages) == [None, None]
    teams = await message_links(_Core(), "teams:t", [("19:x@thread.tacv2", "9")])
    assert teams[0] is not None and teams[0].startswith("https://teams.microsoft.com/l/message/")
    assert await message_links(_Core(), "console:local", messages) == [None, None]
