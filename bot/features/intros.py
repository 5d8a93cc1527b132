"""Introductions: "Connect me", "I've done this", "I know someone who can help".

Each turns into a group DM between the narrator and the other person, quoting the
narration and saying who suggested it, recorded as a connection. A few days later the
narrator is asked in DM whether it helped (after `matching.followup_days`, default 3, set
with `/wol config`; delivered by the outbox at `deliver_after`),
with an optional "How did it help you get to your result?" form. The same phrases typed as
a reply in a narration's thread work too, in Dutch and English (bot/features/reply_phrases.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.authorisation import Verdict, bind, bound_to_clicker, owner, unbound
from bot.events import InboundEvent
from bot.features.matching import consent
from bot.features.reply_phrases import typed_reply
from bot.i18n import N_, Translator
from bot.messages import (
    Actions,
    Button,
    Divider,
    Form,
    Mention,
    OutboundMessage,
    Quote,
    Section,
    Select,
    TextInput,
    fill,
)
from bot.router import Group, Router, action
from bot.store.tables import Narration
from bot.store.tables.matching import Connection
from bot.validation import as_number

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services


INTRO_BY_BOT = N_("{narrator}, meet {person}: you seem to be working on similar things.")
INTRO_BY_PERSON = N_("{narrator}, meet {person}. {suggester} thought you two should talk about:")
INTRO_DONE = N_("{narrator}, meet {person}, who has done this before:")
INTRO_ASKED = N_("{person}, meet {narrator}, who thinks you can help with this:")
INTRO_WHO = N_(
    "{narrator} is looking for someone who knows about “{topic}”; {person} is working on this:"
)
INTRO_WHO_TOPIC = N_(
    "{narrator} is looking for someone who knows about “{topic}”; {person} can be asked about:"
)
INTRO_NEXT = N_("Say hello and compare notes; I'll check in in a few days.")
INTRODUCED = N_("I've started a conversation between {narrator} and {person}.")
PICK_PERSON = N_("Who can help {narrator} with this?")
PICK_PLACEHOLDER = N_("Choose a colleague")
NOT_YOURSELF = N_("That's your own narration: I can't introduce you to yourself.")
ALREADY_INTRODUCED = N_("{narrator} and {person} were already introduced about this.")
FOLLOW_UP = N_("Did the introduction with {person} help?")
HELPED_YES = N_("Yes")
HELPED_SOMEWHAT = N_("A bit")
HELPED_NO = N_("No")
HOW_TITLE = N_("How did it help?")
HOW_LABEL = N_("How did it help you get to your result?")
HOW_SUBMIT = N_("Send")
THANKS = N_("Thanks for letting me know.")
NO_INTROS = N_("{person} is not taking introductions at the moment, so I won't start one.")


async def _sees_narration(event: InboundEvent, ctx: Context) -> Verdict:
    """The buttons under a narration's suggestion (and the person picker they open) are for
    whoever can read the narration: any colleague for a public one, else only someone in
    the conversation it was told in."""
    assert event.action is not None
    action_id = unbound(event.action.action_id)
    raw = (
        action_id.removeprefix("matching.pick.")
        if action_id.startswith("matching.pick.")
        else event.action.value
    )
    number = as_number(raw)
    story = await narration(ctx, number) if number is not None else None
    if story is None:
        return False
    bound = bound_to_clicker(event, ctx.keyring)
    if bound is not None:  # a picker shown to one person (Teams: in their personal chat)
        return bound
    return story.visibility == "public" or story.channel_id == event.conversation.id


async def _introduction_narrator(event: InboundEvent, ctx: Context) -> Verdict:
    """The follow-up of an introduction ("Did it help?") is for its narrator only."""
    row = await _connection(ctx, event.action.value if event.action else None)
    return row is not None and row.narrator_id == event.user.user_id


def register(services: Services, router: Router) -> None:
    reader = owner("someone who can read the narration", _sees_narration)
    narrator = owner("the narrator of the introduction", _introduction_narrator)
    router.add(typed_reply, on_typed_reply, group=Group.TYPED_REPLIES, name="intros.typed")
    router.add(action("matching.done"), on_done_button, name="intros.done", who=reader)
    router.add(action("matching.someone"), on_someone_button, name="intros.someone", who=reader)
    router.add(action("matching.pick."), on_pick, name="intros.pick", who=reader)
    router.add(action("matching.followup"), on_follow_up, name="intros.followup", who=narrator)
    router.add(action("matching.how"), on_how_it_helped, name="intros.how", who=narrator)


async def narration(ctx: Context, narration_id: int) -> Narration | None:
    row = await ctx.narrations.get(narration_id)
    if row is None or row.workspace_id != ctx.event.workspace_id:
        return None
    return row


async def introduce(
    ctx: Context,
    story: Narration,
    person_id: str,
    *,
    suggested_by: str,
    other: Narration | None = None,
    question: bool = False,
) -> None:
    """Open a group DM between the narrator and `person_id`, record the connection, and
    schedule the follow-up question to the narrator; unless either of them turned
    introductions off or paused (`/wol me`). `other` is the person's own similar narration
    (a "Similar work" suggestion), quoted beside the narrator's. With `question` the story
    is what the narrator searched for (`/wol who`): named as a search, not quoted as their
    work, and `other` (the person's narration, or their profile topic with source
    "profile") is quoted."""
    narrator = Mention(user_id=story.author_id)
    person = Mention(user_id=person_id)
    allowed = await consent.load(ctx.services, story.workspace_id, ctx.now)
    if not (allowed.may_introduce(person_id) and allowed.may_introduce(story.author_id)):
        await ctx.respond(ctx.text(NO_INTROS, person=person))
        return
    # a second click, a replayed one, or the same name typed again
    if await ctx.introductions.made_before(
        story.workspace_id, story.id, story.author_id, person_id
    ):
        await ctx.respond(ctx.text(ALREADY_INTRODUCED, narrator=narrator, person=person))
        return
    if other is not None and other.author_id != person_id:
        other = None
    # bot.languages: the group DM speaks each of the two people's languages (once each when
    # they differ), the follow-up the narrator's; the clicker's answer below uses theirs.
    languages = ctx.languages
    langs = await languages.for_people(
        story.workspace_id, (story.author_id, person_id), channel_id=story.channel_id
    )
    blocks: list[Section | Quote | Divider] = []
    for lang in langs:
        if blocks:
            blocks.append(Divider())
        blocks += introduction(
            ctx.i18n.get(lang), story, person_id, suggested_by, other, question=question
        )
    message = OutboundMessage(blocks=tuple(blocks))
    t = ctx.i18n.get(
        await languages.person(story.workspace_id, story.author_id, channel_id=story.channel_id)
    )
    days = float(await ctx.config.value(story.workspace_id, "matching.followup_days"))
    due = ctx.now + timedelta(days=days)
    connection = await ctx.introductions.add(
        Connection(
            workspace_id=story.workspace_id,
            narration_id=story.id,
            narrator_id=story.author_id,
            person_id=person_id,
            suggested_by=suggested_by,
            created_at=ctx.now,
            followup_due_at=due,
        )
    )
    await ctx.dm((story.author_id, person_id), message)
    value = str(connection.id)
    follow_up = OutboundMessage.of(
        Section(parts=fill(t.gettext(FOLLOW_UP), person=person)),
        Actions(
            elements=(
                # "yes" and "somewhat" ask how it helped, in a form (on_follow_up)
                Button(
                    label=t.gettext(HELPED_YES),
                    action_id="matching.followup.yes",
                    value=value,
                    style="primary",
                    opens_form=True,
                ),
                Button(
                    label=t.gettext(HELPED_SOMEWHAT),
                    action_id="matching.followup.somewhat",
                    value=value,
                    opens_form=True,
                ),
                Button(label=t.gettext(HELPED_NO), action_id="matching.followup.no", value=value),
            )
        ),
    )
    await ctx.dm((story.author_id,), follow_up, deliver_after=due)
    await ctx.respond(ctx.text(INTRODUCED, narrator=narrator, person=person))


def introduction(
    t: Translator,
    story: Narration,
    person_id: str,
    suggested_by: str,
    other: Narration | None,
    *,
    question: bool = False,
) -> list[Section | Quote | Divider]:
    """The introduction in one language, quoting the narration (and the person's own); for
    a `question` the search words are named and only the person's own text is quoted."""
    narrator = Mention(user_id=story.author_id)
    person = Mention(user_id=person_id)
    if question and other is not None:
        msgid = INTRO_WHO_TOPIC if other.source == "profile" else INTRO_WHO
        intro = fill(t.gettext(msgid), narrator=narrator, person=person, topic=story.text)
        return [
            Section(parts=intro),
            Quote(text=other.text, author=person),
            Section(parts=fill(t.gettext(INTRO_NEXT))),
        ]
    if suggested_by == "bot":
        intro = fill(t.gettext(INTRO_BY_BOT), narrator=narrator, person=person)
    elif suggested_by == person_id:
        intro = fill(t.gettext(INTRO_DONE), narrator=narrator, person=person)
    elif suggested_by == story.author_id:  # the narrator named who can help
        intro = fill(t.gettext(INTRO_ASKED), narrator=narrator, person=person)
    else:
        intro = fill(
            t.gettext(INTRO_BY_PERSON),
            narrator=narrator,
            person=person,
            suggester=Mention(user_id=suggested_by),
        )
    blocks: list[Section | Quote | Divider] = [
        Section(parts=intro),
        Quote(text=story.text, author=narrator),
    ]
    if other is not None:
        blocks.append(Quote(text=other.text, author=person))
    blocks.append(Section(parts=fill(t.gettext(INTRO_NEXT))))
    return blocks


async def _thread_narration(ctx: Context, event: InboundEvent) -> Narration | None:
    conv = event.conversation
    return await ctx.narrations.by_message(event.workspace_id, conv.id, conv.thread_id)


def _mentioned(event: InboundEvent) -> list[str]:
    """The people the replier really mentioned (the platform's picker; never typed text)."""
    return [p.user_id for p in event.mentions]


async def on_typed_reply(event: InboundEvent, ctx: Context) -> None:
    story = await _thread_narration(ctx, event)
    if story is None:
        return
    if ctx.match == "done":
        await _done(ctx, story, event.user.user_id)
        return
    people = [p for p in _mentioned(event) if p not in (story.author_id, event.user.user_id)]
    if not people:
        await ctx.respond(_picker(ctx, story))
        return
    for person in dict.fromkeys(people):
        await introduce(ctx, story, person, suggested_by=event.user.user_id)


async def _done(ctx: Context, story: Narration, person_id: str) -> None:
    if person_id == story.author_id:
        await ctx.respond(ctx.text(NOT_YOURSELF))
        return
    await introduce(ctx, story, person_id, suggested_by=person_id)


async def _story_from_button(event: InboundEvent, ctx: Context) -> Narration | None:
    value = event.action.value if event.action else None
    number = as_number(value)
    return await narration(ctx, number) if number is not None else None


async def on_done_button(event: InboundEvent, ctx: Context) -> None:
    story = await _story_from_button(event, ctx)
    if story is not None:
        await _done(ctx, story, event.user.user_id)


async def on_someone_button(event: InboundEvent, ctx: Context) -> None:
    story = await _story_from_button(event, ctx)
    if story is not None:
        await ctx.respond(_picker(ctx, story))


def _picker(ctx: Context, story: Narration) -> OutboundMessage:
    return OutboundMessage.of(
        Section(parts=fill(ctx.t.gettext(PICK_PERSON), narrator=Mention(user_id=story.author_id))),
        Actions(
            elements=(
                Select(
                    # bound to the person it is shown to, wherever the platform shows it
                    action_id=bind(
                        ctx.keyring,
                        story.workspace_id,
                        ctx.event.user.user_id,
                        f"matching.pick.{story.id}",
                    ),
                    placeholder=ctx.t.gettext(PICK_PLACEHOLDER),
                    people=True,
                ),
            )
        ),
    )


async def on_pick(event: InboundEvent, ctx: Context) -> None:
    assert event.action is not None
    narration_id = unbound(event.action.action_id).removeprefix("matching.pick.")
    person = event.action.value
    number = as_number(narration_id)
    story = await narration(ctx, number) if number is not None else None
    if story is None or not person:
        return
    if person in (story.author_id,):
        await ctx.respond(ctx.text(NOT_YOURSELF))
        return
    await introduce(ctx, story, person, suggested_by=event.user.user_id)


async def _connection(ctx: Context, value: str | None) -> Connection | None:
    number = as_number(value)
    if number is None:
        return None
    return await ctx.introductions.get(ctx.event.workspace_id, number)


async def on_follow_up(event: InboundEvent, ctx: Context) -> None:
    assert event.action is not None
    answer = event.action.action_id.removeprefix("matching.followup.")
    if answer not in ("yes", "somewhat", "no"):
        return
    row = await _connection(ctx, event.action.value)
    if row is None:
        return
    if not await ctx.introductions.rate(row.id, answer, ctx.now):
        return
    if answer == "no":
        await ctx.respond(ctx.text(THANKS))
        return
    await ctx.open_form(
        Form(
            form_id="matching.how",
            title=ctx.t.gettext(HOW_TITLE),
            submit_label=ctx.t.gettext(HOW_SUBMIT),
            fields=(
                TextInput(
                    field_id="how",
                    label=ctx.t.gettext(HOW_LABEL),
                    multiline=True,
                    max_length=1000,
                    optional=True,
                ),
            ),
            private_metadata=str(row.id),
        )
    )


async def on_how_it_helped(event: InboundEvent, ctx: Context) -> None:
    assert event.action is not None
    row = await _connection(ctx, event.action.value)  # the form's private metadata
    text = (event.action.values.get("how") or "").strip()
    if row is None:
        return
    if text:
        await ctx.introductions.how_it_helped(row.id, text[:1000])
    await ctx.respond(ctx.text(THANKS))
