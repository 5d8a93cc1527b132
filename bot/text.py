"""Cleaning what people type before the bot stores or repeats it."""

from __future__ import annotations

import re
import unicodedata

from bot.errors import UserError
from bot.i18n import N_

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029\ufeff]")
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")

TOO_LONG = N_(
    "That is {length} characters; I can keep at most {limit}. Could you shorten it "
    "(a summary is fine) and send it again?"
)


def clean(text: str) -> str:
    """Normalise Unicode (NFC), drop control and invisible characters, tidy white space."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def check_length(text: str, limit: int) -> str:
    if len(text) > limit:
        raise UserError(TOO_LONG, length=len(text), limit=limit)
    return text


def shorten(text: str, limit: int = 120) -> str:
    """One line, at most `limit` characters, cut at a word where possible."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:") + "…"
