"""The `/wol` command's subcommands, registered by features, in English and Dutch.

A subcommand has names per language (several words allowed: "working on",
"bezig met"); the longest name that prefixes the arguments wins, and which
language's name was used tells the bot which language to answer in. The registry is
wiring, like the router that holds it (`Router.commands`); what the bot answers about
commands (unknown ones, help) is in bot/features/commands.py and help.py.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.events import InboundEvent

if TYPE_CHECKING:
    from bot.context import Context

COMMAND = "wol"
# Words after a subcommand whose name both languages share, that tell which language the
# person uses (every handler accepts both: see privacy.py, admin.py).
KEYWORD_LANGUAGE = {
    **dict.fromkeys(
        (
            "vergeet",
            "verwijder",
            "exporteer",
            "toon",
            "zet",
            "herstel",
            "geschiedenis",
            "gemeenschap",  # the old Dutch alias of "community" (a word both languages use)
            "vastleggen",
            "rollen",
            "rol",
            "hulp",
            "toevoegen",
            "lijst",
            "bewerk",
            "woordenlijst",
        ),
        "nl",
    ),
    **dict.fromkeys(
        (
            "forget",
            "delete",
            "erase",
            "download",
            "show",
            "set",
            "reset",
            "history",
            "capture",
            "roles",
            "role",
            "help",
            "add",
            "list",
            "edit",
            "glossary",
        ),
        "en",
    ),
}
SubHandler = Callable[[InboundEvent, "Context", str], Awaitable[None]]


@dataclass(frozen=True)
class Subcommand:
    names: dict[str, tuple[str, ...]]  # language -> names, e.g. {"en": ("help",), "nl": ("hulp",)}
    handler: SubHandler
    summary: str  # msgid: one line for the help list
    usage: str = ""  # msgid: arguments, e.g. "<what you are working on>"
    order: int = 100  # position in the help list
    admin_only: bool = False
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class Invocation:
    sub: Subcommand | None
    name: str  # the name used, or the first word typed when unknown
    args: str
    language: str | None  # the language of the name used, when it tells


@dataclass
class Commands:
    subcommands: list[Subcommand] = field(default_factory=list)
    default: Subcommand | None = None  # what `/wol` alone does

    def register(self, sub: Subcommand, *, default: bool = False) -> None:
        taken = {n for s in self.subcommands for names in s.names.values() for n in names}
        clash = taken.intersection(n for names in sub.names.values() for n in names)
        if clash:
            raise ValueError(f"subcommand name(s) already registered: {sorted(clash)}")
        self.subcommands.append(sub)
        self.subcommands.sort(key=lambda s: s.order)
        if default:
            self.default = sub

    def parse(self, text: str) -> Invocation:
        words = text.split()
        if not words:
            return Invocation(self.default, "", "", None)
        lowered = [w.lower() for w in words]
        best: tuple[int, Subcommand, str, str] | None = None
        for sub in self.subcommands:
            for lang, names in sub.names.items():
                for name in names:
                    size = len(name.split())
                    if lowered[:size] == name.split() and (best is None or size > best[0]):
                        best = (size, sub, name, lang)
        if best is None:
            return Invocation(None, words[0], " ".join(words[1:]), None)
        size, sub, name, used = best
        rest = _after_words(text, size)
        told: str | None = used
        shared = all(name in names for names in sub.names.values())
        if shared:  # "privacy", "config", "dashboard": the next word may tell ("vergeet")
            following = rest.split()[:1]
            told = KEYWORD_LANGUAGE.get(following[0].lower()) if following else None
        return Invocation(sub, name, rest.strip(), told)

    def suggest(self, word: str, lang: str) -> str | None:
        """The subcommand closest to `word` (in either language), named in `lang`."""
        owner = {
            n: s
            for s in self.subcommands
            if not s.hidden
            for names in s.names.values()
            for n in names
        }
        close = difflib.get_close_matches(word.lower(), list(owner), n=1, cutoff=0.6)
        if not close:
            return None
        own = owner[close[0]].names.get(lang)
        return own[0] if own else close[0]


def _after_words(text: str, count: int) -> str:
    """`text` without its first `count` words, keeping the rest's line breaks."""
    m = re.match(r"\s*" + r"\s+".join([r"\S+"] * count), text)
    return text[m.end() :] if m else ""
