"""The checks on a setting's value, shared by `/wol config set` and app.yaml at load.

Each `parse_*` returns the normalised value or raises `UserError` with a msgid for the person
who typed it; `expected(kind)` says in one phrase what an operator should write in app.yaml.
One place, so a value the chat refuses cannot slip in through the file (and crash a start).
"""

from __future__ import annotations

import re
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import UserError
from bot.i18n import N_

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {
    "ma": "mon",
    "di": "tue",
    "wo": "wed",
    "do": "thu",
    "vr": "fri",
    "za": "sat",
    "zo": "sun",
    "maandag": "mon",
    "dinsdag": "tue",
    "woensdag": "wed",
    "donderdag": "thu",
    "vrijdag": "fri",
    "zaterdag": "sat",
    "zondag": "sun",
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}

BAD_ZONE = N_("{value} is not a time zone I know. Use a name like Europe/Amsterdam.")
BAD_CRON = N_(
    "{value} is not a schedule I can read. Use cron: minute hour day month weekday, "
    'for example "0 10 * * tue" for Tuesdays at 10:00.'
)
BAD_DAYS = N_("{value} is not a list of weekdays. Use for example mon,thu (or ma,do).")
BAD_TIME = N_("{value} is not a time. Use HH:MM, for example 09:30.")
BAD_COUNTRY = N_("{value} is not a country code. Use two letters, for example NL or BE.")

# For operators (app.yaml, `wolbot config check`): what a valid value looks like.
EXPECTED: dict[str, str] = {
    "zone": "an IANA time zone such as Europe/Amsterdam",
    "cron": 'a cron schedule of five fields, minute hour day month weekday, e.g. "0 10 * * tue"',
    "days": "weekdays separated by commas, e.g. mon,thu; each one of mon tue wed thu fri sat sun",
    "time": "a time HH:MM, e.g. 09:30",
    "timezone": "an IANA time zone such as Europe/Amsterdam",
    "country": "a country code with known public holidays, e.g. NL or BE",
    "question_set": "the id of a question set in the prompts directory",
}
WHAT_IS_WRONG: dict[str, str] = {
    "zone": "unknown time zone",
    "cron": "not a cron schedule",
    "days": "not a list of weekdays",
    "time": "not a time of day",
    "timezone": "unknown time zone",
    "country": "unknown country code",
    "question_set": "unknown question set",
}


def parse_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(BAD_ZONE, value=value) from None
    return value


def parse_cron(value: str) -> str:
    from apscheduler.triggers.cron import CronTrigger

    fields = value.split()
    try:
        if len(fields) != 5:
            raise ValueError(value)
        CronTrigger.from_crontab(value, timezone="UTC")
    except ValueError:
        raise UserError(BAD_CRON, value=value) from None
    return " ".join(fields).lower()


_FULL_DAYS = dict(
    zip(
        DAYS,
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        strict=True,
    )
)
_DAY_FILLERS = frozenset({"en", "and", "&"})
_RANGE_WORDS = re.compile(r"\s+(?:t/m|tot en met|tot|to|through|until|till)\s+")


def _day(word: str) -> str | None:
    """One weekday as people write it: mon, ma, maandag, monday, tues, thurs."""
    if word in _DAY_ALIASES:
        return _DAY_ALIASES[word]
    short = word[:3]
    if short in DAYS and _FULL_DAYS[short].startswith(word):
        return short
    return None


def parse_days(value: str) -> str:
    """Weekdays in English or Dutch: "mon,thu", "dinsdag en donderdag", a range "ma-vr",
    "maandag t/m woensdag", "mon to wed" (every day in it)."""
    days: list[str] = []
    text = _RANGE_WORDS.sub("-", value.lower().strip())
    for part in re.split(r"[\s,;/]+", text):
        if not part or part in _DAY_FILLERS:
            continue
        first, dash, last = part.partition("-")
        start = _day(first)
        end = _day(last) if dash else start
        if start is None or end is None or DAYS.index(end) < DAYS.index(start):
            raise UserError(BAD_DAYS, value=value)
        for day in DAYS[DAYS.index(start) : DAYS.index(end) + 1]:
            if day not in days:
                days.append(day)
    if not days:
        raise UserError(BAD_DAYS, value=value)
    return ",".join(sorted(days, key=DAYS.index))


def parse_time(value: str) -> str:
    m = re.fullmatch(r"(\d{1,2})[:.h](\d{2})", value.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise UserError(BAD_TIME, value=value)
    return f"{int(m.group(1)):02d}:{m.group(2)}"


@cache
def _countries() -> frozenset[str]:
    import holidays

    return frozenset(code.upper() for code in holidays.list_supported_countries())


def parse_country(value: str) -> str:
    """A country whose public holidays the `holidays` package knows (check-ins skip them)."""
    if not re.fullmatch(r"[A-Za-z]{2,3}", value) or value.upper() not in _countries():
        raise UserError(BAD_COUNTRY, value=value)
    return value.upper()


def operator_problem(kind: str, value: object) -> str:
    """`what is wrong (what is expected)` for app.yaml and `wolbot config check`."""
    return f"{WHAT_IS_WRONG[kind]} {value!r} (expected {EXPECTED[kind]})"


BAD_QUESTION_SET = N_("{value} is not a question set I know. Choose one of: {choices}.")


@cache
def _question_sets(directory: str) -> tuple[str, ...]:
    from pathlib import Path

    from bot.prompts import PromptError, PromptLibrary

    try:
        return tuple(PromptLibrary.load(Path(directory)).set_ids())
    except PromptError:  # broken files are `wolbot prompts check`'s to report
        return ()


def question_set_ids(directory: str | None = None) -> tuple[str, ...]:
    """The ids of the question sets in `directory`, else the one the bot reads
    ($WOLBOT_PROMPTS_DIR, else prompts/), read once per directory; () when it is broken."""
    from bot.prompts import default_directory

    return _question_sets(directory or str(default_directory()))


def parse_question_set(value: str) -> str:
    known = question_set_ids()
    if known and value not in known:
        raise UserError(BAD_QUESTION_SET, value=value, choices=", ".join(known))
    return value
