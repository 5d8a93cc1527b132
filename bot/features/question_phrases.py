"""The subject of a "who knows about …?" question, in the words people really type.

`/wol who <topic>` expects a topic ("Intune", "AVG-inzageverzoeken"), but people also type
the whole question: "who knows something about Intune?", "anyone who did a DPIA for
cameras?", "wie heeft ervaring met Woo-verzoeken?", "doorliggen voorkomen, wie weet daar
meer van?". The question's own words ("who knows about", "wie heeft ervaring met") say
nothing about the subject: encoded with it, they pull the question towards every narration
that is "working on" something, and the content-free gate takes a short subject wrapped in
them for vague. `question_topic` takes them off, at the start (in the notation of
narration_phrases.py) and as a trailing clause, with the question mark.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.features.narration_phrases import compile_phrase

_ABOUT_EN = "(about|on|with|of|in|for)"
_PEOPLE_EN = "(anyone|anybody|someone|somebody|a colleague|colleagues|people)"
_DID_EN = (
    "(knows|know|knew|has experience with|have experience with|had experience with|"
    "has done|have done|did|has worked on|have worked on|worked on|works on|is working on|"
    "are working on|is doing|has dealt with|dealt with|is into|can help with|"
    "can help me with|could help with|could help me with)"
)
_DEED_NL = (
    "(ervaring heeft met|ervaring hebben met|ervaring had met|verstand heeft van|"
    "bezig is met|bezig zijn met|bezig was met|werkt aan|werken aan|gewerkt heeft aan|"
    "heeft gewerkt aan|heeft gedaan|gedaan heeft|weet van|weet over|iets weet van|"
    "iets weet over|meer weet van|meer weet over|kan helpen met|me kan helpen met|"
    "mij kan helpen met|te maken heeft gehad met|heeft meegedaan aan)"
)
_IEMAND_NL = "(iemand|een collega|collega's|mensen)"
_ABOUT_NL = "(van|over|af van)"

QUESTION_PHRASES: tuple[str, ...] = (
    # English
    f"[so|and|hi|hey] who {_DID_EN}",
    f"[so|and|hi|hey] who {_DID_EN} {_ABOUT_EN}",
    f"[so|and|hi|hey] who (knows|know) (something|anything|a lot|more|most) {_ABOUT_EN}",
    f"[so|and|hi|hey] who (knows|know) {_ABOUT_EN}",
    "[so|and|hi|hey] who's (working|worked) on",
    "[so|and|hi|hey] who (is|are|was|were) (working|busy) (on|with)",
    f"[so|and|hi|hey] who (has|have|had) (experience|expertise|knowledge) {_ABOUT_EN}",
    f"[does|do|is there|are there|any] {_PEOPLE_EN} (know|knows) {_ABOUT_EN}",
    f"[does|do|is there|are there|any] {_PEOPLE_EN} (know|knows) (something|anything|more) "
    f"{_ABOUT_EN}",
    f"[is there|are there|any] {_PEOPLE_EN} (who|that) {_DID_EN}",
    f"[is there|are there|any] {_PEOPLE_EN} (who|that) {_DID_EN} {_ABOUT_EN}",
    f"[is|are|was|is there|are there|any] {_PEOPLE_EN} (working|busy|dealing) (on|with)",
    f"[is there|are there|any] {_PEOPLE_EN} with (experience|expertise|knowledge) {_ABOUT_EN}",
    f"[does|do|has|have] {_PEOPLE_EN} (have|has|had|got) (experience|expertise|knowledge) "
    f"{_ABOUT_EN}",
    f"[has|have] {_PEOPLE_EN} (done|worked on|dealt with)",
    f"(i'm|i am|we're|we are) looking for {_PEOPLE_EN} (who|that) {_DID_EN}",
    f"(i'm|i am|we're|we are) looking for {_PEOPLE_EN} (for|with experience in|with "
    "experience with|who knows about|to help with)",
    f"(experience|expertise|knowledge) {_ABOUT_EN}",
    # Dutch
    f"[en|hoi|hallo] wie (weet|weten|kent|kennen) [er] {_ABOUT_NL}",
    f"[en|hoi|hallo] wie (weet|weten|kent|kennen) [er] (iets|veel|meer|alles|het meeste) "
    f"{_ABOUT_NL}",
    "[en|hoi|hallo] wie heeft [er] [al|ooit|al eens] (ervaring|verstand|kennis) (met|van)",
    "[en|hoi|hallo] wie heeft [er] [al|ooit|al eens] (gewerkt aan|gewerkt met|te maken gehad "
    "met|meegedaan aan)",
    "[en|hoi|hallo] wie (is|zijn|was|waren) [er] [al|ook] bezig (met|geweest met)",
    "[en|hoi|hallo] wie (werkt|werken|werkte) [er] [al|ook] aan",
    "[en|hoi|hallo] wie (houdt|houden) zich bezig met",
    "[en|hoi|hallo] wie kan (me|mij|ons) helpen met",
    f"[is er|zijn er] {_IEMAND_NL} die {_DEED_NL}",
    f"[is er|zijn er] {_IEMAND_NL} (bezig met|met ervaring met|met verstand van|met kennis van)",
    f"(weet|kent) {_IEMAND_NL} [er] {_ABOUT_NL}",
    f"(weet|kent) {_IEMAND_NL} [er] (iets|meer) {_ABOUT_NL}",
    f"(heeft|hebben) {_IEMAND_NL} [al|ooit|al eens] (ervaring|verstand|kennis) (met|van)",
    f"(heeft|hebben) {_IEMAND_NL} [al|ooit|al eens] (gewerkt aan|gewerkt met|te maken gehad met)",
    f"(ik zoek|wij zoeken|we zoeken) {_IEMAND_NL} die {_DEED_NL}",
    f"(ik zoek|wij zoeken|we zoeken) {_IEMAND_NL} (met ervaring met|met verstand van|voor)",
    "(ervaring|verstand|kennis) (met|van)",
)

# A trailing question after the subject: "doorliggen voorkomen, wie weet daar meer van?",
# "the new CAO rules — anyone?", "Intune: who knows?".
_TRAILING = re.compile(
    r"\s*[,;:—–-]\s*(?:and\s+|en\s+)?(?:who|anyone|anybody|someone|somebody|wie|iemand)"
    r"\b[^,;:?]*\?+\s*$",
    re.IGNORECASE,
)
# A question no phrase knows, with its question mark: its first question word and auxiliary
# ("who has been through …?", "wie schrijft mee aan …?", "anyone tried …?").
_ASKING = re.compile(
    r"^[^\w@#]*(?:(?:so|and|hi|hey|en|hoi|hallo)[\s,]+)?(?:does\s+|has\s+|is\s+there\s+|is\s+er\s+)?"
    r"(?:(?:anyone|anybody|someone|somebody)\s+(?:who|that)|iemand\s+die|who|wie|anyone|"
    r"anybody|someone|somebody|iemand)\b"
    r"(?:\s*['’]s|\s+(?:has|have|had|is|are|was|were|did|does|do|can|could|will|heeft|hebben|"
    r"had|is|zijn|was|kan|kunnen|doet|deed|gaat))?\b[\s,]*",
    re.IGNORECASE,
)
_END = re.compile(r"[\s?!.…]+$")


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(compile_phrase(p) for p in QUESTION_PHRASES)


def _phrase_end(text: str) -> int:
    """Where the longest question phrase at the start of `text` ends (0: none)."""
    return max((m.end() for p in _patterns() if (m := p.match(text))), default=0)


def question_topic(text: str) -> str:
    """The subject of a question (the text itself when it is a bare topic): the question's
    own words off the start (the longest phrase that matches) and a trailing "…, who knows?"
    clause off the end, with the question marks. Empty when nothing else is left."""
    text = text.strip()
    asked = text.endswith("?")
    body = _END.sub("", text)
    longest = _phrase_end(body)
    if longest == 0 and asked and (asking := _ASKING.match(body)):
        longest = asking.end()
    topic = body[longest:]
    if longest == 0 and asked:
        trailing = _TRAILING.search(text)
        if trailing and trailing.start() > 0:
            topic = text[: trailing.start()]
    topic = _END.sub("", topic).strip(" ,;:—–-")
    return body if not topic and longest == 0 else topic


def command_topic(args: str, names: tuple[str, ...] = ("who", "wie")) -> str:
    """The subject of a command's `args`, where the command's own words (`names`: "who",
    "who knows", "wie", "wie weet") may be the start of the question: "/wol who knows
    something about Intune?", "/wol wie heeft ervaring met Woo?"."""
    body = _END.sub("", args.strip())
    best = 0
    for name in names:
        end = _phrase_end(f"{name} {body}") - len(name) - 1
        best = max(best, end)
    if best > 0:
        return _END.sub("", body[best:]).strip(" ,;:—–-")
    return question_topic(args)
