"""Errors the core distinguishes. Anything else is a bug: logged, and answered with an apology."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.messages import Inline, Parts, Strong, fill

if TYPE_CHECKING:
    from bot.i18n import CommandExample, Translator


class UserError(Exception):
    """Bad input from a person: answered with a friendly, translated message.

    `msgid` is an English gettext msgid (marked with `N_` where it is defined);
    `values` fill its `{placeholders}` after translation (a `CommandExample` in the
    reader's language).
    """

    def __init__(self, msgid: str, **values: Inline | int | CommandExample) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.values = values

    def parts(self, t: Translator) -> Parts:
        """The message in the reader's language."""
        from bot.i18n import CommandExample

        values = {
            name: Strong(text=value.render(t)) if isinstance(value, CommandExample) else value
            for name, value in self.values.items()
        }
        return fill(t.gettext(self.msgid), **values)


class StoreUnavailable(Exception):
    """The database cannot be reached. Adapters answer non-2xx so the platform retries."""


class ConfigError(Exception):
    """app.yaml (or the environment) is invalid; the message names the key. `problems` holds
    each problem as one line, `key: what is wrong (what is expected)`."""

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems if problems is not None else [message]


class ListenError(Exception):
    """`wolbot serve` cannot listen on its address: `reason` says why in a few words,
    `setting` which part to change ("host" or "port")."""

    def __init__(self, host: str, port: int, reason: str, setting: str) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")
        self.host = host
        self.port = port
        self.reason = reason
        self.setting = setting
