"""`/wol profile`: the "ask me about" topics that let matching say "May know about this".

    /wol profile                     show topics, and topics suggested from your narrations
    /wol profile add <topic>         (nl: /wol profiel toevoegen <onderwerp>)
    /wol profile remove <topic>      (nl: /wol profiel verwijderen <onderwerp>)

Whether someone is suggested at all is their consent, set with `/wol me matching off|on`.

Suggested topics come from the person's own recent narrations; nothing is added to a
profile until the person confirms it with the "Add" button.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.authorisation import Verdict, owner
from bot.commands import Subcommand
from bot.features.commands import command_text
from bot.features.topic_suggestions import short_topic
from bot.i18n import N_
from bot.langdetect import guess_language
from bot.matching.engine import MatchingEngine
from bot.matching.ranking import Item
from bot.messages import Actions, Button, Context, OutboundMessage, Section, Strong, fill
from bot.router import Router, action
from bot.store.profiles import ProfileRepo
from bot.store.tables import Narration
from bot.store.tables.matching import ProfileTopic
from bot.validation import as_number

if TYPE_CHECKING:
    from bot.context import Context as Ctx
    from bot.events import InboundEvent
    from bot.services import Services

log = logging.getLogger(__name__)
MAX_TOPIC = 80  # a few words a colleague's question can match, not a paragraph
MAX_TOPICS = 20

YOUR_TOPICS = N_("Ask me about:")
NO_TOPICS = N_("Your profile has no topics yet. Add one with {command}.")
SUGGESTED = N_("From your narrations — add to your profile?")
ADD = N_("Add")
ADDED = N_("Added to your profile: {topic}")
REMOVED = N_("Removed from your profile: {topic}")
NOT_FOUND = N_("{topic} is not on your profile.")
TOO_MANY = N_("Your profile can have at most {count} topics.")
PROFILE_HINT = N_(
    "Add a topic with {add}, remove one with {remove}; "
    "{off} stops suggesting you as someone who may know."
)
UNKNOWN_VERB = N_("I didn't understand {word}. Add a topic with {add}, remove one with {remove}.")
SUMMARY = N_("Show or edit what colleagues may ask you about")
USAGE = N_("[add|remove <topic>]")
TOPIC_EXAMPLE = N_("privacy law")
TOO_LONG = N_(
    "A profile topic is a few words, at most {limit} characters (this one has "
    "{count}). For example: {example}"
)

_ADD = ("add", "toevoegen")
_REMOVE = ("remove", "verwijderen", "verwijder")
_SHOW = ("", "show", "list", "toon", "lijst")


def topic_key(user_id: str, topic_id: int | None) -> str:
    return f"topic:{user_id}:{topic_id}"


class Profiles:
    def __init__(self, engine: MatchingEngine, repo: ProfileRepo) -> None:
        self.engine = engine
        self.repo = repo

    async def command(self, event: InboundEvent, ctx: Ctx, args: str) -> None:
        word, _, rest = args.strip().partition(" ")
        word, rest = word.lower(), rest.strip()
        if word in _ADD and rest:
            await self.add(ctx, rest)
        elif word in _REMOVE and rest:
            await self.remove(ctx, rest)
        elif word in (*_SHOW, *_ADD, *_REMOVE):  # a verb without a topic: the profile tells how
            await ctx.respond(await self.show(ctx))
        else:
            await ctx.respond(
                ctx.text(
                    UNKNOWN_VERB,
                    word=Strong(text=word),
                    add=command_text(_name(ctx, "add") + " …"),
                    remove=command_text(_name(ctx, "remove") + " …"),
                )
            )

    async def topics(self, workspace_id: str, user_id: str) -> list[ProfileTopic]:
        return await self.repo.topics(workspace_id, user_id)

    async def add(self, ctx: Ctx, topic: str) -> None:
        topic = " ".join(topic.split())
        if len(topic) > MAX_TOPIC:
            log.info("profile topic of %d characters refused", len(topic))
            example = short_topic(topic) or ctx.t.gettext(TOPIC_EXAMPLE)
            await ctx.respond(
                ctx.text(
                    TOO_LONG,
                    limit=MAX_TOPIC,
                    count=len(topic),
                    example=Strong(text=f"{_command(ctx)} {example}"),
                )
            )
            return
        ws, user = ctx.event.workspace_id, ctx.event.user.user_id
        existing = await self.topics(ws, user)
        if any(t.topic.lower() == topic.lower() for t in existing):
            await ctx.respond(ctx.text(ADDED, topic=Strong(text=topic)))
            return
        if len(existing) >= MAX_TOPICS:
            await ctx.respond(ctx.text(TOO_MANY, count=MAX_TOPICS))
            return
        row = await self.repo.add(
            ProfileTopic(workspace_id=ws, user_id=user, topic=topic, created_at=ctx.now)
        )
        item = Item.of(
            topic_key(user, row.id),
            "topic",
            user,
            topic,
            visibility="public",
            language=guess_language(topic, ctx.t.lang),
        )
        await self.engine.index(ws, [item])
        await ctx.respond(ctx.text(ADDED, topic=Strong(text=topic)))

    async def remove(self, ctx: Ctx, topic: str) -> None:
        ws, user = ctx.event.workspace_id, ctx.event.user.user_id
        wanted = " ".join(topic.split()).lower()
        for row in await self.topics(ws, user):
            if row.topic.lower() == wanted:
                await self.repo.remove(row.id or 0)
                await self.engine.remove(ws, topic_key(user, row.id))
                await ctx.respond(ctx.text(REMOVED, topic=Strong(text=row.topic)))
                return
        await ctx.respond(ctx.text(NOT_FOUND, topic=Strong(text=topic)))

    async def show(self, ctx: Ctx) -> OutboundMessage:
        ws, user = ctx.event.workspace_id, ctx.event.user.user_id
        topics = await self.topics(ws, user)
        blocks: list[Section | Actions | Context] = []
        if topics:
            blocks.append(
                Section(
                    parts=(
                        Strong(text=ctx.t.gettext(YOUR_TOPICS)),
                        " ",
                        ", ".join(t.topic for t in topics),
                    )
                )
            )
        else:
            blocks.append(
                Section(
                    parts=fill(ctx.t.gettext(NO_TOPICS), command=command_text(_name(ctx, "add")))
                )
            )
        have = {t.topic.lower() for t in topics}
        recent = await ctx.narrations.recent(ws, author_id=user, limit=10)
        offers: dict[str, int] = {}  # the topic offered -> the narration it comes from
        for n in recent:
            candidate = short_topic(n.topic or n.text)
            if candidate and candidate.lower() not in have and candidate not in offers:
                offers[candidate] = n.id or 0
        if offers:
            blocks.append(Section(parts=(ctx.t.gettext(SUGGESTED),)))
            for offer, narration_id in list(offers.items())[:3]:
                blocks.append(Section(parts=(f"“{offer}”",)))
                blocks.append(
                    Actions(
                        elements=(
                            Button(
                                label=ctx.t.gettext(ADD),
                                action_id="matching.topic.add",
                                value=str(narration_id),
                            ),
                        )
                    )
                )
        blocks.append(
            Context(
                parts=fill(
                    ctx.t.gettext(PROFILE_HINT),
                    add=command_text(_name(ctx, "add") + " …"),
                    remove=command_text(_name(ctx, "remove") + " …"),
                    off=command_text(
                        "ik suggesties uit" if ctx.t.lang == "nl" else "me matching off"
                    ),
                )
            )
        )
        return OutboundMessage(blocks=tuple(blocks))

    async def on_add_button(self, event: InboundEvent, ctx: Ctx) -> None:
        """ "Add" under a suggested topic: the button names the narration it came from (its
        author is the clicker, bot/authorisation.py checked); the topic is taken from it."""
        story = await _own_narration(event, ctx)
        topic = short_topic(story.topic or story.text) if story is not None else ""
        if topic:
            await self.add(ctx, topic)


async def _own_narration(event: InboundEvent, ctx: Ctx) -> Narration | None:
    number = as_number(event.action.value if event.action else None)
    if number is None:
        return None
    story = await ctx.narrations.get(number)
    if story is None or story.workspace_id != event.workspace_id:
        return None
    return story


async def _narrator(event: InboundEvent, ctx: Ctx) -> Verdict:
    story = await _own_narration(event, ctx)
    return story is not None and story.author_id == event.user.user_id


def _command(ctx: Ctx) -> str:
    return "/wol " + _name(ctx, "add")


def _name(ctx: Ctx, verb: str) -> str:
    nl = ctx.t.lang == "nl"
    words = {
        "add": ("toevoegen", "add"),
        "remove": ("verwijderen", "remove"),
        "off": ("uit", "off"),
    }[verb]
    return f"{'profiel' if nl else 'profile'} {words[0] if nl else words[1]}"


def register(services: Services, router: Router, engine: MatchingEngine) -> None:
    profiles = Profiles(engine, services.profiles)
    router.commands.register(
        Subcommand(
            names={"en": ("profile",), "nl": ("profiel",)},
            handler=profiles.command,
            summary=SUMMARY,
            usage=USAGE,
            order=30,
        )
    )
    router.add(
        action("matching.topic.add"),
        profiles.on_add_button,
        name="profiles.add",
        who=owner("the person the topic was suggested to", _narrator),
    )
