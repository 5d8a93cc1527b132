"""A local fake of Microsoft Graph and its token endpoint (aiohttp on 127.0.0.1) for tests.

It serves what wolbot uses to put an introduction into one Teams group chat: the client
credentials token (`POST /{tenant}/oauth2/v2.0/token`), the app catalog
(`GET /v1.0/appCatalogs/teamsApps?$filter=externalId eq '…'`), `POST /v1.0/chats` and
`POST /v1.0/chats/{id}/installedApps`. It checks the bearer token, records every call and
can be told to fail like a tenant without the permissions:

    async with FakeGraph() as graph:
        graph.publish(manifest_id)                      # the app is in the tenant's catalog
        graph.fail("create_chat", status=403)           # Chat.Create not granted
        graph.fail("token", status=401, times=None)     # a wrong client secret, every time
        env = {"WOLBOT_TEAMS_GRAPH_URL": graph.graph_url,
               "WOLBOT_TEAMS_GRAPH_TOKEN_URL": graph.token_url}

Operations: "token", "catalog", "create_chat", "install".
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web

_PERMISSION = {
    "catalog": "AppCatalog.Read.All",
    "create_chat": "Chat.Create",
    "install": "TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All",
}
_ROUTES = (
    ("POST", re.compile(r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token$"), "token"),
    ("GET", re.compile(r"/v1\.0/appCatalogs/teamsApps$"), "catalog"),
    ("POST", re.compile(r"/v1\.0/chats$"), "create_chat"),
    ("POST", re.compile(r"/v1\.0/chats/(?P<chat>[^/]+)/installedApps$"), "install"),
)


@dataclass
class GraphCall:
    op: str
    path: str
    body: Any
    query: dict[str, str]
    tenant: str | None = None
    chat_id: str | None = None
    status: int = 0


@dataclass
class _Failure:
    status: int
    times: int | None
    body: dict[str, Any] = field(default_factory=dict)


class FakeGraph:
    def __init__(self) -> None:
        self.calls: list[GraphCall] = []
        self.chats: dict[str, dict[str, Any]] = {}  # chat id -> {"members": [...], "apps": [...]}
        self.catalog: dict[str, dict[str, Any]] = {}  # externalId -> teamsApp
        self._failures: dict[str, list[_Failure]] = defaultdict(list)
        self._ids = itertools.count(1)
        self._tokens: set[str] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def __aenter__(self) -> FakeGraph:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def graph_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1.0"

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{{tenant}}/oauth2/v2.0/token"

    def publish(
        self,
        external_id: str,
        *,
        rsc: tuple[str, ...] = ("ChatMessage.Read.Chat", "ChannelMessage.Read.Group"),
    ) -> str:
        """Put the app into the tenant's catalog; returns its catalog id."""
        app_id = f"catalog-{next(self._ids)}"
        self.catalog[external_id] = {
            "id": app_id,
            "externalId": external_id,
            "displayName": "wolbot",
            "distributionMethod": "organization",
            "appDefinitions": [
                {
                    "id": f"def-{app_id}",
                    "teamsAppId": app_id,
                    "authorization": {
                        "requiredPermissionSet": {
                            "resourceSpecificPermissions": [
                                {"permissionValue": p, "permissionType": "Application"} for p in rsc
                            ]
                        }
                    },
                }
            ],
        }
        return app_id

    def fail(self, op: str, *, status: int, times: int | None = 1) -> None:
        if op == "token":
            body: dict[str, Any] = {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.",
            }
        else:
            body = {
                "error": {
                    "code": "Forbidden" if status == 403 else "ServiceError",
                    "message": "Missing role permissions on the request. API requires "
                    f"one of '{_PERMISSION.get(op, op)}'.",
                }
            }
        self._failures[op].append(_Failure(status, times, body))

    def of(self, *ops: str) -> list[GraphCall]:
        return [c for c in self.calls if c.op in ops and 200 <= c.status < 300]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        found = next(
            (
                (op, m)
                for method, pattern, op in _ROUTES
                if request.method == method and (m := pattern.match(path))
            ),
            None,
        )
        if found is None:
            return web.json_response({"error": {"code": "BadRequest", "message": path}}, status=400)
        op, match = found
        groups = {k: unquote(v) for k, v in match.groupdict().items()}
        if op == "token":
            body: Any = dict(await request.post())
        else:
            body = await request.json() if request.can_read_body else None
        call = GraphCall(
            op, path, body, dict(request.query), groups.get("tenant"), groups.get("chat")
        )
        self.calls.append(call)
        response = self._failure(op) or self._authorised(op, request) or self._answer(call)
        call.status = response.status
        return response

    def _failure(self, op: str) -> web.Response | None:
        queue = self._failures.get(op)
        if not queue:
            return None
        failure = queue[0]
        if failure.times is not None:
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
        return web.json_response(failure.body, status=failure.status)

    def _authorised(self, op: str, request: web.Request) -> web.Response | None:
        if op == "token":
            return None
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self._tokens:
            return web.json_response(
                {
                    "error": {
                        "code": "InvalidAuthenticationToken",
                        "message": "Access token is empty.",
                    }
                },
                status=401,
            )
        return None

    def _answer(self, call: GraphCall) -> web.Response:
        if call.op == "token":
            form = call.body or {}
            if (
                form.get("grant_type") != "client_credentials"
                or form.get("scope") != "https://graph.microsoft.com/.default"
            ):
                return web.json_response({"error": "invalid_request"}, status=400)
            token = f"fake-graph-token-{next(self._ids)}"
            self._tokens.add(token)
            return web.json_response(
                {"token_type": "Bearer", "expires_in": 3599, "access_token": token}
            )
        if call.op == "catalog":
            wanted = re.fullmatch(r"externalId eq '([^']+)'", call.query.get("$filter", ""))
            app = self.catalog.get(wanted.group(1)) if wanted else None
            return web.json_response({"value": [app] if app else []})
        if call.op == "create_chat":
            body = call.body or {}
            if body.get("chatType") != "group" or len(body.get("members") or ()) < 2:
                return web.json_response({"error": {"code": "BadRequest"}}, status=400)
            chat_id = f"19:fake-group-{next(self._ids)}@thread.v2"
            self.chats[chat_id] = {"members": body["members"], "apps": []}
            return web.json_response({"id": chat_id, "chatType": "group"}, status=201)
        if call.op == "install":
            chat = self.chats.get(call.chat_id or "")
            if chat is None:
                return web.json_response({"error": {"code": "NotFound"}}, status=404)
            bound = str((call.body or {}).get("teamsApp@odata.bind", ""))
            if bound.rsplit("/", 1)[-1] in chat["apps"]:
                return web.json_response({"error": {"code": "Conflict"}}, status=409)
            chat["apps"].append(bound.rsplit("/", 1)[-1])
            return web.Response(status=201)
        return web.json_response({"error": {"code": "BadRequest"}}, status=400)
