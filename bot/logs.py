"""Logging for every command: text (default) or one JSON object per line
(`WOLBOT_LOG_FORMAT=json`), with the ids of the work at hand where known, and no library
that writes people's data into the log.

Some libraries log whole payloads below WARNING: aiosqlite every SQL statement with its
parameters (DEBUG), SQLAlchemy the same (INFO, as soon as the root logger is at INFO),
slack_bolt, slack_sdk and msrest request and response bodies (DEBUG). Those name people,
carry message text and would tie an anonymous question to its asker (docs/privacy.md), so
they are held at WARNING whatever level the bot itself runs at.

The ids come from a context variable the router, the outbox worker and the Slack inbox set
(`log_ids(...)`), so a line written anywhere while an event is handled carries its
event and workspace id. Message text and personal data are never added here; INFO lines
must not carry them either (they are for DEBUG).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_IDS: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "wolbot_log_ids", default=None
)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
PAYLOAD_LOGGERS = (
    "aiosqlite",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "psycopg",
    "slack_bolt",
    "slack_sdk",
    "botbuilder",
    "msrest",
)
# Loggers whose INFO lines are noise for an operator (kept at WARNING unless DEBUG).
QUIET = (
    "apscheduler",
    "matplotlib",
    "matplotlib.font_manager",
    "aiohttp.access",
    "alembic.runtime.migration",
)


def quiet_payload_loggers() -> None:
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


@contextmanager
def log_ids(**ids: object) -> Iterator[None]:
    """Add ids (event_id, workspace_id, outbox_id, …) to every log line inside the block."""
    current = _IDS.get() or {}
    token = _IDS.set({**current, **{k: str(v) for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _IDS.reset(token)


def current_ids() -> dict[str, str]:
    return dict(_IDS.get() or {})


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, ids, and the exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_IDS.get() or {})
        for key in (
            "event_id",
            "workspace_id",
            "outbox_id",
            "method",
            "path",
            "status",
            "duration_ms",
        ):
            value = record.__dict__.get(key)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _IdsFilter(logging.Filter):
    """Text format: the ids at the end of the line, `[event_id=… workspace_id=…]`."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = _IDS.get()
        record.ids = (" [" + " ".join(f"{k}={v}" for k, v in ids.items()) + "]") if ids else ""
        return True


def configure_logging(level: str, fmt: str | None = None) -> None:
    """Set up the root logger on stderr (replacing earlier handlers) and quiet noisy ones."""
    handler = logging.StreamHandler(sys.stderr)
    if (fmt or "text").strip().lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT + "%(ids)s"))
        handler.addFilter(_IdsFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet_payload_loggers()
    logging.captureWarnings(True)  # warnings (e.g. matplotlib's) become log lines, not raw text
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("py.warnings").setLevel(logging.DEBUG if level == "DEBUG" else logging.ERROR)


def configure(level: str) -> None:
    """Text logs at `level` (what tools that need no JSON call)."""
    configure_logging(level.upper())
