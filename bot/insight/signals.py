"""The signals that count, and the level each one shows (docs/insight.md says where each
comes from on each platform)."""

from __future__ import annotations

from bot.i18n import N_

CONSUME, CONTRIBUTE, CREATE = 1, 2, 3
LEVELS = (CONSUME, CONTRIBUTE, CREATE)
LEVEL_NAMES = {CONSUME: "consume", CONTRIBUTE: "contribute", CREATE: "create"}
LEVEL_LABELS = {CONSUME: N_("consume"), CONTRIBUTE: N_("contribute"), CREATE: N_("create")}

# signal -> (level, msgid describing it for the person's own stats)
SIGNALS: dict[str, tuple[int, str]] = {
    "home": (CONSUME, N_("opened the bot's home")),
    "click": (CONSUME, N_("followed up on a suggestion or summary")),
    "reaction": (CONTRIBUTE, N_("reacted")),
    "reply": (CONTRIBUTE, N_("replied in a thread")),
    "offer": (CONTRIBUTE, N_('said "I\'ve done that" or "I know someone"')),
    "answer": (CONTRIBUTE, N_("answered a question")),
    "acknowledgement": (CONTRIBUTE, N_("acknowledged a question")),
    "thanks": (CONTRIBUTE, N_("thanked someone")),
    "narration": (CREATE, N_("shared what you are working on")),
    "dialogue_answer": (CREATE, N_("answered a dialogue question")),
    "question": (CREATE, N_("asked a question")),
}


def level_of(signal: str) -> int:
    try:
        return SIGNALS[signal][0]
    except KeyError:
        raise ValueError(f"unknown participation signal {signal!r}") from None
