"""`/wol help` (and `/wol` alone): what the bot can do, in the person's language. In the
personal chat it carries the "Narrate my work" button (share_work.narrate_button)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.commands import COMMAND, Commands, Subcommand
from bot.events import InboundEvent
from bot.features.share_work import narrate_button
from bot.i18n import N_
from bot.messages import Actions, Divider, OutboundMessage, Section, Strong, fill
from bot.messages import Context as ContextBlock
from bot.router import Router

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

TITLE = N_(
    "Hi, I'm wolbot. I help colleagues work out loud: share what you are working on, "
    "find who already did it, and ask without hesitation."
)
NARRATE = N_(
    "Start a message with {phrase} in a channel I'm in, or just tell me in a direct "
    "message. I'll keep it, so colleagues working on the same thing can find you."
)
NARRATE_PHRASE = N_("I'm working on …")
COMMANDS = N_("Commands:")
FOOTER = N_("Everything also works in Dutch: {example}.")


def register(services: Services, router: Router) -> None:
    commands = router.commands

    async def on_help(event: InboundEvent, ctx: Context, args: str) -> None:
        await ctx.respond(help_message(ctx, commands))

    commands.register(
        Subcommand(
            names={"en": ("help", "?"), "nl": ("hulp",)},
            handler=on_help,
            summary=N_("Show this overview"),
            order=999,
        ),
        default=True,
    )


def help_message(ctx: Context, commands: Commands) -> OutboundMessage:
    t = ctx.t.gettext
    lang = ctx.t.lang
    lines: list[Section | ContextBlock | Divider | Actions] = [
        Section(parts=(t(TITLE),)),
        Section(parts=fill(t(NARRATE), phrase=Strong(text=t(NARRATE_PHRASE)))),
    ]
    if ctx.event.is_dm:
        lines.append(Actions(elements=(narrate_button(ctx.t),)))
    lines += [Divider(), Section(parts=(Strong(text=t(COMMANDS)),))]
    for sub in commands.subcommands:
        if sub.hidden or (sub.admin_only and not ctx.is_admin):
            continue
        names = sub.names.get(lang) or next(iter(sub.names.values()))
        usage = f" {t(sub.usage)}" if sub.usage else ""
        lines.append(
            Section(parts=(Strong(text=f"/{COMMAND} {names[0]}{usage}"), f" — {t(sub.summary)}"))
        )
    other = "nl" if lang == "en" else "en"
    example = next(
        (
            s.names[other][0]
            for s in commands.subcommands
            if other in s.names and s.names[other] != s.names.get(lang)
        ),
        None,
    )
    if lang == "en" and example:
        lines.append(
            ContextBlock(parts=fill(t(FOOTER), example=Strong(text=f"/{COMMAND} {example}")))
        )
    return OutboundMessage(blocks=tuple(lines))
