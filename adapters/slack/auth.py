"""bolt's authorize step, answered from the adapter's own token source.

One code path for single-workspace (SLACK_BOT_TOKEN) and OAuth installations:
the token comes from the `TokenSource`, the bot's identity from a cached
auth.test through `SlackPort` (which also keeps proxy settings right: see
`SlackPort.client`). A workspace without an installation yields None, and
bolt answers "not installed" instead of processing the request.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize

from bot.ports import DeliveryError

from .inbound import workspace_id
from .port import SlackPort

log = logging.getLogger(__name__)


class CoreAuthorize(AsyncAuthorize):
    def __init__(self, port: SlackPort) -> None:
        super().__init__()
        self.port = port

    async def __call__(
        self,
        *,
        context: Any,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_: Any,
    ) -> AuthorizeResult | None:
        workspace = workspace_id(team_id or enterprise_id or "")
        try:
            identity = await self.port.identity(workspace)
            token = await self.port.token(workspace)
        except DeliveryError as exc:
            if exc.permanent:
                log.warning("no usable Slack installation for %s: %s", workspace, exc.reason)
                return None
            raise  # transient: answer 500 so Slack retries
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id or identity.get("team_id"),
            bot_token=token,
            bot_id=identity.get("bot_id"),
            bot_user_id=identity.get("user_id"),
            user_id=user_id,
        )
