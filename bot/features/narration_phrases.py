"""Recognising "I'm working on …" in English and Dutch, in the word orders people really use.

The phrases are data, written in a small notation so they read like the sentences they
match (docs/narration-phrases.md lists them; app.yaml can add more per workspace):

- words are matched case-insensitively, with any spacing and commas between them;
- an apostrophe is optional and may be any apostrophe (`i'm` matches I'm, I’m, Im);
- `(a|b c)` is a choice, `[a|b c]` an optional choice.

A phrase must start the message (after bullets, emoji or markdown). A message that is one
question ("Working on anything fun?") is never a narration, and neither is a question such
as "Who is working on the intranet?" or "Is er iemand bezig met…?" (they start differently).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

_WHEN_EN = "[today|this week|this month|currently|right now|at the moment|these days|for now|now]"
_NOW_EN = "[currently|now|still|also|mostly|mainly|right now|today|this week]"
_WHEN_NL = ("[vandaag|deze week|deze maand|momenteel|nu|op dit moment|tegenwoordig|vanochtend"
            "|vanmorgen|vanmiddag]")
_NOW_NL = "[nu|momenteel|vandaag|deze week|nog|ook|vooral|op dit moment]"

BUILT_IN: dict[str, tuple[str, ...]] = {
    "en": (
        f"{_WHEN_EN} (i'm|i am) {_NOW_EN} working on",
        f"{_WHEN_EN} (we're|we are|our team is|my team is) {_NOW_EN} working on",
        f"{_WHEN_EN} {_NOW_EN} working on",
        f"{_WHEN_EN} (i'm|i am|we're|we are) {_NOW_EN} busy with",
    ),
    "nl": (
        f"(ik|wij|we) (ben|zijn) {_NOW_NL} bezig met",
        f"(ik|wij|we) (werk|werken) {_NOW_NL} aan",
        f"(ik|wij|we) (hou|houd|houden) (me|mij|ons) {_NOW_NL} bezig met",
        f"(ons team|mijn team) is {_NOW_NL} bezig met",
        f"(ons team|mijn team) werkt {_NOW_NL} aan",
        f"{_WHEN_NL} (ben ik|zijn we|zijn wij) {_NOW_NL} bezig met",
        f"{_WHEN_NL} (werk ik|werken we|werken wij) {_NOW_NL} aan",
        f"{_WHEN_NL} (hou ik me|houd ik me|houden we ons) {_NOW_NL} bezig met",
        f"{_WHEN_NL} bezig met",
    ),
}

_LEAD = r"^[^\w@#]*"  # bullets, emoji, markdown stars, quotes before the phrase
_TAIL = r"\b(?:[\s:;,.…\-–—*_]+|$)"
_SEP = r"[\s,]+"
_APOSTROPHE = r"\s*['’`´]?\s*"
_TOKEN = re.compile(r"\[[^\]]*\]|\([^)]*\)|[^\s\[\]()]+")
_WORD = re.compile(r"^[\w'’-]+$")


class PhraseError(ValueError):
    """A phrase in the notation above that cannot be used (for configuration errors)."""


@dataclass(frozen=True, slots=True)
class Phrase:
    language: str  # "en" | "nl"
    topic: str  # what follows the phrase (may be empty)


def _words(alternative: str) -> str:
    words = alternative.split()
    if not words or not all(_WORD.match(w) for w in words):
        raise PhraseError(f"{alternative!r}: only words, (a|b) and [a|b] are allowed")
    return _SEP.join(
        _APOSTROPHE.join(re.escape(piece) for piece in re.split(r"['’]", w)) for w in words)


def compile_phrase(phrase: str) -> re.Pattern[str]:
    """The pattern of one phrase; PhraseError when it is not in the notation."""
    tokens = _TOKEN.findall(phrase.strip().lower())
    if "".join(tokens).replace(" ", "") != re.sub(r"\s+", "", phrase.strip().lower()):
        raise PhraseError(f"{phrase!r}: unbalanced brackets")
    if not tokens or tokens[-1].startswith("["):
        raise PhraseError(f"{phrase!r}: a phrase must end with a word that is always there")
    parts: list[str] = []
    for token in tokens:
        if token[0] in "[(":
            choices = token[1:-1].split("|")
            body = "(?:" + "|".join(_words(c) for c in choices) + ")"
            parts.append(f"(?:{body}{_SEP})?" if token[0] == "[" else body + _SEP)
        else:
            parts.append(_words(token) + _SEP)
    body = "".join(parts)[: -len(_SEP)]
    return re.compile(_LEAD + body + _TAIL, re.IGNORECASE)


@lru_cache(maxsize=64)
def _patterns(extra: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[
        tuple[str, re.Pattern[str]], ...]:
    found: list[tuple[str, re.Pattern[str]]] = []
    for lang, phrases in (*BUILT_IN.items(), *extra):
        found.extend((lang, compile_phrase(p)) for p in phrases)
    return tuple(found)


def extra_key(extra: Mapping[str, Iterable[str]] | None) -> tuple[tuple[str, tuple[str, ...]],
                                                                   ...]:
    return tuple(sorted((lang, tuple(ps)) for lang, ps in (extra or {}).items()))


def _is_question(text: str) -> bool:
    """One sentence that ends with a question mark: asked, not narrated."""
    stripped = text.strip().rstrip("*_ ").strip()
    return stripped.endswith("?") and not re.search(r"[.!?;:\n]", stripped[:-1].rstrip("?"))


def match_phrase(text: str, extra: Mapping[str, Iterable[str]] | None = None) -> Phrase | None:
    """The narration phrase at the start of `text` (built-in, plus a workspace's `extra`
    phrases per language), or None when it does not start with one or is a question."""
    best: tuple[int, str] | None = None
    for lang, pattern in _patterns(extra_key(extra)):
        m = pattern.match(text)
        if m and (best is None or m.end() > best[0]):
            best = (m.end(), lang)
    if best is None or _is_question(text):
        return None
    return Phrase(best[1], text[best[0]:].strip().rstrip("*_").strip())
