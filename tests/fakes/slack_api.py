"""A local fake of the Slack Web API (aiohttp on 127.0.0.1) for tests and benchmarks.

Point the real slack_sdk client at it with `base_url=api.url` (or
`SLACK_API_URL=api.url` for `wolbot serve`). It answers the methods wolbot
uses with realistic bodies, records every call, and can be told to fail:

    async with FakeSlackApi() as api:
        api.rate_limit("chat.postMessage", retry_after=1)        # next call: HTTP 429
        api.fail("chat.postMessage", "channel_not_found")       # next call: ok=false
        api.fail("users.info", "user_not_found", times=None)    # every call
        api.per_channel_interval = 1.0   # 429 when one channel gets messages faster than that
        ...
        calls = await api.wait_for("reactions.add")
        assert calls[0].args["name"] == "memo"

`api.response_url("c1")` gives a `response_url` that records posts (method
"response_url") and, like Slack's, accepts 5 uses.

Faults for the resilience tests: `api.response_delay = 0.5` stores a posted message, then
waits before answering (a client killed or timing out in that window has delivered it
without knowing), `api.hold_answers()` does so until `api.release_answers()`;
`api.chaos(seed, rate_limited=0.1, server_error=0.1, slow=0.1)` answers
chat.postMessage with a seeded random mix of 429 + Retry-After, 500 (not stored) and slow
answers (stored, answered after `slow_seconds`). Posted messages, with their `metadata`,
are kept per channel for conversations.history / conversations.replies
(`include_all_metadata`, `oldest` compared with the wall-clock time of the post).

Socket Mode: `apps.connections.open` returns a WebSocket URL on this server;
`await api.socket_send(envelope)` pushes an envelope to the connected app and returns the
ack it sends back.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web


@dataclass
class Call:
    method: str  # "chat.postMessage", ..., or "response_url"
    args: dict[str, Any]
    token: str | None
    at: float  # time.monotonic() when received
    path: str = ""
    status: int = 200  # what the fake answered
    error: str | None = None


@dataclass
class _Failure:
    error: str | None
    status: int = 200
    retry_after: float | None = None
    times: int | None = 1  # None: forever


@dataclass
class FakeUser:
    id: str
    name: str = ""
    real_name: str = ""
    display_name: str = ""
    tz: str = "Europe/Amsterdam"
    locale: str = "en-US"
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    deleted: bool = False
    email: str = ""
    team_id: str = "T111"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        name = self.name or self.id.lower()
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": name,
            "deleted": self.deleted,
            "real_name": self.real_name or name.title(),
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": 3600,
            "profile": {
                "real_name": self.real_name or name.title(),
                "display_name": self.display_name,
                "email": self.email,
                "team": self.team_id,
            },
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
            "locale": self.locale,
            **self.extra,
        }


class FakeSlackApi:
    RESPONSE_URL_USES = 5

    def __init__(
        self,
        *,
        team_id: str = "T111",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        team_name: str = "Test Workspace",
    ) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.team_name = team_name
        self.calls: list[Call] = []
        self.users: dict[str, FakeUser] = {}
        # conversations.info overrides by channel id, e.g. {"C9": {"is_private": True}}
        self.channels: dict[str, dict[str, Any]] = {}
        self.per_channel_interval: float | None = None  # Slack: about 1 message/s per channel
        # Messages per second for the whole workspace (token bucket, burst of one second's
        # worth); beyond it chat.postMessage answers 429 with Retry-After: 1.
        self.workspace_rate: float | None = None
        self.random_429: float = 0.0  # probability of a 429 on chat.postMessage (seeded)
        self._rng = random.Random(7)
        self._bucket: tuple[float, float] = (0.0, 0.0)  # (tokens, last refill)
        self.latency: float = 0.0  # seconds added to every answer
        self.response_delay: float = 0.0  # chat.postMessage: stored, then answered this late
        self._chaos: tuple[random.Random, float, float, float] | None = None
        self.slow_seconds = 2.0  # how late a "slow" chaos answer comes
        self.in_flight = 0  # posts stored whose answer has not been sent yet
        self.slow_answers = 0  # chaos: posts stored and answered `slow_seconds` late
        self._answers = asyncio.Event()  # cleared by hold_answers()
        self._answers.set()
        # posted messages by channel: {"ts", "at" (time.time()), "text", "metadata", "thread_ts"}
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        # files uploaded through files.getUploadURLExternal + the upload URL, by file id
        self.files: dict[str, dict[str, Any]] = {}
        self._failures: dict[str, list[_Failure]] = defaultdict(list)
        self._reactions: set[tuple[str, str, str]] = set()
        self._last_post: dict[str, float] = {}
        self._response_url_uses: dict[str, int] = defaultdict(int)
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_connected = asyncio.Event()
        self.socket_connections = 0
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> FakeSlackApi:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/hooks/{name}", self._hook)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/_stats", self._stats)
        app.router.add_get("/socket-mode", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlackApi:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The Web API base URL (with the trailing slash slack_sdk expects)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{name}"

    # --- configuration -------------------------------------------------------------------

    def add_user(self, user_id: str, **fields: Any) -> FakeUser:
        user = FakeUser(id=user_id, team_id=self.team_id, **fields)
        self.users[user_id] = user
        return user

    def fail(self, method: str, error: str, *, times: int | None = 1, status: int = 200) -> None:
        """Answer `method` with `{"ok": false, "error": error}` (the next `times` calls)."""
        self._failures[method].append(_Failure(error=error, status=status, times=times))

    def rate_limit(self, method: str, *, retry_after: float = 1, times: int | None = 1) -> None:
        """Answer `method` with HTTP 429 and a Retry-After header, as Slack does."""
        self._failures[method].append(
            _Failure(error="ratelimited", status=429, retry_after=retry_after, times=times)
        )

    def chaos(
        self,
        seed: int,
        *,
        rate_limited: float = 0.0,
        server_error: float = 0.0,
        slow: float = 0.0,
        slow_seconds: float | None = None,
    ) -> None:
        """chat.postMessage answers a seeded random mix: 429 with Retry-After (probability
        `rate_limited`), HTTP 500 without storing the message (`server_error`), or a slow
        answer after storing it (`slow`, answered after `slow_seconds`)."""
        self._chaos = (random.Random(seed), rate_limited, server_error, slow)
        if slow_seconds is not None:
            self.slow_seconds = slow_seconds

    def hold_answers(self) -> None:
        """From now on chat.postMessage stores the message but holds its answer (a client
        killed meanwhile has delivered it without knowing) until `release_answers()`."""
        self._answers.clear()

    def release_answers(self) -> None:
        self._answers.set()

    def delivered(self) -> dict[str, int]:
        """Messages stored per channel (DMs to a user id count under the D… channel)."""
        return {channel: len(items) for channel, items in self.messages.items()}

    def reset(self) -> None:
        self.calls.clear()
        self._failures.clear()
        self._reactions.clear()
        self._last_post.clear()
        self._response_url_uses.clear()

    # --- inspection ----------------------------------------------------------------------

    def calls_to(self, method: str, *, ok_only: bool = False) -> list[Call]:
        return [c for c in self.calls if c.method == method and (not ok_only or c.error is None)]

    @property
    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    async def wait_for(
        self, method: str, count: int = 1, *, timeout: float = 15.0, ok_only: bool = True
    ) -> list[Call]:
        """Wait until `method` was called (successfully) at least `count` times."""

        def enough() -> bool:
            return len(self.calls_to(method, ok_only=ok_only)) >= count

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(enough), timeout)
            except TimeoutError:
                got = len(self.calls_to(method, ok_only=ok_only))
                raise AssertionError(
                    f"expected {count} call(s) to {method}, got {got}; all calls: {self.methods}"
                ) from None
        return self.calls_to(method, ok_only=ok_only)

    async def settle(self, quiet: float = 0.3, *, timeout: float = 5.0) -> None:
        """Wait until no call has arrived for `quiet` seconds (to assert nothing *more* came)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last = self.calls[-1].at if self.calls else 0.0
            if time.monotonic() - last >= quiet:
                return
            await asyncio.sleep(quiet / 3)

    # --- Socket Mode ---------------------------------------------------------------------

    async def wait_socket(self, timeout: float = 5.0) -> None:
        await asyncio.wait_for(self._socket_connected.wait(), timeout)

    async def socket_push(self, message: dict[str, Any]) -> None:
        """Send any message (e.g. `{"type": "disconnect", ...}`) to the connected client."""
        await self.wait_socket()
        await self._sockets[-1].send_str(json.dumps(message))

    async def wait_socket_connections(self, count: int, timeout: float = 15.0) -> None:
        """Until the client has opened `count` WebSocket connections in total (reconnects)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.socket_connections < count or not self._sockets:
            if loop.time() > deadline:
                raise AssertionError(f"{self.socket_connections} socket connection(s), not {count}")
            await asyncio.sleep(0.02)

    async def socket_send(self, envelope: dict[str, Any], *, timeout: float = 5.0) -> dict:
        """Push an envelope to the connected Socket Mode client; return its ack message."""
        await self.wait_socket(timeout)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope["envelope_id"]] = future
        await self._sockets[-1].send_str(json.dumps(envelope))
        return await asyncio.wait_for(future, timeout)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self.socket_connections += 1
        await ws.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets),
                    "debug_info": {"host": "fake-applink"},
                    "connection_info": {"app_id": "A111"},
                }
            )
        )
        self._socket_connected.set()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                future = self._acks.pop(data.get("envelope_id", ""), None)
                if future and not future.done():
                    future.set_result(data)
        finally:
            self._sockets.remove(ws)
            if not self._sockets:
                self._socket_connected.clear()
        return ws

    # --- HTTP handlers -------------------------------------------------------------------

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _stats(self, request: web.Request) -> web.Response:
        """What a benchmark in another process needs: delivered messages per channel, 429s."""
        posts = self.calls_to("chat.postMessage", ok_only=False)
        per_channel: dict[str, int] = defaultdict(int)
        for call in posts:
            if call.error is None:
                per_channel[str(call.args.get("channel"))] += 1
        limited = sum(1 for c in posts if c.error == "ratelimited")
        return web.json_response(
            {
                "per_channel": per_channel,
                "ratelimited": limited,
                "in_flight": self.in_flight,
                "server_errors": sum(1 for c in posts if c.status >= 500),
                "history_calls": len(self.calls_to("conversations.history", ok_only=False)),
            }
        )

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.files:
            return web.Response(status=404)
        content = await request.read()  # slack_sdk posts the raw bytes
        self.files[file_id]["content"] = content
        await self._record(
            Call(
                "upload",
                {"file_id": file_id, "size": len(content)},
                None,
                time.monotonic(),
                path=request.path,
            )
        )
        return web.Response(text=f"OK - {len(content)}")

    async def _hook(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        try:
            args = await request.json()
        except ValueError:
            args = {}
        self._response_url_uses[name] += 1
        used = self._response_url_uses[name] > self.RESPONSE_URL_USES
        call = Call(
            method="response_url",
            args=args,
            token=None,
            at=time.monotonic(),
            path=name,
            status=404 if used else 200,
            error="used_url" if used else None,
        )
        await self._record(call)
        if used:
            return web.Response(status=404, text="used_url")
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _read_args(request)
        token = _token(request, args)
        if self.latency:
            await asyncio.sleep(self.latency)
        call = Call(method=method, args=args, token=token, at=time.monotonic())
        failure = self._take_failure(method)
        if failure is None and method == "chat.postMessage" and self.per_channel_interval:
            channel = str(args.get("channel", ""))
            last = self._last_post.get(channel)
            if last is not None and call.at - last < self.per_channel_interval:
                failure = _Failure(error="ratelimited", status=429, retry_after=1)
        if failure is None and method == "chat.postMessage" and self.workspace_rate:
            failure = self._take_token(call.at)
        unlucky = self.random_429 and self._rng.random() < self.random_429
        if failure is None and method == "chat.postMessage" and unlucky:
            failure = _Failure(error="ratelimited", status=429, retry_after=1)
        delay = self.response_delay if method == "chat.postMessage" else 0.0
        if failure is None and method == "chat.postMessage" and self._chaos is not None:
            rng, p_429, p_500, p_slow = self._chaos
            draw = rng.random()
            if draw < p_429:
                failure = _Failure(
                    error="ratelimited", status=429, retry_after=rng.choice((0.2, 0.5, 1))
                )
            elif draw < p_429 + p_500:
                failure = _Failure(error="internal_error", status=500)
            elif draw < p_429 + p_500 + p_slow:
                delay = max(delay, self.slow_seconds)
                self.slow_answers += 1
        if failure is not None:
            call.status, call.error = failure.status, failure.error
            await self._record(call)
            headers = {"Retry-After": _fmt(failure.retry_after)} if failure.retry_after else {}
            return web.json_response(
                {"ok": False, "error": failure.error}, status=failure.status, headers=headers
            )
        if method not in ("oauth.v2.access", "oauth.access") and not token:
            call.error = "not_authed"
            await self._record(call)
            return web.json_response({"ok": False, "error": "not_authed"})
        body = self._answer(method, args)
        call.error = None if body.get("ok") else body.get("error")
        if method == "chat.postMessage" and body.get("ok"):
            self._last_post[str(args.get("channel", ""))] = call.at
        await self._record(call)
        held = method == "chat.postMessage" and not self._answers.is_set()
        if (delay or held) and body.get("ok"):  # stored; the answer comes late (or never)
            self.in_flight += 1
            try:
                await asyncio.sleep(delay)
                await self._answers.wait()
            finally:
                self.in_flight -= 1
        return web.json_response(body)

    def _take_token(self, now: float) -> _Failure | None:
        rate = self.workspace_rate or 0.0
        tokens, last = self._bucket
        tokens = min(rate, tokens + (now - last) * rate) if last else rate
        if tokens < 1:
            self._bucket = (tokens, now)
            return _Failure(error="ratelimited", status=429, retry_after=1)
        self._bucket = (tokens - 1, now)
        return None

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        if failure.times is not None:
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
        return failure

    def _next_ts(self) -> str:
        return f"{1700000000 + next(self._ts)}.000100"

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ok: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            return ok | {
                "url": "https://fake.slack.test/",
                "team": self.team_name,
                "user": "wolbot",
                "team_id": self.team_id,
                "user_id": self.bot_user_id,
                "bot_id": self.bot_id,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            ts = self._next_ts()
            channel = str(args.get("channel", ""))
            if channel[:1] in ("U", "W"):  # a user id: Slack posts in the app's DM with them
                args = {**args, "channel": "D" + channel[1:]}
            message = {"type": "message", "text": args.get("text", ""), "ts": ts}
            message |= {"bot_id": self.bot_id, "user": self.bot_user_id}
            if args.get("blocks"):
                message["blocks"] = args["blocks"]
            metadata = args.get("metadata")
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            self.messages[str(args.get("channel"))].append(
                {
                    "ts": ts,
                    "at": time.time(),
                    "text": message["text"],
                    "metadata": metadata,
                    "thread_ts": args.get("thread_ts"),
                }
            )
            return ok | {"channel": args.get("channel"), "ts": ts, "message": message}
        if method in ("conversations.history", "conversations.replies"):
            return ok | self._history(method, args)
        if method == "chat.postEphemeral":
            return ok | {"message_ts": self._next_ts()}
        if method == "chat.update":
            return ok | {
                "channel": args.get("channel"),
                "ts": args.get("ts"),
                "text": args.get("text", ""),
            }
        if method == "chat.delete":
            return ok | {"channel": args.get("channel"), "ts": args.get("ts")}
        if method == "reactions.add":
            key = (str(args.get("channel")), str(args.get("timestamp")), str(args.get("name")))
            if key in self._reactions:
                return {"ok": False, "error": "already_reacted"}
            self._reactions.add(key)
            return ok
        if method == "conversations.open":
            users = str(args.get("users", "")).split(",")
            if len(users) == 1:  # the same D… channel chat.postMessage to the user id uses
                return ok | {"channel": {"id": "D" + users[0][1:]}}
            prefix = "D" if len(users) == 1 else "G"
            return ok | {"channel": {"id": prefix + "".join(sorted(users)).replace("U", "")[:10]}}
        if method == "conversations.info":
            channel = str(args.get("channel", ""))
            info = {
                "id": channel,
                "name": channel.lower(),
                "is_channel": channel.startswith("C"),
                "is_private": channel.startswith("G"),
                "is_im": channel.startswith("D"),
                "is_mpim": False,
            }
            return ok | {"channel": info | self.channels.get(channel, {})}
        if method in ("views.open", "views.push", "views.update", "views.publish"):
            view = args.get("view")
            if isinstance(view, str):
                view = json.loads(view)
            return ok | {"view": {"id": f"V{next(self._ts):05d}", **(view or {})}}
        if method == "users.info":
            user_id = str(args.get("user", ""))
            user = self.users.get(user_id)
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return ok | {"user": user.to_json()}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):07d}"
            self.files[file_id] = {"filename": args.get("filename"), "content": None}
            return ok | {
                "upload_url": f"{self.url.removesuffix('api/')}upload/{file_id}",
                "file_id": file_id,
            }
        if method == "files.completeUploadExternal":
            files = args.get("files")
            if isinstance(files, str):
                files = json.loads(files)
            for item in files or []:
                if item.get("id") not in self.files or self.files[item["id"]]["content"] is None:
                    return {"ok": False, "error": "file_not_found"}
                self.files[item["id"]].update(
                    channel=args.get("channel_id"), title=item.get("title")
                )
            return ok | {
                "files": [{"id": f.get("id"), "title": f.get("title")} for f in files or []]
            }
        if method in ("oauth.v2.access",):
            code = str(args.get("code", ""))
            if code not in self.oauth_codes:
                return {"ok": False, "error": "invalid_code"}
            return ok | self.oauth_codes.pop(code)
        if method == "apps.connections.open":
            return ok | {"url": f"ws://127.0.0.1:{self.port}/socket-mode"}
        if method == "team.info":
            return ok | {"team": {"id": self.team_id, "name": self.team_name}}
        return {"ok": False, "error": "unknown_method"}

    def _history(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Newest first, from `oldest` (wall-clock seconds), `limit` per page (cursor: an
        offset); metadata only with include_all_metadata, as Slack does."""
        items = self.messages.get(str(args.get("channel", "")), [])
        if method == "conversations.replies":
            items = [m for m in items if m.get("thread_ts") == args.get("ts")]
        oldest = float(args.get("oldest") or 0)
        found = [m for m in reversed(items) if m["at"] >= oldest]
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = found[start : start + limit]
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        messages = [
            {
                "type": "message",
                "ts": m["ts"],
                "text": m["text"],
                "bot_id": self.bot_id,
                **({"metadata": m["metadata"]} if with_metadata and m["metadata"] else {}),
            }
            for m in page
        ]
        more = start + limit < len(found)
        return {
            "messages": messages,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }


def signed_headers(
    body: str | bytes,
    signing_secret: str,
    *,
    timestamp: int | None = None,
    content_type: str = "application/json",
    retry_num: int | None = None,
) -> dict[str, str]:
    """The headers Slack sends with a request: X-Slack-Request-Timestamp and the v0 signature
    (HMAC-SHA256 of `v0:{timestamp}:{raw body}`), as https://api.slack.com/authentication/verifying-requests-from-slack."""
    raw = body.encode() if isinstance(body, str) else body
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(signing_secret.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256)
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


async def _read_args(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            body = {}
        if isinstance(body, dict):
            args.update(body)
    elif request.can_read_body:
        args.update(parse_qsl(await request.text(), keep_blank_values=True))
    for key in ("blocks", "view"):
        if isinstance(args.get(key), str) and args[key].startswith(("[", "{")):
            args[key] = json.loads(args[key])
    return args


def _token(request: web.Request, args: dict[str, Any]) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth.removeprefix("Bearer ")
    token = args.pop("token", None)
    return str(token) if token else None


def _fmt(value: float | None) -> str:
    return str(int(value)) if value is not None and float(value).is_integer() else str(value)


async def _serve(rate: float | None, per_channel: float | None, random_429: float) -> None:
    """`python -m tests.fakes.slack_api --rate 100`: the fake in its own process (benchmarks);
    prints its API URL, then serves until killed."""
    api = FakeSlackApi()
    api.workspace_rate, api.per_channel_interval, api.random_429 = rate, per_channel, random_429
    await api.start()
    print(api.url, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float)
    parser.add_argument("--per-channel", type=float, default=1.0)
    parser.add_argument("--random-429", type=float, default=0.0)
    options = parser.parse_args()
    asyncio.run(_serve(options.rate, options.per_channel, options.random_429))
