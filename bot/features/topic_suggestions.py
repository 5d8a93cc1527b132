"""A short "ask me about" topic from a narration: its subject, not the whole sentence.

"I'm working on the onboarding checklist for new nurses, because the old one is outdated"
suggests "onboarding checklist for new nurses"; a profile topic is a few words that a
colleague's question can match, and the narration itself stays where it was written.
"""

from __future__ import annotations

import re

from bot.features.narration_phrases import match_phrase

MAX_WORDS = 6
MAX_CHARS = 60
_CLAUSE = re.compile(
    r"[.!?;:\n()]|\s[-–—]\s|,|\s(?:because|so that|so we|which|that will|in order to|and then"
    r"|but|while|since|omdat|zodat|want|maar|terwijl|waardoor|zodra|en dan|om te)\s",
    re.IGNORECASE,
)
_ARTICLE = re.compile(
    r"^(?:the|a|an|our|my|some|de|het|een|onze|ons|mijn|wat|nog)\s+", re.IGNORECASE
)
_PREPOSITION = {
    "for",
    "with",
    "at",
    "in",
    "of",
    "to",
    "on",
    "from",
    "by",
    "voor",
    "met",
    "bij",
    "van",
    "naar",
    "op",
    "aan",
    "uit",
    "door",
    "over",
}


def short_topic(narration_text: str) -> str:
    """A few words naming what a narration is about ("" when nothing usable is left)."""
    phrase = match_phrase(narration_text)
    text = phrase.topic if phrase else narration_text
    text = _CLAUSE.split(text, maxsplit=1)[0]
    text = " ".join(text.split()).strip(" \"'“”‘’*_-")
    while (shorter := _ARTICLE.sub("", text)) != text:
        text = shorter
    words = text.split()
    if len(words) > MAX_WORDS:
        cut = max(
            (i for i in range(2, MAX_WORDS + 1) if words[i].lower() in _PREPOSITION), default=0
        )
        if cut:
            words = words[:cut]
        else:  # a long clause: the few words before its first preposition name the thing
            end = next(
                (i for i in range(MAX_WORDS, len(words)) if words[i].lower() in _PREPOSITION),
                len(words),
            )
            words = words[max(0, end - 4) : end]
    while len(words) > 1 and (words[-1].lower() in _PREPOSITION or _ARTICLE.match(words[-1] + " ")):
        words.pop()
    topic = _ARTICLE.sub("", " ".join(words)) or " ".join(words)
    while len(topic) > MAX_CHARS and " " in topic:
        topic = topic.rsplit(" ", 1)[0]
    return topic[:MAX_CHARS]
