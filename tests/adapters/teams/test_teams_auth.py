"""Bot Framework JWT authentication on /api/messages, against a locally generated signing key.

The OpenID metadata document and its key set are served on 127.0.0.1 from a thread
(botbuilder fetches them with blocking `requests`), never from Microsoft.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp.test_utils import TestServer
from botframework.connector.auth import MicrosoftAppCredentials
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

import adapters.teams as teams
from adapters.web import build_web_app
from bot.app import build
from bot.clock import FakeClock
from tests.adapters.teams.teams_helpers import activity
from tests.conftest import make_settings
from tests.fakes.bot_connector import FakeBotConnector

APP_ID = "eac5e5c6-ab14-4f50-80cb-49213fe51b1a"
ISSUER = "https://api.botframework.com"
KID = "wolbot-test-key"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def openid_server(signing_key: rsa.RSAPrivateKey) -> Iterator[str]:
    jwk = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwk.update(kid=KID, use="sig", endorsements=["msteams"])
    documents: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(documents.get(self.path, {})).encode()
            self.send_response(200 if self.path in documents else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    documents["/.well-known/openidconfiguration"] = {
        "issuer": ISSUER,
        "jwks_uri": f"{base}/keys",
        "id_token_signing_alg_values_supported": ["RS256"],
    }
    documents["/keys"] = {"keys": [jwk]}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"{base}/.well-known/openidconfiguration"
    server.shutdown()
    server.server_close()


def token(key: rsa.RSAPrivateKey, service_url: str, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "serviceurl": service_url,
        "nbf": now - 10,
        "exp": now + 3600,
        "iss": ISSUER,
        "aud": APP_ID,
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": KID})


@pytest.fixture
async def authed_app(
    sqlite_url: str,
    openid_server: str,
    connector: FakeBotConnector,
    signing_key: rsa.RSAPrivateKey,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[TestServer, aiohttp.ClientSession]]:
    # Azure AD stands aside: the bot's outbound token is minted locally (MSAL is the only
    # piece replaced), so connector calls carry a bearer token the fake can check.
    outbound = jwt.encode(
        {"aud": "https://api.botframework.com", "appid": APP_ID, "iss": "local-test"},
        signing_key,
        algorithm="RS256",
    )
    monkeypatch.setattr(
        MicrosoftAppCredentials, "get_access_token", lambda self, force_refresh=False: outbound
    )
    env = {
        "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_PASSWORD": "not-used-no-outbound-call-is-made",
        "WOLBOT_TEAMS_OPENID_METADATA_URL": openid_server,
    }
    core = build(make_settings(sqlite_url, env=env), clock=FakeClock())
    await core.start(deliver=False)
    server = TestServer(build_web_app(core, adapters=["teams"]), host="127.0.0.1")
    await server.start_server()
    session = aiohttp.ClientSession()
    yield server, session
    await session.close()
    await server.close()
    await core.stop()


async def _post(
    app: tuple[TestServer, aiohttp.ClientSession], body: dict[str, Any], auth: str | None
) -> int:
    server, session = app
    headers = {"Authorization": auth} if auth is not None else {}
    async with session.post(server.make_url("/api/messages"), json=body, headers=headers) as r:
        status = r.status
    await server.app[teams.TEAMS_INBOX].wait_idle()  # message activities are handled after
    return status


async def test_no_token_is_rejected(authed_app: Any, connector: FakeBotConnector) -> None:
    body = connector.rewrite(activity("message_personal_2019"))
    assert await _post(authed_app, body, None) == 401


async def test_bad_tokens_are_rejected(
    authed_app: Any, connector: FakeBotConnector, signing_key: rsa.RSAPrivateKey
) -> None:
    body = connector.rewrite(activity("message_personal_2019"))
    service_url = body["serviceUrl"]
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = [
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        "Bearer " + token(other_key, service_url),  # signed by someone else
        "Bearer " + token(signing_key, service_url, aud="another-bot"),
        "Bearer " + token(signing_key, service_url, iss="https://evil.example"),
        "Bearer " + token(signing_key, "https://elsewhere.example/"),  # serviceurl mismatch
        "Bearer " + token(signing_key, service_url, exp=int(time.time()) - 3600),
    ]
    for header in bad:
        assert await _post(authed_app, body, header) == 401, header


async def test_valid_token_is_accepted(
    authed_app: Any, connector: FakeBotConnector, signing_key: rsa.RSAPrivateKey
) -> None:
    body = connector.rewrite(activity("message_personal_2019", text="I'm working on audits"))
    assert await _post(authed_app, body, "Bearer " + token(signing_key, body["serviceUrl"])) == 201
    # the person lookup made while handling went out with the bot's own bearer token
    (lookup,) = [c for c in connector.calls if c.op == "get_member"]
    assert lookup.headers["authorization"].startswith("Bearer ey")
    claims = jwt.decode(lookup.headers["authorization"][7:], options={"verify_signature": False})
    assert claims["appid"] == APP_ID


def test_dev_mode_refuses_non_loopback_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MICROSOFT_APP_ID", raising=False)
    monkeypatch.setenv("WOLBOT_TEAMS_DEV", "1")
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        teams.assert_dev_mode_safe(host)
    for host in ("0.0.0.0", "::", "192.168.1.10", "wolbot.example.org"):
        with pytest.raises(SystemExit):
            teams.assert_dev_mode_safe(host)
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)  # authenticated: any address is fine
    teams.assert_dev_mode_safe("0.0.0.0")
    with pytest.raises(SystemExit):  # an explicit environment wins over the process's
        teams.assert_dev_mode_safe("0.0.0.0", {"WOLBOT_TEAMS_DEV": "1"})


def test_enabled() -> None:
    assert not teams.enabled(make_settings("sqlite://", env={}))
    assert teams.enabled(make_settings("sqlite://", env={"WOLBOT_TEAMS_DEV": "1"}))
    assert teams.enabled(make_settings("sqlite://", env={"MICROSOFT_APP_ID": APP_ID}))
    assert not teams.enabled(make_settings("sqlite://", env={"WOLBOT_TEAMS_DEV": "0"}))


def test_auth_config_from_environment() -> None:
    from adapters.teams.sdk import TeamsAuthConfig, is_loopback

    plain = TeamsAuthConfig.from_env(
        {
            "MICROSOFT_APP_ID": APP_ID,
            "MICROSOFT_APP_PASSWORD": "secret",
            "MICROSOFT_APP_TYPE": "SingleTenant",
            "MICROSOFT_APP_TENANT_ID": "tenant-1",
        }
    )
    assert (plain.APP_ID, plain.APP_TYPE, plain.APP_TENANTID) == (
        APP_ID,
        "SingleTenant",
        "tenant-1",
    )
    assert plain.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL is None  # the public cloud's
    assert plain.APP_PASSWORD == "secret" and "secret" not in repr(plain)
    custom = TeamsAuthConfig.from_env(
        {
            "MICROSOFT_APP_ID": APP_ID,
            "MICROSOFT_APP_TYPE": "SingleTenant",
            "MICROSOFT_APP_TENANT_ID": "tenant-1",
            "WOLBOT_TEAMS_OPENID_METADATA_URL": "http://127.0.0.1:1/openid",
        }
    )
    # overriding one endpoint needs the whole parameter set, with the tenant's login URL
    assert custom.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL == "http://127.0.0.1:1/openid"
    assert custom.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER == ISSUER
    assert custom.TO_CHANNEL_FROM_BOT_LOGIN_URL == "https://login.microsoftonline.com/tenant-1"
    assert custom.metadata_url == "http://127.0.0.1:1/openid"
    assert is_loopback("[::1]") and not is_loopback("10.0.0.1")
