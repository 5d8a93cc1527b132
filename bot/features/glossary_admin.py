"""`/wol config glossary …` (Dutch `/wol instellingen woordenlijst …`): admins teach the bot
the organisation's jargon — add, remove, list. The rules and the audit trail are
bot/glossary.py's; matching hears of every change and re-reads the narrations it touches."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import UserError
from bot.events import InboundEvent
from bot.features.commands import example
from bot.glossary import EX_ADD, EX_REMOVE, NO_TERM
from bot.i18n import N_, CommandExample
from bot.messages import Context as ContextBlock
from bot.messages import OutboundMessage, Section, Strong, fill

if TYPE_CHECKING:
    from bot.context import Context

VERBS = {
    "add": ("add", "toevoegen"),
    "remove": ("remove", "verwijder", "verwijderen"),
    "list": ("list", "lijst"),
}
SYNTAX = N_("Write the term, an equals sign and what it means, for example: {example}")
ADDED = N_(
    "{term} is in the glossary now: {meaning}. When I match work, I read {term} this "
    "way, in earlier narrations too."
)
REMOVED = N_("{term} is no longer in the glossary.")
TITLE = N_("Glossary: the organisation's own words, as matching reads them")
FROM_YAML = N_("(app.yaml)")
NONE = N_("The glossary is empty. Teach me a term with {example}.")
FOOTER = N_("Add a term with {add}; remove one with {remove}.")
EX_REMOVE_HIX = N_("/wol config glossary remove HiX")


async def on_glossary(event: InboundEvent, ctx: Context, args: str) -> None:
    words = args.split(maxsplit=1)
    verb = next((v for v, names in VERBS.items() if words and words[0].lower() in names), None)
    if not words or verb == "list":
        await _list(event, ctx)
        return
    if verb is None:
        raise UserError(SYNTAX, example=CommandExample.of(EX_ADD))
    rest = words[1] if len(words) > 1 else ""
    glossary = ctx.glossary
    if verb == "add":
        term, equals, meaning = rest.partition("=")
        if not equals:
            raise UserError(SYNTAX, example=CommandExample.of(EX_ADD))
        entry = await glossary.add(
            event.workspace_id, term, meaning, actor_id=event.user.user_id, now=ctx.now
        )
        await ctx.respond(ctx.text(ADDED, term=Strong(text=entry.term), meaning=entry.meaning))
        return
    if not rest.strip():
        raise UserError(NO_TERM, example=CommandExample.of(EX_REMOVE_HIX))
    entry = await glossary.remove(
        event.workspace_id, rest, actor_id=event.user.user_id, now=ctx.now
    )
    await ctx.respond(ctx.text(REMOVED, term=Strong(text=entry.term)))


async def _list(event: InboundEvent, ctx: Context) -> None:
    entries = await ctx.glossary.entries(event.workspace_id)
    if not entries:
        await ctx.respond(ctx.text(NONE, example=example(ctx.t, EX_ADD)))
        return
    blocks: list[Section | ContextBlock] = [Section(parts=(Strong(text=ctx.t.gettext(TITLE)),))]
    for entry in entries:
        source = f"  {ctx.t.gettext(FROM_YAML)}" if entry.from_yaml else ""
        blocks.append(Section(parts=(Strong(text=entry.term), f" = {entry.meaning}{source}")))
    blocks.append(
        ContextBlock(
            parts=fill(
                ctx.t.gettext(FOOTER),
                add=example(ctx.t, EX_ADD),
                remove=example(ctx.t, EX_REMOVE, term=entries[0].term),
            )
        )
    )
    await ctx.respond(OutboundMessage(blocks=tuple(blocks)))
