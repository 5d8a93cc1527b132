"""Tried and not shipped (issue 15): expanding texts with a Dutch/English glossary before
encoding, so "tweestapsverificatie" would meet "MFA" (`matching_eval.py --variants
e5x-abtt3,e5x-abtt3+glossary`; the tuning half chose against it: docs/matching.md).

A small encoder aligns Dutch compounds and jargon poorly with their English wording
(docs/matching.md). Before a text is encoded, every glossary term found in it adds its
equivalents in the other language (`expand`): "tweestapsverificatie invoeren" is encoded as
"tweestapsverificatie invoeren (MFA; multi-factor authentication)". The built-in glossary
is the training glossary bench/data/train/glossary.yaml, written for the purpose,
independently of every evaluation set.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

BUILT_IN = Path(__file__).parent / "data" / "train" / "glossary.yaml"
MAX_ADDED = 6  # equivalents added to one text at most (a long narration stays itself)
TERMS_PER_ENTRY = 1  # the first (most common) equivalent of each term


@dataclass(frozen=True, slots=True)
class Entry:
    nl: tuple[str, ...]
    en: tuple[str, ...]


class Glossary:
    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self._patterns = [
            (
                entry,
                re.compile(
                    r"(?<![\w])(?:" + "|".join(_pattern(t) for t in (*entry.nl, *entry.en)) + r")",
                    re.IGNORECASE,
                ),
            )
            for entry in entries
        ]

    def expand(self, text: str) -> str:
        """`text` with the other language's terms of every entry it names appended."""
        added: list[str] = []
        lower = text.lower()
        for entry, pattern in self._patterns:
            match = pattern.search(text)
            if match is None:
                continue
            found = match.group(0).lower()
            side = (
                entry.en
                if any(found == t.lower() or found.startswith(t.lower()) for t in entry.nl)
                else entry.nl
            )
            for term in side[:TERMS_PER_ENTRY]:
                if term.lower() not in lower and term not in added:
                    added.append(term)
            if len(added) >= MAX_ADDED:
                break
        return f"{text} ({'; '.join(added[:MAX_ADDED])})" if added else text


def _pattern(term: str) -> str:
    """A term at the start of a word; long Dutch words also as the head of a compound
    ("inzageverzoek" in "AVG-inzageverzoeken")."""
    escaped = re.escape(term)
    return escaped + (r"" if len(term) >= 6 else r"(?![\w])")


def load(path: Path = BUILT_IN) -> Glossary:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Glossary(
        [Entry(tuple(t.get("nl") or ()), tuple(t.get("en") or ())) for t in doc["terms"]]
    )


@functools.cache
def built_in() -> Glossary:
    return load()
