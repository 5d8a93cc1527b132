"""The story at a glance: four figures of the latest period, each with its change since the
period before. Read from the report only, so they are the figures `wolbot report` exports:
people who shared (the "create" level), connections made (introductions), introductions
that helped, and durf-te-vragen questions acknowledged.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_
from bot.insight.report import PeriodRow, Report

SHARED, CONNECTED, HELPED, ACKNOWLEDGED = "shared", "connected", "helped", "acknowledged"
LABELS = {
    SHARED: N_("people who shared"),
    CONNECTED: N_("connections made"),
    HELPED: N_("introductions that helped"),
    ACKNOWLEDGED: N_("questions acknowledged"),
}
# headline -> (CSV section, measure) of `wolbot report` it is read from
SOURCES = {
    SHARED: ("levels", "create"),
    CONNECTED: ("outcome", "introductions"),
    HELPED: ("outcome", "introductions_helpful"),
    ACKNOWLEDGED: ("outcome", "acknowledged"),
}


@dataclass(frozen=True)
class Figure:
    name: str
    value: int | None  # None: not shown (fewer active people than the minimum group)
    previous: int | None  # None: no period before, or it was not shown

    @property
    def change(self) -> int | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


def _created(row: PeriodRow | None) -> int | None:
    return row.levels.create if row is not None and row.levels is not None else None


def _series(report: Report, name: str, back: int) -> int | None:
    series = report.trend.get(name)
    if series is None or len(series) < back:
        return None
    return series[-back]


def headline(report: Report) -> list[Figure]:
    """The figures of the latest period; empty when the report has no periods."""
    if report.latest is None:
        return []
    return [
        Figure(SHARED, _created(report.latest), _created(report.previous)),
        *(
            Figure(name, _series(report, measure, 1), _series(report, measure, 2))
            for name, (_, measure) in SOURCES.items()
            if name != SHARED and measure in report.trend  # a feature not installed: left out
        ),
    ]
