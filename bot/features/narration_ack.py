"""How a narration is acknowledged, without adding noise to the conversation.

`narrations.ack` (per workspace or channel): `reply` puts the visible mark under the
message (a reaction; where bots cannot react the adapter posts a short reply instead),
`none` leaves the message alone, `dm` sends the author a short note in their personal
chat. Unset, a chat tool whose reactions add no message reacts and the others stay silent
(a reply per narration would be one more message for everyone in the channel). In a
personal chat the bot always answers: nobody else is there to disturb.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.i18n import N_
from bot.messages import OutboundMessage, Quote, Section, fill

if TYPE_CHECKING:
    from bot.context import Context
    from bot.store.tables import Narration

ACK_EMOJI = "memo"
REPLY, NONE, DM = "reply", "none", "dm"
NOTED = N_("Noted, thanks for working out loud:")


async def ack_mode(ctx: Context) -> str:
    """`reply`, `none` or `dm` for the event's conversation."""
    event = ctx.event
    if event.is_dm:
        return REPLY
    mode = await ctx.config.value(
        event.workspace_id, "narrations.ack", event.conversation.id, event.conversation.name
    )
    if mode:
        return str(mode)
    port = ctx.ports.get(event.platform)
    # A port whose `react` has to post a message says so; a real reaction stays quiet.
    return NONE if getattr(port, "reactions_post_messages", False) else REPLY


async def acknowledge(ctx: Context, narration: Narration) -> None:
    mode = await ack_mode(ctx)
    if mode == REPLY:
        await ctx.react(ACK_EMOJI)
    elif mode == DM:
        await ctx.dm(
            (ctx.event.user.user_id,),
            OutboundMessage.of(
                Section(parts=fill(ctx.t.gettext(NOTED))), Quote(text=narration.topic)
            ),
        )
