"""Charts with nothing to show say so instead of drawing an empty axis (issue 21)."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime

from bot.i18n import Catalogues
from bot.insight.charts import EMPTY, HIDDEN, NARROW, render_png, render_svg, state
from bot.insight.report import assemble

T = Catalogues()
KEYS = ["2026-11-02", "2026-11-09", "2026-11-16"]


def _report(people: int, trend: dict[str, list[int]] | None = None, keys=KEYS):  # type: ignore[no-untyped-def]
    rows = [(f"u{i}", date(2026, 11, 16), "C-a", 2) for i in range(people)]
    return assemble(
        "ws",
        rows,
        {"C-a": "#a"},
        keys=keys,
        period="week",
        min_group=5,
        start=datetime(2026, 11, 2, tzinfo=UTC),
        end=datetime(2026, 11, 19, tzinfo=UTC),
        community=None,
        outcomes=({}, trend or {"narrations": [0] * len(keys)}),
    )


def test_nothing_to_draw_is_said_in_words() -> None:
    empty = _report(0, keys=[])
    assert [state(empty, w) for w in ("funnel", "trend", "outcomes")] == [EMPTY] * 3
    small = _report(2)
    assert state(small, "trend") == HIDDEN and state(small, "outcomes") == EMPTY
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no matplotlib warnings on these pages
        for report in (empty, small):
            for which in ("funnel", "trend", "outcomes"):
                for size in ("wide", NARROW):
                    svg = render_svg(report, T.get("nl"), which, size).decode()
                    assert "0.045" not in svg and "−0.0" not in svg
        svg = render_svg(small, T.get("nl"), "trend").decode()
        assert "Minder dan 5 actieve mensen" in svg
        assert "Nog geen gegevens" in render_svg(empty, T.get("nl"), "outcomes").decode()
        assert render_png(empty, T.get("en")).startswith(b"\x89PNG")


def test_a_chart_with_data_starts_at_zero_with_whole_numbers() -> None:
    report = _report(7, {"narrations": [0, 2, 3], "introductions": [0, 0, 1]})
    assert state(report, "trend") is None and state(report, "outcomes") is None
    svg = render_svg(report, T.get("en"), "outcomes", NARROW).decode()
    assert "narrations shared" in svg and "0.5" not in svg
