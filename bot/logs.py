"""Logging for the CLI: one format, and no library that writes people's data into the log.

Some libraries log whole payloads below WARNING: aiosqlite every SQL statement with its
parameters (DEBUG), SQLAlchemy the same (INFO, as soon as the root logger is at INFO),
slack_bolt, slack_sdk and msrest request and response bodies (DEBUG). Those name people,
carry message text and would tie an anonymous question to its asker (docs/privacy.md), so
they are held at WARNING whatever level the bot itself runs at.
"""

from __future__ import annotations

import logging
import sys

PAYLOAD_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool", "psycopg",
                   "slack_bolt", "slack_sdk", "botbuilder", "msrest")


def quiet_payload_loggers() -> None:
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def configure(level: str) -> None:
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_payload_loggers()
