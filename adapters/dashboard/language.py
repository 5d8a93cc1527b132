"""The dashboard's language: Accept-Language negotiated with Babel (q-values honoured), and a
preference cookie so pages without a session (sign-in, signed-out) keep the chosen one."""

from __future__ import annotations

from aiohttp import web
from babel import Locale

from bot.i18n import normalise_language

LANGUAGE_COOKIE = "wolbot_dashboard_language"  # "en" or "nl": a preference, nothing personal
LANGUAGE_MAX_AGE = 365 * 24 * 3600


def negotiate(header: str, available: tuple[str, ...], default: str = "en") -> str:
    """The best of `available` for an Accept-Language header, honouring q-values:
    "nl,en-US;q=0.7" -> "nl", "fr;q=0.9, en-GB;q=0.8" -> "en"."""
    wanted: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag.strip() and tag.strip() != "*" and q > 0:
            wanted.append((-q, i, tag.strip()))
    preferred = [tag for _, _, tag in sorted(wanted)]
    found = Locale.negotiate(preferred, list(available), sep="-")
    return found.language if found is not None and found.language in available else default


def page_language(request: web.Request, available: tuple[str, ...]) -> str:
    """The language of a page without a session: the one chosen before (the cookie outlives
    sign-out), else the browser's best match of Accept-Language."""
    chosen = normalise_language(request.cookies.get(LANGUAGE_COOKIE))
    if chosen in available:
        return chosen
    return negotiate(request.headers.get("Accept-Language", ""), available)


def keep_language(response: web.StreamResponse, lang: str, *, secure: bool) -> None:
    """Remember the chosen language for pages without a session (sign-out, sign-in)."""
    response.set_cookie(
        LANGUAGE_COOKIE,
        lang,
        max_age=LANGUAGE_MAX_AGE,
        path="/dashboard",
        httponly=True,
        samesite="Lax",
        secure=secure,
    )
