"""Train the "too vague to match on" classifier of the specificity gate (issue 15).

    python bench/vague_train.py            # cross-validate on the training data, then write
                                           # bot/matching/vague_e5.npz
    python bench/vague_train.py --all-pairs   # with every bench/data/train/pairs*.yaml
    python bench/vague_train.py --all-pairs --more   # and bench/data/train/vague_2.yaml

A logistic regression on the shipped encoder's vectors (e5, common directions removed:
`bot.matching.e5.E5Encoder`) of the training texts only: bench/data/train/vague.yaml
(content-free narrations, "vague", against short specific ones, "specific") and the
narrations of bench/data/train/pairs*.yaml (all specific). These were written for training,
independently of every evaluation set. The bar (a probability) is chosen here by 5-fold
cross-validation on the same training data: the lowest that keeps at most 1% of the
specific training narrations out. Nothing of bench/data/matching_eval.yaml or
matching_blind.yaml is read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.features.narration_phrases import match_phrase  # noqa: E402
from bot.matching.e5 import E5Encoder  # noqa: E402

TRAIN = ROOT / "bench" / "data" / "train"
OUT = ROOT / "bot" / "matching" / "vague_e5.npz"
MAX_SPECIFIC_GATED = 0.01


def topic(text: str) -> str:
    phrase = match_phrase(text)
    return phrase.topic if phrase and phrase.topic else text


def training_texts() -> tuple[list[str], np.ndarray]:
    texts: list[str] = []
    specific: list[str] = []
    # vague.yaml (the shipped classifier's data); with --more, vague_2.yaml too
    names = ("vague.yaml", "vague_2.yaml") if "--more" in sys.argv else ("vague.yaml",)
    for name in names:
        vague = yaml.safe_load((TRAIN / name).read_text(encoding="utf-8"))
        texts += [topic(x["text"]) for x in vague["vague"]]
        specific += [topic(x["text"]) for x in vague["specific"]]
    labels = [1] * len(texts)
    # pairs.yaml (the shipped classifier's data); with --all-pairs the later pairs_*.yaml too
    for path in sorted(TRAIN.glob("pairs*.yaml" if "--all-pairs" in sys.argv else "pairs.yaml")):
        for t in yaml.safe_load(path.read_text(encoding="utf-8"))["topics"]:
            specific += [topic(n["text"]) for n in t["narrations"] + t.get("near_misses", [])]
    return texts + specific, np.array(labels + [0] * len(specific), dtype=np.float32)


def fit(
    x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 3000
) -> tuple[np.ndarray, float]:
    """Logistic regression, classes weighted equally, full-batch gradient descent."""
    w = np.zeros(x.shape[1], dtype=np.float64)
    b = 0.0
    pos = y.sum()
    weight = np.where(y > 0, 0.5 / pos, 0.5 / (len(y) - pos))
    lr = 2.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        g = (p - y) * weight
        w -= lr * (x.T @ g + l2 * w)
        b -= lr * g.sum()
    return w.astype(np.float32), float(b)


def prob(x: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ w + b)))


def main() -> None:
    texts, y = training_texts()
    enc = E5Encoder()
    x = np.concatenate([enc.encode(texts[i : i + 64]) for i in range(0, len(texts), 64)])
    rng = np.random.default_rng(0)
    folds = rng.permutation(len(texts)) % 5
    held = np.zeros(len(texts))
    for f in range(5):
        w, b = fit(x[folds != f], y[folds != f])
        held[folds == f] = prob(x[folds == f], w, b)
    specific = np.sort(held[y == 0])
    bar = float(specific[int(np.ceil((1 - MAX_SPECIFIC_GATED) * len(specific))) - 1])
    bar = round(max(0.5, bar) + 0.005, 3)
    caught = float((held[y == 1] >= bar).mean())
    wrong = float((held[y == 0] >= bar).mean())
    print(
        f"{int(y.sum())} vague / {int((y == 0).sum())} specific training texts; 5-fold CV at "
        f"bar {bar}: vague caught {caught:.3f}, specific gated {wrong:.3f}"
    )
    w, b = fit(x, y)
    np.savez(OUT, w=w, b=np.float32(b), bar=np.float32(bar), space=np.array(enc.name))
    print(f"wrote {OUT.relative_to(ROOT)} for {enc.name}")


if __name__ == "__main__":
    main()
