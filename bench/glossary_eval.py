"""What an organisation glossary does to matching (issue 15 item 2), on training and tuning
data only — never on the blind set.

    python bench/glossary_eval.py               # both sets, without and with the glossary
    python bench/glossary_eval.py --set train   # only the training pairs
    python bench/glossary_eval.py --json

The glossary is bench/data/train/org_glossary.yaml: the jargon of the training data, with
meanings written as an admin would (`/wol config glossary add`). Each text is encoded as the
bot encodes it — the shipped `E5Encoder`, the text expanded by
`bot.matching.glossary.Glossary.expand` — and ranked as the engine ranks it (the
index knows the glossary: signal tokens, the specificity gate). The policy is the shipped
`E5_POLICY`, unchanged: the glossary changes what is encoded, not when the bot speaks.

Sets:
- `train`: bench/data/train/pairs.yaml, one workspace. A topic's narrations are a group;
  each of its near misses is a group of its own in the topic's family (a suggestion of one
  to the topic's narrations is wrong, and counted as a near-miss suggestion). Its near
  misses are hard negatives, many the same work in other words, so precision here is low
  for any configuration (docs/matching.md): compare the two rows, not the level.
- `eval`: bench/data/matching_eval.yaml, its tuning half (and its test half, for the record),
  each half a workspace, as bench/matching_eval.py does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching_eval import Narration, evaluate, load

from bot.langdetect import guess_language
from bot.matching.e5 import E5_POLICY, E5Encoder
from bot.matching.glossary import EMPTY, Glossary
from bot.matching.lexical import signal_tokens
from bot.matching.ranking import (
    Item,
    Scored,
    Viewer,
    WorkspaceIndex,
    select,
)

DATA = Path(__file__).parent / "data"
TRAIN = DATA / "train" / "pairs.yaml"
GLOSSARY = DATA / "train" / "org_glossary.yaml"


def load_glossary(path: Path = GLOSSARY) -> Glossary:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Glossary((str(t), str(m)) for t, m in doc["terms"].items())


def load_train(path: Path = TRAIN) -> list[Narration]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: list[Narration] = []
    for topic in doc["topics"]:
        tid = topic["id"]
        for i, n in enumerate(topic["narrations"]):
            out.append(Narration(f"{tid}#{i}", "train", tid, tid, n["lang"], n["text"]))
        for i, n in enumerate(topic.get("near_misses") or ()):
            out.append(Narration(f"{tid}~{i}", "train", f"{tid}~{i}", tid, n["lang"], n["text"]))
    return out


def rankings(
    narrations: list[Narration], vecs: np.ndarray, glossary: Glossary
) -> dict[str, list[Scored]]:
    """Every narration against the others of its split (a workspace), as the engine ranks:
    the index holds the glossary, the query's tokens include its terms."""
    out: dict[str, list[Scored]] = {}
    for split in sorted({n.split for n in narrations}):
        rows = [i for i, n in enumerate(narrations) if n.split == split]
        items = [
            Item.of(
                narrations[i].key,
                "narration",
                f"U{i}",
                narrations[i].text,
                visibility="public",
                language=guess_language(narrations[i].text),
            )
            for i in rows
        ]
        index = WorkspaceIndex.build(items, vecs[rows], glossary)
        for i, item in zip(rows, items, strict=True):
            text = narrations[i].text
            tokens = signal_tokens(text) | glossary.tokens(text)
            ranked = index.rank(
                vecs[i],
                tokens,
                E5_POLICY,
                language=guess_language(text),
                text=text,
                exclude={item.key},  # not in its own neighbourhood (density correction)
            )
            out[narrations[i].key] = [s for s in ranked if s.item.key != item.key]
    return out


def vague(narrations: list[Narration], vecs: np.ndarray, glossary: Glossary) -> int:
    """How many narrations the specificity gate stops (with the workspace's frequencies)."""
    index = WorkspaceIndex(vecs.shape[1])
    index.glossary = glossary
    for n in narrations:
        index.words.add(n.text)
    return sum(index.is_vague(n.text, v, E5_POLICY) for n, v in zip(narrations, vecs, strict=True))


def touched_figures(
    narrations: list[Narration], ranked: dict[str, list[Scored]], touched: set[str]
) -> dict[str, float]:
    """Among the queries naming a glossary term: right and wrong suggestions, and the share
    of those with a partner that get at least one right suggestion."""
    group_of = {n.key: n.group for n in narrations}
    size = {
        g: sum(1 for n in narrations if n.group == g and n.split == s)
        for g, s in {(n.group, n.split) for n in narrations}
    }
    right = wrong = helped = with_partner = 0
    for i, n in enumerate(narrations):
        if n.key not in touched:
            continue
        found = select(ranked[n.key], E5_POLICY, Viewer(f"U{i}", None, "public"))
        good = sum(1 for s in found if group_of[s.item.key] == n.group)
        right, wrong = right + good, wrong + len(found) - good
        if size[n.group] > 1:
            with_partner += 1
            helped += good > 0
    return {
        "queries": len(touched),
        "right": right,
        "wrong": wrong,
        "helped": helped / with_partner if with_partner else 0.0,
    }


def measure(name: str, narrations: list[Narration], encoder: E5Encoder, glossary: Glossary) -> dict:
    texts = [n.text for n in narrations]
    expanded = [glossary.expand(t) for t in texts]
    touched = {n.key for n, e in zip(narrations, expanded, strict=True) if e != n.text}
    rows = {}
    for label, g, encoded in (("without", EMPTY, texts), ("with", glossary, expanded)):
        vecs = np.concatenate(
            [encoder.encode(encoded[i : i + 64]) for i in range(0, len(encoded), 64)]
        )
        ranked = rankings(narrations, vecs, g)
        rows[label] = {
            split: evaluate(narrations, ranked, E5_POLICY, split)
            for split in sorted({n.split for n in narrations})
        }
        rows[label]["vague"] = vague(narrations, vecs, g)
        rows[label]["touched"] = touched_figures(narrations, ranked, touched)
    return {"set": name, "narrations": len(narrations), "touched": len(touched), **rows}


def show(res: dict) -> None:
    print(
        f"{res['set']}: {res['narrations']} narrations, {res['touched']} expanded by the "
        f"glossary; shipped E5_POLICY"
    )
    for label in ("without", "with"):
        row = res[label]
        for split, r in row.items():
            if split in ("vague", "touched"):
                continue
            print(
                f"  {label:7s} {split:5s} precision {r['precision']:.3f}  recall "
                f"{r['recall']:.3f}  F1 {r['f1']:.3f}  MRR {r['mrr']:.3f}  helped "
                f"{r['queries_helped']:.2f}  suggestions {r['suggestions']} (near-miss "
                f"{r['near_miss_suggestions']})"
            )
        t = row["touched"]
        print(
            f"  {label:7s} the {t['queries']} expanded queries: {t['right']} right / "
            f"{t['wrong']} wrong suggestions, helped {t['helped']:.2f}; vague (gated) "
            f"narrations in the set: {row['vague']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=("train", "eval", "both"), default="both")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    glossary = load_glossary()
    encoder = E5Encoder()
    encoder.load()
    sets = {"train": load_train, "eval": load}
    names = ["train", "eval"] if args.set == "both" else [args.set]
    results = [measure(name, sets[name](), encoder, glossary) for name in names]
    if args.json:
        print(json.dumps({"glossary_terms": len(glossary), "results": results}))
        return
    print(f"organisation glossary: {len(glossary)} terms ({GLOSSARY.relative_to(DATA.parent)})")
    for res in results:
        show(res)


if __name__ == "__main__":
    main()
