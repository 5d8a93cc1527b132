"""Names for mentions that arrive without one: Teams shows the text inside the mention
tag, so a bare "29:…" id would be all people see."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.messages import Context, Mention, OutboundMessage, Quote, Section


def mention_parts(message: OutboundMessage) -> list[Mention]:
    found: list[Mention] = []
    for block in message.blocks:
        if isinstance(block, Section | Context):
            found.extend(p for p in block.parts if isinstance(p, Mention))
        elif isinstance(block, Quote) and block.author is not None:
            found.append(block.author)
    return found


def rename_mentions(message: OutboundMessage, names: Mapping[str, str]) -> OutboundMessage:
    def rename(part: Any) -> Any:
        unnamed = isinstance(part, Mention) and part.name in (None, "", part.user_id)
        if unnamed and part.user_id in names:
            return part.model_copy(update={"name": names[part.user_id]})
        return part

    blocks: list[Any] = []
    for block in message.blocks:
        if isinstance(block, Section | Context):
            block = block.model_copy(update={"parts": tuple(rename(p) for p in block.parts)})
        elif isinstance(block, Quote) and block.author is not None:
            block = block.model_copy(update={"author": rename(block.author)})
        blocks.append(block)
    return message.model_copy(update={"blocks": tuple(blocks)})
