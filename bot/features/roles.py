"""Who may do what. Admins: the platform's workspace admins/owners and the people listed
in app.yaml under `workspaces.<id>.admins`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.features.commands import command_text
from bot.i18n import N_

if TYPE_CHECKING:
    from bot.context import Context

ADMIN_ONLY = N_(
    "Only wolbot admins can use {command}. Admins are the workspace's admins and "
    "owners and the people listed in the bot's configuration; ask one of them."
)


async def refuse_admin_only(ctx: Context, name: str) -> None:
    await ctx.respond(ctx.text(ADMIN_ONLY, command=command_text(name)))
