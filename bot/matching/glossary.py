"""The organisation's glossary in matching: its own jargon ("HiX", "het MT", "P&O",
project code names), which no model knows, taught by its admins (`/wol config glossary`,
app.yaml `glossary:`; bot/glossary.py keeps the entries).

Three uses, all here so that each reads a term the same way:
- `expand`: before a text is encoded, the meanings of the terms it names are appended
  ("de HiX-rapportage" is encoded as "de HiX-rapportage (elektronisch patiëntendossier)");
- `tokens`: a text naming a term, or one of the phrases of its meaning, gets the term as a
  lexical signal token (ranking's rare-token candidates and lexical overlap);
- `found`: a named term is content-bearing for the specificity gate ("bezig met HiX").

A term matches whole words or phrases only — case-insensitive, diacritics folded
("patiënt" = "patient"), whitespace inside a phrase free — never inside another word: "MT"
in "het MT" and "MT-overleg", not in "MTB" or "HMT". (No built-in glossary: a Dutch/English
one measured worse on the tuning half, bench/glossary_expand.py.)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_EXPANSIONS = 5  # meanings appended to one text at most (a long narration stays itself)
_PHRASE_SPLIT = re.compile(r"[,;:/()\[\]]+")


def fold(text: str) -> str:
    """Lower-case, without diacritics, whitespace collapsed: the form terms are compared in."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def term_key(term: str) -> str:
    """What makes two terms the same term ("HiX", "hix", "HIX")."""
    return fold(term)


def _pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One regular expression finding any of the (folded) phrases as whole words; longer
    phrases first, so "het mt" wins over "mt"."""
    unique = sorted({p for p in phrases if p}, key=lambda p: (-len(p), p))
    if not unique:
        return None
    alternatives = "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in unique)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def _meaning_phrases(meaning: str) -> list[str]:
    """The parts of a meaning that stand for the term in a text: split at punctuation,
    each of at least 4 letters ("elektronisch patiëntendossier", "EPD" is too short)."""
    parts = (fold(p) for p in _PHRASE_SPLIT.split(meaning))
    return [p for p in parts if sum(c.isalpha() for c in p) >= 4]


class Glossary:
    """A workspace's terms and meanings, compiled for matching. Immutable; equal when the
    entries are."""

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        by_key: dict[str, tuple[str, str]] = {}
        for term, meaning in entries:
            key = term_key(term)
            if key and meaning.strip():
                by_key.setdefault(key, (term.strip(), " ".join(meaning.split())))
        self.entries: tuple[tuple[str, str], ...] = tuple(by_key[k] for k in sorted(by_key))
        self._meaning = {k: m for k, (_t, m) in by_key.items()}
        self._terms = _pattern(by_key)
        phrases: dict[str, str] = {}
        for key, (_term, meaning) in by_key.items():
            for phrase in _meaning_phrases(meaning):
                phrases.setdefault(phrase, key)
        self._phrase_term = phrases
        self._phrases = _pattern(phrases)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Glossary) and other.entries == self.entries

    def __hash__(self) -> int:
        return hash(self.entries)

    def found(self, text: str) -> list[str]:
        """The terms (their keys) `text` names, in order of appearance, each once."""
        return self._found(fold(text)) if self._terms is not None else []

    def _found(self, folded: str) -> list[str]:
        assert self._terms is not None
        seen: dict[str, None] = {}
        for match in self._terms.finditer(folded):
            seen[" ".join(match.group(0).split())] = None
        return list(seen)

    def expand(self, text: str) -> str:
        """`text` with the meanings of the terms it names appended, for the encoder."""
        found = self.found(text)
        if not found:
            return text
        folded = fold(text)
        added = [self._meaning[k] for k in found if fold(self._meaning[k]) not in folded]
        return f"{text} ({'; '.join(added[:MAX_EXPANSIONS])})" if added else text

    def tokens(self, text: str) -> frozenset[str]:
        """The terms `text` names or describes (a phrase of their meaning), as signal tokens."""
        if self._terms is None:
            return frozenset()
        folded = fold(text)
        keys = set(self._found(folded))
        if self._phrases is not None:
            for match in self._phrases.finditer(folded):
                keys.add(self._phrase_term[" ".join(match.group(0).split())])
        return frozenset(keys)

    def touches(self, text: str) -> bool:
        """Whether these entries change how `text` is encoded or tokenised."""
        return bool(self.tokens(text))


EMPTY = Glossary()
