"""What is checked before the bot starts, beyond app.yaml and the core's variables
(bot/config.py, bot/config_env.py): each adapter's variables, by the adapter itself.

Every adapter package exposes `status(env) -> AdapterStatus`; `wolbot config check` shows
them all, and `chat`, `serve` and `run-due` refuse to start while any has problems (a
half-configured adapter would otherwise start silently, or fail later with a traceback).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class AdapterStatus:
    name: str
    enabled: bool
    summary: str  # how it runs when enabled; what would enable it when not
    problems: tuple[str, ...] = ()  # `VARIABLE: what is wrong (what is expected)`


def adapter_statuses(env: Mapping[str, str]) -> list[AdapterStatus]:
    from bot.app import ADAPTERS, load_adapter

    found = []
    for name in ADAPTERS:
        try:
            module = load_adapter(name)
        except ModuleNotFoundError as exc:
            found.append(AdapterStatus(name, False, f"not installed ({exc.name} is missing)"))
            continue
        status = getattr(module, "status", None)
        if status is None:
            found.append(AdapterStatus(name, False, "has no status(env): not checked"))
            continue
        found.append(status(env))
    return found


def describe(statuses: list[AdapterStatus]) -> list[str]:
    """One line per adapter for `wolbot config check`."""
    lines = []
    for s in statuses:
        if s.problems:
            names = ", ".join(dict.fromkeys(p.split(":", 1)[0] for p in s.problems))
            lines.append(f"  {s.name}: incomplete, lacks or has a wrong {names}")
        elif s.enabled:
            lines.append(f"  {s.name}: on, {s.summary}")
        else:
            lines.append(f"  {s.name}: {s.summary}")
    return lines
