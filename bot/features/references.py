"""Channels and people named in command text, as each platform writes them.

Slack sends `<#C123|general>` and `<@U123|anouk>`; Teams strips `<at>` tags and lists the
mentioned people on the event; the console writes `#general` and `@anouk`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.events import InboundEvent, PersonRef
from bot.store.directory import Directory

_SLACK_CHANNEL = re.compile(r"^<#([A-Z0-9]+)(?:\|([^>]*))?>$")
_SLACK_USER = re.compile(r"^<@([A-Z0-9]+)(?:\|([^>]*))?>$")
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
            return ChannelRef(m.group(1), m.group(2) or None), words[:i] + words[i + 1:]
        if word.startswith("#") and len(word) > 1:
            return ChannelRef(word[1:], word[1:]), words[:i] + words[i + 1:]
    return None, words


async def resolve_channel(ref: ChannelRef, workspace_id: str, directory: Directory) -> ChannelRef:
    """`#name` → the channel's platform id when the bot has seen a channel by that name."""
    if ref.id != ref.name:
        return ref
    for channel in await directory.channels(workspace_id):
        if channel.name and ref.name and channel.name.lower() == ref.name.lower():
            return ChannelRef(channel.channel_id, channel.name)
    return ref


def resolve_person(word: str, event: InboundEvent) -> PersonRef | None:
    """A person named by `word`: a Slack mention, a Teams mention, or a console @name."""
    m = _SLACK_USER.match(word)
    if m:
        return PersonRef(m.group(1), m.group(2) or None)
    name = word.removeprefix("@").strip()
    if not name or (word.startswith("@") and name.lower() in BROADCASTS):
        return None  # "@channel" and friends address everyone, never a person
    for person in event.mentions:
        if name in (person.user_id, person.display_name) or (
                person.display_name and person.display_name.lower() == name.lower()):
            return person
    if word.startswith("@"):
        return PersonRef(name, name)
    return None


def people_in(words: list[str], event: InboundEvent) -> tuple[list[PersonRef], list[str]]:
    """People named in `words` (plus Teams mentions that left no token), and the other words."""
    people: list[PersonRef] = []
    rest: list[str] = []
    for word in words:
        person = resolve_person(word, event)
        if person is not None and word.startswith(("<@", "@")):
            people.append(person)
        else:
            rest.append(word)
    for mention in event.mentions:
        if mention.user_id not in {p.user_id for p in people}:
            named = [w for w in rest if mention.display_name and w == mention.display_name]
            if named:
                rest.remove(named[0])
            people.append(mention)
    return people, rest
