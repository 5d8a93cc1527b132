"""A local fake of the Bot Connector service (aiohttp on 127.0.0.1) for tests and benchmarks.

Use its `service_url` as the `serviceUrl` of inbound activities (see `rewrite`) and the
real botbuilder connector client talks to it. It records every call, answers with
bodies shaped like the recorded Teams traffic, and can be told to fail:

    async with FakeBotConnector() as connector:
        connector.add_member(conversation_id, {"id": "29:1", "name": "Anna", ...})
        connector.fail("send", status=429, retry_after=2)          # next send: HTTP 429
        connector.fail("create_conversation", status=403, times=None)  # every time
        ...
        (call,) = await connector.wait_for("reply", count=1)
        assert call.conversation_id == "19:…;messageid=123"

Operations: "send" (POST v3/conversations/{id}/activities), "reply"
(POST …/activities/{replyToId}), "update" (PUT …/activities/{id}), "delete",
"create_conversation" (POST v3/conversations), "get_member" (GET …/members/{id}),
"get_members" (GET …/members), "upload" (PUT {service_url}upload/{id}: stands in for the
OneDrive upload URL of Teams' file consent flow; the body is the bytes).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web

_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"v3/conversations$"), "create_conversation"),
    ("POST", re.compile(r"v3/conversations/(?P<conv>[^/]+)/activities$"), "send"),
    ("POST", re.compile(r"v3/conversations/(?P<conv>[^/]+)/activities/(?P<act>[^/]+)$"), "reply"),
    ("PUT", re.compile(r"v3/conversations/(?P<conv>[^/]+)/activities/(?P<act>[^/]+)$"), "update"),
    (
        "DELETE",
        re.compile(r"v3/conversations/(?P<conv>[^/]+)/activities/(?P<act>[^/]+)$"),
        "delete",
    ),
    ("PUT", re.compile(r"upload/(?P<act>[^/]+)$"), "upload"),  # a OneDrive upload session
    ("GET", re.compile(r"v3/conversations/(?P<conv>[^/]+)/members$"), "get_members"),
    ("GET", re.compile(r"v3/conversations/(?P<conv>[^/]+)/members/(?P<user>[^/]+)$"), "get_member"),
)


@dataclass
class Call:
    op: str
    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    user_id: str | None
    body: Any
    headers: dict[str, str]
    status: int = 0
    answer_id: str | None = None  # the id the fake gave a posted activity

    @property
    def card(self) -> dict[str, Any] | None:
        """The Adaptive Card of a posted activity, if it has one."""
        if not isinstance(self.body, dict):
            return None
        for attachment in self.body.get("attachments") or ():
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]
        return None


@dataclass
class _Failure:
    status: int
    retry_after: float | None
    times: int | None  # None: every time
    body: dict[str, Any] = field(default_factory=dict)


class FakeBotConnector:
    def __init__(self, prefix: str = "/amer/") -> None:
        self.prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
        self.calls: list[Call] = []
        self.members: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.created: list[str] = []  # distinct 1:1 conversations created
        self._personal: dict[str, str] = {}
        self._failures: dict[str, list[_Failure]] = defaultdict(list)
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> FakeBotConnector:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotConnector:
        return await self.start()

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    # -- scripting -----------------------------------------------------------------------------
    def add_member(self, conversation_id: str, member: dict[str, Any]) -> None:
        self.members[conversation_id][member["id"]] = member

    def fail(
        self,
        op: str,
        *,
        status: int,
        retry_after: float | None = None,
        times: int | None = 1,
        message: str = "failure injected by the fake Bot Connector",
    ) -> None:
        code = {429: "TooManyRequests", 403: "Forbidden", 404: "NotFound"}.get(
            status, "ServiceError"
        )
        body = {"error": {"code": code, "message": message}}
        self._failures[op].append(_Failure(status, retry_after, times, body))

    def rewrite(self, activity: dict[str, Any]) -> dict[str, Any]:
        """The activity with its serviceUrl pointing at this fake."""
        return {**activity, "serviceUrl": self.service_url}

    def of(self, *ops: str) -> list[Call]:
        return [c for c in self.calls if c.op in ops and 200 <= c.status < 300]

    async def wait_for(self, *ops: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Wait until `count` successful calls of these operations were recorded."""

        async def enough() -> list[Call]:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.of(*ops)) >= count)
                return self.of(*ops)

        return await asyncio.wait_for(enough(), timeout)

    # -- HTTP ----------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.raw_path.split("?", 1)[0]
        if not raw_path.startswith(self.prefix):
            return web.json_response({"error": {"code": "NotFound"}}, status=404)
        rest = raw_path[len(self.prefix) :]
        for method, pattern, op in _ROUTES:
            match = pattern.match(rest)
            if match and request.method == method:
                return await self._dispatch(request, op, match)
        return web.json_response({"error": {"code": "BadSyntax", "message": rest}}, status=400)

    async def _dispatch(
        self, request: web.Request, op: str, match: re.Match[str]
    ) -> web.StreamResponse:
        groups = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
        body: Any = None
        if request.can_read_body and op == "upload":
            body = await request.read()
        elif request.can_read_body:
            text = await request.text()
            body = json.loads(text) if text else None
        call = Call(
            op=op,
            method=request.method,
            path=request.path,
            conversation_id=groups.get("conv"),
            activity_id=groups.get("act"),
            user_id=groups.get("user"),
            body=body,
            headers={k.lower(): v for k, v in request.headers.items()},
        )
        response = self._failure(op) or self._answer(call)
        call.status = response.status
        if op in ("send", "reply") and 200 <= response.status < 300 and response.body:
            call.answer_id = json.loads(response.body).get("id")  # type: ignore[arg-type]
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
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
        headers = {}
        if failure.retry_after is not None:
            headers["Retry-After"] = f"{failure.retry_after:g}"
        return web.json_response(failure.body, status=failure.status, headers=headers)

    def _answer(self, call: Call) -> web.Response:
        if call.op in ("send", "reply"):
            activity_id = f"1:fake-activity-{next(self._ids)}"
            return web.json_response({"id": activity_id}, status=201)
        if call.op == "upload":
            return web.json_response(
                {"id": call.activity_id, "size": len(call.body or b"")}, status=201
            )
        if call.op == "update":
            return web.json_response({"id": call.activity_id}, status=200)
        if call.op == "delete":
            return web.Response(status=200)
        if call.op == "create_conversation":
            # Like Teams: a 1:1 chat with the same person is the same conversation.
            members = (call.body or {}).get("members") or [{}]
            member = str(members[0].get("id", ""))
            conversation_id = self._personal.get(member)
            if conversation_id is None:
                conversation_id = f"a:fake-personal-{next(self._ids)}-{member}"
                self._personal[member] = conversation_id
                self.created.append(conversation_id)
            return web.json_response(
                {"id": conversation_id, "activityId": f"1:fake-activity-{next(self._ids)}"},
                status=201,
            )
        if call.op == "get_members":
            roster = list(self.members.get(call.conversation_id or "", {}).values())
            return web.json_response(roster)
        if call.op == "get_member":
            # Teams accepts the Bot Framework id or the AAD object id as member id.
            roster = self.members.get(call.conversation_id or "", {})
            member = roster.get(call.user_id or "") or next(
                (
                    m
                    for m in roster.values()
                    if call.user_id in (m.get("objectId"), m.get("aadObjectId"))
                ),
                None,
            )
            if member is None:
                return web.json_response(
                    {"error": {"code": "MemberNotFoundInConversation", "message": "not found"}},
                    status=404,
                )
            return web.json_response(member)
        return web.json_response({"error": {"code": "BadSyntax"}}, status=400)
