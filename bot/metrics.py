"""Prometheus metrics of this process (`GET /metrics` of `wolbot serve`), names `wolbot_…`.

Metrics belong to the process Prometheus scrapes, so they live in one registry per process
(`REGISTRY`), not per `Core`: counters and histograms are incremented where the work
happens (one line each in the router, the outbox worker, the scheduler and matching), and
the backlog gauges are read from the database at scrape time (`refresh_backlog`), so every
replica reports the same shared backlog. Sum counters over replicas; take the max (not the
sum) of the backlog gauges.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)

P = ParamSpec("P")
T = TypeVar("T")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        # no `_created` series beside every counter and histogram
        disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client: unannotated
        r = self.registry = CollectorRegistry(auto_describe=True)
        process_collector.ProcessCollector(registry=r)  # process_cpu_seconds_total, RSS, fds
        platform_collector.PlatformCollector(registry=r)
        gc_collector.GCCollector(registry=r)
        self.events_received = Counter(
            "wolbot_events_received",
            "Inbound events that reached the core",
            ["platform", "kind"],
            registry=r,
        )
        self.events_handled = Counter(
            "wolbot_events_handled",
            "Inbound events handled, by outcome (ok, error)",
            ["platform", "kind", "outcome"],
            registry=r,
        )
        self.handling_seconds = Histogram(
            "wolbot_event_handling_seconds",
            "Time to handle one inbound event",
            ["platform"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.deliveries = Counter(
            "wolbot_deliveries",
            "Outbound deliveries by outcome (sent, retried, failed, rate_limited, uncertain)",
            ["platform", "outcome"],
            registry=r,
        )
        self.rate_limited = Counter(
            "wolbot_platform_rate_limited",
            "429 (rate limited) answers from a platform",
            ["platform"],
            registry=r,
        )
        self.jobs = Counter(
            "wolbot_scheduled_jobs",
            "Scheduled occurrences by what happened "
            "(claimed: this process won it; run; failed; dropped: missed beyond its grace)",
            ["outcome"],
            registry=r,
        )
        self.matching_seconds = Histogram(
            "wolbot_matching_seconds",
            "Time to find suggestions for one text",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.http_requests = Counter(
            "wolbot_http_requests",
            "HTTP requests served, by route and status class",
            ["route", "status"],
            registry=r,
        )
        self.outbox_backlog = Gauge(
            "wolbot_outbox_backlog",
            "Outbound messages not yet delivered (whole database)",
            ["status"],
            registry=r,
        )
        self.inbox_backlog = Gauge(
            "wolbot_inbox_backlog",
            "Stored inbound events not yet handled (whole database)",
            ["status"],
            registry=r,
        )
        self.scrape_seconds = Gauge(
            "wolbot_metrics_backlog_query_seconds",
            "Time the backlog queries took at the last scrape",
            registry=r,
        )

    def handled(self, platform: str, kind: str, outcome: str, seconds: float) -> None:
        self.events_handled.labels(platform, kind, outcome).inc()
        self.handling_seconds.labels(platform).observe(seconds)

    def delivery(self, platform: str, outcome: str) -> None:
        self.deliveries.labels(platform, outcome).inc()
        if outcome == "rate_limited":
            self.rate_limited.labels(platform).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


METRICS = Metrics()


def timed(histogram: Histogram) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Observe the duration of an async function in `histogram` (prometheus' own `.time()`
    would only time the creation of the coroutine)."""

    def wrap(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(fn)
        async def inner(*args: P.args, **kwargs: P.kwargs) -> T:
            start = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                histogram.observe(time.perf_counter() - start)

        return inner

    return wrap


async def refresh_backlog(db: Any) -> None:
    """Set the backlog gauges from the database: one grouped count per queue, over the
    rows still to do (the status indexes keep it cheap: docs/benchmarks.md)."""
    from sqlalchemy import text

    start = time.perf_counter()
    async with db.engine.connect() as conn:
        for gauge, table in (
            (METRICS.outbox_backlog, "outboxitem"),
            (METRICS.inbox_backlog, "inbox"),
        ):
            rows = (
                await conn.execute(
                    text(
                        f"SELECT status, count(*) FROM {table} "
                        "WHERE status IN ('pending', 'sending') GROUP BY status"
                    )
                )
            ).all()
            counts = {status: n for status, n in rows}
            for status in ("pending", "sending"):
                gauge.labels(status=status).set(counts.get(status, 0))
    METRICS.scrape_seconds.set(time.perf_counter() - start)
