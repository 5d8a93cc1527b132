"""The Slack app manifest: everything this adapter needs, for creating the app in one paste
(api.slack.com/apps → Create New App → From an app manifest)."""

from __future__ import annotations

from typing import Any

import yaml

from bot.features.share_work import NARRATE_SHORTCUT, SHARE_SHORTCUT

from .config import BOT_SCOPES, SCOPES

# Events the adapter handles, each with why. `message.*` covers mentions in channels the
# bot is in, so `app_mention` is not subscribed (it would deliver every mention twice);
# `message.mpim` is not subscribed: wolbot never reads group DMs.
EVENTS: dict[str, str] = {
    "app_home_opened": "show the App Home tab (your narrations and connections)",
    "app_uninstalled": "forget a workspace's installation when the app is removed",
    "member_joined_channel": "introduce the bot once when it is added to a channel",
    "message.channels": "narrations, round answers and questions in public channels",
    "message.groups": "the same in private channels the bot was invited to",
    "message.im": "direct messages to the bot",
    "reaction_added": "reactions on round answers and ✅ on answers to questions",
    "tokens_revoked": "forget a workspace's token when it is revoked",
}
BOT_EVENTS: tuple[str, ...] = tuple(EVENTS)


def scopes_markdown() -> str:
    """The scope and event tables of docs/slack.md, made from the manifest's own source."""
    lines = ["| bot scope | why wolbot needs it |", "|---|---|"]
    lines += [f"| `{scope}` | {why} |" for scope, why in SCOPES.items()]
    lines += ["", "| event | why wolbot subscribes to it |", "|---|---|"]
    lines += [f"| `{event}` | {why} |" for event, why in EVENTS.items()]
    return "\n".join(lines) + "\n"


def build_manifest(
    *,
    base_url: str | None,
    name: str = "wolbot",
    socket_mode: bool = False,
    oauth: bool = False,
) -> dict[str, Any]:
    """The manifest as a dict. `base_url` is the public https origin of `wolbot serve`
    (not needed with Socket Mode, where Slack needs no URL at all)."""
    events_url = f"{base_url.rstrip('/')}/slack/events" if base_url else None
    command: dict[str, Any] = {
        "command": "/wol",
        "description": "Working out loud: share what you work on, help, language",
        "usage_hint": "help | working on … | language nl",
        "should_escape": True,
    }
    interactivity: dict[str, Any] = {"is_enabled": True}
    events: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    if not socket_mode and events_url:
        command["url"] = events_url
        interactivity["request_url"] = events_url
        events["request_url"] = events_url
    manifest: dict[str, Any] = {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Working out loud, in the chat you already use",
            "long_description": (
                "wolbot helps colleagues work out loud: tell it what you are working on "
                '("I\'m working on …" / "Ik ben bezig met …") in a channel or a direct '
                "message, and it helps people who work on the same thing find each other. "
                "Type /wol help to see everything it can do, in English or Dutch."
            ),
            "background_color": "#2d4b73",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "shortcuts": [
                {
                    "name": "Narrate my work",
                    "type": "global",
                    "callback_id": NARRATE_SHORTCUT,
                    "description": "Tell colleagues what you are working on",
                },
                {
                    "name": "Share as working out loud",
                    "type": "message",
                    "callback_id": SHARE_SHORTCUT,
                    "description": "Turn this message into what you are working on",
                },
            ],
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }
    if oauth and base_url:
        manifest["oauth_config"]["redirect_urls"] = [f"{base_url.rstrip('/')}/slack/oauth_redirect"]
    return manifest


def manifest_yaml(**kwargs: Any) -> str:
    return yaml.safe_dump(build_manifest(**kwargs), sort_keys=False, allow_unicode=True, width=100)
