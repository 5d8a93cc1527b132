"""A calibrated pair score (issue 15, docs/matching.md "The calibrated pair score"): the
probability that a candidate is the same work as the narration, from a few features of the
pair in its workspace, by a logistic regression trained on labelled pairs
(`python bench/pair_train.py`, on workspaces of training narrations the encoder never saw).

Why: a cosine means different things in different places. In a crowded region of the space
(one sector's everyday words) near misses score high against each other; an isolated text,
often a partner in the other language, scores low even against the same work. The features
say where the pair sits:

- `cos`: the cosine of the two vectors;
- `cross`, `cos*cross`: whether the candidate is in the other language than the narration
  (a multilingual encoder scores such pairs lower), and its cosine if so;
- `r_q`, `r_i`: the mean cosine of the narration and of the candidate to their k nearest
  other items of the workspace (how crowded each one's region is);
- `cos-kth_i`, `cos-kth_q`: the cosine less the candidate's (the narration's) k-th nearest
  cosine: above 0 when each is among the other's k nearest neighbours.

A workspace with fewer than k other items counts the missing neighbours as cosine 0 (an
unrelated item); the shipped policy does not use the model below 100 items at all
(`MatchPolicy.young`).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FEATURES = (
    "cos",
    "cross",
    "cos*cross",
    "r_q",
    "r_i",
    "cos-kth_i",
    "cos-kth_q",
    "log_n",
    "r_q*log_n",
    "r_i*log_n",
    "cos-kth_i*log_n",
    "cos-kth_q*log_n",
)


def pair_features(
    cos: np.ndarray,
    cross: np.ndarray,
    query_top: np.ndarray,
    item_tops: np.ndarray,
    size: int,
) -> np.ndarray:
    """One row of `FEATURES` per candidate. `cos`, `cross` (1.0 for the other language):
    per candidate; `query_top`: the narration's k nearest cosines to other items, best first;
    `item_tops`: each candidate's (rows), best first. Missing neighbours are 0."""
    q = np.where(np.isfinite(query_top), query_top, 0.0).astype(np.float64)
    tops = np.where(np.isfinite(item_tops), item_tops, 0.0).astype(np.float64)
    cos = np.asarray(cos, np.float64)
    cross = np.asarray(cross, np.float64)
    n = len(cos)
    r_q = np.full(n, q.mean() if q.size else 0.0)
    r_i = tops.mean(axis=1) if tops.size else np.zeros(n)
    kth_i = cos - (tops[:, -1] if tops.size else 0.0)
    kth_q = cos - (q[-1] if q.size else 0.0)
    log_n = np.full(n, np.log(max(size, 1)))
    return np.column_stack(
        [
            cos,
            cross,
            cos * cross,
            r_q,
            r_i,
            kth_i,
            kth_q,
            log_n,
            r_q * log_n,
            r_i * log_n,
            kth_i * log_n,
            kth_q * log_n,
        ]
    )


@dataclass(frozen=True, slots=True)
class PairModel:
    """The trained model in a JSON file (bench/pair_train.py writes it): feature names, k,
    how many candidates are scored, the standardisation and the weights. Loaded on first
    use."""

    path: str

    @property
    def k(self) -> int:
        return int(_load(self.path)["k"])

    @property
    def candidates(self) -> int:
        """How many of the best candidates by cosine (combined score) are scored; the rest
        get probability 0 and are never posted."""
        return int(_load(self.path)["candidates"])

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        model = _load(self.path)
        z = (np.asarray(rows, np.float64) - model["mean"]) / model["scale"]
        p: np.ndarray = 1.0 / (1.0 + np.exp(-(z @ model["weights"] + model["bias"])))
        return p


@functools.cache
def _load(path: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    if tuple(data["features"]) != FEATURES:
        raise ValueError(f"{path}: features {data['features']}, expected {list(FEATURES)}")
    for key in ("mean", "scale", "weights"):
        data[key] = np.asarray(data[key], np.float64)
    return data


def write(
    path: Path,
    k: int,
    candidates: int,
    mean: np.ndarray,
    scale: np.ndarray,
    weights: np.ndarray,
    bias: float,
    about: dict[str, Any],
) -> None:
    """Store a trained model (bench/pair_train.py)."""
    doc = {
        "features": list(FEATURES),
        "k": k,
        "candidates": candidates,
        "mean": [round(float(x), 6) for x in mean],
        "scale": [round(float(x), 6) for x in scale],
        "weights": [round(float(x), 6) for x in weights],
        "bias": round(float(bias), 6),
        **about,
    }
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    _load.cache_clear()


E5_PAIR_MODEL = PairModel(str(Path(__file__).with_name("pair_e5.json")))
