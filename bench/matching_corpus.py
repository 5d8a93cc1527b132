"""A synthetic corpus of work narrations for the matching benchmarks.

Texts come from templates (activity x subject x context, in English and Dutch), so 100k
distinct narrations exist. Encoding 100k texts takes minutes, so the benchmark encodes a
few thousand real template texts and makes the rest by mixing pairs of them plus noise:
vectors with the same spread as real ones, at a fraction of the cost. They are cached
under the system temp directory.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.matching.reference import texts

__all__ = ["base_vectors", "corpus_vectors", "texts"]


def base_vectors(encoder, n_base: int = 3000) -> tuple[list[str], np.ndarray]:  # type: ignore[no-untyped-def]
    name = encoder.name.replace("/", "_")
    cache = Path(tempfile.gettempdir()) / f"wolbot-bench-{name}-{n_base}.npy"
    base_texts = texts(n_base, seed=1)
    if cache.exists():
        return base_texts, np.load(cache)
    vecs = np.concatenate([encoder.encode(base_texts[i : i + 256]) for i in range(0, n_base, 256)])
    np.save(cache, vecs)
    return base_texts, vecs


def corpus_vectors(base: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """`n` unit vectors, each a mix of two encoded template texts plus a little noise."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for start in range(0, n, 20_000):
        m = min(20_000, n - start)
        a = base[rng.integers(0, len(base), m)]
        b = base[rng.integers(0, len(base), m)]
        mix = rng.uniform(0.6, 0.9, (m, 1)).astype(np.float32)
        v = mix * a + (1 - mix) * b + 0.02 * rng.standard_normal((m, base.shape[1]))
        out[start : start + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out
