"""Where content may be shown. One rule for every feature (suggestions, summaries, digests).

- Public-channel content may appear anywhere in the same workspace.
- Private-channel (and group) content may appear only back in that same conversation.
- DM content may appear only in a DM with its author (the bot talking to them privately).
- Nothing ever crosses workspaces (tenants).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Place:
    """Where something is (or would be) shown."""

    workspace_id: str
    channel_id: str | None
    visibility: str  # public | private | dm
    audience_user_id: str | None = None  # for a DM: the person the bot is talking to


def may_show(content: Place, author_id: str, target: Place) -> bool:
    if content.workspace_id != target.workspace_id:
        return False
    if content.visibility == "public":
        return True
    if content.visibility == "private":
        return target.visibility == "private" and target.channel_id == content.channel_id
    if content.visibility == "dm":
        return target.visibility == "dm" and target.audience_user_id == author_id
    return False
