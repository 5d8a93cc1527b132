"""Recognising "I'm working on …" in English and Dutch, tolerant of case and punctuation."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LEAD = r"^[^\w@#]*"  # bullets, emoji, markdown stars, quotes before the phrase
_TAIL = r"(?:[\s:;,.…\-–—*_]+|$)"
_EN = re.compile(
    _LEAD + r"(?:(?:i\s*['’`´]?\s*m|i\s+am|im)\s+)?(?:(?:currently|now|still)\s+)?"
    r"working\s+on\b" + _TAIL,
    re.IGNORECASE,
)
_NL = re.compile(
    _LEAD + r"(?:ik\s+ben\s+(?:nu\s+|momenteel\s+|vandaag\s+|nog\s+)?bezig\s+met"
    r"|ik\s+werk\s+(?:nu\s+|momenteel\s+|vandaag\s+|nog\s+)?aan"
    r"|(?:nu\s+|momenteel\s+)?bezig\s+met)\b" + _TAIL,
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Phrase:
    language: str  # "en" | "nl"
    topic: str  # what follows the phrase (may be empty)


def match_phrase(text: str) -> Phrase | None:
    """The narration phrase at the start of `text`, or None when it does not start with one."""
    for lang, pattern in (("nl", _NL), ("en", _EN)):
        m = pattern.match(text)
        if m:
            return Phrase(lang, text[m.end() :].strip().rstrip("*_").strip())
    return None
