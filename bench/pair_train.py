"""Train the calibrated pair score (bot/matching/pair_model.py) of the shipped e5 space.

    python bench/pair_train.py            # writes bot/matching/pair_e5.json

Training data: the three sector files of bench/data/train (pairs_care_government,
pairs_education_staff, pairs_business_it: 390 topics in families, with near misses, and the
training vague texts), written for the purpose by helpers who saw no code and no evaluation
set, and never seen by the shipped encoder (its delta, e5_delta.npz, was trained on
bench/data/train/pairs.yaml only). Each file is one workspace, as the bot stores it; each
narration is a query against all the others through the bot's own `WorkspaceIndex.rank`,
and the features of its best candidates (`explain`) are rows, labelled 1 when the candidate
is in the narration's topic. A logistic regression (standardised features, L2 1.0, Newton's
method) on the rows of all three. It also prints, for each file, the average precision of a
model trained on the other two (leave one sector out).

The shipped file (bot/matching/pair_e5.json) was made at commit bff9520, with the
content-free classifier of that time: the gate decides which candidates are rows, so since
the classifier was retrained (f086ac6) this script gives slightly other weights (cos 0.60
against 0.66); run it at bff9520 to reproduce the file, whose figures docs/matching.md reports.

The threshold and margin on the probability are not chosen here: on the tuning data, with
`python bench/matching_blind.py --data bench/data/tuning_workspace.yaml --part tune --grid
--with-eval-tune --policy pair` (docs/matching.md, "The calibrated pair score").
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching_blind import Workspace, load_train
from matching_eval import Encoders

from bot.matching.e5 import E5_POLICY, E5Encoder
from bot.matching.pair_model import FEATURES, PairModel, write

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "train"
FILES = ("pairs_care_government", "pairs_education_staff", "pairs_business_it")
OUT = ROOT / "bot" / "matching" / "pair_e5.json"
K = 10  # neighbours for r and the k-th cosine (the density correction's k)
CANDIDATES = 12  # the best candidates by combined score that are scored
L2 = 1.0
# Workspaces of several sizes (a random sample of each file's narrations; None: all of
# them), so that the model learns how a workspace's size shifts its neighbourhoods.
SAMPLES = ((100, 1), (100, 2), (200, 1), (200, 2), (400, 1), (700, 1), (None, 0))


def sample(ws: Workspace, size: int, seed: int) -> Workspace:
    """A workspace of `size` of `ws`'s narrations, chosen at random, with their vectors."""
    return ws.subset(np.sort(np.random.default_rng(seed).choice(len(ws.entries), size, False)))


def rows_of(ws: Workspace, model: PairModel) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and labels of every narration's scored candidates (not its own
    person's), through the bot's ranking."""
    policy = replace(E5_POLICY, pair_model=model, threshold=-1.0)
    X: list[np.ndarray] = []
    y: list[float] = []
    for i, e in enumerate(ws.entries):
        explain: list = []
        ws.ranked(i, policy, explain)
        for scored, row in explain:
            other = ws.entries[int(scored.item.key[2:])]
            if other.person == e.person:
                continue
            X.append(row)
            y.append(float(e.group is not None and other.group == e.group))
    return np.array(X), np.array(y)


def fit(X: np.ndarray, y: np.ndarray, l2: float = L2) -> tuple[np.ndarray, ...]:
    """Logistic regression on standardised features: (mean, scale, weights, bias)."""
    mean, scale = X.mean(axis=0), X.std(axis=0) + 1e-9
    Z = np.hstack([np.ones((len(X), 1)), (X - mean) / scale])
    w = np.zeros(Z.shape[1])
    ridge = l2 * np.diag(np.r_[0.0, np.ones(Z.shape[1] - 1)])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-Z @ w))
        hessian = (Z * (p * (1 - p))[:, None]).T @ Z + ridge
        step = np.linalg.solve(hessian, Z.T @ (p - y) + ridge @ w)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return mean, scale, w[1:], w[0]


def average_precision(p: np.ndarray, y: np.ndarray) -> float:
    order = np.argsort(-p, kind="stable")
    hits = y[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision[hits == 1].mean())


def main() -> None:
    encoders = Encoders()
    with tempfile.TemporaryDirectory() as tmp:
        # the features do not depend on the weights: a provisional model gives them
        blank = Path(tmp) / "blank.json"
        n = len(FEATURES)
        write(blank, K, CANDIDATES, np.zeros(n), np.ones(n), np.zeros(n), 0.0, {})
        data = []
        for name in FILES:
            entries, _ = load_train(DATA / f"{name}.yaml")
            whole = Workspace(entries, [], encoders)
            parts = []
            for size, seed in SAMPLES:
                ws = whole if size is None else sample(whole, size, seed)
                X, y = rows_of(ws, PairModel(str(blank)))
                parts.append((X, y))
                print(f"{name} ({len(ws.entries)} items): {len(X)} rows, {int(y.sum())} same work")
            data.append((np.vstack([X for X, _ in parts]), np.concatenate([y for _, y in parts])))
    for i, name in enumerate(FILES):
        others = [d for j, d in enumerate(data) if j != i]
        mean, scale, w, b = fit(
            np.vstack([X for X, _ in others]), np.concatenate([y for _, y in others])
        )
        X, y = data[i]
        p = 1.0 / (1.0 + np.exp(-(((X - mean) / scale) @ w + b)))
        print(f"  leave {name} out: average precision {average_precision(p, y):.3f}")
    X = np.vstack([X for X, _ in data])
    y = np.concatenate([y for _, y in data])
    mean, scale, w, b = fit(X, y)
    about = {
        "space": E5Encoder().name,
        "trained_on": [f"bench/data/train/{name}.yaml" for name in FILES],
        "rows": len(X),
        "same_work": int(y.sum()),
        "l2": L2,
        "made_by": "python bench/pair_train.py",
    }
    write(OUT, K, CANDIDATES, mean, scale, w, b, about)
    print(json.dumps({f: round(float(x), 3) for f, x in zip(FEATURES, w, strict=True)}))
    print(f"bias {b:.3f}; written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
