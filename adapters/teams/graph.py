"""Microsoft Graph, for the one thing the Bot Connector cannot do: start a group chat.

An introduction should be one conversation with both people, as on Slack. A Teams bot can
only post into a group chat it is in, and only Microsoft Graph can create one and add the
app to it, with the bot's own application permissions (client credentials flow, a token
for `https://graph.microsoft.com/.default` from the tenant's token endpoint):

1. `GET /appCatalogs/teamsApps?$filter=externalId eq '<manifest id>'&$expand=appDefinitions`
   (`AppCatalog.Read.All`): the app's id in the tenant's catalog and the resource-specific
   permissions its manifest asks for;
2. `POST /chats` (`Chat.Create`): a group chat with the two people;
3. `POST /chats/{id}/installedApps` (`TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All`
   when the manifest asks for resource-specific consent, as the default package does, else
   `TeamsAppInstallation.ReadWriteSelfForChat.All`): the bot joins the chat.

Refusals (401/403) become `GraphRefused` naming the permission of the step that was refused;
anything else (the token endpoint, timeouts, 5xx) becomes `GraphFailed`. docs/teams.md lists
the permissions and the admin consent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import aiohttp

log = logging.getLogger(__name__)

GRAPH_URL = "https://graph.microsoft.com/v1.0"
TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
SCOPE = "https://graph.microsoft.com/.default"
CATALOG_READ = "AppCatalog.Read.All"
CHAT_CREATE = "Chat.Create"
INSTALL_SELF = "TeamsAppInstallation.ReadWriteSelfForChat.All"
INSTALL_AND_CONSENT = "TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All"
REQUEST_TIMEOUT = 10.0  # seconds for one Graph or token request
RECHECK_AFTER_REFUSAL = timedelta(hours=24)  # $WOLBOT_TEAMS_GRAPH_RECHECK_HOURS
RECHECK_AFTER_FAILURE = timedelta(minutes=15)
TOKEN_MARGIN = 300  # seconds: a token is renewed this long before it expires
OFF_VALUES = ("0", "false", "no", "off")
DEV_CLIENT_ID = "wolbot-dev"


class GraphRefused(Exception):
    """Graph answered 401/403: the app lacks `permission` (or its admin consent)."""

    def __init__(self, permission: str, status: int, detail: str) -> None:
        super().__init__(f"{permission}: Graph answered {status}: {detail}")
        self.permission, self.status, self.detail = permission, status, detail


class GraphFailed(Exception):
    """The token endpoint or Graph failed otherwise (status None: no HTTP answer).
    `signin`: the token endpoint refused the app's credentials in this tenant (a wrong
    secret, or a multi-tenant app no admin of this tenant consented to yet)."""

    def __init__(self, detail: str, status: int | None = None, *, signin: bool = False) -> None:
        super().__init__(detail)
        self.detail, self.status, self.signin = detail, status, signin


@dataclass(frozen=True, slots=True)
class CatalogApp:
    """The app as the tenant's catalog knows it."""

    id: str
    rsc: tuple[dict[str, str], ...]  # resource-specific permissions to consent to

    @property
    def install_permission(self) -> str:
        return INSTALL_AND_CONSENT if self.rsc else INSTALL_SELF


@dataclass(frozen=True, slots=True)
class GraphSettings:
    """Where and as whom wolbot calls Graph. `off` says why it does not: "off" (switched
    off with WOLBOT_TEAMS_GROUP_CHATS=0) or "not_configured" (no client secret)."""

    client_id: str = ""
    client_secret: str = ""
    graph_url: str = GRAPH_URL
    token_url: str = TOKEN_URL
    teams_app_id: str | None = None  # the manifest id, when the package was built with one
    recheck: timedelta = RECHECK_AFTER_REFUSAL
    off: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GraphSettings:
        def get(name: str) -> str:
            return (env.get(name) or "").strip()

        graph_url = get("WOLBOT_TEAMS_GRAPH_URL") or GRAPH_URL
        token_url = get("WOLBOT_TEAMS_GRAPH_TOKEN_URL") or TOKEN_URL
        recheck = _hours(get("WOLBOT_TEAMS_GRAPH_RECHECK_HOURS")) or RECHECK_AFTER_REFUSAL
        common: dict[str, Any] = {
            "graph_url": graph_url.rstrip("/"),
            "token_url": token_url,
            "teams_app_id": get("WOLBOT_TEAMS_APP_ID") or None,
            "recheck": recheck,
        }
        if get("WOLBOT_TEAMS_GROUP_CHATS").lower() in OFF_VALUES:
            return cls(off="off", **common)
        app_id, secret = get("MICROSOFT_APP_ID"), get("MICROSOFT_APP_PASSWORD")
        if app_id and secret:
            return cls(client_id=app_id, client_secret=secret, **common)
        if not app_id and _local(graph_url) and _local(token_url):
            # development mode against a local fake Graph (tests): no real credentials
            return cls(client_id=DEV_CLIENT_ID, **common)
        return cls(off="not_configured", **common)


def problems(env: Mapping[str, str]) -> list[str]:
    """What `wolbot config check` reports about the Graph variables."""
    found = []
    hours = (env.get("WOLBOT_TEAMS_GRAPH_RECHECK_HOURS") or "").strip()
    if hours and _hours(hours) is None:
        found.append(
            f"WOLBOT_TEAMS_GRAPH_RECHECK_HOURS: not a positive number {hours!r} "
            "(expected hours, e.g. 24)"
        )
    for name in ("WOLBOT_TEAMS_GRAPH_URL", "WOLBOT_TEAMS_GRAPH_TOKEN_URL"):
        value = (env.get(name) or "").strip()
        if value and not value.startswith(("https://", "http://127.", "http://localhost")):
            found.append(f"{name}: {value!r} is not an https URL")
    return found


def _hours(value: str) -> timedelta | None:
    try:
        hours = float(value)
    except ValueError:
        return None
    return timedelta(hours=hours) if 0 < hours < 10_000 else None


def _local(url: str) -> bool:
    return url.startswith(("http://127.0.0.1:", "http://localhost:", "http://[::1]:"))


class Graph:
    """A small async Graph client: app-only tokens per tenant, JSON requests with timeouts."""

    def __init__(self, settings: GraphSettings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._tokens: dict[str, tuple[str, float]] = {}
        self._token_locks: dict[str, asyncio.Lock] = {}
        self._apps: dict[tuple[str, str], CatalogApp] = {}

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def token(self, tenant: str) -> str:
        """An app-only token for the tenant (client credentials), cached until near expiry."""
        cached = self._tokens.get(tenant)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        async with self._token_locks.setdefault(tenant, asyncio.Lock()):
            cached = self._tokens.get(tenant)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            url = self.settings.token_url.replace("{tenant}", quote(tenant, safe=""))
            form = {
                "grant_type": "client_credentials",
                "client_id": self.settings.client_id,
                "client_secret": self.settings.client_secret,
                "scope": SCOPE,
            }
            try:
                async with self._http().post(url, data=form) as response:
                    body = await _json(response)
                    if response.status != 200 or not body.get("access_token"):
                        error = body.get("error_description") or body.get("error") or ""
                        raise GraphFailed(
                            f"token endpoint answered {response.status}: {str(error)[:200]}",
                            response.status,
                            signin=response.status in (400, 401),
                        )
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise GraphFailed(f"token endpoint unreachable: {type(exc).__name__}") from exc
            lifetime = float(body.get("expires_in") or 3600)
            token = str(body["access_token"])
            self._tokens[tenant] = (token, time.monotonic() + max(60.0, lifetime - TOKEN_MARGIN))
            return token

    async def request(
        self,
        tenant: str,
        method: str,
        path: str,
        *,
        permission: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """One Graph request; 401/403 raise `GraphRefused(permission)`, other failures
        `GraphFailed`. Returns the status and the JSON body (empty when there is none)."""
        token = await self.token(tenant)
        url = f"{self.settings.graph_url}{path}"
        try:
            async with self._http().request(
                method, url, json=body, params=params, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                data = await _json(response)
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise GraphFailed(f"Graph unreachable: {type(exc).__name__}") from exc
        if status in (401, 403):
            if status == 401:
                self._tokens.pop(tenant, None)
            raise GraphRefused(permission, status, _message(data))
        if status >= 400 and status != 409:
            raise GraphFailed(
                f"Graph answered {status} to {method} {path.split('?')[0]}: {_message(data)}",
                status,
            )
        return status, data

    async def catalog_app(self, tenant: str, manifest_id: str) -> CatalogApp:
        """The app's catalog id and the resource-specific permissions it asks for."""
        found = self._apps.get((tenant, manifest_id))
        if found is not None:
            return found
        _, data = await self.request(
            tenant,
            "GET",
            "/appCatalogs/teamsApps",
            permission=CATALOG_READ,
            params={"$filter": f"externalId eq '{manifest_id}'", "$expand": "appDefinitions"},
        )
        apps = data.get("value") or []
        if not apps:
            raise GraphFailed(
                f"the Teams app {manifest_id} is not in the tenant's app catalog "
                "(upload the package, or set WOLBOT_TEAMS_APP_ID)",
                404,
            )
        app = apps[0]
        rsc: list[dict[str, str]] = []
        for definition in app.get("appDefinitions") or ():
            required = (
                (definition.get("authorization") or {}).get("requiredPermissionSet") or {}
            ).get("resourceSpecificPermissions") or ()
            rsc = [
                {
                    "permissionValue": str(p["permissionValue"]),
                    "permissionType": str(p.get("permissionType") or "Application"),
                }
                for p in required
                if p.get("permissionValue")
            ]
        found = CatalogApp(id=str(app["id"]), rsc=tuple(rsc))
        self._apps[(tenant, manifest_id)] = found
        return found

    def forget(self, tenant: str) -> None:
        """Look the app up again next time (a new package version may ask for other
        resource-specific permissions); called after a failed attempt."""
        self._apps = {key: app for key, app in self._apps.items() if key[0] != tenant}

    async def create_group_chat(self, tenant: str, aad_object_ids: list[str]) -> str:
        users = f"{self.settings.graph_url}/users"
        members = [
            {
                "@odata.type": "#microsoft.graph.aadUserConversationMember",
                "roles": ["owner"],
                "user@odata.bind": f"{users}('{aad}')",
            }
            for aad in aad_object_ids
        ]
        _, data = await self.request(
            tenant,
            "POST",
            "/chats",
            permission=CHAT_CREATE,
            body={"chatType": "group", "members": members},
        )
        chat_id = data.get("id")
        if not chat_id:
            raise GraphFailed("Graph created a chat without an id")
        return str(chat_id)

    async def install(self, tenant: str, chat_id: str, app: CatalogApp) -> None:
        """Add the app (and so the bot) to the chat; already there (409) is fine."""
        body: dict[str, Any] = {
            "teamsApp@odata.bind": f"{self.settings.graph_url}/appCatalogs/teamsApps/{app.id}"
        }
        if app.rsc:
            body["consentedPermissionSet"] = {"resourceSpecificPermissions": list(app.rsc)}
        await self.request(
            tenant,
            "POST",
            f"/chats/{quote(chat_id, safe='')}/installedApps",
            permission=app.install_permission,
            body=body,
        )


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        data = await response.json(content_type=None)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _message(data: dict[str, Any]) -> str:
    error = data.get("error")
    if isinstance(error, dict):
        return f"{error.get('code', '')}: {error.get('message', '')}"[:300]
    return str(error or "")[:300]
