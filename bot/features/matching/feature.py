"""What the narrator sees: after a narration, a short reply in its thread (or DM) naming
colleagues with similar work ("Similar work: @anouk (3 weeks ago): '…'") and people whose
profile says they know about it ("May know about this: @bram"), with "Connect me" and
"Not relevant" buttons. Silent when nothing clears the threshold.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.authorisation import Verdict
from bot.clock import utc
from bot.features import intros
from bot.features.matching import consent
from bot.i18n import N_, Translator
from bot.matching.engine import MatchingEngine, stored_vector, vector_bytes
from bot.matching.ranking import Item, Scored, Viewer
from bot.messages import (
    Actions,
    Button,
    Mention,
    OutboundMessage,
    Refresh,
    Section,
    Strong,
    fill,
)
from bot.messages import Context as ContextBlock
from bot.ports import Destination
from bot.store.tables import Narration
from bot.store.tables.matching import MatchSuggestion
from bot.validation import as_number

if TYPE_CHECKING:
    from bot.context import Context
    from bot.events import InboundEvent
    from bot.services import Services

log = logging.getLogger(__name__)

SIMILAR = N_("Similar work:")
SIMILAR_LINE = N_("{person} ({when}): {quote}")
KNOWS = N_("May know about this: {person} ({topic})")
CONNECT = N_("Connect me")
VIEW = "matching.view"
NOT_RELEVANT = N_("Not relevant")
DONE_THIS = N_("I've done this")
KNOW_SOMEONE = N_("I know someone who can help")
ONLY_NARRATOR = N_("Only {person} can answer this suggestion.")
GONE = N_("That suggestion is no longer available.")
ANSWERED = N_("You already answered the suggestion about {person}.")
DISMISSED = N_("Thanks, I'll suggest {person} less often for work like this.")
CONNECTED_STATE = N_("🤝 Connected with {person}: introductions are on their way.")
DISMISSED_STATE = N_("Noted as not relevant: {person}.")
VAGUE_HINT = N_(
    "Tell me a bit more — which system, customer or project? Then I can find colleagues "
    "working on the same."
)
QUOTE_CHARS = 120
HINT_EVERY = timedelta(days=7)  # at most one vague-narration hint a week per person


def narration_key(narration_id: int | None) -> str:
    return f"narration:{narration_id}"


def narration_item(n: Narration) -> Item:
    return Item.of(
        narration_key(n.id),
        "narration",
        n.author_id,
        n.topic or n.text,
        visibility=n.visibility,
        channel_id=n.channel_id,
        created_at=utc(n.created_at),
        language=n.language,
    )


def ago(t: Translator, then: datetime | None, now: datetime) -> str:
    """ "today", "3 days ago", "3 weeks ago", "5 months ago"."""
    days = max(0, (now - then).days) if then else 0
    if days == 0:
        return t.gettext("today")
    if days < 14:
        return t.ngettext("{n} day ago", "{n} days ago", days).format(n=days)
    if days < 61:
        weeks = days // 7
        return t.ngettext("{n} week ago", "{n} weeks ago", weeks).format(n=weeks)
    months = days // 30
    return t.ngettext("{n} month ago", "{n} months ago", months).format(n=months)


def snippet(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > QUOTE_CHARS:
        text = text[: QUOTE_CHARS - 1].rstrip() + "…"
    return f"“{text}”"


class Suggestions:
    def __init__(self, engine: MatchingEngine) -> None:
        self.engine = engine

    # -- listeners ------------------------------------------------------------------------------
    async def prepare(self, narration: Narration, ctx: Context) -> None:
        """Before the narration is stored: its vector, stored with it in the same INSERT.
        Should encoding fail, the narration is stored without and `on_narration` tries
        again."""
        try:
            space, vecs = await self.engine.encode_with_space(
                [narration_item(narration).text], workspace_id=narration.workspace_id
            )
        except Exception:
            log.exception("could not encode a narration before storing it")
            return
        narration.vector = vector_bytes(vecs[0])
        narration.vector_model, narration.vector_at = space, ctx.now

    async def on_narration(self, narration: Narration, ctx: Context) -> None:
        """Suggest first, then index: the reply is enqueued as early as possible, and the
        narration is indexed even when answering failed."""
        item = narration_item(narration)
        stored = narration.vector is not None and bool(narration.vector_model)
        if narration.vector is not None and narration.vector_model:  # made by `prepare`
            space = narration.vector_model
            vecs = stored_vector(narration.vector)[None, :]
        else:
            space, vecs = await self.engine.encode_with_space(
                [item.text], workspace_id=narration.workspace_id
            )
        vector = vecs[0] if space == self.engine.encoder.name else None
        try:
            if await self.engine.is_vague(narration.workspace_id, item.text, vector):
                # Nothing to match on: no suggestions (and never suggested to others: the
                # gate in ranking), at most a gentle private hint; no consent to look up.
                await self._hint(narration, ctx)
                return
            # consent: the workspace's defaults, and everyone's own choices read with the
            # fatigue and feedback filters, in their statement
            defaults = await consent.defaults(ctx.services, narration.workspace_id)
            found = await self.engine.search(
                narration.workspace_id,
                item.text,
                Viewer(narration.author_id, narration.channel_id, narration.visibility),
                exclude=(item.key,),
                vector=vecs[0],
                space=space,
                allow_by_choices=lambda own: consent.Consent(defaults, own, ctx.now).may_suggest,
                language=narration.language,
            )
            if found:
                await self._answer(narration, ctx, found)
        finally:
            await self.engine.index(
                narration.workspace_id, [item], vecs, space=space, stored=stored
            )

    async def _hint(self, narration: Narration, ctx: Context) -> None:
        claimed = await self.engine.store.claim_hint(
            narration.workspace_id, narration.author_id, ctx.now, HINT_EVERY
        )
        if not claimed:
            return
        log.info("narration %s: too vague to match on, hint sent", narration.id)
        if narration.visibility == "dm" and narration.source != "command":
            await ctx.say(ctx.text(VAGUE_HINT))
        else:
            await ctx.respond(ctx.text(VAGUE_HINT))

    async def _answer(self, narration: Narration, ctx: Context, found: list[Scored]) -> None:
        rows = await self.engine.store.record(
            [
                MatchSuggestion(
                    workspace_id=narration.workspace_id,
                    narration_id=narration.id or 0,
                    narrator_id=narration.author_id,
                    person_id=s.item.author_id,
                    reason="similar" if s.item.kind == "narration" else "knows",
                    item_ref=s.item.key,
                    score=round(s.score, 4),
                    created_at=ctx.now,
                )
                for s in found
            ]
        )
        log.info("narration %s: %d suggestion(s)", narration.id, len(rows))
        if narration.source == "command":
            await ctx.respond(suggestion_message(ctx.t, narration, found, rows, ctx.now))
        elif narration.visibility == "dm":
            await ctx.say(suggestion_message(ctx.t, narration, found, rows, ctx.now))
        else:  # a thread everyone in the channel reads: their part in the channel's language
            await ctx.reply(
                suggestion_message(ctx.t, narration, found, rows, ctx.now, readers=ctx.channel_t)
            )

    async def find_experts(
        self, services: Services, workspace_id: str, text: str, leave_out: set[str]
    ) -> list[str]:
        """Who may know about `text` (a durf-te-vragen question): authors of similar public
        narrations and profile topics, with the same threshold, consent and fatigue rules.
        Only public items: the caller does not say where the answer will be shown."""
        defaults = await consent.defaults(services, workspace_id)
        now = services.clock.now()

        def allow(own: dict[str, dict[str, Any]]) -> Callable[[Item], bool]:
            allowed = consent.Consent(defaults, own, now)
            return lambda item: item.author_id not in leave_out and allowed.may_suggest(item)

        found = await self.engine.search(
            workspace_id, text, Viewer("", None, "public"), allow_by_choices=allow
        )
        return [s.item.author_id for s in found]

    async def on_updated(self, narration: Narration, ctx: Context) -> None:
        await self.engine.index(narration.workspace_id, [narration_item(narration)])

    async def on_removed(self, narration: Narration, ctx: Context) -> None:
        await self.engine.remove(narration.workspace_id, narration_key(narration.id))

    async def on_bulk_removed(self, workspace_id: str, narration_ids: Iterable[int]) -> None:
        """Erasure and retention remove narrations in bulk: drop their vectors too."""
        for narration_id in narration_ids:
            await self.engine.remove(workspace_id, narration_key(narration_id))

    async def on_erase(self, workspace_id: str, user_id: str) -> dict[str, int]:
        """After `/wol privacy forget` deleted the person's rows: forget them in memory and
        leave anonymous tombstones so other replicas drop them as well."""
        return {"match_index": await self.engine.forget_author(workspace_id, user_id)}

    # -- buttons --------------------------------------------------------------------------------
    async def _suggestion(self, event: InboundEvent, ctx: Context) -> MatchSuggestion | None:
        value = event.action.value if event.action else None
        number = as_number(value)
        row = await self.engine.store.suggestion(number) if number is not None else None
        if row is None or row.workspace_id != event.workspace_id:
            return None
        return row

    async def narrator_only(self, event: InboundEvent, ctx: Context) -> Verdict:
        """Who may answer a suggestion: its narrator (bot/authorisation.py asks)."""
        row = await self._suggestion(event, ctx)
        if row is None or row.narrator_id == event.user.user_id:
            return True  # a gone suggestion is answered as gone, by the handler
        return ctx.text(ONLY_NARRATOR, person=Mention(user_id=row.narrator_id))

    async def _own_suggestion(
        self, event: InboundEvent, ctx: Context, *, final: tuple[str, ...]
    ) -> MatchSuggestion | None:
        """The suggestion the button names, unless gone or already answered with one of
        `final` (a replayed or second click changes nothing)."""
        row = await self._suggestion(event, ctx)
        if row is None:
            await ctx.respond(ctx.text(GONE))
            return None
        if row.outcome in final:
            await ctx.respond(ctx.text(ANSWERED, person=Mention(user_id=row.person_id)))
            return None
        return row

    async def on_connect(self, event: InboundEvent, ctx: Context) -> None:
        row = await self._own_suggestion(event, ctx, final=("connected",))
        if row is None:
            return
        narration = await intros.narration(ctx, row.narration_id)
        if narration is None:
            await ctx.respond(ctx.text(GONE))
            return
        await self.engine.store.set_outcome(row.id or 0, "connected")
        other = None
        if row.reason == "similar" and row.item_ref.startswith("narration:"):
            other_id = as_number(row.item_ref.removeprefix("narration:"))
            other = await intros.narration(ctx, other_id) if other_id is not None else None
        await intros.introduce(ctx, narration, row.person_id, suggested_by="bot", other=other)
        await self._mark_card(ctx, row, CONNECTED_STATE)

    async def on_dismiss(self, event: InboundEvent, ctx: Context) -> None:
        row = await self._own_suggestion(event, ctx, final=("connected", "not_relevant"))
        if row is None:
            return
        await self.engine.store.set_outcome(row.id or 0, "not_relevant")
        await ctx.respond(ctx.text(DISMISSED, person=Mention(user_id=row.person_id)))
        await self._mark_card(ctx, row, DISMISSED_STATE)

    async def _mark_card(self, ctx: Context, row: MatchSuggestion, state: str) -> None:
        """The suggestion's buttons give way to its new state, on the clicked message: for
        the clicker at once, and in place for everyone who sees the message."""
        message_id = ctx.event.action.message_id if ctx.event.action else None
        found = await ctx.outbox.sent_message(ctx.event.workspace_id, message_id or "")
        if found is None or not message_id:
            return
        dest, message = found
        # the card speaks to its narrator, who is the one clicking
        line = ContextBlock(parts=fill(ctx.t.gettext(state), person=Mention(user_id=row.person_id)))
        blocks = tuple(
            line
            if isinstance(b, Actions)
            and any(
                isinstance(e, Button)
                and e.value == str(row.id)
                and e.action_id in ("matching.connect", "matching.dismiss")
                for e in b.elements
            )
            else b
            for b in message.blocks
        )
        if blocks == message.blocks:
            return
        shown = message.model_copy(update={"blocks": blocks})
        # An only-you message cannot be changed for others (the platform shows it to one).
        shared = (
            None
            if dest.ephemeral_user
            else Destination(dest.workspace_id, dest.channel_id, thread_id=dest.thread_id)
        )
        await ctx.show(shown, shared_at=shared, message_id=message_id, personal=for_everyone(shown))

    async def on_view(self, event: InboundEvent, ctx: Context) -> None:
        """One viewer's version of a suggestion card: its narrator gets the buttons."""
        message_id = event.action.message_id if event.action else None
        found = await ctx.outbox.sent_message(event.workspace_id, message_id or "")
        narration = await intros.narration(
            ctx, as_number(event.action.value if event.action else None) or 0
        )
        if found is None or narration is None:
            return
        message = found[1]
        await ctx.show(
            for_everyone(message) if narration.author_id == event.user.user_id else message
        )


def suggestion_message(
    t: Translator,
    narration: Narration,
    found: list[Scored],
    rows: list[MatchSuggestion],
    now: datetime,
    readers: Translator | None = None,
) -> OutboundMessage:
    """The narrator's suggestions (in `t`, the narrator's language). In a public thread the
    heading and the buttons for other readers ("I've done this", "I know someone") are in
    `readers`, the channel's language; the heading in both when they differ."""
    readers = readers or t
    blocks: list[Section | Actions] = []
    similar = [(s, r) for s, r in zip(found, rows, strict=True) if s.item.kind == "narration"]
    knows = [(s, r) for s, r in zip(found, rows, strict=True) if s.item.kind != "narration"]
    if similar:
        heading = t.gettext(SIMILAR)
        if readers.lang != t.lang:
            heading = f"{readers.gettext(SIMILAR)} / {heading}"
        blocks.append(Section(parts=(Strong(text=heading),)))
    for scored, row in similar:
        person = Mention(user_id=scored.item.author_id)
        when = ago(t, scored.item.created_at, now)
        line = fill(
            t.gettext(SIMILAR_LINE), person=person, when=when, quote=snippet(scored.item.text)
        )
        blocks += [Section(parts=line), _buttons(t, row)]
    for scored, row in knows:
        person = Mention(user_id=scored.item.author_id)
        line = fill(t.gettext(KNOWS), person=person, topic=scored.item.text)
        blocks += [Section(parts=line), _buttons(t, row)]
    value = str(narration.id)
    # "Connect me" / "Not relevant" are the narrator's: others see the suggestion only.
    refresh = Refresh(action_id=VIEW, value=value, viewers=(narration.author_id,))
    blocks.append(
        Actions(
            elements=(
                Button(label=readers.gettext(DONE_THIS), action_id="matching.done", value=value),
                Button(
                    label=readers.gettext(KNOW_SOMEONE), action_id="matching.someone", value=value
                ),
            )
        )
    )
    return OutboundMessage(blocks=tuple(blocks), refresh=refresh)


def for_everyone(message: OutboundMessage) -> OutboundMessage:
    """The message with every button shown, whoever they are meant for."""
    return message.model_copy(
        update={
            "blocks": tuple(
                b.model_copy(update={"viewers_only": False}) if isinstance(b, Actions) else b
                for b in message.blocks
            )
        }
    )


def _buttons(t: Translator, row: MatchSuggestion) -> Actions:
    value = str(row.id)
    return Actions(
        elements=(
            Button(
                label=t.gettext(CONNECT), action_id="matching.connect", value=value, style="primary"
            ),
            Button(label=t.gettext(NOT_RELEVANT), action_id="matching.dismiss", value=value),
        ),
        viewers_only=True,
    )
