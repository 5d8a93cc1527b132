"""A report as a short chat message, and as CSV or JSON for other tools."""

from __future__ import annotations

import csv
import io
import json

from bot.i18n import N_, Translator
from bot.insight import formats
from bot.insight.charts import period_label
from bot.insight.levels import LevelCounts
from bot.insight.outcomes import FIGURES
from bot.insight.report import OTHER, Report
from bot.messages import Context, OutboundMessage, Section, Strong, fill

TITLE = N_("Participation in {scope}, {period}")
WHOLE_WORKSPACE = N_("the whole workspace")
OTHER_NAME = N_("other (small communities together)")
MERGED = N_(
    '{community} has fewer than {n} active people, so its figures are counted under "other".'
)
ACTIVE = N_(
    "{total} active people: {consume} consumed, {contribute} contributed, {create} created."
)
NO_ACTIVITY = N_("No activity recorded yet: the figures start with the first week with activity.")
NOT_SHOWN = N_("Fewer than {n} active people in this period: figures not shown.")
MOVED = N_(
    "Since the period before: {up} moved up, {down} moved down, {same} stayed, {new} "
    "new, {quiet} went quiet."
)
GROUPS = N_("By community (whole period): {groups}")
OUTCOMES = N_("Outcomes: {figures}")
NO_OUTCOMES = N_("No outcomes recorded in this period yet.")
PRIVACY = N_(
    'Aggregates only, never a ranking of people. Groups smaller than {n} are merged into "other".'
)


def _share(part: int, total: int, lang: str) -> str:
    return formats.share(part / total if total else 0, lang)


def levels_text(t: Translator, counts: LevelCounts) -> str:
    total, lang = counts.total, t.lang
    return t.gettext(ACTIVE).format(
        total=formats.number(total, lang),
        consume=f"{formats.number(counts.consume, lang)} ({_share(counts.consume, total, lang)})",
        contribute=f"{formats.number(counts.contribute, lang)} "
        f"({_share(counts.contribute, total, lang)})",
        create=f"{formats.number(counts.create, lang)} ({_share(counts.create, total, lang)})",
    )


def figure_text(t: Translator, name: str, value: int | float | None) -> str:
    """One outcome figure in the reader's language: "42", "75%", "0,5 u", "–" (none yet)."""
    kind = FIGURES[name][1]
    if value is None:
        return "–"
    if kind == "share":
        return formats.share(value, t.lang)
    if kind == "hours":
        return formats.hours(t, value)
    return formats.number(value, t.lang)


def scope_name(t: Translator, report: Report) -> str:
    if report.scope is None:
        return t.gettext(WHOLE_WORKSPACE)
    return t.gettext(OTHER_NAME) if report.scope == OTHER else str(report.scope_name)


def group_name(t: Translator, name: str) -> str:
    return t.gettext(OTHER_NAME) if name == OTHER else name


def summary(report: Report, t: Translator) -> OutboundMessage:
    g = t.gettext
    blocks: list[Section | Context] = []
    latest = report.latest
    when = period_label(report.current_key, report.period, t.lang)
    blocks.append(
        Section(parts=(Strong(text=g(TITLE).format(scope=scope_name(t, report), period=when)),))
    )
    if report.asked_for:
        blocks.append(
            Section(parts=fill(g(MERGED), community=report.asked_for, n=report.min_group))
        )
    if latest is None:
        blocks.append(Section(parts=(g(NO_ACTIVITY),)))
    elif latest.levels is not None:
        blocks.append(Section(parts=(levels_text(t, latest.levels),)))
    else:
        blocks.append(Section(parts=fill(g(NOT_SHOWN), n=report.min_group)))
    if latest is not None and latest.movement is not None:
        m = latest.movement
        blocks.append(
            Section(
                parts=fill(g(MOVED), up=m.up, down=m.down, same=m.same, new=m.new, quiet=m.quiet)
            )
        )
    groups = [
        f"{group_name(t, row.name)} {row.levels.total}"
        for row in report.groups
        if row.levels is not None
    ]
    if groups and report.scope is None:
        blocks.append(Section(parts=fill(g(GROUPS), groups=", ".join(groups))))
    figures = [
        f"{g(FIGURES[name][0])} {figure_text(t, name, value)}"
        for name, value in report.outcomes.items()
        if value
    ]
    blocks.append(
        Section(parts=fill(g(OUTCOMES), figures=" · ".join(figures)))
        if figures
        else Section(parts=(g(NO_OUTCOMES),))
    )
    blocks.append(Context(parts=fill(g(PRIVACY), n=report.min_group)))
    return OutboundMessage(blocks=tuple(blocks))


def to_json(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2, sort_keys=True, default=str)


CSV_HEADER = ("section", "group", "period", "measure", "value")


def to_csv(report: Report) -> str:
    """One row per figure: levels and movement per period, groups, outcomes and their trend."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    scope = report.scope or "workspace"
    for row in report.periods:
        if row.levels is None:
            writer.writerow(("levels", scope, row.key, "suppressed", f"<{report.min_group}"))
        else:
            for measure in ("consume", "contribute", "create", "total"):
                writer.writerow(("levels", scope, row.key, measure, getattr(row.levels, measure)))
        if row.movement is not None:
            for measure in ("up", "down", "same", "new", "quiet"):
                writer.writerow(
                    ("movement", scope, row.key, measure, getattr(row.movement, measure))
                )
    window = f"{report.start.date().isoformat()}/{report.end.date().isoformat()}"
    for group in report.groups:
        if group.levels is None:
            writer.writerow(("group", group.name, window, "suppressed", f"<{report.min_group}"))
            continue
        for measure in ("consume", "contribute", "create", "total"):
            writer.writerow(("group", group.name, window, measure, getattr(group.levels, measure)))
    for name, value in report.outcomes.items():
        writer.writerow(("outcome", scope, window, name, "" if value is None else value))
    for name, series in report.trend.items():
        for period_row, value in zip(report.periods, series, strict=True):
            writer.writerow(("outcome", scope, period_row.key, name, value))
    return out.getvalue()
