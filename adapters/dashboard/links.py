"""Links from the dashboard to a message on its platform: a Slack permalink, a Teams deep link.

Pure builders plus one lookup: a Slack permalink needs the workspace's address, which the
Slack port already knows from auth.test (cached). Console and test workspaces have no links.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, urlencode

log = logging.getLogger(__name__)


def slack_permalink(team_url: str, channel_id: str, ts: str) -> str:
    """https://acme.slack.com/archives/C0123/p1700000000123456 (the form chat.getPermalink
    returns: "p" and the message's ts without its dot)."""
    return f"{team_url.rstrip('/')}/archives/{quote(channel_id, safe='')}/p{ts.replace('.', '')}"


def teams_deep_link(workspace_id: str, channel_id: str, message_id: str) -> str:
    """https://teams.microsoft.com/l/message/<channel>/<message>?tenantId=…&parentMessageId=…
    for a message that starts a thread in a channel (a durf-te-vragen question does)."""
    query = urlencode(
        {"tenantId": workspace_id.removeprefix("teams:"), "parentMessageId": message_id}
    )
    return (
        f"https://teams.microsoft.com/l/message/{quote(channel_id, safe='')}/"
        f"{quote(message_id, safe='')}?{query}"
    )


async def message_links(
    core: Any, workspace_id: str, messages: list[tuple[str, str | None]]
) -> list[str | None]:
    """A link (or None) for each (channel id, message id) of one workspace."""
    platform = workspace_id.split(":", 1)[0]
    if platform == "teams":
        return [teams_deep_link(workspace_id, c, m) if m else None for c, m in messages]
    if platform != "slack" or not any(m for _, m in messages):
        return [None] * len(messages)
    port = core.ports.get("slack")
    identity = getattr(port, "identity", None)
    if identity is None:
        return [None] * len(messages)
    try:
        team_url = str((await identity(workspace_id)).get("url") or "")
    except Exception as exc:  # any failure (token, network): the page shows no link
        log.info("no Slack address for %s (%s): questions shown without links", workspace_id, exc)
        return [None] * len(messages)
    if not team_url.startswith("https://"):
        return [None] * len(messages)
    return [slack_permalink(team_url, c, m) if m else None for c, m in messages]
