"""The lexical signal: exact overlap of rare "name-like" tokens.

Sentence embeddings blur product names, acronyms and project codes ("HiX", "AKS",
"PRJ-4711"): two narrations naming the same system are more likely the same work than
their wording alone says. Only such tokens count here, so ordinary words in two
languages never create overlap, and each is weighted by its rarity in the workspace.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping

# Words: letters/digits with inner . / + # (".NET", "S/4HANA", "C#"), split at hyphens so
# Dutch compounds like "Jenkins-jobs" or "AVG-inzageverzoeken" yield their name part.
_WORD = re.compile(r"[^\W_](?:[\w.+#/]*[\w+#])?", re.UNICODE)
_CODE = re.compile(r"\b[A-Z]{2,}[-_]?\d{2,}\b")  # "PRJ-4711", "INC20931"
_NONE: frozenset[str] = frozenset()
_STOP = frozenset(
    # capitalised words that are not names: pronouns, months, days, languages
    [
        "i",
        "ik",
        "we",
        "wij",
        "our",
        "onze",
        "the",
        "de",
        "het",
        "een",
        "a",
        "an",
        "and",
        "en",
        "of",
        "van",
        "voor",
        "for",
        "to",
        "in",
        "op",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "januari",
        "februari",
        "maart",
        "mei",
        "juni",
        "juli",
        "augustus",
        "oktober",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "maandag",
        "dinsdag",
        "woensdag",
        "donderdag",
        "vrijdag",
        "dutch",
        "english",
        "nederlands",
        "engels",
    ]
)


def signal_tokens(text: str) -> frozenset[str]:
    """Lower-cased tokens that look like names, acronyms or codes.

    A token counts when it has an upper-case letter after its first character
    ("GitHub", "AKS", "HiX"), mixes letters and digits ("S/4HANA", "2013" does not),
    or is capitalised but not the first word of the text ("Jenkins", "Omgevingswet").
    """
    found: set[str] = set()
    for code in _CODE.finditer(text):
        found.add(re.sub(r"[-_]", "", code.group(0)).lower())
    first = True
    for match in _WORD.finditer(text):
        word = match.group(0)
        is_first, first = first, False
        if word.islower() and word.isalpha():
            continue  # the common case, an ordinary word: never a name
        lower = word.lower()
        if len(word) < 2 or lower in _STOP:
            continue
        letters = [c for c in word if c.isalpha()]
        if not letters:
            continue
        has_digit = any(c.isdigit() for c in word)
        inner_upper = any(c.isupper() for c in word[1:])
        capitalised = word[0].isupper() and not is_first
        if inner_upper or (has_digit and len(letters) >= 1) or capitalised:
            found.add(lower)
    # Most narrations name nothing: share one empty set (a new one per item cost 17 MB at 100k).
    return frozenset(found) if found else _NONE


class TokenStats:
    """Document frequencies of signal tokens in one workspace, kept up to date."""

    def __init__(self) -> None:
        self.df: Counter[str] = Counter()
        self.docs = 0

    def add(self, tokens: Iterable[str]) -> None:
        self.docs += 1
        self.df.update(set(tokens))

    def remove(self, tokens: Iterable[str]) -> None:
        self.docs = max(0, self.docs - 1)
        for token in set(tokens):
            left = self.df[token] - 1
            if left > 0:
                self.df[token] = left
            else:
                del self.df[token]

    def weight(self, token: str) -> float:
        """Inverse document frequency: a name most narrations share counts for little."""
        return math.log((self.docs + 1) / (self.df.get(token, 0) + 1)) + 1.0


def overlap(query: frozenset[str], other: frozenset[str], weights: Mapping[str, float]) -> float:
    """Weighted Dice overlap in [0, 1] of two token sets."""
    if not query or not other:
        return 0.0
    shared = query & other
    if not shared:
        return 0.0
    total = sum(weights[t] for t in query) + sum(weights.get(t, 1.0) for t in other)
    return 2.0 * sum(weights[t] for t in shared) / total
