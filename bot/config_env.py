"""The core's environment variables: checked at load like app.yaml, every problem at once.

Adapter variables (SLACK_*, MICROSOFT_APP_*) are checked by their adapter (`status(env)`,
see bot/preflight.py); the ones here belong to every deployment.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
BOOLEANS = ("1", "0", "true", "false", "yes", "no", "on", "off")
MIN_SECRET_KEY = 16
DEFAULT_DB_WAIT_SECONDS = 0.0


def normalise_database_url(url: str) -> str:
    """`postgres://…` (Heroku, Render, many PaaS) means `postgresql://…` to SQLAlchemy."""
    url = url.strip()
    for prefix in ("postgres://", "postgres+psycopg://"):
        if url.startswith(prefix):
            return "postgresql" + url[len("postgres") :]
    return url


def port_problem(name: str, value: str) -> str | None:
    """`NAME: what is wrong` when `value` is no port number (0 asks the system for a free one),
    the same rule for $WOLBOT_PORT and `serve --port`."""
    value = value.strip()
    if value.isascii() and value.isdigit() and int(value) <= 65535:
        return None
    return f"{name}: not a port number {value!r} (expected an integer from 1 to 65535, e.g. 8080)"


def env_problems(env: Mapping[str, str]) -> list[str]:
    """`VARIABLE: what is wrong (what is expected)` for each core variable that is wrong."""
    problems: list[str] = []

    def get(name: str) -> str | None:
        value = (env.get(name) or "").strip()
        return value or None

    port = get("WOLBOT_PORT")
    if port is not None and (problem := port_problem("WOLBOT_PORT", port)):
        problems.append(problem)
    level = get("WOLBOT_LOG_LEVEL")
    if level is not None and level.upper() not in LOG_LEVELS:
        problems.append(
            f"WOLBOT_LOG_LEVEL: unknown log level {level!r} "
            f"(expected one of {', '.join(LOG_LEVELS)})"
        )
    fmt = get("WOLBOT_LOG_FORMAT")
    if fmt is not None and fmt.lower() not in LOG_FORMATS:
        problems.append(f"WOLBOT_LOG_FORMAT: unknown log format {fmt!r} (expected text or json)")
    flag = get("WOLBOT_AUTO_MIGRATE")
    if flag is not None and flag.lower() not in BOOLEANS:
        problems.append(f"WOLBOT_AUTO_MIGRATE: not a yes/no value {flag!r} (expected 1 or 0)")
    wait = get("WOLBOT_DB_WAIT_SECONDS")
    if wait is not None:
        try:
            ok = 0 <= float(wait) <= 3600
        except ValueError:
            ok = False
        if not ok:
            problems.append(
                f"WOLBOT_DB_WAIT_SECONDS: not a number of seconds {wait!r} (expected 0 to 3600)"
            )
    public = get("WOLBOT_PUBLIC_URL")
    if public is not None and not public.startswith(("http://", "https://")):
        problems.append(
            f"WOLBOT_PUBLIC_URL: not a web address {public!r} "
            "(expected http(s)://host[:port], where people reach wolbot serve)"
        )
    url = normalise_database_url(get("WOLBOT_DATABASE_URL") or "sqlite:///wolbot.db")
    problems.extend(_database_problems(url))
    key = get("WOLBOT_SECRET_KEY")
    if key is not None and len(key) < MIN_SECRET_KEY:
        problems.append(
            f"WOLBOT_SECRET_KEY: too short ({len(key)} characters) "
            f"(expected at least {MIN_SECRET_KEY} random characters)"
        )
    if key is None and url.startswith("postgresql"):
        problems.append(
            "WOLBOT_SECRET_KEY: missing (expected at least 16 random characters, "
            "the same on every replica: required with PostgreSQL)"
        )
    return problems


def _database_problems(url: str) -> list[str]:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    expected = "(expected sqlite:///path.db or postgresql://user:password@host:5432/database)"
    try:
        parsed = make_url(url)
    except ArgumentError:
        return [f"WOLBOT_DATABASE_URL: not a database URL {expected}"]  # may hold a password
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        return [f"WOLBOT_DATABASE_URL: unsupported database {backend!r} {expected}"]
    if backend == "postgresql" and importlib.util.find_spec("psycopg") is None:
        return [
            "WOLBOT_DATABASE_URL: PostgreSQL needs the psycopg driver, which is not "
            "installed (expected: pip install 'wolbot[postgres]')"
        ]
    if backend == "postgresql" and not parsed.database:
        return [f"WOLBOT_DATABASE_URL: no database name {expected}"]
    return []


def log_level(env: Mapping[str, str], flag: str | None = None) -> str:
    """The level to log at: the flag, else WOLBOT_LOG_LEVEL, else WARNING (an invalid value
    falls back to WARNING; env_problems reports it)."""
    value = (flag or env.get("WOLBOT_LOG_LEVEL") or "WARNING").strip().upper()
    return value if value in LOG_LEVELS else "WARNING"


def db_wait_seconds(env: Mapping[str, str], default: float = DEFAULT_DB_WAIT_SECONDS) -> float:
    try:
        return max(0.0, float(env.get("WOLBOT_DB_WAIT_SECONDS") or default))
    except ValueError:
        return default
