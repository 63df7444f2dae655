"""SpykeTorch's fire, native vs reference (and Pallas where a GPU runs it).

    python benchmarks/fire.py [--batch 64] [--time 15] [--rounds 5]

Potentials (batch, T, 24, 24, 30) float32, jitted, contenders alternating per
round; prints one JSON line per case with the median milliseconds per call and
samples (images) per second. fire is memory-bound (one read, one or two writes
of the whole tensor), so the native kernel can only save what XLA's fused
elementwise loop does not: expect parity to a small gain.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import alternate, emit, peak_rss_mb  # noqa: E402

from spyxlike import spikewave  # noqa: E402
from spyxlike.ops import native  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--time", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=3)
    args = parser.parse_args()
    p = jax.device_put(np.random.default_rng(0).normal(
        size=(args.batch, args.time, 24, 24, 30)).astype(np.float32))
    impls = ["reference"]
    if native.available() and jax.default_backend() == "cpu":
        impls.append("native")
    if jax.default_backend() == "gpu":
        impls.append("pallas")
    for threshold in (None, 0.5):
        for with_thr in (False, True):
            fns = {}
            for impl in impls:
                f = jax.jit(lambda x, impl=impl: spikewave.fire(x, threshold, with_thr, impl=impl))
                jax.block_until_ready(f(p))
                fns[impl] = (lambda f=f: f(p))
            samples = alternate(fns, args.rounds, args.calls)
            for impl, secs in samples.items():
                med = statistics.median(secs)
                emit({"case": f"fire threshold={threshold} thresholded={with_thr}",
                      "impl": impl, "batch": args.batch, "ms_per_call": round(med * 1e3, 2),
                      "samples_per_s": round(args.batch / med, 1),
                      "peak_rss_mb": round(peak_rss_mb(), 1)})


if __name__ == "__main__":
    main()
