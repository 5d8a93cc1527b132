"""The console adapter: talk to wolbot from a terminal or a pipe, no chat tool needed."""

from adapters.console.runner import run_chat

__all__ = ["run_chat"]
