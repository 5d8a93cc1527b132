"""The `/wol` command: subcommands registered by features, in English and Dutch.

A subcommand has names per language (several words allowed: "working on",
"bezig met"); the longest name that prefixes the arguments wins, and which
language's name was used tells the bot which language to answer in.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.events import EventKind, InboundEvent
from bot.i18n import N_, CommandExample, Translator
from bot.messages import Context as ContextBlock
from bot.messages import OutboundMessage, Section, Strong, fill

if TYPE_CHECKING:
    from bot.context import Context

COMMAND = "wol"
# Words after a subcommand whose name both languages share, that tell which language the
# person uses (every handler accepts both: see privacy.py, admin.py).
KEYWORD_LANGUAGE = {
    **dict.fromkeys(("vergeet", "verwijder", "exporteer", "toon", "zet", "herstel",
                     "geschiedenis", "gemeenschap", "vastleggen", "rollen", "rol", "hulp",
                     "toevoegen", "lijst", "bewerk", "woordenlijst"), "nl"),
    **dict.fromkeys(("forget", "delete", "erase", "download", "show", "set",
                     "reset", "history", "capture", "roles", "role", "help", "add", "list",
                     "edit", "glossary"), "en"),
}
SubHandler = Callable[[InboundEvent, "Context", str], Awaitable[None]]

UNKNOWN = N_("I don't know the command {command}.")
DID_YOU_MEAN = N_("Did you mean {suggestion}?")
SEE_HELP = N_("Type {help} to see everything I can do.")
EX_HELP = N_("/wol help")


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
        size, sub, name, lang = best
        rest = _after_words(text, size)
        shared = all(name in names for names in sub.names.values())
        if shared:  # "privacy", "config", "dashboard": the next word may tell ("vergeet")
            following = rest.split()[:1]
            lang = KEYWORD_LANGUAGE.get(following[0].lower()) if following else None
        return Invocation(sub, name, rest.strip(), lang)

    def suggest(self, word: str, lang: str) -> str | None:
        """The subcommand closest to `word` (in either language), named in `lang`."""
        owner = {n: s for s in self.subcommands if not s.hidden
                 for names in s.names.values() for n in names}
        close = difflib.get_close_matches(word.lower(), list(owner), n=1, cutoff=0.6)
        if not close:
            return None
        own = owner[close[0]].names.get(lang)
        return own[0] if own else close[0]


def _after_words(text: str, count: int) -> str:
    """`text` without its first `count` words, keeping the rest's line breaks."""
    m = re.match(r"\s*" + r"\s+".join([r"\S+"] * count), text)
    return text[m.end() :] if m else ""


def is_wol_command(event: InboundEvent) -> bool | None:
    return True if event.kind is EventKind.COMMAND and event.command == COMMAND else None


def is_other_command(event: InboundEvent) -> bool | None:
    return True if event.kind is EventKind.COMMAND and event.command != COMMAND else None


async def handle_other_command(event: InboundEvent, ctx: Context) -> None:
    """Only the console can deliver commands that are not ours; answer rather than stay mute."""
    word = Strong(text=f"/{event.command}")
    await ctx.respond(OutboundMessage.of(
        Section(parts=fill(ctx.t.gettext(UNKNOWN), command=word)),
        ContextBlock(parts=fill(ctx.t.gettext(SEE_HELP), help=example(ctx.t, EX_HELP)))))


def command_text(name: str) -> Strong:
    return Strong(text=f"/{COMMAND} {name}".strip())


def example(t: Translator, msgid: str, **values: str | int) -> Strong:
    """A command as the reader types it: the msgid is the English command ("/wol me pause
    14"), its translation uses that language's words ("/wol ik pauze 14"). Values fill
    `{name}` placeholders (a question number, a #channel, a setting key)."""
    return Strong(text=CommandExample.of(msgid, **values).render(t))


async def handle_command(event: InboundEvent, ctx: Context) -> None:
    commands: Commands = ctx.core.commands
    invocation = commands.parse(event.text)
    ctx.hint_language(invocation.language)
    if invocation.sub is None:
        await ctx.respond(unknown_message(ctx, commands, invocation.name))
        return
    if invocation.sub.admin_only and not ctx.is_admin:
        from bot.features.roles import refuse_admin_only

        await refuse_admin_only(ctx, invocation.name)
        return
    await invocation.sub.handler(event, ctx, invocation.args)


def unknown_message(ctx: Context, commands: Commands, word: str) -> OutboundMessage:
    t = ctx.t.gettext
    blocks: list[Section | ContextBlock] = [
        Section(parts=fill(t(UNKNOWN), command=command_text(word)))
    ]
    suggestion = commands.suggest(word, ctx.t.lang)
    if suggestion:
        blocks.append(Section(parts=fill(t(DID_YOU_MEAN), suggestion=command_text(suggestion))))
    blocks.append(ContextBlock(parts=fill(t(SEE_HELP), help=example(ctx.t, EX_HELP))))
    return OutboundMessage(blocks=tuple(blocks))
