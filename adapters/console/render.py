"""OutboundMessage → console text. Buttons and choices are numbered so `!N` can use them:
`[3: Connect me]` is clicked with `!3`, `[4: Pick a person ▾ @name]` with `!4 @bram`,
`[5: Language ▾ en / nl]` with `!5 nl`."""

from __future__ import annotations

from bot.messages import Actions, Button, OutboundMessage, Select


def render(message: OutboundMessage, first_button: int = 1) -> tuple[str, list[Button | Select]]:
    elements: list[Button | Select] = []
    lines: list[str] = []
    for block in message.blocks:
        if isinstance(block, Actions):
            labels = []
            for element in block.elements:
                number = first_button + len(elements)
                if isinstance(element, Select) and not element.people and not element.options:
                    continue  # nothing to choose
                elements.append(element)
                if isinstance(element, Button):
                    labels.append(f"[{number}: {element.label}]")
                elif element.people:
                    labels.append(f"[{number}: {element.placeholder} ▾ @name]")
                else:
                    choices = " / ".join(o.label for o in element.options)
                    labels.append(f"[{number}: {element.placeholder} ▾ {choices}]")
            lines.append(" ".join(labels))
        else:
            lines.append(OutboundMessage(blocks=(block,)).plain_text())
    return "\n".join(lines), elements
