"""A small Dutch/English guess from function words: enough to answer in the language
someone wrote in, and to label a narration, without a model or the network."""

from __future__ import annotations

import re

_WORDS = re.compile(r"[a-zà-ÿ']+")
_NL_WORDS = """
de het een en van ik je jij we wij ze zij is zijn ben bent was waren met voor aan op om niet
ook nog maar dat die dit deze wat wie hoe waar naar bij uit over onze ons mijn heb hebt heeft
hebben wordt worden kan kunnen moet moeten wil willen zou gaan ga gaat bezig werk werken nieuwe
nieuw al er hier daar graag goed welke toch even samen tussen zonder tijdens door omdat want dus
mee te hoi hallo goedemorgen goedemiddag dank bedankt doei ja nee jullie
"""
_EN_WORDS = """
the a an and of i you we they he she it is are am was were with for to on at in not also still
but that this these those what who how where from by about our us my have has had will would
can could should must want going go goes working work new already there here please good which
together between without during because so into onto their them hi hello thanks thank morning
yes no bye
"""
_NL = frozenset(_NL_WORDS.split())
_EN = frozenset(_EN_WORDS.split())


def guess_language(text: str, default: str = "en") -> str:
    words = _WORDS.findall(text.lower())
    nl = sum(1 for w in words if w in _NL)
    en = sum(1 for w in words if w in _EN)
    if nl == en:
        return default
    return "nl" if nl > en else "en"


def detect_language(text: str, *, min_words: int = 2) -> str | None:
    """The language `text` is written in, or None when its words don't tell ("ok", "👍",
    a name, or as many Dutch as English function words)."""
    words = _WORDS.findall(text.lower())
    nl = sum(1 for w in words if w in _NL)
    en = sum(1 for w in words if w in _EN)
    if max(nl, en) < min_words or nl == en:
        return None
    return "nl" if nl > en else "en"
