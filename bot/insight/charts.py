"""Charts of a report with matplotlib's object API and Agg backend (no pyplot, no global
state, safe in a worker thread): one PNG for chat, separate SVGs for the dashboard.

Colours are the Okabe-Ito palette (distinguishable with colour-blindness), every bar has
its number written beside it, and text stays text in the SVGs.
"""

from __future__ import annotations

import io
import os
import sys
from datetime import date

from babel.dates import format_date

from bot.features.matching.model_cache import cache_dir
from bot.i18n import N_, Translator
from bot.insight.levels import WEEK
from bot.insight.outcomes import FIGURES, TREND
from bot.insight.report import Report
from bot.insight.signals import CONSUME, CONTRIBUTE, CREATE, LEVEL_LABELS

COLOURS = {CONSUME: "#56B4E9", CONTRIBUTE: "#E69F00", CREATE: "#009E73"}
LINE_COLOURS = ("#0072B2", "#D55E00", "#CC79A7", "#009E73", "#000000")
TEXT = "#1a1a1a"

FUNNEL_TITLE = N_("Consume, contribute, create: {period}")
FUNNEL_WINDOW = N_("the whole period")
TREND_TITLE = N_("Active people per period, by highest level")
OUTCOMES_TITLE = N_("Outcomes per period")
TOO_SMALL = N_("Fewer than {n} active people: not shown")
PEOPLE = N_("people")


def period_label(key: str, period: str, lang: str) -> str:
    if period == WEEK:
        return format_date(date.fromisoformat(key), "d MMM", locale=lang)
    year, month = (int(x) for x in key.split("-"))
    return format_date(date(year, month, 1), "MMM yyyy", locale=lang)


def load_matplotlib() -> None:
    """Import matplotlib (about a second) with its files in our cache directory: it writes
    its font list under ~/.cache/matplotlib and ~/.config/matplotlib unless MPLCONFIGDIR
    says where, and the bot writes nowhere but its database and its cache."""
    if "matplotlib" not in sys.modules and not os.environ.get("MPLCONFIGDIR"):
        base = cache_dir()
        if base is not None:
            os.environ["MPLCONFIGDIR"] = str(base / "matplotlib")
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401


def _figure(width: float, height: float):  # type: ignore[no-untyped-def]
    load_matplotlib()
    import matplotlib

    matplotlib.rcParams.update(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "wolbot",
            "font.size": 10,
            "text.color": TEXT,
            "axes.labelcolor": TEXT,
            "xtick.color": TEXT,
            "ytick.color": TEXT,
        }
    )
    from matplotlib.figure import Figure

    # Margins set by hand: a layout engine would double the drawing time.
    return Figure(figsize=(width, height), dpi=100)


def _funnel(ax, report: Report, t: Translator) -> None:  # type: ignore[no-untyped-def]
    latest = report.latest
    counts = latest.levels if latest else None
    when = period_label(latest.key, report.period, t.lang) if latest else t(FUNNEL_WINDOW)
    ax.set_title(t(FUNNEL_TITLE).format(period=when), loc="left", fontsize=11)
    if counts is None:
        ax.set_axis_off()
        ax.text(0.5, 0.5, t(TOO_SMALL).format(n=report.min_group), ha="center", va="center")
        return
    levels = (CREATE, CONTRIBUTE, CONSUME)
    values = [counts.create, counts.contribute, counts.consume]
    labels = [t(LEVEL_LABELS[lv]) for lv in levels]
    bars = ax.barh(labels, values, color=[COLOURS[lv] for lv in levels])
    for bar, lv, value in zip(bars, levels, values, strict=True):
        ax.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            f" {value} ({counts.share(lv):.0%})",
            va="center",
            fontsize=9,
        )
    ax.set_xlim(0, max(values) * 1.35 or 1)
    ax.set_xlabel(t(PEOPLE))
    ax.spines[["top", "right"]].set_visible(False)


def _trend(ax, report: Report, t: Translator) -> None:  # type: ignore[no-untyped-def]
    ax.set_title(t(TREND_TITLE), loc="left", fontsize=11)
    labels = [period_label(p.key, report.period, t.lang) for p in report.periods]
    bottom = [0] * len(labels)
    for level in (CONSUME, CONTRIBUTE, CREATE):
        values = [
            getattr(
                p.levels, {CONSUME: "consume", CONTRIBUTE: "contribute", CREATE: "create"}[level]
            )
            if p.levels
            else 0
            for p in report.periods
        ]
        ax.bar(labels, values, bottom=bottom, color=COLOURS[level], label=t(LEVEL_LABELS[level]))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.legend(frameon=False, fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _whole_numbers(ax)
    ax.set_ylabel(t(PEOPLE))
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)


def _outcomes(ax, report: Report, t: Translator) -> None:  # type: ignore[no-untyped-def]
    ax.set_title(t(OUTCOMES_TITLE), loc="left", fontsize=11)
    labels = [period_label(p.key, report.period, t.lang) for p in report.periods]
    for name, colour in zip(TREND, LINE_COLOURS, strict=True):
        if name in report.trend:
            ax.plot(
                labels,
                report.trend[name],
                marker="o",
                markersize=3,
                color=colour,
                label=t(FIGURES[name][0]),
            )
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.set_ylim(bottom=0)
    _whole_numbers(ax)
    ax.spines[["top", "right"]].set_visible(False)


def _whole_numbers(ax) -> None:  # type: ignore[no-untyped-def]
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _save(fig, fmt: str) -> bytes:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    fig.savefig(
        buffer, format=fmt, facecolor="white", metadata={"Date": None} if fmt == "svg" else None
    )
    return buffer.getvalue()


def render_png(report: Report, t: Translator) -> bytes:
    """Funnel, trend and outcomes in one image for chat. CPU-bound: call it in a thread."""
    fig = _figure(8, 9)
    top, middle, bottom = fig.subplots(3, 1, height_ratios=(2, 3, 3))
    fig.subplots_adjust(left=0.13, right=0.7, top=0.96, bottom=0.08, hspace=0.62)
    _funnel(top, report, t)
    _trend(middle, report, t)
    _outcomes(bottom, report, t)
    return _save(fig, "png")


def render_svg(report: Report, t: Translator, which: str) -> bytes:
    """One chart for the dashboard: "funnel", "trend" or "outcomes"."""
    draw = {"funnel": _funnel, "trend": _trend, "outcomes": _outcomes}[which]
    fig = _figure(7, 2.6) if which == "funnel" else _figure(9.5, 3.8)
    draw(fig.subplots(), report, t)
    fig.subplots_adjust(
        left=0.14 if which == "funnel" else 0.08,
        right=0.97 if which == "funnel" else 0.75,
        top=0.88,
        bottom=0.22 if which == "funnel" else 0.2,
    )
    return _save(fig, "svg")
