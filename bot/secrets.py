"""The server's secret key and everything derived from it: one key hierarchy.

`WOLBOT_SECRET_KEY` (any long random string) is the root. Each purpose below gets its own
key derived with HKDF-SHA256 (salt "wolbot", info = the purpose), so a hash or ciphertext
made for one purpose says nothing about another, and nothing is ever encrypted with the
root itself. Replicas must share the root. For the embedded default (console + a local
SQLite file) a root is generated once into `wolbot.secret` (mode 600) beside the working
directory, with a warning.

Rotation (`wolbot secrets rotate`, docs/operations.md): start every replica with the new
root in `WOLBOT_SECRET_KEY` and the old one in `WOLBOT_SECRET_KEY_PREVIOUS`. New data is
written with the new key; stored data is read with either (`decrypt`, `macs`). The command
then re-encrypts what is stored (`bot/store/secret_rotation.py`), after which the previous
key can be removed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.config import Settings
from bot.errors import ConfigError

log = logging.getLogger(__name__)
KEY_FILE = "wolbot.secret"
ROOT_ENV = "WOLBOT_SECRET_KEY"
PREVIOUS_ENV = "WOLBOT_SECRET_KEY_PREVIOUS"

# Every purpose a key is derived for, and what it protects (docs/privacy.md lists the same).
ANON_ASKER = "ask-anon-ref"
ANON_CONTACT = "ask-anon-contact"
ANON_EVENT = "anonymous-event-id"
INBOX_EVENT = "inbox-event-id"
SLACK_TOKENS = "slack-tokens"
INTERACTION_ADDRESSEE = "interaction-addressee"
PURPOSES: Mapping[str, str] = {
    ANON_ASKER: "keyed hash of an anonymous asker (workspace + user id) on their questions: "
    "the daily limit and 'only the asker may reply or mark answered'",
    ANON_CONTACT: "encryption of an anonymous asker's user id on their questions, to relay "
    "answers to them",
    ANON_EVENT: "keyed hash of an anonymous asker's platform event id (de-duplication and "
    "idempotency keys)",
    INBOX_EVENT: "keyed hash of a platform event id in the inbox (its one duplicate check, "
    "kept for 7 days after handling)",
    SLACK_TOKENS: "encryption of Slack bot and refresh tokens of OAuth installations",
    INTERACTION_ADDRESSEE: "keyed tag in the id of a button shown to one person (the person "
    "picker), so only they can use it (bot/authorisation.py)",
}

# Before one hierarchy, Slack tokens had a key of their own (SLACK_TOKEN_ENCRYPTION_KEY, else
# SLACK_CLIENT_SECRET, with these HKDF parameters). It is still accepted for reading until
# `wolbot secrets rotate` has re-encrypted the tokens with the root's key.
LEGACY_SLACK_ENV = ("SLACK_TOKEN_ENCRYPTION_KEY", "SLACK_CLIENT_SECRET")


def _legacy_slack_key(secret: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"wolbot-slack-tokens", info=b"bot-token"
    ).derive(secret.encode())


class Keyring:
    """Keys derived from the root (and, during a rotation, from the previous root)."""

    def __init__(
        self,
        root: str,
        previous: tuple[str, ...] = (),
        legacy: Mapping[str, tuple[bytes, ...]] | None = None,
    ) -> None:
        for value in (root, *previous):
            if len(value) < 16:
                raise ConfigError(f"{ROOT_ENV}: use at least 16 random characters")
        self._roots = tuple(dict.fromkeys((root, *previous)))  # current first, no repeats
        self._legacy = dict(legacy or {})

    @property
    def rotating(self) -> bool:
        """True while a previous root is accepted for reading."""
        return len(self._roots) > 1

    @lru_cache(maxsize=64)  # noqa: B019 (one keyring per process; a handful of purposes)
    def _key(self, purpose: str, generation: int = 0) -> bytes:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown key purpose {purpose!r}: add it to bot.secrets.PURPOSES")
        return HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"wolbot", info=purpose.encode()
        ).derive(self._roots[generation].encode())

    def _fernet(self, purpose: str, generation: int) -> Fernet:
        return Fernet(base64.urlsafe_b64encode(self._key(purpose, generation)))

    def _readers(self, purpose: str) -> list[Fernet]:
        keys = [self._fernet(purpose, g) for g in range(len(self._roots))]
        keys += [Fernet(base64.urlsafe_b64encode(k)) for k in self._legacy.get(purpose, ())]
        return keys

    def mac(self, purpose: str, *parts: str) -> str:
        """A keyed hash with the current key: the same input gives the same value, and
        without the key it can be neither read back nor recomputed."""
        return self._mac(purpose, 0, parts)

    def macs(self, purpose: str, *parts: str) -> list[str]:
        """The keyed hash under every accepted key, current first (to find stored ones)."""
        return [self._mac(purpose, g, parts) for g in range(len(self._roots))]

    def _mac(self, purpose: str, generation: int, parts: tuple[str, ...]) -> str:
        message = "\x1f".join(parts).encode()
        return hmac.new(self._key(purpose, generation), message, hashlib.sha256).hexdigest()

    def encrypt(self, purpose: str, text: str) -> str:
        """Fernet (AES-128-CBC + HMAC-SHA256) with the current key of `purpose`."""
        return self._fernet(purpose, 0).encrypt(text.encode()).decode()

    def decrypt(self, purpose: str, token: str) -> str | None:
        """The plain text, read with any accepted key; None when no key fits."""
        try:
            return MultiFernet(self._readers(purpose)).decrypt(token.encode()).decode()
        except (InvalidToken, ValueError):
            return None

    def is_current(self, purpose: str, token: str) -> bool:
        """Whether `token` is already encrypted with the current key."""
        try:
            self._fernet(purpose, 0).decrypt(token.encode())
        except (InvalidToken, ValueError):
            return False
        return True


def keyring_for(settings: Settings) -> Keyring:
    previous = tuple(v for v in (settings.secret(PREVIOUS_ENV),) if v)
    legacy = {
        SLACK_TOKENS: tuple(
            _legacy_slack_key(v) for v in (settings.secret(name) for name in LEGACY_SLACK_ENV) if v
        )
    }
    root = settings.secret(ROOT_ENV)
    if root:
        return Keyring(root, previous, legacy)
    if not settings.database_url.startswith("sqlite"):
        raise ConfigError(
            f"{ROOT_ENV} must be set when the database is shared "
            "(PostgreSQL): every replica needs the same key"
        )
    path = Path(KEY_FILE)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        log.warning(
            "no %s set: generated one in %s (keep it with the database)", ROOT_ENV, path.resolve()
        )
    return Keyring(path.read_text().strip(), previous, legacy)
