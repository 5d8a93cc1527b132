"""The typed replies under a narration that mean "I've done this" or "ask this person",
in English and Dutch, in the many ways people write them.

"done": the replier did the same or similar work ("Dat heb ik ook al eens gedaan", "hebben
wij vorig jaar gedaan", "I did this last year", "I've done something similar").
"someone": the replier points at somebody ("I know someone who can help", "Ik weet wie je
kan helpen: @x", "ask @x", "@x knows about this", "vraag het aan @x"). People are taken
only from the platform's real mentions; a phrase that needs a person ("ask …") counts only
with one, so ordinary sentences with "ask" in them stay ordinary.
"""

from __future__ import annotations

import re

from bot.events import EventKind, InboundEvent, PersonRef
from bot.features.references import mention_pieces

_THIS = (
    r"(?:this|that|the\s+same(?:\s+thing)?|something\s+(?:similar|like\s+(?:this|that))|"
    r"(?:something\s+)?very\s+similar|similar\s+work)"
)
_WE = r"(?:i|we)"
_DONE_EN = (
    # I've done this / we have already done that / I've done something similar
    rf"\b{_WE}(?:'|’)?(?:ve|\s+have)\s+(?:already\s+|also\s+)?(?:done|built|solved|made|had)\s+"
    rf"(?:{_THIS}|it\b)",
    # I did this last year / we did that before / I did something similar
    rf"\b{_WE}\s+(?:already\s+|also\s+)?(?:did|built|solved)\s+{_THIS}",
    r"\bbeen\s+there,?\s+done\s+that\b",
    r"\bdone\s+(?:this|that|it)\s+before\b",
)
_DONE_NL = (
    # (dat/dit) heb ik (ook) (al) (eens) gedaan; hebben wij/we vorig jaar gedaan
    r"\b(?:heb\s+ik|hebben\s+(?:wij|we)|hadden\s+(?:wij|we)|had\s+ik)\s+"
    r"(?:(?:ook|al|eens|ooit|zelf|vorig\s+jaar|vorige\s+maand|vorige\s+week|toen|een\s+keer|"
    r"onlangs|laatst|net|iets\s+(?:vergelijkbaars|soortgelijks)|hetzelfde|zoiets|"
    r"precies\s+hetzelfde)\s+){0,4}(?:gedaan|gemaakt|gebouwd|opgelost|meegemaakt)\b",
    # ik heb/wij hebben dit (ook al) gedaan
    r"\b(?:ik\s+heb|wij\s+hebben|we\s+hebben)\s+(?:dit|dat|het|iets\s+vergelijkbaars|"
    r"iets\s+soortgelijks|zoiets|hetzelfde)\s+(?:(?:ook|al|eens|ooit|vorig\s+jaar|"
    r"een\s+keer)\s+){0,3}(?:gedaan|gemaakt|gebouwd|opgelost)\b",
    # ik deed dit vorig jaar
    r"\b(?:ik|wij|we)\s+(?:deed|deden)\s+(?:dit|dat|het|iets\s+vergelijkbaars|zoiets)\b",
)
_SOMEONE = (
    r"\bi\s+know\s+(?:someone|somebody|a\s+person|a\s+colleague|who)\b[^.?!\n]{0,40}?"
    r"\b(?:can|could|might|may)\s+help",
    r"\bik\s+(?:ken|weet)\s+(?:iemand|een\s+collega|wie)\b[^.?!\n]{0,40}?"
    r"\b(?:kan|kunt|zou\s+kunnen|kan\s+je|kan\s+jou)\b[^.?!\n]{0,20}?\bhelpen\b",
)
# With a real mention (written here as @@): "ask @x", "vraag het aan @x", "@x knows".
_POINTER_BEFORE = (
    r"\b(?:ask|asking|try|ping|contact|talk\s+to|speak\s+to|check\s+with|reach\s+out\s+to|"
    r"get\s+in\s+touch\s+with)\s+@@",
    r"\b(?:vraag|vraagt|probeer|bel|mail|benader)\s+(?:het\s+|dit\s+|dat\s+)?(?:eens\s+|even\s+|"
    r"maar\s+)*(?:aan\s+|bij\s+)?@@",
    r"\b(?:praat|spreek|overleg|check)\s+(?:eens\s+|even\s+|maar\s+)*(?:met|bij)\s+@@",
    r"\bneem\s+(?:eens\s+|even\s+|maar\s+)*contact\s+op\s+met\s+@@",
)
_POINTER_AFTER = (
    r"@@(?:\s+(?:and|or|en|of)\s+@@)*\s+(?:knows|know|has\s+done|did|can\s+help|could\s+help|"
    r"worked\s+on|is\s+(?:the|an|our)\s+expert|weet|weten|heeft|hebben|kan\s+(?:je|jou|u)\s+"
    r"helpen|kent|werkte|is\s+(?:de|onze)\s+expert)\b",
)


def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


DONE = _compiled(_DONE_EN + _DONE_NL)
SOMEONE = _compiled(_SOMEONE)
POINTER = _compiled(_POINTER_BEFORE + _POINTER_AFTER)


def _with_placeholders(event: InboundEvent) -> tuple[str, list[PersonRef]]:
    """The text with each real mention written as "@@", and the people mentioned."""
    people: list[PersonRef] = []
    out: list[str] = []
    for piece in mention_pieces(event.text, event):
        if isinstance(piece, PersonRef):
            people.append(piece)
            out.append("@@")
        else:
            out.append(piece)
    return "".join(out), people


def typed_reply(event: InboundEvent) -> str | None:
    """A thread reply saying "I've done this" ("done") or pointing at someone ("someone")."""
    if event.kind is not EventKind.MESSAGE or not event.conversation.thread_id:
        return None
    text = " ".join(event.text.replace("’", "'").split())
    if SOMEONE.search(text):
        return "someone"
    marked, people = _with_placeholders(event)
    if people and POINTER.search(" ".join(marked.replace("’", "'").split())):
        return "someone"
    if DONE.search(text):
        return "done"
    return None
