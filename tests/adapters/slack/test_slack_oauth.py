"""OAuth v2 distribution: /slack/install -> /slack/oauth_redirect -> installation in the
database (token encrypted) -> events for that workspace use its token -> uninstall."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from adapters.slack.oauth import DbStateStore, seal, unseal
from bot.secrets import SLACK_TOKENS, Keyring
from bot.store.tables import Narration
from bot.store.tables.slack import SlackInstallation

from .conftest import SIGNING_SECRET

INSTALLED_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"


@pytest.fixture
async def oauth_slack(serve_slack, slack_api, payload):
    env = {
        "SLACK_CLIENT_ID": "111.222",
        "SLACK_CLIENT_SECRET": "client-secret",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api.url,
    }
    response = payload("web_api/bolt_mock_oauth_v2_access_response.json")
    response.pop("ok")
    slack_api.oauth_codes["code-1"] = response
    return await serve_slack(env=env)


async def install(slack, code: str = "code-1") -> tuple[int, str]:
    async with slack.session.get(slack.base + "/slack/install") as r:
        assert r.status == 200
        page = await r.text()
        cookie = r.headers["Set-Cookie"].split(";")[0]
    link = re.search(r'href="(https://slack.com/oauth/v2/authorize[^"]+)"', page).group(1)
    query = parse_qs(urlsplit(link.replace("&amp;", "&")).query)
    assert query["client_id"] == ["111.222"]
    assert "chat:write" in query["scope"][0].split(",")
    state = query["state"][0]
    url = f"{slack.base}/slack/oauth_redirect?code={code}&state={state}"
    async with slack.session.get(url, headers={"Cookie": cookie}) as r:
        return r.status, state


def event_for(payload, team: str, event_id: str) -> dict:
    body = payload("events/event_callback_message.json")
    body.update(team_id=team, event_id=event_id, authorizations=[{"team_id": team, "is_bot": True}])
    body["event"].update(text="I'm working on the install guide", team=team)
    return body


async def installations(core) -> list[SlackInstallation]:
    async with core.db.session() as s:
        return list((await s.exec(select(SlackInstallation))).all())


async def test_install_then_events_use_the_installed_token(oauth_slack, slack_api, payload):
    core, slack = oauth_slack
    status, _ = await install(slack)
    assert status == 200
    [exchange] = slack_api.calls_to("oauth.v2.access")
    assert exchange.args["code"] == "code-1"
    [row] = await installations(core)
    assert row.workspace_id == "slack:T9TK3CUKW"
    assert row.installer_user_id == "U1234"
    assert INSTALLED_TOKEN not in row.bot_token  # encrypted at rest
    assert core.keyring.decrypt(SLACK_TOKENS, row.bot_token) == INSTALLED_TOKEN
    assert core.keyring.is_current(SLACK_TOKENS, row.bot_token)  # the root's key, not legacy

    assert (await slack.event(event_for(payload, "T9TK3CUKW", "EvI1")))[0] == 200
    [reaction] = await slack_api.wait_for("reactions.add")
    assert reaction.token == INSTALLED_TOKEN


async def test_state_is_single_use_and_forged_state_fails(oauth_slack, slack_api):
    core, slack = oauth_slack
    status, state = await install(slack)
    assert status == 200
    slack_api.oauth_codes["code-2"] = {"access_token": "xoxb-other", "team": {"id": "T2"}}
    url = f"{slack.base}/slack/oauth_redirect?code=code-2&state={state}"
    async with slack.session.get(url, headers={"Cookie": f"slack-app-oauth-state={state}"}) as r:
        assert r.status >= 400  # the state was consumed by the first install
    async with slack.session.get(
        f"{slack.base}/slack/oauth_redirect?code=code-2&state=forged"
    ) as r:
        assert r.status >= 400
    assert [row.workspace_id for row in await installations(core)] == ["slack:T9TK3CUKW"]
    assert len(slack_api.calls_to("oauth.v2.access")) == 1


async def test_events_from_a_workspace_without_installation_are_not_processed(
    oauth_slack, slack_api, payload
):
    core, slack = oauth_slack
    status, _ = await slack.event(event_for(payload, "T404", "EvX"))
    assert status == 200  # acknowledged, so Slack does not retry, but nothing happens
    await slack_api.settle(0.4)
    assert slack_api.calls_to("reactions.add") == []
    async with core.db.session() as s:
        assert list((await s.exec(select(Narration))).all()) == []


async def test_uninstall_removes_the_installation(oauth_slack, slack_api, payload):
    core, slack = oauth_slack
    await install(slack)
    uninstalled = payload("events/event_callback_app_uninstalled.json")
    uninstalled.update(team_id="T9TK3CUKW", enterprise_id=None, event_id="EvU")
    assert (await slack.event(uninstalled))[0] == 200
    assert await installations(core) == []
    assert (await slack.event(event_for(payload, "T9TK3CUKW", "EvAfter")))[0] == 200
    await slack_api.settle(0.4)
    assert slack_api.calls_to("reactions.add") == []


async def test_tokens_revoked_for_the_bot_removes_the_installation(oauth_slack, payload):
    core, slack = oauth_slack
    await install(slack)
    revoked = payload("events/event_callback_tokens_revoked.json")
    revoked.update(team_id="T9TK3CUKW", enterprise_id=None, event_id="EvR")
    assert (await slack.event(revoked))[0] == 200
    assert await installations(core) == []


async def test_state_store_consumes_once(sqlite_url):
    from bot.store.engine import Database

    db = Database(sqlite_url)
    try:
        store = DbStateStore(db)
        state = await store.async_issue()
        assert await store.async_consume(state)
        assert not await store.async_consume(state)
        assert not await store.async_consume("never-issued")
    finally:
        await db.dispose()


def test_tokens_sealed_with_the_root_key_and_refused_with_another():
    from bot.ports import DeliveryError

    sealed = seal(Keyring("root-key-one-0123456789"), "xoxb-1")
    assert unseal(Keyring("root-key-one-0123456789"), sealed) == "xoxb-1"
    with pytest.raises(DeliveryError):
        unseal(Keyring("root-key-two-0123456789"), sealed)
    # during a rotation the previous root still opens it
    assert (
        unseal(Keyring("root-key-two-0123456789", ("root-key-one-0123456789",)), sealed) == "xoxb-1"
    )
