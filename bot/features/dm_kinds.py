"""What a direct message to the bot is: a narration, a question, thanks, small talk or a
greeting. Only narrations are kept; the rest gets a short, fitting answer or none.

Checked in this order: a narration phrase ("I'm working on …") makes it a narration; then
thanks ("thanks!", "dank je wel"), acknowledgements and emoji ("ok", "👍", "top"),
greetings ("hoi", "good morning"), replies that name nothing ("Working on it!", "ik ben
ermee bezig": no answer) and a bare "Ik ben bezig" (the hint: no topic, never stored),
questions (a question mark, or a question word first: "Can you tell me who works on the
intranet", "Weet iemand hoe …"). What is left is a
narration when it has at least `narrations.dm_min_words` words and says more than where or
when someone works ("Ik werk morgen thuis"), else a short note that gets the how-to hint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from bot.features.narration_phrases import GREETING_TO, GREETING_WORDS, Topicless, topicless


class DmKind(Enum):
    NARRATION = "narration"
    QUESTION = "question"
    THANKS = "thanks"
    SMALL_TALK = "small_talk"  # ok, 👍, cool: no answer
    GREETING = "greeting"
    SHORT = "short"  # a few words that say nothing yet: the how-to hint


@dataclass(frozen=True, slots=True)
class DmMessage:
    kind: DmKind
    who_topic: str | None = None  # "who works on X?": X


_WORDS = r"[\s,.!?…:;)(*_~\"'“”‘’-]*"
_THANKS = re.compile(
    r"^[\W_]*(?:(?:oh|ah|ok|oké|okay|super|top|great|cool|nice|fijn|mooi|perfect|prima)"
    + _WORDS
    + r")?(?:many |thanks? a lot|thanks?(?: you| u)?(?: so much| very much)?|thank you|thx|"
    r"ty|tnx|cheers|merci|bedankt|dank(?:je| je| u| jullie)?(?: ?wel)?|dankjewel|dankuwel|"
    r"hartelijk dank|veel dank)(?: (?:for|voor) (?:the|your|je|de|het|jullie) \w+)?"
    + _WORDS
    + r"(?:\W*)$",
    re.IGNORECASE,
)
_ACK = re.compile(
    r"^[\W_]*(?:ok(?:ay|é|e)?|k|kk|yes|yep|yeah|no|nope|ja|jep|nee|top|cool|nice|great|super|prima|"
    r"mooi|goed|fijn|prachtig|perfect|got it|understood|begrepen|duidelijk|lol|haha+|hmm+|"
    r"sure|zeker|klopt|alright|all right|np|no problem|geen probleem|is goed|oké dan|ok then)"
    + r"[\W_]*$",
    re.IGNORECASE,
)
_GREETING = re.compile(
    rf"^(?:{GREETING_WORDS})(?:\s+(?:{GREETING_TO}))?" + _WORDS + r"$", re.IGNORECASE
)
_QUESTION_START = re.compile(
    r"^(?:who|whom|whose|what|where|when|why|how|which|can|could|would|will|do|does|did|is|"
    r"are|am|should|may|anyone|anybody|wie|wat|waar|wanneer|waarom|hoe|welke|welk|kun|kunt|"
    r"kan|kunnen|zou|zouden|weet|weten|heb|hebben|heeft|is|zijn|ben|mag|moet|iemand|ken|kent"
    r")\b",
    re.IGNORECASE,
)
# Where or when someone works, not what on: "Ik werk morgen thuis", "I work from home today".
_WHERE_WHEN = re.compile(
    r"^(?:ik|i|we|wij)\s+(?:werk|werken|work|am working|'m working|’m working|ben|am)\s+"
    r"(?:\w+\s+){0,2}?(?:thuis|vanuit huis|op kantoor|remote|from home|at home|"
    r"in the office|at the office|vrij|off|parttime|part-time)\b(?:\s+\w+){0,3}[\s.!]*$",
    re.IGNORECASE,
)
_EMOJI_ONLY = re.compile(r"^[\W_]*$")  # emoji, punctuation, nothing to read
_WHO = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bwho(?:'s|’s| is| are| else)?\s+(?:\w+\s+)?"
        r"(?:works?|working|worked)\s+(?:on|with)\s+(.+)",
        r"\bwho\s+(?:knows|might know|would know)\s+(?:\w+\s+)?(?:about|of|on)\s+(.+)",
        r"\bwho\s+(?:can|could)\s+help(?:\s+me)?\s+with\s+(.+)",
        r"\b(?:anyone|anybody|someone)\s+(?:\w+\s+)?(?:working|works|worked)\s+on\s+(.+)",
        r"\b(?:anyone|anybody|someone)\s+(?:who\s+)?knows?\s+(?:\w+\s+)?(?:about|of)\s+(.+)",
        r"\bwie\s+(?:werkt|werken|is|zijn|was)\s+(?:er\s+)?(?:\w+\s+)?(?:aan|bezig met|met)\s+(.+)",
        r"\bwie\s+(?:weet|kent|heeft)\s+(?:er\s+)?(?:\w+\s+)?(?:van|over|verstand van)\s+(.+)",
        r"\bwie\s+kan\s+(?:me|mij|ons)\s+helpen\s+(?:met|bij)\s+(.+)",
        r"\biemand\s+(?:die\s+)?(?:\w+\s+)?(?:bezig (?:is )?met|werkt aan|werkte aan)\s+(.+)",
        r"\b(?:weet|kent)\s+iemand\s+(?:\w+\s+)?(?:van|over|iets van|iets over|meer over)\s+(.+)",
    )
]


def classify(text: str, *, min_words: int, narration_phrase: bool) -> DmMessage:
    stripped = text.strip()
    if narration_phrase:
        return DmMessage(DmKind.NARRATION)
    if not stripped or _EMOJI_ONLY.match(stripped) or _ACK.match(stripped):
        return DmMessage(DmKind.SMALL_TALK)
    if _THANKS.match(stripped):
        return DmMessage(DmKind.THANKS)
    if _GREETING.match(stripped):
        return DmMessage(DmKind.GREETING)
    empty = topicless(stripped)  # "Working on it!" is a reply; "Ik ben bezig" says too little
    if empty is not None:
        return DmMessage(DmKind.SMALL_TALK if empty is Topicless.REPLY else DmKind.SHORT)
    if stripped.rstrip("*_ ").endswith("?") or _QUESTION_START.match(stripped):
        return DmMessage(DmKind.QUESTION, who_topic(stripped))
    if len(stripped.split()) < min_words or _WHERE_WHEN.match(stripped):
        return DmMessage(DmKind.SHORT)
    return DmMessage(DmKind.NARRATION)


def who_topic(text: str) -> str | None:
    """X of "who works on X?", "Wie weet er iets van X?" (None when it asks something else)."""
    for pattern in _WHO:
        m = pattern.search(text)
        if m:
            topic = re.split(r"[?!\n]", m.group(1), maxsplit=1)[0].strip(" .,;:")
            return topic or None
    return None
