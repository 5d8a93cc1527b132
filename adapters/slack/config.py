"""Which Slack mode to run in, read from the secrets in `settings.env`.

- HTTP mode: SLACK_SIGNING_SECRET + SLACK_BOT_TOKEN (one workspace), Events API and
  interactivity POSTed to /slack/events.
- Socket Mode: SLACK_APP_TOKEN (xapp-…) + SLACK_BOT_TOKEN, no public URL needed.
- Distribution (OAuth v2): SLACK_CLIENT_ID + SLACK_CLIENT_SECRET + SLACK_SIGNING_SECRET;
  bot tokens come from the installations table instead of SLACK_BOT_TOKEN.
SLACK_API_URL overrides the Web API base URL (a proxy, or a local fake in tests).
SLACK_INBOX_WORKER=0 makes a replica acknowledge events without handling them (see inbox.py);
SLACK_INBOX_WORKER=process hands the handling to a worker process that serve starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.errors import ConfigError

from .port import DEFAULT_API_URL

# The bot scopes this adapter needs, and no more, each with why: the manifest, OAuth and
# docs/slack.md (`wolbot slack scopes --markdown`) are all made from this one table.
# Deliberately absent: users:read.email (wolbot needs no e-mail addresses), mpim:history and
# mpim:read (wolbot never reads group DMs, not even the introductions it opens).
SCOPES: dict[str, str] = {
    "channels:history": "read messages in the public channels the bot was added to: "
    "narrations, dialogue-round answers, durf-te-vragen questions "
    "(event `message.channels`)",
    "channels:read": "tell a public channel from a private one (`conversations.info`) and see "
    "the bot being added to a channel (`member_joined_channel`)",
    "chat:write": "post answers, suggestions, round questions and summaries, introductions, "
    "check-ins and private (ephemeral) replies",
    "commands": "the `/wol` command",
    "files:write": "send a person's data export and statistics charts as a file, into their "
    "own DM only",
    "groups:history": "read messages in the private channels the bot was invited to "
    "(event `message.groups`)",
    "groups:read": "tell a private channel from a public one (`conversations.info`) and see "
    "the bot being added to a private channel",
    "im:history": "read direct messages to the bot: narrations, check-in answers (event "
    "`message.im`); check after a crash whether a DM had arrived",
    "im:read": "recognise a direct message with the bot when a click does not say where it "
    "came from (`conversations.info`)",
    "im:write": "open a DM with a person (`conversations.open`): check-ins, follow-ups, "
    "relays to anonymous askers, exports",
    "mpim:write": "open the group DM of an introduction (`conversations.open` with two "
    "people); the bot posts there but never reads it",
    "reactions:read": "see reactions (`reaction_added`): the most-reacted round answers, ✅ "
    "marking a question answered",
    "reactions:write": "add the 📝 acknowledgement to a narration and ✅ to an answer",
    "users:read": "a person's name, time zone and locale (`users.info`), to write to them in "
    "their language at their local time",
}
BOT_SCOPES: tuple[str, ...] = tuple(SCOPES)


@dataclass(frozen=True)
class SlackConfig:
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    api_url: str = DEFAULT_API_URL
    redirect_uri: str | None = None  # SLACK_REDIRECT_URI: https://<host>/slack/oauth_redirect
    install_path: str = "/slack/install"
    redirect_path: str = "/slack/oauth_redirect"
    events_path: str = "/slack/events"
    # SLACK_INBOX_WORKER=0: this replica only acknowledges (stores) events; replicas with the
    # worker on handle them. Lets web replicas answer Slack fast whatever the handling costs.
    inbox_worker: bool = True
    # SLACK_INBOX_WORKER=process: `wolbot serve` acknowledges in its own process and starts a
    # worker process at a lower CPU priority that handles the inbox (see worker.py), so the
    # handling's CPU never delays an acknowledgement.
    inbox_process: bool = False
    # SLACK_MAX_MESSAGES_PER_SECOND: pace all requests to one workspace (Slack limits
    # chat.postMessage per workspace too; unset: only per channel, and 429s are honoured).
    max_per_second: float | None = None
    # SLACK_HTTP_TIMEOUT: seconds before a Web API request is given up (its outcome is then
    # unknown and checked before a retry; keep delivery.lease_seconds well above it).
    http_timeout: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackConfig:
        def get(name: str) -> str | None:
            value = (env.get(name) or "").strip()
            return value or None

        api_url = get("SLACK_API_URL") or DEFAULT_API_URL
        return cls(
            bot_token=get("SLACK_BOT_TOKEN"),
            signing_secret=get("SLACK_SIGNING_SECRET"),
            app_token=get("SLACK_APP_TOKEN"),
            client_id=get("SLACK_CLIENT_ID"),
            client_secret=get("SLACK_CLIENT_SECRET"),
            api_url=api_url if api_url.endswith("/") else api_url + "/",
            redirect_uri=get("SLACK_REDIRECT_URI"),
            inbox_worker=(get("SLACK_INBOX_WORKER") or "1").lower()
            not in ("0", "false", "no", "off", "process"),
            inbox_process=(get("SLACK_INBOX_WORKER") or "").lower() == "process",
            max_per_second=_positive(get("SLACK_MAX_MESSAGES_PER_SECOND")),
            http_timeout=_positive(get("SLACK_HTTP_TIMEOUT"), "SLACK_HTTP_TIMEOUT") or 10.0,
        )

    @property
    def oauth(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @property
    def http(self) -> bool:
        return bool(self.signing_secret) and (bool(self.bot_token) or self.oauth)

    @property
    def enabled(self) -> bool:
        return (
            (bool(self.bot_token) and bool(self.signing_secret))
            or self.socket_mode
            or (self.oauth and bool(self.signing_secret))
        )

    @property
    def mode(self) -> str:
        if self.socket_mode:
            return "Socket Mode"
        if self.oauth:
            return f"HTTP with OAuth installs ({self.events_path}, {self.install_path})"
        return f"HTTP ({self.events_path})"

    def problems(self) -> list[str]:
        """Every variable that is wrong or missing, as `NAME: what is wrong (what is
        expected)`; none when Slack is off or fully configured."""
        found = []
        if self.app_token and not self.app_token.startswith("xapp-"):
            found.append(
                "SLACK_APP_TOKEN: not an app-level token (expected a token starting with xapp-)"
            )
        if self.bot_token and not self.bot_token.startswith("xox"):
            found.append("SLACK_BOT_TOKEN: not a bot token (expected a token starting with xoxb-)")
        if self.socket_mode and not (self.bot_token or self.oauth):
            found.append(
                "SLACK_BOT_TOKEN: missing while SLACK_APP_TOKEN is set (expected the "
                "bot token xoxb-… too: Socket Mode receives with the app token and "
                "answers with the bot token)"
            )
        if self.bot_token and not self.signing_secret and not self.socket_mode:
            found.append(
                "SLACK_SIGNING_SECRET: missing while SLACK_BOT_TOKEN is set (expected "
                "the app's signing secret for HTTP mode, or SLACK_APP_TOKEN for "
                "Socket Mode)"
            )
        if self.signing_secret and not (self.bot_token or self.oauth or self.socket_mode):
            found.append(
                "SLACK_BOT_TOKEN: missing while SLACK_SIGNING_SECRET is set (expected "
                "the bot token xoxb-…, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for "
                "OAuth installs)"
            )
        if self.oauth and not self.signing_secret and not self.socket_mode:
            found.append(
                "SLACK_SIGNING_SECRET: missing while SLACK_CLIENT_ID is set (expected "
                "the app's signing secret: OAuth installs need HTTP mode)"
            )
        if bool(self.client_id) != bool(self.client_secret):
            missing = "SLACK_CLIENT_SECRET" if self.client_id else "SLACK_CLIENT_ID"
            other = "SLACK_CLIENT_ID" if self.client_id else "SLACK_CLIENT_SECRET"
            found.append(f"{missing}: missing while {other} is set (expected both, or neither)")
        return found

    def validate(self) -> None:
        """Raise ConfigError naming every missing or wrong secret, before anything starts."""
        problems = self.problems()
        if problems:
            raise ConfigError("\n".join(problems), problems=problems)


def _positive(value: str | None, name: str = "SLACK_MAX_MESSAGES_PER_SECOND") -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name}: expected a number, got {value!r}") from None
    if number <= 0:
        raise ConfigError(f"{name}: expected a positive number")
    return number
