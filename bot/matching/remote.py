"""An OpenAI-compatible embeddings endpoint as the encoder, with the local model as fallback.

For organisations that run their own model server (app.yaml `matching.embeddings_url`).
The request is the OpenAI one — `POST {url}` with `{"model": …, "input": [texts]}` and an
optional bearer key — and the answer's `data[i].embedding`, in `data[i].index` order.

The HTTP call is plain blocking `urllib` on purpose: the engine runs every encode in a
worker thread (`asyncio.to_thread`), never on the event loop, and the core imports no
HTTP framework (tests/test_architecture.py).

Vectors of the endpoint and of the local model live in different spaces and never mix:
`FallbackEncoder` uses the endpoint while it answers and switches to the local model —
for the rest of the process, with a warning in the log — at the first failure (at start-up
or later). Its `name` then changes, so the engine rebuilds its indexes and re-encodes the
stored texts once in the local space (`MatchingEngine._check_space`); a restart tries the
endpoint again (and re-encodes back).
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from typing import Any

import numpy as np

from bot.matching.encoder import Encoder, normalise
from bot.matching.ranking import MatchPolicy
from bot.matching.reference import texts as reference_texts

log = logging.getLogger(__name__)


REFERENCE_SIZE = 200  # reference narrations the common directions are measured on


class EndpointError(Exception):
    """The embeddings endpoint did not give usable vectors."""


class CommonDirections:
    """All-but-the-top (Mu & Viswanath, 2018): the mean and the top `d` principal
    directions of a fixed reference corpus, to be removed from every vector. Models whose
    vectors share a large common component (multilingual-e5 puts every pair of sentences
    between 0.8 and 0.95) spread their scores out; on our evaluation set this lifted e5
    from recall 0.22 to 0.48 (docs/matching.md). Measured on reference texts, never on a
    workspace, so the space (and a threshold chosen for it) stays put as a workspace grows."""

    def __init__(self, reference: np.ndarray, d: int) -> None:
        self.mean = reference.mean(axis=0)
        _, _, vt = np.linalg.svd(reference - self.mean, full_matrices=False)
        self.top = vt[:d]

    @classmethod
    def of(cls, mean: np.ndarray, top: np.ndarray) -> CommonDirections:
        """The transform from its parts (as measured before and stored)."""
        directions = cls.__new__(cls)
        directions.mean, directions.top = mean, top
        return directions

    def apply(self, vecs: np.ndarray) -> np.ndarray:
        x = vecs - self.mean
        x = x - (x @ self.top.T) @ self.top
        return normalise(x.astype(np.float32))


class EndpointEncoder:
    """Texts -> vectors through an OpenAI-compatible `/v1/embeddings` endpoint."""

    def __init__(
        self,
        url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 5.0,
        batch: int = 64,
        policy: MatchPolicy | None = None,
        common_directions: int | None = None,
    ) -> None:
        self.url = url
        self.model = model
        self.common_directions = common_directions
        self.name = f"endpoint:{model}"  # the vector space: one per model (and transform)
        if common_directions is not None:
            self.name += f"-abtt{common_directions}"
        self.dim = 0  # known after the first answer (`load`)
        self.policy = policy  # the threshold of this model's scores (app.yaml)
        self._api_key = api_key
        self._timeout = timeout
        self._batch = batch
        self._centre: CommonDirections | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Check the endpoint and learn the dimension; with `common_directions`, measure
        them on the reference narrations (REFERENCE_SIZE texts, once per process)."""
        if self.common_directions is None:
            self._raw(["warm up"])
            return
        with self._lock:
            if self._centre is None:
                reference = self._raw(reference_texts(REFERENCE_SIZE, seed=7))
                self._centre = CommonDirections(reference, self.common_directions)

    def encode(self, texts: list[str]) -> np.ndarray:
        if self.common_directions is None:
            return self._raw(texts)
        if self._centre is None:
            self.load()
        assert self._centre is not None
        return self._centre.apply(self._raw(texts))

    def _raw(self, texts: list[str]) -> np.ndarray:
        step = self._batch
        parts = [self._request(texts[i : i + step]) for i in range(0, len(texts), step)]
        if not parts:
            return np.empty((0, self.dim), dtype=np.float32)
        return normalise(np.concatenate(parts))

    def _request(self, texts: list[str]) -> np.ndarray:
        body = json.dumps({"model": self.model, "input": texts}).encode()
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                answer: Any = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise EndpointError(f"HTTP {exc.code} from {self.url}") from None
        except (OSError, ValueError) as exc:  # URLError, timeouts, refused, bad JSON
            raise EndpointError(f"{type(exc).__name__}: {exc}") from None
        try:
            rows = sorted(answer["data"], key=lambda d: d["index"])
            vecs = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as exc:
            raise EndpointError(f"unexpected answer from {self.url}: {exc!r}") from None
        if vecs.ndim != 2 or len(vecs) != len(texts) or (self.dim and vecs.shape[1] != self.dim):
            raise EndpointError(f"{self.url} answered {vecs.shape} for {len(texts)} texts")
        self.dim = vecs.shape[1]
        return vecs


class FallbackEncoder:
    """The endpoint while it works; the local model from its first failure on."""

    def __init__(self, primary: EndpointEncoder, fallback: Encoder) -> None:
        self.primary = primary
        self.fallback = fallback
        self._active: Encoder = primary
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return str(self._active.name)

    @property
    def dim(self) -> int:
        return int(self._active.dim)

    @property
    def policy(self) -> MatchPolicy | None:
        """The endpoint model's threshold while it is used; else the engine's own."""
        if self._active is self.primary:
            return self.primary.policy
        policy: MatchPolicy | None = getattr(self.fallback, "policy", None)
        return policy

    def load(self) -> None:
        """Check the endpoint (start-up); the local model is loaded only when needed."""
        if self._active is self.primary:
            try:
                self.primary.load()
                return
            except EndpointError as exc:
                self._switch(exc)
        loader = getattr(self.fallback, "load", None)
        if loader is not None:
            loader()

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.encode_with_space(texts)[1]

    def encode_with_space(self, texts: list[str]) -> tuple[str, np.ndarray]:
        """Vectors and the space they are in, decided together (another thread may switch
        the encoder in between)."""
        if self._active is self.primary:
            try:
                return self.primary.name, self.primary.encode(texts)
            except EndpointError as exc:
                self._switch(exc)
        return self.fallback.name, self.fallback.encode(texts)

    def _switch(self, exc: EndpointError) -> None:
        with self._lock:
            if self._active is self.primary:
                self._active = self.fallback
                log.warning(
                    "embeddings endpoint %s failed (%s); using the local model %s until restart",
                    self.primary.url,
                    exc,
                    self.fallback.name,
                )


def encode_with_space(encoder: Encoder, texts: list[str]) -> tuple[str, np.ndarray]:
    """Any encoder's vectors with the name of their space."""
    both = getattr(encoder, "encode_with_space", None)
    if both is not None:
        space, vecs = both(texts)
        return str(space), vecs
    return encoder.name, encoder.encode(texts)
