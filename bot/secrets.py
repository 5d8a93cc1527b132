"""The server's secret key and what is derived from it: keyed hashes and encryption.

`WOLBOT_SECRET_KEY` (any long random string) is the root; each purpose gets its own key
derived with HKDF, so a hash for one purpose says nothing about another. Replicas must
share the key. For the embedded default (console + a local SQLite file) a key is generated
once into `wolbot.secret` (mode 600) beside the working directory, with a warning.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.config import Settings
from bot.errors import ConfigError

log = logging.getLogger(__name__)
KEY_FILE = "wolbot.secret"


class Keyring:
    def __init__(self, root: str) -> None:
        if len(root) < 16:
            raise ConfigError("WOLBOT_SECRET_KEY: use at least 16 random characters")
        self._root = root.encode()

    @lru_cache(maxsize=32)  # noqa: B019 (one keyring per process; a handful of purposes)
    def _key(self, purpose: str) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"wolbot",
                    info=purpose.encode()).derive(self._root)

    def mac(self, purpose: str, *parts: str) -> str:
        """A keyed hash: the same input gives the same value, and without the key it can be
        neither read back nor recomputed."""
        message = "\x1f".join(parts).encode()
        return hmac.new(self._key(purpose), message, hashlib.sha256).hexdigest()

    def encrypt(self, purpose: str, text: str) -> str:
        return Fernet(base64.urlsafe_b64encode(self._key(purpose))).encrypt(text.encode()).decode()

    def decrypt(self, purpose: str, token: str) -> str | None:
        try:
            return Fernet(base64.urlsafe_b64encode(self._key(purpose))).decrypt(
                token.encode()).decode()
        except (InvalidToken, ValueError):
            return None


def keyring_for(settings: Settings) -> Keyring:
    root = settings.secret("WOLBOT_SECRET_KEY")
    if root:
        return Keyring(root)
    if not settings.database_url.startswith("sqlite"):
        raise ConfigError("WOLBOT_SECRET_KEY must be set when the database is shared "
                          "(PostgreSQL): every replica needs the same key")
    path = Path(KEY_FILE)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        log.warning("no WOLBOT_SECRET_KEY set: generated one in %s (keep it with the database)",
                    path.resolve())
    return Keyring(path.read_text().strip())
