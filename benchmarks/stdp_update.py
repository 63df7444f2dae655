"""STDP weight update alone: impl=reference vs native (and pallas, interpreted off the GPU).

Workload of issue 3's layer-1 step: kernel 5x5x2x30, input 28x28x2 spike
times with T=15, batch 64, 5 winners per sample. Each impl is jitted with the
same arguments; the contenders alternate in rounds and the median per call is
reported. One JSON line per case.

    PYTHONPATH=. python benchmarks/stdp_update.py [--rounds 8] [--calls 20]
"""

from __future__ import annotations

import argparse
import statistics

import jax
import numpy as np

from benchmarks.common import alternate, emit, peak_rss_mb
from spyxlike import stdp
from spyxlike.winners import Winners


def workload(batch=64, size=28, cin=2, cout=30, kernel=5, steps=15, k=5, seed=0):
    rng = np.random.default_rng(seed)
    out = size - kernel + 1
    w = rng.normal(0.8, 0.02, (kernel, kernel, cin, cout)).astype(np.float32)
    pre = rng.integers(0, steps + 1, (batch, size, size, cin)).astype(np.int32)
    post = rng.integers(0, steps + 1, (batch, out, out, cout)).astype(np.int32)
    feature = np.stack([rng.permutation(cout)[:k] for _ in range(batch)]).astype(np.int32)
    row = rng.integers(0, out, (batch, k)).astype(np.int32)
    col = rng.integers(0, out, (batch, k)).astype(np.int32)
    return w, pre, post, Winners(feature, row, col, np.ones((batch, k), bool))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--impls", default="reference,native")
    args = parser.parse_args()
    w, pre, post, win = workload()
    w, pre, post = jax.device_put(w), jax.device_put(pre), jax.device_put(post)
    win = Winners(*(jax.device_put(a) for a in win))
    impls = args.impls.split(",")
    for accumulate in ("sum", "sequential"):
        fns = {
            impl: jax.jit(lambda w_, p_, q_, v_, impl=impl: stdp.stdp_conv(
                w_, p_, q_, v_, (0.004, -0.003), accumulate=accumulate, impl=impl))
            for impl in impls
        }
        for fn in fns.values():  # compile
            jax.block_until_ready(fn(w, pre, post, win))
        samples = alternate({n: (lambda f=f: f(w, pre, post, win)) for n, f in fns.items()},
                            args.rounds, args.calls)
        ref = statistics.median(samples["reference"]) if "reference" in samples else None
        for impl, times in samples.items():
            median = statistics.median(times)
            emit({
                "case": f"stdp_conv_{accumulate}_b64_5x5x2x30_k5",
                "impl": impl,
                "median_ms": round(median * 1e3, 4),
                "samples_per_s": round(pre.shape[0] / median, 1),
                "speedup_vs_reference": round(ref / median, 2) if ref else None,
                "peak_rss_mb": round(peak_rss_mb(), 1),
            })


if __name__ == "__main__":
    main()
