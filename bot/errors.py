"""Errors the core distinguishes. Anything else is a bug: logged, and answered with an apology."""

from __future__ import annotations

from bot.messages import Inline


class UserError(Exception):
    """Bad input from a person: answered with a friendly, translated message.

    `msgid` is an English gettext msgid (marked with `N_` where it is defined);
    `values` fill its `{placeholders}` after translation.
    """

    def __init__(self, msgid: str, **values: Inline | int) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.values = values


class StoreUnavailable(Exception):
    """The database cannot be reached. Adapters answer non-2xx so the platform retries."""


class ConfigError(Exception):
    """app.yaml (or the environment) is invalid; the message names the key."""
