"""The `/wol` command: routed to the subcommand features registered (bot/commands.py), with
an answer for unknown ones; helpers to show a command in the reader's words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.commands import COMMAND, Commands
from bot.events import EventKind, InboundEvent
from bot.i18n import N_, CommandExample, Translator
from bot.messages import Context as ContextBlock
from bot.messages import OutboundMessage, Section, Strong, fill
from bot.roles import admin_only
from bot.router import Router

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

UNKNOWN = N_("I don't know the command {command}.")
DID_YOU_MEAN = N_("Did you mean {suggestion}?")
SEE_HELP = N_("Type {help} to see everything I can do.")
EX_HELP = N_("/wol help")


def register(services: Services, router: Router) -> None:
    """`/wol …` to the subcommand it names; other slash commands get an answer too."""
    commands = router.commands

    async def on_command(event: InboundEvent, ctx: Context) -> None:
        await handle_command(event, ctx, commands)

    router.add(is_wol_command, on_command, name="commands")
    router.add(is_other_command, handle_other_command, name="commands.other")


def is_wol_command(event: InboundEvent) -> bool | None:
    return True if event.kind is EventKind.COMMAND and event.command == COMMAND else None


def is_other_command(event: InboundEvent) -> bool | None:
    return True if event.kind is EventKind.COMMAND and event.command != COMMAND else None


async def handle_other_command(event: InboundEvent, ctx: Context) -> None:
    """Only the console can deliver commands that are not ours; answer rather than stay mute."""
    word = Strong(text=f"/{event.command}")
    await ctx.respond(
        OutboundMessage.of(
            Section(parts=fill(ctx.t.gettext(UNKNOWN), command=word)),
            ContextBlock(parts=fill(ctx.t.gettext(SEE_HELP), help=example(ctx.t, EX_HELP))),
        )
    )


def command_text(name: str) -> Strong:
    return Strong(text=f"/{COMMAND} {name}".strip())


def example(t: Translator, msgid: str, **values: str | int) -> Strong:
    """A command as the reader types it: the msgid is the English command ("/wol me pause
    14"), its translation uses that language's words ("/wol ik pauze 14"). Values fill
    `{name}` placeholders (a question number, a #channel, a setting key)."""
    return Strong(text=CommandExample.of(msgid, **values).render(t))


async def handle_command(event: InboundEvent, ctx: Context, commands: Commands) -> None:
    invocation = commands.parse(event.text)
    ctx.hint_language(invocation.language)
    if invocation.sub is None:
        await ctx.respond(unknown_message(ctx, commands, invocation.name))
        return
    if invocation.sub.admin_only and not ctx.is_admin:
        await ctx.respond(admin_only(ctx.t, command_text(invocation.name)))
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
