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
from typing import TYPE_CHECKING, Literal

from babel.dates import format_date

from bot.i18n import N_, Translator
from bot.insight.formats import number, share
from bot.insight.levels import WEEK
from bot.insight.outcomes import FIGURES, TREND
from bot.insight.report import Report
from bot.insight.signals import CONSUME, CONTRIBUTE, CREATE, LEVEL_LABELS
from bot.matching.model_cache import cache_dir

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn, not at start
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

COLOURS = {CONSUME: "#56B4E9", CONTRIBUTE: "#E69F00", CREATE: "#009E73"}
LINE_COLOURS = ("#0072B2", "#D55E00", "#CC79A7", "#009E73", "#000000")
TEXT = "#1a1a1a"

FUNNEL_TITLE = N_("Consume, contribute, create: {period}")
FUNNEL_WINDOW = N_("the whole period")
TREND_TITLE = N_("Active people per period, by highest level")
OUTCOMES_TITLE = N_("Outcomes per period")
TOO_SMALL = N_("Fewer than {n} active people: not shown")
PEOPLE = N_("people")
TREND_TITLE_SHORT = N_("Active people, by highest level")
NO_DATA = N_("No data yet")


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


def _figure(width: float, height: float) -> Figure:
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


EMPTY = "empty"  # no period yet: the workspace has no activity in the window
HIDDEN = "hidden"  # periods exist, but every one is below the minimum group
WIDE, NARROW = "wide", "narrow"
SIZES = (WIDE, NARROW)


def state(report: Report, which: str) -> str | None:
    """Why a chart has nothing to draw (EMPTY or HIDDEN), or None when it has something."""
    if not report.periods:
        return EMPTY
    if which == "funnel":
        return None  # the latest period: drawn, or "fewer than n" when below the minimum
    if which == "trend":
        return None if any(p.levels for p in report.periods) else HIDDEN
    return None if any(any(report.trend.get(name, ())) for name in TREND) else EMPTY


def _nothing(ax: Axes, text: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes)


def _empty_text(report: Report, t: Translator, which: str) -> str:
    if state(report, which) == HIDDEN:
        return t(TOO_SMALL).format(n=report.min_group)
    return t(NO_DATA)


def _funnel(ax: Axes, report: Report, t: Translator, size: str = WIDE) -> None:
    latest = report.latest
    counts = latest.levels if latest else None
    when = period_label(latest.key, report.period, t.lang) if latest else t(FUNNEL_WINDOW)
    ax.set_title(t(FUNNEL_TITLE).format(period=when), loc="left", fontsize=11)
    if latest is None:
        _nothing(ax, t(NO_DATA))
        return
    if counts is None:
        _nothing(ax, t(TOO_SMALL).format(n=report.min_group))
        return
    levels = (CREATE, CONTRIBUTE, CONSUME)
    values = [counts.create, counts.contribute, counts.consume]
    labels = [t(LEVEL_LABELS[lv]) for lv in levels]
    bars = ax.barh(range(3), values, color=[COLOURS[lv] for lv in levels])
    ax.set_yticks(range(3), labels)
    for bar, lv, value in zip(bars, levels, values, strict=True):
        ax.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            f" {number(value, t.lang)} ({share(counts.share(lv), t.lang)})",
            va="center",
            fontsize=10 if size == NARROW else 9,
        )
    ax.set_xlim(0, max(max(values) * (1.6 if size == NARROW else 1.35), 1))
    ax.set_xlabel(t(PEOPLE))
    _whole_numbers(ax, "x", bins=4 if size == NARROW else 8)
    ax.spines[["top", "right"]].set_visible(False)


def _periods_axis(ax: Axes, report: Report, t: Translator, size: str) -> list[int]:
    """Positions 0..n-1 with the periods' names as labels (no categorical units: they log
    a warning for labels that look like dates); on a phone every other label is left out."""
    labels = [period_label(p.key, report.period, t.lang) for p in report.periods]
    xs = list(range(len(labels)))
    step = 2 if size == NARROW and len(labels) > 6 else 1
    ticks = xs[::-1][::step][::-1]  # always name the latest period
    ax.set_xticks(ticks, [labels[i] for i in ticks])
    ax.tick_params(axis="x", labelrotation=45, labelsize=9)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
        label.set_rotation_mode("anchor")
    ax.set_xlim(-0.6, len(labels) - 0.4)
    return xs


def _legend(ax: Axes, size: str, columns: int) -> None:
    if not ax.get_legend_handles_labels()[0]:
        return
    if size == NARROW:
        ax.legend(
            frameon=False,
            fontsize=9,
            loc="upper left",
            bbox_to_anchor=(-0.1, -0.3),
            ncol=columns,
        )
    else:
        ax.legend(frameon=False, fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _trend(ax: Axes, report: Report, t: Translator, size: str = WIDE) -> None:
    ax.set_title(t(TREND_TITLE if size == WIDE else TREND_TITLE_SHORT), loc="left", fontsize=11)
    if state(report, "trend") is not None:
        _nothing(ax, _empty_text(report, t, "trend"))
        return
    xs = _periods_axis(ax, report, t, size)
    bottom = [0] * len(xs)
    for level, field in ((CONSUME, "consume"), (CONTRIBUTE, "contribute"), (CREATE, "create")):
        values = [getattr(p.levels, field) if p.levels else 0 for p in report.periods]
        ax.bar(xs, values, bottom=bottom, color=COLOURS[level], label=t(LEVEL_LABELS[level]))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    _legend(ax, size, 3)
    ax.set_ylim(0, max(max(bottom) * 1.05, 1))
    _whole_numbers(ax)
    ax.set_ylabel(t(PEOPLE))
    ax.spines[["top", "right"]].set_visible(False)


def _outcomes(ax: Axes, report: Report, t: Translator, size: str = WIDE) -> None:
    ax.set_title(t(OUTCOMES_TITLE), loc="left", fontsize=11)
    if state(report, "outcomes") is not None:
        _nothing(ax, _empty_text(report, t, "outcomes"))
        return
    xs = _periods_axis(ax, report, t, size)
    highest = 0
    for name, colour in zip(TREND, LINE_COLOURS, strict=True):
        if name in report.trend:
            ax.plot(
                xs,
                report.trend[name],
                marker="o",
                markersize=3,
                color=colour,
                label=t(FIGURES[name][0]),
            )
            highest = max(highest, *report.trend[name])
    _legend(ax, size, 1)
    ax.set_ylim(0, max(highest * 1.1, 1))
    _whole_numbers(ax)
    ax.spines[["top", "right"]].set_visible(False)


def _whole_numbers(ax: Axes, axis: str = "y", bins: int | Literal["auto"] = "auto") -> None:
    from matplotlib.ticker import MaxNLocator

    locator = MaxNLocator(nbins=bins, integer=True)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_locator(locator)


def _save(fig: Figure, fmt: str) -> bytes:
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


# (width, height) in inches and the margins, per chart and size. A narrow chart is drawn for
# a phone's width (about 4 inches), so its text is shown at about its own size, not shrunk.
LAYOUT = {
    ("funnel", WIDE): ((7, 2.6), {"left": 0.16, "right": 0.97, "top": 0.86, "bottom": 0.22}),
    ("funnel", NARROW): ((4.2, 2.6), {"left": 0.27, "right": 0.96, "top": 0.86, "bottom": 0.2}),
    ("trend", WIDE): ((9.5, 3.8), {"left": 0.08, "right": 0.8, "top": 0.9, "bottom": 0.2}),
    ("trend", NARROW): ((4.2, 3.9), {"left": 0.17, "right": 0.96, "top": 0.92, "bottom": 0.3}),
    ("outcomes", WIDE): ((9.5, 3.8), {"left": 0.08, "right": 0.75, "top": 0.9, "bottom": 0.2}),
    ("outcomes", NARROW): ((4.2, 4.6), {"left": 0.12, "right": 0.96, "top": 0.93, "bottom": 0.42}),
}


def render_svg(report: Report, t: Translator, which: str, size: str = WIDE) -> bytes:
    """One chart for the dashboard: "funnel", "trend" or "outcomes", wide or narrow."""
    draw = {"funnel": _funnel, "trend": _trend, "outcomes": _outcomes}[which]
    (width, height), margins = LAYOUT[(which, size)]
    fig = _figure(width, height)
    draw(fig.subplots(), report, t, size)
    fig.subplots_adjust(**margins)
    return _save(fig, "svg")
