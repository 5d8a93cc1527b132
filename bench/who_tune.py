"""Choose `/wol who`'s bar (bot/features/who.py: WHO_THRESHOLD_SHIFT, WHO_MARGIN) on
training data only.

    python bench/who_tune.py

One workspace holds every narration, near miss and vague text of the three sector training
files (bench/data/train/pairs_care_government.yaml, pairs_education_staff.yaml,
pairs_business_it.yaml: 390 topics the shipped encoder never saw), as the bot stores them;
the questions are bench/data/train/questions.yaml, written for the purpose by a helper who
saw only those three files (typed the way people ask: a tool, an abbreviation, the purpose,
either language; some about work nobody there does). Each setting of the grid (threshold
shift from the suggestion threshold x margin) is scored by the blind sets' `/wol who`
precision@3 (bench/matching_blind.py: a question nobody can answer scores 1 when nobody is
named; each question as `/wol who` takes it, its subject: bot/features/question_phrases.py);
the best mean wins, where settings within 0.005 of the best count as tied (one question in
200) and a tie goes to the setting nearest the current one. Nothing of an evaluation set is
read.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching_blind import Question, Workspace, load_train, who_scores
from matching_eval import Encoders

from bot.features.who import WHO_MARGIN, WHO_THRESHOLD_SHIFT, who_policy
from bot.matching.e5 import E5_POLICY

TRAIN = Path(__file__).parent / "data" / "train"
FILES = ("pairs_care_government", "pairs_education_staff", "pairs_business_it")
SHIFTS = (-0.1, -0.075, -0.05, -0.025, 0.0, 0.025, 0.05, 0.075, 0.1, 0.15)
MARGINS = (0.05, 0.1, 0.15, 0.2, 0.3, 1.0)
TIE = 0.005


def main() -> None:
    entries = []
    for name in FILES:
        found, _ = load_train(TRAIN / f"{name}.yaml")
        # the training vague texts come with each file: once is enough
        entries += [e for e in found if e.kind != "vague" or name == FILES[0]]
    doc = yaml.safe_load((TRAIN / "questions.yaml").read_text(encoding="utf-8"))
    questions = [Question(q["text"], tuple(q.get("expected") or ())) for q in doc["questions"]]
    ws = Workspace(entries, questions, Encoders())
    print(
        f"{len(ws.entries)} items, {len(questions)} questions "
        f"({sum(1 for q in questions if not q.expected)} nobody can answer)"
    )
    base = who_policy(E5_POLICY)
    results = []
    for shift, margin in itertools.product(SHIFTS, MARGINS):
        wp = replace(base, threshold=E5_POLICY.threshold + shift, margin=margin)
        scores, answered = who_scores(ws, wp)
        results.append((float(np.mean(scores)), shift, margin, answered))
        print(f"  shift {shift:+.3f} margin {margin:.2f}: precision@3 {np.mean(scores):.3f}")
    current = (WHO_THRESHOLD_SHIFT, WHO_MARGIN)
    top = max(r[0] for r in results)
    tied = [r for r in results if r[0] >= top - TIE]
    best = min(tied, key=lambda r: abs(r[1] - current[0]) + abs(r[2] - current[1]))
    now = next(r for r in results if (r[1], r[2]) == current)
    print(f"current: shift {current[0]} margin {current[1]}: {now[0]:.3f} ({now[3]} answered)")
    print(f"best: shift {best[1]} margin {best[2]}: {best[0]:.3f} ({best[3]} answered)")


if __name__ == "__main__":
    main()
