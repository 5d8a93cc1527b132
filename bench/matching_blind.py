"""What the bot would actually post, on a set in the blind set's format (issue 15).

    python bench/matching_blind.py                          # the blind held-out set
    python bench/matching_blind.py --data bench/data/tuning_workspace.yaml [--part tune]
                                                            # the tuning workspace (or a part)
    python bench/matching_blind.py --data bench/data/tuning_workspace.yaml --part tune --grid
                                                            # every threshold/margin/bonus
    python bench/matching_blind.py --data bench/data/train/pairs.yaml --train
                                                            # the training data
    ... --grid --density-weights 0,0.5,0.75,1.0 [--density-k 10]
                                                            # the grid with the density
                                                            # correction's weight too

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
import hashlib
import itertools
import os
import sys
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching_eval import Encoders, variant_vectors

from bot.features.narration_phrases import match_phrase
from bot.features.question_phrases import question_topic
from bot.features.who import who_policy
from bot.langdetect import guess_language
from bot.matching.e5 import E5_PAIR_POLICY, E5_POLICY
from bot.matching.ranking import Item, MatchPolicy, Viewer, WorkspaceIndex, cut, select

BLIND = Path(__file__).parent / "data" / "matching_blind.yaml"


@dataclass(frozen=True)
class Entry:
    person: str
    group: str | None  # None: singleton or vague
    kind: str  # group | singleton | vague
    text: str  # what the bot stores: the topic after the phrase
    part: str = ""  # tune | check (bench/data/tuning_workspace.yaml, `--part`)


@dataclass(frozen=True)
class Question:
    text: str
    expected: tuple[str, ...]
    part: str = ""


def part_of(key: str) -> str:
    """The tuning workspace's fixed split (issue 15 item 2): a near-miss family (or a group
    without one) is wholly in "tune" or in "check", by a hash of its id; singletons and
    vague narrations by the parity of their person's number; a question goes with its
    first expected group (one without any: by the parity of its position)."""
    return "tune" if int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 2 == 0 else "check"


def _parity(text: str) -> str:
    digits = "".join(c for c in text if c.isdigit())
    return "tune" if int(digits or 0) % 2 == 0 else "check"


def topic(text: str) -> tuple[str, str | None]:
    phrase = match_phrase(text)
    if phrase and phrase.topic:
        return phrase.topic, phrase.language
    return text, None


def load_blind(path: Path) -> tuple[list[Entry], list[Question]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    family = {g["id"]: part_of(g.get("family") or g["id"]) for g in doc["groups"]}
    entries = [
        Entry(n["person"], g["id"], "group", n["text"], family[g["id"]])
        for g in doc["groups"]
        for n in g["narrations"]
    ]
    entries += [
        Entry(s["person"], None, "singleton", s["text"], _parity(s["person"]))
        for s in doc["singletons"]
    ]
    entries += [
        Entry(s["person"], None, "vague", s["text"], _parity(s["person"]))
        for s in doc.get("vague", [])
    ]
    questions = [
        Question(
            q["text"],
            tuple(q.get("expected") or ()),
            family.get(q["expected"][0], "") if q.get("expected") else _parity(str(i)),
        )
        for i, q in enumerate(doc["questions"])
    ]
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


class Workspace:
    """Every narration of a set in one workspace (the bot's index), with its vectors."""

    def __init__(
        self,
        entries: list[Entry],
        questions: list[Question],
        encoders: Encoders,
        variant: str = "e5x-abtt3",
    ) -> None:
        self.entries, self.questions = entries, questions
        stored = [topic(e.text) for e in entries]
        self.texts = [t for t, _ in stored]
        # a question as `/wol who` takes it: its subject (bot/features/question_phrases.py)
        self.qtexts = [question_topic(q.text) for q in questions]
        vecs = variant_vectors(variant, self.texts + self.qtexts, encoders)
        self.qvecs = vecs[len(self.texts) :]
        self.vecs = vecs[: len(self.texts)]
        self.languages = [lang or guess_language(t) for t, lang in stored]
        self._index()

    def _index(self) -> None:
        """The bot's index of the entries, each by its person, in its language."""
        self.items = [
            Item.of(
                f"n:{i}",
                "narration",
                e.person,
                self.texts[i],
                visibility="public",
                language=self.languages[i],
            )
            for i, e in enumerate(self.entries)
        ]
        self.index = WorkspaceIndex.build(self.items, self.vecs)

    def subset(self, keep: np.ndarray) -> Workspace:
        """A workspace of the entries `keep` (indices) with their vectors, no questions."""
        part = object.__new__(Workspace)
        part.entries = [self.entries[i] for i in keep]
        part.questions, part.qtexts, part.qvecs = [], [], self.qvecs[:0]
        part.texts = [self.texts[i] for i in keep]
        part.vecs = self.vecs[keep]
        part.languages = [self.languages[i] for i in keep]
        part._index()
        return part

    def ranked(self, i: int, policy: MatchPolicy, explain: list | None = None) -> list:
        """What `rank` gives narration i as a new narration (itself left out, also from its
        own neighbourhood for the density correction and the pair model; `explain`: the
        pair model's feature rows, as `WorkspaceIndex.rank`)."""
        key = self.items[i].key
        ranked = self.index.rank(
            self.vecs[i],
            self.items[i].tokens,
            policy,
            self.languages[i],
            self.texts[i],
            exclude={key},
            explain=explain,
        )
        return [s for s in ranked if s.item.key != key]


def evaluate(
    ws: Workspace,
    policy: MatchPolicy = E5_POLICY,
    part: str = "",
    ranked: dict[int, list] | None = None,
    who: bool = True,
    pools: dict[int, list] | None = None,
) -> dict:
    """The figures of the queries of `part` ("" = all); every narration of the set stays
    in the workspace as a candidate, whatever its part. `pools`: per query, what `select`
    keeps before its threshold and margin (`candidate_pool`), to be cut by `policy`."""
    entries = ws.entries
    policy = policy.for_size(len(ws.index))  # as the bot: a young workspace's policy
    group_size = Counter(e.group for e in entries if e.group)
    tp = fp = relevant = 0
    helped = with_partner = 0
    vague_answered = vague_total = vague_suggested = 0
    singles_answered = singles = 0
    for i, e in enumerate(entries):
        if part and e.part != part:
            continue
        if pools is not None:
            found = cut(pools[i], policy)
        else:
            cands = ranked[i] if ranked is not None else ws.ranked(i, policy)
            found = select(cands, policy, Viewer(e.person, None, "public"))
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
    scores, answered = who_scores(ws, who_policy(policy), part) if who else ([], 0)
    precision = tp / (tp + fp) if tp + fp else 1.0
    return {
        "tp": tp,
        "fp": fp,
        "relevant": relevant,
        "narrations": sum(1 for e in entries if not part or e.part == part),
        "suggestions": tp + fp,
        "precision": precision,
        "recall": tp / relevant if relevant else 0.0,
        "helped": helped / with_partner if with_partner else 0.0,
        "vague_with_suggestion": vague_answered / vague_total if vague_total else 0.0,
        "vague_total": vague_total,
        "vague_suggested_to_others": vague_suggested,
        "singletons_with_suggestion": singles_answered / singles if singles else 0.0,
        "who_precision_at_3": float(np.mean(scores)) if scores else 0.0,
        "who_questions": len(scores),
        "who_answered": answered,
    }


def ceiling(ws: Workspace, policy: MatchPolicy, part: str = "") -> dict[int, tuple]:
    """How good the ranking itself is, whatever the threshold: precision and recall when
    every narration that has a partner (known here, not to the bot) gets its best k
    candidates (k = 1, 2, 3), after the gate and the one-per-person rule."""
    group_size = Counter(e.group for e in ws.entries if e.group)
    base = replace(policy.for_size(len(ws.index)), threshold=-1.0)
    out = {}
    pools = {
        i: candidate_pool(ws.ranked(i, base), e.person)
        for i, e in enumerate(ws.entries)
        if e.kind == "group" and (not part or e.part == part) and group_size[e.group] > 1
    }
    for k in (1, 2, 3):
        tp = fp = relevant = 0
        for i, pool in pools.items():
            group = ws.entries[i].group
            right = sum(1 for s in pool[:k] if ws.entries[int(s.item.key[2:])].group == group)
            tp, fp = tp + right, fp + len(pool[:k]) - right
            relevant += min(3, group_size[group] - 1)
        out[k] = (tp / (tp + fp) if tp + fp else 0.0, tp / relevant if relevant else 0.0)
    return out


def who_scores(ws: Workspace, wp: MatchPolicy, part: str = "") -> tuple[list[float], int]:
    """`/wol who` precision@3 per question of `part` ("" = all) with the policy `wp`, and
    how many questions were answered with someone."""
    scores = []
    answered = 0
    for q, text, qvec in zip(ws.questions, ws.qtexts, ws.qvecs, strict=True):
        if part and q.part != part:
            continue
        cands = ws.index.rank(
            qvec,
            Item.of("q", "narration", "Q", text, visibility="public").tokens,
            wp,
            guess_language(text),
            text,
        )
        found = select(cands, wp, Viewer("asker", None, "public"))[:3]
        answered += bool(found)
        if not q.expected:
            scores.append(1.0 if not found else 0.0)
        elif not found:
            scores.append(0.0)
        else:
            ok = sum(1 for s in found if ws.entries[int(s.item.key[2:])].group in q.expected)
            scores.append(ok / len(found))
    return scores, answered


THRESHOLDS = [round(0.2 + 0.01 * i, 2) for i in range(61)]  # 0.20 .. 0.80
PAIR_THRESHOLDS = [round(0.05 + 0.01 * i, 2) for i in range(76)]  # probabilities 0.05 .. 0.80
MARGINS = (0.05, 0.1, 0.15, 0.2, 0.3, 1.0)
BONUSES = (0.0, 0.04, 0.08, 0.12)
MIN_PRECISION = 0.85


def grid(
    sets: list[tuple[Workspace, str]],
    shipped: MatchPolicy = E5_POLICY,
    density_weights: tuple[float, ...] | None = None,
    density_ks: tuple[int, ...] | None = None,
    density_floors: tuple[float | None, ...] | None = None,
    min_cosines: tuple[float, ...] | None = None,
) -> list[tuple[MatchPolicy, dict]]:
    """Every threshold x margin x cross-language bonus (x density weight and k, when
    given; else the shipped policy's) of the grid, the suggestions of several workspaces
    (each with the queries of one part) counted together: the rankings made once per
    (k, bonus, weight) (the gate and the density correction see every candidate:
    threshold -1), then each setting's suggestions: `select`'s pool cut by the setting."""
    out = []
    weights = density_weights or (shipped.density_weight,)
    ks = density_ks or (shipped.density_k,)
    floors = density_floors or (shipped.density_floor,)
    # with a pair model, the bonus only orders which candidates it scores: the policy's
    bonuses = (shipped.cross_language_bonus,) if shipped.pair_model else BONUSES
    # k outermost: each workspace's cache of neighbourhoods is filled once per k
    lows = min_cosines or (shipped.pair_min_cosine,)
    for k, bonus, weight, low, least in itertools.product(ks, bonuses, weights, floors, lows):
        # a floor is the center too: the correction only lowers (density_floor in ranking)
        centre = shipped.density_center if low is None else low
        density = {
            "density_weight": weight,
            "density_k": k,
            "density_floor": low,
            "density_center": centre,
            "pair_min_cosine": least,
        }
        base = replace(shipped, cross_language_bonus=bonus, threshold=-1.0, **density)
        # what select keeps before threshold and margin: each setting only cuts it
        pools = [
            {
                i: candidate_pool(ws.ranked(i, base), e.person)
                for i, e in enumerate(ws.entries)
                if not part or e.part == part
            }
            for ws, part in sets
        ]
        thresholds = PAIR_THRESHOLDS if shipped.pair_model else THRESHOLDS
        for threshold, margin in itertools.product(thresholds, MARGINS):
            policy = replace(
                shipped,
                cross_language_bonus=bonus,
                threshold=threshold,
                margin=margin,
                **density,
            )
            tp = fp = relevant = 0
            for (ws, part), pool in zip(sets, pools, strict=True):
                r = evaluate(ws, policy, part, who=False, pools=pool)
                tp, fp, relevant = tp + r["tp"], fp + r["fp"], relevant + r["relevant"]
            out.append(
                (
                    policy,
                    {
                        "precision": tp / (tp + fp) if tp + fp else 1.0,
                        "recall": tp / relevant if relevant else 0.0,
                        "suggestions": tp + fp,
                    },
                )
            )
    return out


def candidate_pool(ranked: list, person: str) -> list:
    """What `select` keeps for `person` before its threshold and margin (one item per
    person, not the narrator, best first): `cut` with a policy then gives what `select`
    with that policy gives (no feedback penalties in these sets)."""
    return select(ranked, EVERYTHING, Viewer(person, None, "public"))


EVERYTHING = MatchPolicy(threshold=-np.inf, margin=np.inf, max_suggestions=10**9)


def eval_tuning_half(encoders: Encoders, variant: str, half: str = "tune") -> Workspace:
    """The tuning (or test) half of bench/data/matching_eval.yaml as one workspace (as
    matching_eval.py evaluates it: each narration by its own person, languages guessed)."""
    from matching_eval import load

    rows = [n for n in load() if n.split == half]
    entries = [
        Entry(f"U{i}", n.group, "group" if n.group else "singleton", n.text, half)
        for i, n in enumerate(rows)
    ]
    return Workspace(entries, [], encoders, variant)


def show_grid(results: list[tuple[MatchPolicy, dict]], least: float = MIN_PRECISION) -> None:
    """The rule of docs/matching.md: the best F1 among the settings with precision >= 0.85
    (a tie goes to the later setting); and, for the record, the best F1 overall."""

    def f1(r: dict) -> float:
        p, q = r["precision"], r["recall"]
        return 2 * p * q / (p + q) if p + q else 0.0

    ok = [(p, r) for p, r in results if r["precision"] >= least and r["suggestions"]]
    for label, pool in ((f"best F1 with precision >= {least}", ok), ("best F1 overall", results)):
        if not pool:
            print(f"  {label}: none")
            continue
        policy, r = max(reversed(pool), key=lambda pr: f1(pr[1]))
        print(
            f"  {label}: threshold {policy.threshold} margin {policy.margin} bonus "
            f"{policy.cross_language_bonus} density {policy.density_weight} "
            f"(k {policy.density_k}, floor {policy.density_floor}; pair model's least "
            f"cosine {policy.pair_min_cosine}): "
            f"P {r['precision']:.3f} R {r['recall']:.3f} "
            f"F1 {f1(r):.3f} ({r['suggestions']} suggestions)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=BLIND,
        help="a set in the blind set's format, or eval-test: the test half of "
        "matching_eval.yaml as one workspace",
    )
    parser.add_argument("--train", action="store_true", help="--data is training pairs.yaml")
    parser.add_argument(
        "--part",
        choices=("tune", "check"),
        default="",
        help="only the queries of this part of the tuning workspace",
    )
    parser.add_argument(
        "--variant",
        default="e5x-abtt3",
        help="vectors (bench/matching_eval.py variants; e5x0-abtt3: no adaptation)",
    )
    parser.add_argument("--delta", default="shipped", help="e5x with this adaptation (.npz)")
    parser.add_argument("--grid", action="store_true", help="every threshold/margin/bonus")
    parser.add_argument(
        "--with-eval-tune",
        action="store_true",
        help="--grid: count the tuning half of matching_eval.yaml in too",
    )
    parser.add_argument(
        "--no-vague-model",
        action="store_true",
        help="the gate's word lists only (for a space its classifier is not for)",
    )
    parser.add_argument(
        "--density-weights",
        type=lambda v: tuple(float(x) for x in v.split(",")),
        help="density correction weights, e.g. 0,0.5,0.75,1.0 (--grid: each tried; "
        "without --grid: one, evaluated instead of the shipped weight)",
    )
    parser.add_argument(
        "--density-k",
        type=lambda v: tuple(int(x) for x in v.split(",")),
        help="neighbours for the density correction, e.g. 10 or 5,10,20 (--grid: each)",
    )
    parser.add_argument(
        "--density-floors",
        type=lambda v: tuple(None if x == "none" else float(x) for x in v.split(",")),
        help="--grid: floors of the density correction, each also its center, e.g. none,0.4",
    )
    parser.add_argument(
        "--policy",
        choices=("default", "pair"),
        default="default",
        help="pair: E5_PAIR_POLICY (the calibrated pair score) instead of E5_POLICY",
    )
    parser.add_argument("--threshold", type=float, help="instead of the policy's threshold")
    parser.add_argument("--margin", type=float, help="instead of the policy's margin")
    parser.add_argument(
        "--min-precision",
        type=float,
        default=MIN_PRECISION,
        help="--grid: the tuning precision a setting must reach (default 0.85)",
    )
    parser.add_argument(
        "--min-cosines",
        type=lambda v: tuple(float(x) for x in v.split(",")),
        help="--grid --policy pair: the pair model's least cosines, e.g. -1,0.4,0.45",
    )
    args = parser.parse_args()
    shipped = E5_PAIR_POLICY if args.policy == "pair" else E5_POLICY
    shipped = replace(shipped, vague_model=None) if args.no_vague_model else shipped
    if args.threshold is not None:
        shipped = replace(shipped, threshold=args.threshold)
    if args.margin is not None:
        shipped = replace(shipped, margin=args.margin)
    if not args.grid and (args.density_weights or args.density_k):
        if len(args.density_weights or ()) > 1 or len(args.density_k or ()) > 1:
            parser.error("without --grid: one --density-weights and one --density-k")
        shipped = replace(
            shipped,
            density_weight=(args.density_weights or (shipped.density_weight,))[0],
            density_k=(args.density_k or (shipped.density_k,))[0],
        )
    encoders = Encoders(delta=args.delta)
    if str(args.data) == "eval-test":  # the test half of matching_eval.yaml, one workspace
        ws = eval_tuning_half(encoders, args.variant, "test")
    else:
        entries, questions = (load_train if args.train else load_blind)(args.data)
        ws = Workspace(entries, questions, encoders, args.variant)
    part = f", part {args.part}" if args.part else ""
    if args.grid:
        sets = [(ws, args.part)]
        if args.with_eval_tune:
            sets.append((eval_tuning_half(encoders, args.variant), "tune"))
            part += " + the tuning half of matching_eval.yaml"
        print(f"{args.data}{part} (load average {os.getloadavg()[0]:.1f}); {args.variant}")
        show_grid(
            grid(
                sets,
                shipped,
                args.density_weights,
                args.density_k,
                args.density_floors,
                args.min_cosines,
            ),
            args.min_precision,
        )
        return
    r = evaluate(ws, shipped, args.part)
    density = (
        f", density {shipped.density_weight} (k {shipped.density_k})"
        if shipped.density_weight
        else ""
    )
    print(
        f"{args.data}{part} (load average {os.getloadavg()[0]:.1f}); shipped configuration"
        f" ({args.variant}{density}; policy {args.policy}: threshold {shipped.threshold},"
        f" margin {shipped.margin})"
    )
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
    top = ceiling(ws, shipped, args.part)
    print(
        "  the ranking's ceiling (each narration with a partner gets its best k, no threshold):"
        + "".join(f" k={k}: P {p:.3f} R {q:.3f};" for k, (p, q) in top.items())
    )


if __name__ == "__main__":
    main()
