"""What admins see about introductions: one shared conversation, or a DM each and why.

Slack opens one group DM with both people; Teams does so only where the tenant lets the
bot create group chats (adapters/teams/group_chats.py), and otherwise falls back to each
person's personal chat. A port that may fall back reports it (`GroupConversationReporter`);
`/wol config show` for the whole workspace shows it, in the admin's language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.i18n import N_
from bot.messages import Section, Strong, fill
from bot.ports import GroupConversationReporter, GroupConversations

if TYPE_CHECKING:
    from bot.context import Context

SHARED = N_("{title} one conversation with both people.")
FALLBACK_PERMISSION = N_(
    "{title} each person gets them in their own chat with the bot, because "
    "the app lacks the permission {permission} (or an administrator's "
    "consent to it), since {since}. Tried again after {retry}."
)
FALLBACK_FAILURE = N_(
    "{title} each person gets them in their own chat with the bot, because "
    "creating a group chat failed ({detail}), since {since}. Tried again "
    "after {retry}."
)
FALLBACK_SIGNIN = N_(
    "{title} each person gets them in their own chat with the bot, because the "
    "sign-in service refused the app's credentials here ({detail}: a wrong "
    "client secret, or no administrator has consented to the app in this "
    "organisation yet), since {since}. Tried again after {retry}."
)
FALLBACK_NOT_CONFIGURED = N_(
    "{title} each person gets them in their own chat with the bot: "
    "one shared conversation needs the app's client secret, which this "
    "installation lacks."
)
FALLBACK_OFF = N_(
    "{title} each person gets them in their own chat with the bot (group chats "
    "are switched off in this installation)."
)
TITLE = N_("Introductions:")
TIME = "%Y-%m-%d %H:%M UTC"  # as the change history shows times


async def line(ctx: Context, platform: str, workspace_id: str) -> Section | None:
    """The admin's line about introductions, where the platform's port reports it."""
    port = ctx.ports.get(platform)
    if not isinstance(port, GroupConversationReporter):
        return None
    return render(ctx, await port.group_conversations(workspace_id))


def render(ctx: Context, state: GroupConversations) -> Section:
    t = ctx.t.gettext
    title = Strong(text=t(TITLE))
    if state.shared:
        return Section(parts=fill(t(SHARED), title=title))
    since = state.since.strftime(TIME) if state.since else "—"
    retry = state.retry_at.strftime(TIME) if state.retry_at else "—"
    if state.cause == "permission" and state.permission:
        return Section(
            parts=fill(
                t(FALLBACK_PERMISSION),
                title=title,
                permission=Strong(text=state.permission),
                since=since,
                retry=retry,
            )
        )
    if state.cause == "off":
        return Section(parts=fill(t(FALLBACK_OFF), title=title))
    if state.cause == "not_configured":
        return Section(parts=fill(t(FALLBACK_NOT_CONFIGURED), title=title))
    detail = f"HTTP {state.status}" if state.status else "—"
    template = FALLBACK_SIGNIN if state.cause == "signin" else FALLBACK_FAILURE
    return Section(parts=fill(t(template), title=title, detail=detail, since=since, retry=retry))
