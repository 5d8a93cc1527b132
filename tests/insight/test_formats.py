"""Values in the reader's language: numbers, shares, hours, schedules, settings (issue 21)."""

from __future__ import annotations

import pytest

from bot.i18n import Catalogues
from bot.insight import formats
from bot.insight.render import figure_text

T = Catalogues()


@pytest.mark.parametrize(
    ("kind", "value", "en", "nl"),
    [
        ("bool", True, "yes", "ja"),
        ("bool", False, "no", "nee"),
        ("float", 4.0, "4", "4"),
        ("float", 1.5, "1.5", "1,5"),
        ("int", 1234, "1,234", "1.234"),
        ("cron", "0 10 * * tue", "every Tuesday at 10:00", "elke dinsdag om 10:00"),
        (
            "cron",
            "30 9 * * mon-fri",
            "every Monday to Friday at 09:30",
            "elke maandag t/m vrijdag om 09:30",
        ),
        (
            "cron",
            "0 10 * * mon,thu",
            "every Monday and Thursday at 10:00",
            "elke maandag en donderdag om 10:00",
        ),
        ("cron", "0 8 * * *", "every day at 08:00", "elke dag om 08:00"),
        ("cron", "0 10 1 * *", "0 10 1 * *", "0 10 1 * *"),  # not weekly: as written
        ("days", "mon,thu", "Mon and Thu", "ma en do"),
        ("time", "09:30", "09:30", "09:30"),
        ("language", "nl", "Dutch", "Nederlands"),
        ("country", "BE", "Belgium", "België"),
        ("choice", "dialogue", "dialogue questions (dialogue)", "dialoogvragen (dialogue)"),
        ("choice", "dm", "a direct message (dm)", "een privébericht (dm)"),
        ("choice", "durf-te-vragen", "durf te vragen", "durf te vragen"),
        ("text", None, "–", "–"),
    ],
)
def test_setting_values_read_in_the_page_language(kind, value, en, nl) -> None:
    assert formats.setting_value(kind, value, T.get("en")) == en
    assert formats.setting_value(kind, value, T.get("nl")) == nl


def test_cron_weekdays_follow_the_scheduler() -> None:
    # APScheduler 3 reads a numeric weekday as 0 = Monday; the text says what will happen.
    from apscheduler.triggers.cron import CronTrigger

    fired = CronTrigger.from_crontab("0 10 * * 1", timezone="UTC").get_next_fire_time(
        None, formats._MONDAY
    )
    day = fired.strftime("%A")
    assert formats.cron_text("0 10 * * 1", T.get("en")) == f"every {day} at 10:00"


def test_figures_in_both_languages() -> None:
    en, nl = T.get("en"), T.get("nl")
    assert figure_text(en, "hours_to_answer", 0.0) == "0.0 h"
    assert figure_text(nl, "hours_to_answer", 0.0) == "0,0 u"
    assert figure_text(nl, "hours_to_answer", 12.5) == "12,5 u"
    assert figure_text(nl, "questions_acknowledged", 0.5) == "50%"
    assert figure_text(nl, "participants_per_round", 2.5) == "2,5"
    assert figure_text(nl, "narrations", 1500) == "1.500"
    assert figure_text(nl, "hours_to_answer", None) == "–"
