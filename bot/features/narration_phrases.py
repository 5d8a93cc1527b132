"""Recognising "I'm working on …" in English and Dutch, in the word orders people really use.

The phrases are data, written in a small notation so they read like the sentences they
match (docs/narration-phrases.md lists them; app.yaml can add more per workspace):

- words are matched case-insensitively, with any spacing and commas between them;
- an apostrophe is optional and may be any apostrophe (`i'm` matches I'm, I’m, Im);
- `(a|b c)` is a choice, `[a|b c]` an optional choice.

A phrase must start the message (after bullets, emoji or markdown, and after a short
greeting such as "Good morning!" or "Hoi allemaal,"). A phrase whose own sentence is a
question ("Working on anything fun?") is no narration, but one that ends with a question
after its topic is ("I'm working on the intranet redesign, who else is?"); a question such as
"Who is working on the intranet?" or "Is er iemand bezig met…?" starts differently.

A narration needs a topic: a reply that names nothing ("Working on it!", "We're on it",
"Ik ben bezig met je vraag, komt goed", "Ik ben ermee bezig") or a bare "Ik ben bezig" is
none (`topicless` tells which of the two it is).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import TypeVar

Lang = TypeVar("Lang", bound=str)  # a language code: app.yaml's Literal or any str

_WHEN_EN = "[today|this week|this month|currently|right now|at the moment|these days|for now|now]"
_NOW_EN = "[currently|now|still|also|mostly|mainly|right now|today|this week]"
_WHEN_NL = (
    "[vandaag|deze week|deze maand|momenteel|nu|op dit moment|tegenwoordig|vanochtend"
    "|vanmorgen|vanmiddag]"
)
_NOW_NL = "[nu|momenteel|vandaag|deze week|nog|ook|vooral|op dit moment]"

BUILT_IN: dict[str, tuple[str, ...]] = {
    "en": (
        f"{_WHEN_EN} (i'm|i am) {_NOW_EN} working on",
        f"{_WHEN_EN} (we're|we are|our team is|my team is) {_NOW_EN} working on",
        f"{_WHEN_EN} {_NOW_EN} working on",
        f"{_WHEN_EN} (i'm|i am|we're|we are) {_NOW_EN} busy with",
        f"{_WHEN_EN} (i'm|i am|we're|we are) {_NOW_EN} (focusing|focussing) on",
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
        f"(ik|wij|we) (ga|gaan) {_NOW_NL} aan de slag met",
        f"{_WHEN_NL} (ga ik|gaan we|gaan wij) {_NOW_NL} aan de slag met",
    ),
}

_LEAD = r"^[^\w@#]*"  # bullets, emoji, markdown stars, quotes before the phrase
# Greeting words (also what a direct message that only greets consists of, dm_kinds.py).
GREETING_WORDS = (
    r"hi|hey|hello|hallo|hoi|hai|heey|yo|goedemorgen|goedemiddag|goedenavond|"
    r"good (?:morning|afternoon|evening)|morning|morgen|dag|hi there|hoi daar"
)
GREETING_TO = r"wolbot|bot|there|allemaal|all|everyone|everybody|team|folks|iedereen|collega's"
# A short greeting sentence before the phrase: "Good morning! ", "Hoi allemaal, ", "Hi team:".
_GREETING = re.compile(
    _LEAD + rf"(?:{GREETING_WORDS})(?:\s+(?:{GREETING_TO}))?\s*(?:[!,.:;…]+\s*|\n\s*)",
    re.IGNORECASE,
)
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
        _APOSTROPHE.join(re.escape(piece) for piece in re.split(r"['’]", w)) for w in words
    )


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
def _patterns(
    extra: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[tuple[str, re.Pattern[str]], ...]:
    found: list[tuple[str, re.Pattern[str]]] = []
    for lang, phrases in (*BUILT_IN.items(), *extra):
        found.extend((lang, compile_phrase(p)) for p in phrases)
    return tuple(found)


def extra_key(
    extra: Mapping[Lang, Iterable[str]] | None,
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted((lang, tuple(ps)) for lang, ps in (extra or {}).items()))


# Where the sentence or clause of the phrase ends ("Working on it, will let you know").
_CLAUSE_END = re.compile(r"[,;:…\n]|[.!?](?=\s|$)|\s[-–—]\s")


def _is_question(topic: str) -> bool:
    """The phrase's own clause ends with a question mark: asked, not narrated."""
    end = _CLAUSE_END.search(topic.strip().rstrip("*_ ") + " ")
    return end is not None and end.group().startswith("?")


_OK = re.compile(
    _LEAD + r"(?:ok|okay|oké|sure|yes|yep|ja|jep|prima|top|goed)\b[\s,!.:;…]*", re.IGNORECASE
)  # "Ok, working on it"


class Topicless(Enum):
    REPLY = "reply"  # "Working on it!", "We're on it", "Ik ben bezig met je vraag"
    BARE = "bare"  # "Ik ben bezig", "I'm working on": the phrase and nothing else


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


# The only words of a busy-statement that names nothing; one of _BUSY must be there, and
# one of _NAMES_NOTHING makes it a reply to someone ("on it", "je vraag", "ermee").
_BUSY = _vocabulary(
    "working work busy on bezig werk werken aan eraan ermee daarmee daaraan "
    "hiermee hieraan focusing"
)
_NAMES_NOTHING = _vocabulary(
    "it that this them those these question request message ticket "
    "vraag verzoek bericht het dat dit die eraan ermee daarmee daaraan "
    "hiermee hieraan mee"
)
_FILLER = _vocabulary(
    "i m am im we re are were ll will be our my team is ik wij ben zijn hou "
    "houd houden me mij ons er with met the your you de je jouw uw now right "
    "still already currently just also today nu nog al ook even momenteel "
    "vandaag meteen zo druk hard"
)


def topicless(text: str) -> Topicless | None:
    """Whether `text` is a busy-statement without a topic: a reply (its first clause holds
    nothing but "I'm working on it"-words), a bare phrase (all of it holds nothing but
    "I'm working"-words), or None (it may name something)."""
    text = _OK.sub("", _GREETING.sub("", text, count=1), count=1)
    parts = _CLAUSE_END.split(text, maxsplit=1)
    rest = text[len(parts[0]) :].lstrip()
    if text.rstrip("*_ ").endswith("?") or (rest.startswith(":") and rest[1:].strip()):
        return None  # a question, or "Working on this: the SEO audit"
    first = set(re.findall(r"[^\W\d_]+", parts[0].lower()))
    if first & _BUSY and first & _NAMES_NOTHING and first <= _BUSY | _NAMES_NOTHING | _FILLER:
        return Topicless.REPLY  # what follows it is chat: "…, will let you know"
    every = set(re.findall(r"[^\W\d_]+", text.lower()))
    if every & _BUSY and every <= _BUSY | _FILLER:
        return Topicless.BARE
    return None


def match_phrase(text: str, extra: Mapping[Lang, Iterable[str]] | None = None) -> Phrase | None:
    """The narration phrase at the start of `text`, after a short greeting (built-in, plus a
    workspace's `extra` phrases per language), or None when it does not start with one, its
    clause is a question or it is a reply that names nothing. A bare phrase ("I'm working
    on") has the topic "" (the caller asks what about)."""
    greeting = _GREETING.match(text)
    start = greeting.end() if greeting else 0
    best: tuple[int, str] | None = None
    for lang, pattern in _patterns(extra_key(extra)):
        m = pattern.match(text[start:])
        if m and (best is None or start + m.end() > best[0]):
            best = (start + m.end(), lang)
    if best is None:
        return None
    topic = text[best[0] :].strip().rstrip("*_").strip()
    if _is_question(topic):
        return None
    empty = topicless(text)
    if empty is Topicless.REPLY:  # "Working on it!": chat, not a narration
        return None
    return Phrase(best[1], "" if empty is Topicless.BARE else topic)
