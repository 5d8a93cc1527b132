"""`wolbot slack manifest`: a valid manifest with what the adapter handles."""

from __future__ import annotations

import yaml

from adapters.slack.cli import cli
from adapters.slack.config import BOT_SCOPES
from adapters.slack.manifest import BOT_EVENTS, scopes_markdown
from bot.cli import main


def run(capsys, *argv: str) -> tuple[int, dict | None, str]:
    code = cli(list(argv))
    out, err = capsys.readouterr()
    return code, (yaml.safe_load(out) if out else None), err


def test_http_manifest(capsys):
    code, manifest, _ = run(capsys, "manifest", "--url", "https://bot.example.org/")
    assert code == 0
    url = "https://bot.example.org/slack/events"
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["request_url"] == url
    assert settings["interactivity"] == {"is_enabled": True, "request_url": url}
    assert settings["socket_mode_enabled"] is False
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/wol" and command["url"] == url
    assert command["should_escape"] is True
    callbacks = {s["callback_id"]: s["type"] for s in manifest["features"]["shortcuts"]}
    assert callbacks == {"wol_narrate": "global", "wol_share_message": "message"}
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
    assert "redirect_urls" not in manifest["oauth_config"]
    events = settings["event_subscriptions"]["bot_events"]
    assert events == list(BOT_EVENTS)
    assert "app_mention" not in events  # message.* already delivers mentions


def test_every_subscribed_event_has_its_scope():
    needs = {
        "message.channels": "channels:history",
        "message.groups": "groups:history",
        "message.im": "im:history",
        "reaction_added": "reactions:read",
        "member_joined_channel": "channels:read",
    }
    for event, scope in needs.items():
        assert event in BOT_EVENTS and scope in BOT_SCOPES


def test_socket_mode_manifest_has_no_urls(capsys):
    code, manifest, _ = run(capsys, "manifest", "--socket-mode")
    assert code == 0
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert "url" not in manifest["features"]["slash_commands"][0]


def test_oauth_manifest_has_the_redirect_url(capsys):
    _, manifest, _ = run(capsys, "manifest", "--url", "https://bot.example.org", "--oauth")
    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://bot.example.org/slack/oauth_redirect"
    ]


def test_bad_arguments(capsys):
    assert run(capsys, "manifest")[0] == 2
    code, _, err = run(capsys, "manifest", "--url", "http://insecure.example.org")
    assert code == 2 and "https" in err
    assert run(capsys, "manifest", "--socket-mode", "--oauth")[0] == 2


def test_through_the_wolbot_cli(capsys):
    assert main(["slack", "manifest", "--url", "https://bot.example.org", "--name", "wol"]) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)
    assert manifest["display_information"]["name"] == "wol"


def test_group_dms_are_never_read(capsys):
    """Issue 17 item 2: no mpim:history / mpim:read / message.mpim; the introduction group DM
    is opened and posted to with mpim:write only."""
    _, manifest, _ = run(capsys, "manifest", "--socket-mode")
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert "mpim:history" not in scopes and "mpim:read" not in scopes
    assert "mpim:write" in scopes and "files:write" in scopes
    assert not [e for e in events if "mpim" in e]


def test_docs_list_exactly_the_manifests_scopes_with_their_reasons(capsys):
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[3] / "docs" / "slack.md").read_text()
    start = docs.index("<!-- scopes:start")
    start = docs.index("\n", start) + 1
    section = docs[start : docs.index("<!-- scopes:end -->")]
    assert section == scopes_markdown(), "regenerate with: wolbot slack scopes --markdown"
    assert cli(["scopes", "--markdown"]) == 0
    assert capsys.readouterr().out == scopes_markdown()
    for scope in BOT_SCOPES:
        assert f"| `{scope}` |" in section
    for event in BOT_EVENTS:
        assert f"| `{event}` |" in section
