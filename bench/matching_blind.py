"""What the bot would actually post, on a set in the blind set's format (issue 15).

    python bench/matching_blind.py                          # the blind held-out set
    python bench/matching_blind.py --data bench/data/train/pairs.yaml --train
                                                            # the training data, for tuning

The blind set (bench/data/matching_blind.yaml) was written by a helper who saw no code and
no other set, and frozen before any score; it is run ONCE per shipped configuration and
nothing is chosen on it. Everything (threshold, margin, bonus, specificity gate, /wol who's
bar) is the shipped configuration: `E5Encoder`, its `E5_POLICY`, `who.who_policy`.

One workspace holds every narration of the set (groups, singletons, vague), each by its
person, as the bot stores it: the topic after the narration phrase (`match_phrase`), the
language the bot gives it. Each narration is then a query against all the others, through
`WorkspaceIndex.rank` (with the gate) and `select`, as a new narration is in the bot:

- suggestion precision: suggestions in the query's own group / all suggestions;
- recall: right suggestions / min(3, partners) summed over the group narrations;
- vague: the share of content-free narrations that get any suggestion (and how often a
  vague narration is suggested to others);
- /wol who precision@3: for each question, the first three people named; a person is right
  when their narration is in an expected group. A question with expected groups that gets
  nobody scores 0; a question with none expected scores 1 when nobody is named, else 0.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching_eval import Encoders, variant_vectors

from bot.features.matching.e5 import E5_POLICY
from bot.features.matching.ranking import Item, Viewer, WorkspaceIndex, select
from bot.features.narration_phrases import match_phrase
from bot.features.who import who_policy
from bot.langdetect import guess_language

BLIND = Path(__file__).parent / "data" / "matching_blind.yaml"


@dataclass(frozen=True)
class Entry:
    person: str
    group: str | None  # None: singleton or vague
    kind: str  # group | singleton | vague
    text: str  # what the bot stores: the topic after the phrase


@dataclass(frozen=True)
class Question:
    text: str
    expected: tuple[str, ...]


def topic(text: str) -> tuple[str, str | None]:
    phrase = match_phrase(text)
    if phrase and phrase.topic:
        return phrase.topic, phrase.language
    return text, None


def load_blind(path: Path) -> tuple[list[Entry], list[Question]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries = [
        Entry(n["person"], g["id"], "group", n["text"])
        for g in doc["groups"]
        for n in g["narrations"]
    ]
    entries += [Entry(s["person"], None, "singleton", s["text"]) for s in doc["singletons"]]
    entries += [Entry(s["person"], None, "vague", s["text"]) for s in doc.get("vague", [])]
    questions = [Question(q["text"], tuple(q.get("expected") or ())) for q in doc["questions"]]
    return entries, questions


def load_train(pairs: Path) -> tuple[list[Entry], list[Question]]:
    """The training data in the same shape: topics as groups, their near misses as
    singletons, the training vague texts as vague, and each topic's id as a who-question
    ("mfa rollout" -> that topic)."""
    doc = yaml.safe_load(pairs.read_text(encoding="utf-8"))
    vague = yaml.safe_load((pairs.parent / "vague.yaml").read_text(encoding="utf-8"))["vague"]
    entries: list[Entry] = []
    questions: list[Question] = []
    for t in doc["topics"]:
        entries += [
            Entry(f"{t['id']}#{i}", t["id"], "group", n["text"])
            for i, n in enumerate(t["narrations"])
        ]
        entries += [
            Entry(f"{t['id']}~{i}", None, "singleton", n["text"])
            for i, n in enumerate(t.get("near_misses", []))
        ]
        questions.append(Question(t["id"].replace("-", " "), (t["id"],)))
    entries += [Entry(f"vague#{i}", None, "vague", v["text"]) for i, v in enumerate(vague)]
    return entries, questions


def evaluate(entries: list[Entry], questions: list[Question], encoders: Encoders) -> dict:
    policy = E5_POLICY
    stored = [topic(e.text) for e in entries]
    texts = [t for t, _ in stored]
    vecs = variant_vectors("e5x-abtt3", texts + [q.text for q in questions], encoders)
    qvecs = vecs[len(texts) :]
    vecs = vecs[: len(texts)]
    languages = [lang or guess_language(t) for t, lang in stored]
    items = [
        Item.of(f"n:{i}", "narration", e.person, texts[i], visibility="public",
                language=languages[i])
        for i, e in enumerate(entries)
    ]
    index = WorkspaceIndex.build(items, vecs)
    group_size = Counter(e.group for e in entries if e.group)
    tp = fp = relevant = 0
    helped = with_partner = 0
    vague_answered = vague_total = vague_suggested = 0
    singles_answered = singles = 0
    for i, e in enumerate(entries):
        ranked = index.rank(vecs[i], items[i].tokens, policy, languages[i], texts[i])
        ranked = [s for s in ranked if s.item.key != items[i].key]
        found = select(ranked, policy, Viewer(e.person, None, "public"))
        right = sum(1 for s in found if e.group and entries[int(s.item.key[2:])].group == e.group)
        tp += right
        fp += len(found) - right
        vague_suggested += sum(1 for s in found if entries[int(s.item.key[2:])].kind == "vague")
        if e.kind == "group":
            partners = group_size[e.group] - 1
            relevant += min(partners, policy.max_suggestions)
            with_partner += partners > 0
            helped += right > 0
        elif e.kind == "vague":
            vague_total += 1
            vague_answered += bool(found)
        else:
            singles += 1
            singles_answered += bool(found)
    wp = who_policy(policy)
    scores = []
    answered = 0
    for q, qvec in zip(questions, qvecs, strict=True):
        ranked = index.rank(qvec, Item.of("q", "narration", "Q", q.text, visibility="public")
                            .tokens, wp, guess_language(q.text), q.text)
        found = select(ranked, wp, Viewer("asker", None, "public"))[:3]
        answered += bool(found)
        if not q.expected:
            scores.append(1.0 if not found else 0.0)
        elif not found:
            scores.append(0.0)
        else:
            ok = sum(1 for s in found if entries[int(s.item.key[2:])].group in q.expected)
            scores.append(ok / len(found))
    precision = tp / (tp + fp) if tp + fp else 1.0
    return {
        "narrations": len(entries),
        "suggestions": tp + fp,
        "precision": precision,
        "recall": tp / relevant if relevant else 0.0,
        "helped": helped / with_partner if with_partner else 0.0,
        "vague_with_suggestion": vague_answered / vague_total if vague_total else 0.0,
        "vague_total": vague_total,
        "vague_suggested_to_others": vague_suggested,
        "singletons_with_suggestion": singles_answered / singles if singles else 0.0,
        "who_precision_at_3": float(np.mean(scores)) if scores else 0.0,
        "who_questions": len(questions),
        "who_answered": answered,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=BLIND)
    parser.add_argument("--train", action="store_true", help="--data is training pairs.yaml")
    args = parser.parse_args()
    entries, questions = (load_train if args.train else load_blind)(args.data)
    r = evaluate(entries, questions, Encoders())
    print(f"{args.data} (load average {os.getloadavg()[0]:.1f}); shipped configuration")
    print(
        f"  suggestions: precision {r['precision']:.3f}  recall {r['recall']:.3f}  "
        f"(narrations with a partner helped {r['helped']:.2f}; {r['suggestions']} suggestions "
        f"for {r['narrations']} narrations)"
    )
    print(
        f"  vague narrations with any suggestion: {r['vague_with_suggestion']:.3f} of "
        f"{r['vague_total']}; vague narrations suggested to others: "
        f"{r['vague_suggested_to_others']}; singletons with a suggestion: "
        f"{r['singletons_with_suggestion']:.3f}"
    )
    print(
        f"  /wol who precision@3: {r['who_precision_at_3']:.3f} over {r['who_questions']} "
        f"questions ({r['who_answered']} answered with someone)"
    )


if __name__ == "__main__":
    main()
