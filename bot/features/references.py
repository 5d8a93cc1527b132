"""Channels and people named in command text.

Channels as each platform writes them: Slack `<#C123|general>`, elsewhere `#general`.
People only as the platform's own mentions (`InboundEvent.mentions`): whatever a person types
that looks like a mention is text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.events import InboundEvent, Mentioned, PersonRef
from bot.store.directory import Directory

_SLACK_CHANNEL = re.compile(r"^<#([A-Z0-9]+)(?:\|([^>]*))?>$")
BROADCASTS = frozenset({"channel", "here", "everyone"})


@dataclass(frozen=True, slots=True)
class ChannelRef:
    id: str
    name: str | None


def split_channel(words: list[str]) -> tuple[ChannelRef | None, list[str]]:
    """Take the first channel reference out of `words`."""
    for i, word in enumerate(words):
        m = _SLACK_CHANNEL.match(word)
        if m:
            return ChannelRef(m.group(1), m.group(2) or None), words[:i] + words[i + 1 :]
        if word.startswith("#") and len(word) > 1:
            return ChannelRef(word[1:], word[1:]), words[:i] + words[i + 1 :]
    return None, words


async def resolve_channel(ref: ChannelRef, workspace_id: str, directory: Directory) -> ChannelRef:
    """`#name` → the channel's platform id when the bot has seen a channel by that name."""
    if ref.id != ref.name:
        return ref
    for channel in await directory.channels(workspace_id):
        if channel.name and ref.name and channel.name.lower() == ref.name.lower():
            return ChannelRef(channel.channel_id, channel.name)
    return ref


def mention_pieces(text: str, event: InboundEvent) -> list[str | PersonRef]:
    """`text` cut into literal pieces and the people the sender really mentioned in it.

    Only the platform's mentions count (`event.mentions`, each with the tag that stands for
    it in the text): a typed `@U123`, an escaped `<@U123>` or a Teams `<at>` typed as text
    stays text. Longer tags win ("@Ben Okafor" before "@Ben"); a tag counts only as a whole
    word, never inside another one."""
    tags = {m.tag: m for m in event.mentions if isinstance(m, Mentioned) and m.tag}
    if not tags:
        return [text] if text else []
    alternatives = "|".join(re.escape(t) for t in sorted(tags, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w@])(?:{alternatives})(?!\w)")
    pieces: list[str | PersonRef] = []
    at = 0
    for match in pattern.finditer(text):
        if match.start() > at:
            pieces.append(text[at : match.start()])
        found = tags[match.group(0)]
        pieces.append(PersonRef(found.user_id, found.display_name))
        at = match.end()
    if at < len(text):
        pieces.append(text[at:])
    return pieces


def people_in(text: str, event: InboundEvent) -> tuple[list[PersonRef], list[str]]:
    """The people really mentioned anywhere in `text` (each once), and its other words."""
    people: list[PersonRef] = []
    words: list[str] = []
    for piece in mention_pieces(text, event):
        if isinstance(piece, PersonRef):
            if piece.user_id not in {p.user_id for p in people}:
                people.append(piece)
        else:
            words.extend(piece.split())
    return people, words


# Words that join the people at the start of a command: "@anouk and @bram for …".
_JOINERS = frozenset({"and", "en", "&", ",", "+"})


def leading_people(text: str, event: InboundEvent) -> tuple[list[PersonRef], str]:
    """The people really mentioned at the start of `text` (joined by spaces, commas, "and" or
    "en"), and the rest of the text exactly as written. A mention further on is part of the
    rest (a reason, a topic), never another person the command acts on."""
    people: list[PersonRef] = []
    pieces = mention_pieces(text, event)
    rest_at = len(pieces)
    for i, piece in enumerate(pieces):
        if isinstance(piece, PersonRef):
            if piece.user_id not in {p.user_id for p in people}:
                people.append(piece)
            continue
        between = piece.replace(",", " , ").split()
        if i + 1 < len(pieces) and all(w.lower() in _JOINERS for w in between):
            continue  # a joiner between two mentions
        rest_at = i
        break
    rest = pieces[rest_at:]
    if rest and isinstance(rest[0], str):
        rest[0] = _strip_joiner(rest[0]) if people else rest[0]
    return people, "".join(p if isinstance(p, str) else _tag_of(p, event) for p in rest).strip()


def _strip_joiner(text: str) -> str:
    """ ", for the tips" after the people → "for the tips"."""
    return text.lstrip().removeprefix(",").removeprefix(":").lstrip()


def _tag_of(person: PersonRef, event: InboundEvent) -> str:
    for m in event.mentions:
        if isinstance(m, Mentioned) and m.user_id == person.user_id and m.tag:
            return m.tag
    return "@" + (person.display_name or person.user_id)
