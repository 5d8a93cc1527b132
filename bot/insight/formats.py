"""Numbers, shares, hours, dates and setting values in the reader's language, through Babel.

Dutch readers see "0,5 u", "ja", "elke dinsdag om 10:00"; English readers "0.5 h", "yes",
"every Tuesday at 10:00". One place, so the dashboard, chat summaries and charts agree.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, get_day_names
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent

from bot.i18n import N_, Translator

HOURS = N_("{hours} h")
YES, NO = N_("yes"), N_("no")
EVERY_DAY = N_("every day at {time}")
EVERY_WEEKDAYS = N_("every {days} at {time}")
EVERY_HOUR = N_("every hour at {minute} minutes past")
DAY_RANGE = N_("{first} to {last}")

DayWidth = Literal["abbreviated", "narrow", "short", "wide"]  # Babel's names of day-name widths
# the values of "choice" settings, in words; the value to type is shown beside them
CHOICES = {
    "narration": N_("working out loud (narrations)"),
    "dialogue": N_("dialogue questions"),
    "durf-te-vragen": N_("durf te vragen"),
    "reply": N_("a reply"),
    "none": N_("nothing"),
    "dm": N_("a direct message"),
}
# A fixed Monday to expand schedules from (any Monday works: a weekly pattern repeats).
_MONDAY = datetime(2024, 1, 1, tzinfo=UTC)


def number(value: float, lang: str) -> str:
    """A count or an average: "1.234" / "1,234", "2,5" / "2.5"; whole floats lose ".0"."""
    if isinstance(value, float) and not value.is_integer():
        return format_decimal(value, "#,##0.0#", locale=lang)
    return format_decimal(int(value), locale=lang)


def change(value: int, lang: str) -> str:
    """A difference with its sign: "+3", "−2" (a real minus sign), "0"."""
    if value > 0:
        return "+" + number(value, lang)
    if value < 0:
        return "\u2212" + number(-value, lang)
    return number(0, lang)


def share(part: float, lang: str) -> str:
    """0.25 -> "25%" (or "25 %" where the language writes it so)."""
    return format_percent(part, locale=lang)


def hours(t: Translator, value: float) -> str:
    return t.gettext(HOURS).format(hours=format_decimal(value, "#,##0.0", locale=t.lang))


def when(moment: datetime, zone: Any, lang: str) -> str:
    """A moment in the reader's time zone: "19 nov 2026 10:00"."""
    return format_datetime(moment, "d MMM yyyy HH:mm", tzinfo=zone, locale=lang)


def day(moment: datetime, lang: str, zone: Any = None) -> str:
    """A date in the reader's language and time zone: "12 January 2026", "12 januari 2026"."""
    return format_date(moment.astimezone(_zone(zone)), "d MMMM yyyy", locale=lang)


def day_time(moment: datetime, lang: str, zone: Any = None) -> str:
    """A date and time of day in the reader's language and time zone: "15 December 2026 09:59",
    "15 december 2026 09:59"."""
    return format_datetime(moment.astimezone(_zone(zone)), "d MMMM yyyy HH:mm", locale=lang)


def _zone(zone: Any) -> Any:
    if zone is None or not isinstance(zone, str):
        return zone or UTC
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(zone)
    except (KeyError, ValueError):
        return UTC


def age(since: datetime, now: datetime, t: Translator) -> str:
    """How long something has waited, in the largest whole unit: "3 days", "5 uur"."""
    from babel.dates import format_timedelta

    return format_timedelta(
        max(now - since, timedelta(0)), threshold=1.5, add_direction=False, locale=t.lang
    )


def and_list(items: list[str], lang: str) -> str:
    """Items as a sentence says them: "Engels en Nederlands", "Dutch and English"."""
    return format_list(items, locale=lang)


def weekdays(
    days: list[int], lang: str, width: DayWidth = "wide", t: Translator | None = None
) -> str:
    """Weekday numbers (0 = Monday) as a list in the language: "dinsdag en donderdag"; three
    or more days in a row as a range when `t` is given: "maandag t/m vrijdag"."""
    names = get_day_names(width, locale=lang)
    if t is not None and len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
        return t.gettext(DAY_RANGE).format(first=names[days[0]], last=names[days[-1]])
    return format_list([str(names[d]) for d in days], locale=lang)


def cron_text(expression: str, t: Translator) -> str | None:
    """A cron schedule in words ("every Tuesday at 10:00"), computed from the schedule itself
    (so numeric weekdays read as the scheduler reads them); None when it is not a simple
    daily or weekly rhythm (the expression is then shown as written)."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5 or fields[2] != "*" or fields[3] != "*":
        return None
    try:
        trigger = CronTrigger.from_crontab(expression, timezone="UTC")
    except ValueError:
        return None
    fired: list[datetime] = []
    previous = None
    cursor = _MONDAY
    while len(fired) < 200:
        nxt = trigger.get_next_fire_time(previous, cursor)
        if nxt is None or nxt >= _MONDAY + timedelta(days=7):
            break
        fired.append(nxt)
        previous, cursor = nxt, nxt + timedelta(seconds=1)
    if not fired:
        return None
    clock = format_time(time(fired[0].hour, fired[0].minute), "HH:mm", locale=t.lang)
    if fields[1] == "*" and fields[0].isdigit() and fields[4] == "*":
        return t.gettext(EVERY_HOUR).format(minute=int(fields[0]))
    if len({(f.hour, f.minute) for f in fired}) != 1:
        return None
    days = sorted({f.weekday() for f in fired})
    if len(days) == 7:
        return t.gettext(EVERY_DAY).format(time=clock)
    return t.gettext(EVERY_WEEKDAYS).format(days=weekdays(days, t.lang, t=t), time=clock)


def setting_value(kind: str, value: Any, t: Translator) -> str:
    """A setting's value as a reader of `t.lang` expects it; "–" for no value."""
    lang = t.lang
    if value is None or value == "":
        return "–"
    if kind == "bool" or isinstance(value, bool):
        return t.gettext(YES) if value else t.gettext(NO)
    if kind in ("int", "float") and isinstance(value, int | float):
        return number(value, lang)
    if kind == "language":
        try:
            return str(Locale.parse(str(value)).get_display_name(lang))
        except (ValueError, TypeError):
            return str(value)
    if kind == "country":
        return str(Locale.parse(lang).territories.get(str(value).upper(), value))
    if kind == "days":
        codes = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        found = [codes.index(d) for d in str(value).split(",") if d in codes]
        return weekdays(found, lang, "abbreviated") if found else str(value)
    if kind == "time":
        try:
            hh, mm = (int(x) for x in str(value).split(":"))
            return format_time(time(hh, mm), "HH:mm", locale=lang)
        except ValueError:
            return str(value)
    if kind == "cron":
        return cron_text(str(value), t) or str(value)
    if kind == "choice" and str(value) in CHOICES:
        words = t.gettext(CHOICES[str(value)])
        return words if words.replace(" ", "-") == value else f"{words} ({value})"
    return str(value)
