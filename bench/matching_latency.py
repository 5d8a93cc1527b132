"""Latency, memory and build time of wolbot's matching at 1k / 10k / 100k stored narrations.

    python bench/matching_latency.py                  # all sizes, each in its own process
    python bench/matching_latency.py --size 100000    # one size
    python bench/matching_latency.py --size 100000 --with-db   # + a whole core on SQLite
    python bench/matching_latency.py --size 100000 --serve     # + `wolbot serve` on it
    python bench/matching_latency.py --encoder use    # the other local model (default: e5)
    python bench/matching_latency.py --size 100000 --memory-map  # where the RSS is
    python bench/matching_latency.py --size 100000 --density 0.75 # + the density correction
    python bench/matching_latency.py --size 100000 --pair   # + the calibrated pair score

The encoder is the bot's own local model (`local_encoder`, app.yaml `matching.encoder`):
`e5` (multilingual-e5-small in onnxruntime, the default) or `use`, with its own policy.
"New narration to suggestions" is what the bot does for every narration: guess its
language, encode the text (the real model), rank it against the workspace index (semantic +
lexical, cross-language bonus), and select (filters, threshold, margin). Queries are the
real narrations of bench/data, cycled. Memory is the process's resident set (VmRSS) and its
peak (VmHWM), model included. `--with-db` stores the vectors in SQLite and starts a whole
core on them in this process (the model is then already loaded); `--serve` also starts
`wolbot serve` on that database in a fresh process and times it until `/healthz` answers
(imports, model load and index included).

`--density W` (with `--density-k K`, default 10) measures the neighbourhood density
correction (`MatchPolicy.density_weight`, docs/matching.md) in the same run: every query is
timed without it ("off"), with it ("on": the cache of neighbourhoods as it grows from empty
over the run, as after a start-up) and with it on an emptied cache ("on, cold": the worst
case, every candidate's neighbourhood computed), the three interleaved query by query; the
additions alternate between an empty and the filled cache; and the RSS with the cache full
(`Neighbourhoods.limit` items, placeholder rows: its memory, not the time to fill it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from matching_corpus import base_vectors, corpus_vectors, texts

from bot.langdetect import guess_language
from bot.matching.encoder import LOCAL_ENCODERS, local_encoder
from bot.matching.lexical import signal_tokens
from bot.matching.ranking import (
    Item,
    MatchPolicy,
    Viewer,
    WorkspaceIndex,
    select,
)

EVAL_DATA = Path(__file__).resolve().parent / "data" / "matching_eval.yaml"


def release_freed_memory() -> None:
    """What bot.matching.engine.release_freed_memory does after an index build:
    hand glibc's freed heap back (malloc_trim). Not imported from there: that module brings
    SQLAlchemy and Alembic (+50 MB), which this measurement leaves out (no store, no web app)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def memory_mb(pid: str = "self") -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB of this process (or of `pid`)."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def memory_map(top: int = 12) -> list[tuple[str, float]]:
    """Resident MB per mapped file (anonymous memory as one line), largest first."""
    rss: dict[str, float] = {}
    name = "?"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if head and not head[0].endswith(":"):  # a mapping's header line
            name = head[5] if len(head) > 5 else "[anonymous]"
            if name.startswith("[heap") or name.startswith("[stack"):
                name = "[anonymous]"
        elif head and head[0] == "Rss:":
            rss[name] = rss.get(name, 0.0) + int(head[1]) / 1024
    return sorted(rss.items(), key=lambda kv: -kv[1])[:top]


def queries_of_eval_set() -> list[str]:
    """The evaluation set's narrations (bench/data), in file order."""
    doc = yaml.safe_load(EVAL_DATA.read_text(encoding="utf-8"))
    return [
        n["text"] for fam in doc["families"] for group in fam["groups"] for n in group["narrations"]
    ]


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
    language = [guess_language(t) for t in pool]
    channels = ("C-general", "C-it", "C-care", "C-finance")
    return [
        Item.of(
            f"narration:{i}",
            "narration",
            f"U{i % 5000}",
            pool[i % len(pool)],
            visibility="public",
            channel_id=channels[i % 4],
            language=language[i % len(pool)],  # as the bot labels narrations
        )
        for i in range(n)
    ]


def run_size(
    n: int,
    queries: int,
    with_db: bool,
    encoder_name: str = "e5",
    serve: bool = False,
    with_map: bool = False,
    density: float = 0.0,
    density_k: int = 10,
    pair: bool = False,
) -> dict:
    result: dict = {"size": n, "load_average_before": os.getloadavg()[0], "encoder": encoder_name}
    result["rss_start_mb"], _ = memory_mb()  # interpreter, numpy and the bot's modules
    encoder = local_encoder(encoder_name)  # what the bot runs with matching.encoder = name
    result["encoder_name"] = encoder.name
    started = time.perf_counter()
    encoder.load()  # type: ignore[attr-defined]
    result["model_load_s"] = time.perf_counter() - started
    result["rss_model_mb"], _ = memory_mb()  # absolute, model loaded
    _, base = base_vectors(encoder)
    vecs = corpus_vectors(base, n)
    extra = corpus_vectors(base, 200, seed=7)
    del base  # the benchmark's own sample vectors do not count towards the bot's memory
    items = make_items(n)
    gc.collect()
    policy = getattr(encoder, "policy", None) or MatchPolicy()  # as MatchingEngine does
    result["policy"] = repr(policy)

    started = time.perf_counter()
    ws = WorkspaceIndex.build(items, vecs)
    result["build_s"] = time.perf_counter() - started
    result["partitioned"] = ws.vectors.partitioned
    del vecs
    gc.collect()
    release_freed_memory()  # as MatchingEngine does after building an index
    result["rss_mb"], _ = memory_mb()
    if with_map:
        result["memory_map"] = memory_map()

    started = time.perf_counter()
    ws.vectors.rebuild()
    result["rebuild_s"] = time.perf_counter() - started
    gc.collect()
    release_freed_memory()

    qtexts = queries_of_eval_set()
    viewer = Viewer("U-new", "C-general", "public")
    on = replace(policy, density_weight=density, density_k=density_k)
    cache = "density"  # the index's cache that "on" fills
    if pair:  # the calibrated pair score instead (its cache of k + 1 nearest cosines)
        from bot.matching.e5 import E5_PAIR_POLICY

        on, cache, density, density_k = E5_PAIR_POLICY, "pairs", 1.0, E5_PAIR_POLICY.density_k
        result["pair"] = repr(on)
    for q in qtexts[:10]:  # warm caches (not the density cache: that starts empty)
        vec = encoder.encode([q])[0]
        select(ws.rank(vec, signal_tokens(q), policy, guess_language(q), q), policy, viewer)
    modes = ("off", "on", "cold") if density else ("off",)
    total: dict[str, list[float]] = {m: [] for m in modes}
    search_only: dict[str, list[float]] = {m: [] for m in modes}
    computed: dict[str, list[int]] = {m: [] for m in modes}
    posted: dict[str, int] = dict.fromkeys(modes, 0)
    warm = None  # the density cache of "on", kept across its queries
    for i in range(queries):
        q = qtexts[i % len(qtexts)]
        for mode in modes[i % len(modes) :] + modes[: i % len(modes)]:  # rotated order
            setattr(ws, cache, warm if mode == "on" else None)
            before = len(getattr(ws, cache) or ())
            t0 = time.perf_counter()
            language = guess_language(q)
            vec = encoder.encode([q])[0]
            t1 = time.perf_counter()
            found = select(
                ws.rank(vec, signal_tokens(q), on if mode != "off" else policy, language, q),
                policy,
                viewer,
            )
            t2 = time.perf_counter()
            total[mode].append(t2 - t0)
            search_only[mode].append(t2 - t1)
            posted[mode] += len(found)
            if mode != "off":
                computed[mode].append(len(getattr(ws, cache) or ()) - before)
            if mode == "on":
                warm = getattr(ws, cache)
    result["new_narration_to_suggestions_ms"] = percentiles(total["off"])
    result["search_only_ms"] = percentiles(search_only["off"])
    if density:
        result["density"] = {"weight": density, "k": density_k, "suggestions": posted}
        for mode in ("on", "cold"):
            result["density"][mode] = {
                "new_narration_to_suggestions_ms": percentiles(total[mode]),
                "search_only_ms": percentiles(search_only[mode]),
                "computed_per_query": float(np.mean(computed[mode])),
            }
        result["density"]["cached"] = len(warm) if warm is not None else 0
        # The worst case, whatever the bound leaves out: the neighbourhoods of all 64
        # candidates of a query's shortlist computed at once (VectorIndex.neighbours).
        every = []
        for q in qtexts[:100]:
            keys = [k for k, _ in ws.vectors.search(encoder.encode([q])[0], policy.shortlist)]
            t0 = time.perf_counter()
            ws.vectors.neighbours(keys, density_k)
            every.append(time.perf_counter() - t0)
        result["density"]["all_candidates_ms"] = percentiles(every)
    setattr(ws, cache, warm)
    gc.collect()
    result["rss_after_queries_mb"], _ = memory_mb()  # e5: more of its mapped table read

    adds: dict[bool, list[float]] = {False: [], True: []}
    for i in range(200):
        q = qtexts[i % len(qtexts)]
        item = Item.of(
            f"narration:new{i}",
            "narration",
            "U-x",
            q,
            visibility="public",
            language=guess_language(q),
        )
        cached = bool(density) and i % 2 == 1  # with the density cache to keep current
        setattr(ws, cache, warm if cached else None)
        t0 = time.perf_counter()
        ws.add([item], extra[i : i + 1])
        adds[cached].append(time.perf_counter() - t0)
    setattr(ws, cache, warm)
    result["add_one_ms"] = percentiles(adds[False])
    if density:
        result["density"]["add_one_ms"] = percentiles(adds[True])
    gc.collect()
    result["rss_after_adds_mb"], _ = memory_mb()
    if density and warm is not None:  # the memory of a full cache (its limit of items)
        missing = [k for k in ws.items if k not in warm][: max(0, warm.limit - len(warm))]
        warm.put(missing, np.zeros((len(missing), warm.k), np.float32))
        gc.collect()
        result["density"]["rss_full_cache_mb"], _ = memory_mb()
        result["density"]["full_cache"] = len(warm)
        for key in missing:
            warm.drop(key)
    # One narration as long as the bot keeps (narrations.max_length, 4000 characters; e5
    # reads its first 128 tokens, MAX_TOKENS): the model's working memory for the longest input.
    encoder.encode([" ".join(qtexts)[:4000]])
    gc.collect()
    result["rss_after_long_mb"], _ = memory_mb()

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
        result.update(
            asyncio.run(db_phase(encoder, encoder_name, n, items, qtexts, queries, serve))
        )
    result["load_average_after"] = os.getloadavg()[0]
    return result


async def db_phase(encoder, encoder_name, n, items, qtexts, queries, serve) -> dict:  # type: ignore[no-untyped-def]
    """Store n vectors in SQLite, then start a whole core on them (see core_phase) and,
    with `serve`, `wolbot serve` (see serve_phase)."""
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
                        "language": items[i].language,
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
        await db.dispose()
        url = f"sqlite:///{tmp}/bench.db"
        out.update(await core_phase(url, encoder_name, qtexts, queries))
        if serve:
            out.update(serve_phase(url, encoder_name, tmp))
    return out


async def core_phase(url: str, encoder_name: str, qtexts: list[str], queries: int) -> dict:
    """The whole core on the stored corpus: start-up (migrations checked, the matching start
    hook loading model and index) and `core.handle` of new narrations end to end (store the
    narration, encode, search, filters, record suggestions, enqueue the reply)."""
    from bot.app import build
    from bot.config import Settings
    from bot.events import Conversation, ConversationKind, EventKind, InboundEvent, PersonRef

    out: dict = {}
    gc.collect()
    rss_before, _ = memory_mb()
    settings = {
        "database_url": url,
        "auto_migrate": False,
        "env": {},
        "matching": {"encoder": encoder_name},
    }
    core = build(Settings.model_validate(settings))
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


def serve_phase(url: str, encoder_name: str, tmp: str) -> dict:
    """`wolbot serve` (python -m bot serve) on the stored corpus, in a fresh process: the time
    from launch until /healthz answers 200 (interpreter, imports, migrations checked, the
    matching start hook loading the model and the index), and that process's memory."""
    config = Path(tmp) / "app.yaml"
    config.write_text(f"matching:\n  encoder: {encoder_name}\n", encoding="utf-8")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = str(Path(__file__).resolve().parents[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WOLBOT_", "SLACK_", "TEAMS_"))}
    env |= {"WOLBOT_DATABASE_URL": url, "WOLBOT_CONFIG": str(config), "PYTHONPATH": root}
    cmd = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    out: dict = {"serve_load_average_before": os.getloadavg()[0]}
    started = time.perf_counter()
    log = Path(tmp) / "serve.log"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(cmd, env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        while True:
            if proc.poll() is not None:
                err = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"wolbot serve exited ({proc.returncode}): {err}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            time.sleep(0.05)
        out["serve_ready_s"] = time.perf_counter() - started
        time.sleep(1.0)  # let start-up's temporaries go
        out["serve_rss_mb"], out["serve_peak_rss_mb"] = memory_mb(str(proc.pid))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return out


def policy_shortlist(r: dict) -> str:
    return r["policy"].split("shortlist=")[1].split(",")[0]


def show(r: dict) -> None:
    t, s = r["new_narration_to_suggestions_ms"], r["search_only_ms"]
    print(
        f"{r['size']:>7} narrations ({r['encoder_name']})  build {r['build_s']:.2f}s"
        f"  rebuild {r['rebuild_s']:.2f}s"
        f"  {'IVF' if r['partitioned'] else 'exact'}   (load average "
        f"{r['load_average_before']:.1f} -> {r['load_average_after']:.1f}, {os.cpu_count()} CPUs)"
    )
    print(
        f"          new narration -> suggestions: p50 {t['p50']:.1f} ms  p95 {t['p95']:.1f} ms"
        f"  p99 {t['p99']:.1f} ms   (search alone p95 {s['p95']:.2f} ms)"
    )
    print(
        f"          add one p95 {r['add_one_ms']['p95']:.3f} ms   RSS {r['rss_mb']:.0f} MB"
        f" after build, {r['rss_after_queries_mb']:.0f} MB after the queries,"
        f" {r.get('rss_after_adds_mb', 0):.0f} MB after 200 additions,"
        f" {r['rss_after_long_mb']:.0f} MB after one 4000-character narration;"
        f" peak {r['peak_rss_mb']:.0f} MB"
    )
    print(
        f"          (at start {r['rss_start_mb']:.0f} MB, model loaded {r['rss_model_mb']:.0f} MB"
        f" in {r['model_load_s']:.2f}s)"
    )
    if "density" in r:
        d = r["density"]
        what = "pair score" if "pair" in r else f"density {d['weight']} (k {d['k']})"
        for mode, label in (("on", "on"), ("cold", "on, emptied cache")):
            m = d[mode]["new_narration_to_suggestions_ms"]
            print(
                f"          {what} {label}: p50 {m['p50']:.1f} ms"
                f"  p95 {m['p95']:.1f} ms  p99 {m['p99']:.1f} ms   (search alone p95 "
                f"{d[mode]['search_only_ms']['p95']:.2f} ms; neighbourhoods computed per "
                f"query {d[mode]['computed_per_query']:.1f})"
            )
        print(
            f"          density: the neighbourhoods of all {policy_shortlist(r)} candidates of a"
            f" query computed at once p50 {d['all_candidates_ms']['p50']:.1f} ms"
            f" p95 {d['all_candidates_ms']['p95']:.1f} ms (the worst case of an emptied cache)"
        )
        print(
            f"          density: {d['cached']} neighbourhoods cached after the queries;"
            f" add one p95 {d['add_one_ms']['p95']:.3f} ms with the cache (without:"
            f" {r['add_one_ms']['p95']:.3f}); RSS with the cache full ({d['full_cache']}"
            f" items) {d['rss_full_cache_mb']:.0f} MB; suggestions off / on / cold"
            f" {d['suggestions']['off']} / {d['suggestions']['on']} / {d['suggestions']['cold']}"
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
    if "serve_ready_s" in r:
        print(
            f"          wolbot serve, fresh process: /healthz after {r['serve_ready_s']:.2f}s"
            f" (load average {r['serve_load_average_before']:.1f}), RSS {r['serve_rss_mb']:.0f}"
            f" MB, peak {r['serve_peak_rss_mb']:.0f} MB"
        )
    for name, mb in r.get("memory_map", []):
        print(f"          {mb:7.1f} MB  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, help="one corpus size (default: 1k, 10k, 100k)")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--with-db", action="store_true", help="+ a whole core on SQLite")
    parser.add_argument("--serve", action="store_true", help="+ `wolbot serve` (implies --with-db)")
    parser.add_argument("--memory-map", action="store_true", help="resident MB per mapping")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--encoder", choices=LOCAL_ENCODERS, default="e5")
    parser.add_argument(
        "--density",
        type=float,
        default=0.0,
        help="also time the density correction with this weight (interleaved with off)",
    )
    parser.add_argument("--density-k", type=int, default=10)
    parser.add_argument(
        "--pair",
        action="store_true",
        help="time the calibrated pair score (E5_PAIR_POLICY) as 'on' instead of the density "
        "correction (interleaved with off and with an emptied cache)",
    )
    args = parser.parse_args()
    with_db = args.with_db or args.serve
    if args.size:
        result = run_size(
            args.size,
            args.queries,
            with_db,
            args.encoder,
            args.serve,
            args.memory_map,
            args.density,
            args.density_k,
            args.pair,
        )
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
        ]
        cmd += ["--with-db"] if with_db else []
        cmd += ["--serve"] if args.serve else []
        cmd += ["--memory-map"] if args.memory_map else []
        cmd += ["--density", str(args.density), "--density-k", str(args.density_k)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        show(json.loads(out.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
