"""OutboundMessage → console text. Buttons are numbered so `!N` can click them."""

from __future__ import annotations

from bot.messages import Actions, Button, OutboundMessage


def render(message: OutboundMessage, first_button: int = 1) -> tuple[str, list[Button]]:
    buttons: list[Button] = []
    lines: list[str] = []
    for block in message.blocks:
        if isinstance(block, Actions):
            labels = []
            for element in block.elements:
                if isinstance(element, Button):
                    buttons.append(element)
                    labels.append(f"[{first_button + len(buttons) - 1}: {element.label}]")
                else:
                    labels.append(f"[{element.placeholder} ▾]")
            lines.append(" ".join(labels))
        else:
            lines.append(OutboundMessage(blocks=(block,)).plain_text())
    return "\n".join(lines), buttons
