"""How fast the participation figures are ready: 2,000 people over 12 weeks.

    python bench/insight_render.py                  # SQLite in a temporary directory
    python bench/insight_render.py --people 10000 --repeat 5
    python bench/insight_render.py --database-url postgresql://postgres@127.0.0.1:5432/bench

Generates the organisation of tests/insight/org.py (weekly participation counts,
narrations, matches, introductions, dialogue rounds, durf-te-vragen questions and thanks),
then times what `/wol stats` does: read and aggregate the report (levels per week,
movement, communities with the minimum group size, outcomes), write the chat summary and
render the PNG chart; and what the dashboard does on top: three SVG charts. The first
render includes importing matplotlib (once per process). Prints medians over `--repeat`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build
from bot.clock import FakeClock
from bot.config import Settings
from bot.insight.charts import render_png, render_svg
from bot.insight.render import summary, to_csv
from bot.insight.report import build_report
from tests.insight.org import SETTINGS, WS, generate


async def _timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = await fn()
    return time.perf_counter() - start, result


async def run(url: str, people: int, weeks: int, repeat: int) -> dict[str, Any]:
    settings = Settings.model_validate(
        {
            "database_url": url,
            "env": {"WOLBOT_SECRET_KEY": "bench-secret-key-0123456789"},
            **SETTINGS,
        }
    )
    core = build(settings)
    await core.db.upgrade()
    started = time.perf_counter()
    org = await generate(core.db, people=people, weeks=weeks)
    generated = time.perf_counter() - started
    await core.stop()
    core = build(settings, clock=FakeClock(org.now))
    t = core.i18n.get("en")
    result: dict[str, Any] = {
        "people": people,
        "weeks": weeks,
        "database": core.db.dialect,
        "load_average_before": os.getloadavg()[0],
        "generate_s": round(generated, 2),
    }
    first_png = 0.0
    timings: dict[str, list[float]] = {
        k: [] for k in ("report", "summary", "png", "stats_total", "svg_3", "csv")
    }
    for i in range(repeat):
        total_start = time.perf_counter()
        took, report = await _timed(lambda: build_report(core, WS))
        timings["report"].append(took)
        start = time.perf_counter()
        summary(report, t)
        timings["summary"].append(time.perf_counter() - start)
        took, png = await _timed(lambda: asyncio.to_thread(render_png, report, t))  # noqa: B023
        if i == 0:
            first_png = took
            result["png_bytes"] = len(png)
        else:
            timings["png"].append(took)
        timings["stats_total"].append(time.perf_counter() - total_start)
        start = time.perf_counter()
        for which in ("funnel", "trend", "outcomes"):
            await asyncio.to_thread(render_svg, report, t, which)
        timings["svg_3"].append(time.perf_counter() - start)
        start = time.perf_counter()
        to_csv(report)
        timings["csv"].append(time.perf_counter() - start)
    await core.stop()
    latest = report.periods[-1].levels
    result["active_people_latest_week"] = latest.total if latest else None
    result["png_first_incl_matplotlib_import_s"] = round(first_png, 3)
    for name, values in timings.items():
        if values:
            result[f"{name}_median_s"] = round(statistics.median(values), 3)
            result[f"{name}_max_s"] = round(max(values), 3)
    result["stats_total_first_s"] = round(timings["stats_total"][0], 3)
    result["load_average_after"] = os.getloadavg()[0]
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--weeks", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--database-url", help="default: SQLite in a temporary directory")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        result = asyncio.run(run(url, args.people, args.weeks, args.repeat))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
