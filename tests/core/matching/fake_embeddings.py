"""A fake OpenAI-compatible embeddings server on 127.0.0.1 for the endpoint tests.

Its vectors are the local model's, with the dimensions permuted and padded to 640: cosines
(and therefore matches) are the real model's, but the space is visibly not the local one
(another dimension), so any mix-up of the two spaces fails loudly.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import numpy as np
from aiohttp import web

from bot.matching.encoder import UseEncoder

DIM = 640


class FakeEmbeddings:
    def __init__(self, local: UseEncoder) -> None:
        self.local = local
        self.perm = np.random.default_rng(7).permutation(local.dim)
        self.requests: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        self.status = 200  # set to 500 to make it fail
        self.delay = 0.0  # seconds before answering
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/embeddings"

    async def start(self) -> FakeEmbeddings:
        app = web.Application()
        app.router.add_post("/v1/embeddings", self._embeddings)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    def vectors(self, texts: list[str]) -> np.ndarray:
        vecs = self.local.encode(texts)[:, self.perm]
        return np.hstack([vecs, np.zeros((len(texts), DIM - vecs.shape[1]), np.float32)])

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.auth.append(request.headers.get("Authorization"))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return web.json_response({"error": {"message": "model overloaded"}}, status=self.status)
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        vecs = self.vectors(texts)
        data = [
            {"object": "embedding", "index": i, "embedding": [float(x) for x in vec]}
            for i, vec in enumerate(vecs)
        ]
        random.Random(len(self.requests)).shuffle(data)  # order is given by "index"
        return web.json_response({"object": "list", "model": body["model"], "data": data})
