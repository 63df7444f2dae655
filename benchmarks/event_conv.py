"""Conv + fire on spike times: native (event-driven) vs reference (dense) images/s.

Workloads (fixed seeds):

* ``l1``: layer 1 of the Kheradpisheh 2018 digits pipeline. A random positive
  ``(B, 28, 28, 2)`` input with ~50 % zeros, rank-coded to T = 15 time steps
  (``spyxlike.coding.rank_code``), then ``conv_fire`` with a 5x5x2x30 kernel
  drawn from normal(0.8, 0.02) and threshold 15 (so most, not all, neurons fire).
* ``l2``: layer 2. The ``l1`` output times pooled 2x2 (``pool_times``) to
  ``(B, 12, 12, 30)``, then ``conv_fire`` with a 3x3x30x100 kernel
  (``--l2-kernel 5`` for 5x5) from normal(0.8, 0.02), threshold 10.

Each (workload, impl, batch) case is jitted, warmed up twice and timed as the
median of ``--reps`` calls (``block_until_ready``); impls alternate within
each round. ``--final`` also returns the potentials at T - 1 (read-out
features; the native kernel then keeps accumulating into outputs that have
fired). One JSON line per case; ``cpu_us_per_sample`` is the process CPU time
(all threads) per sample, which machine load inflates far less than wall time.

Usage: python benchmarks/event_conv.py [--cases l1,l2] [--batches 64,1] [--reps 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import emit, peak_rss_mb, time_call  # noqa: E402

from spyxlike.coding import rank_code  # noqa: E402
from spyxlike.event_conv import conv_fire, pool_times  # noqa: E402

T = 15


def workload(case: str, batch: int, l2_kernel: int):
    rng = np.random.default_rng(0)
    x = rng.random((batch, 28, 28, 2)).astype(np.float32)
    x[rng.random(x.shape) < 0.5] = 0
    times = rank_code(x, T)
    k1 = (0.8 + 0.02 * rng.standard_normal((5, 5, 2, 30))).astype(np.float32)
    if case == "l1":
        return times, k1, 15.0
    l1, _ = conv_fire(times, k1, 15.0, T)
    k2 = (0.8 + 0.02 * rng.standard_normal((l2_kernel, l2_kernel, 30, 100))).astype(np.float32)
    return pool_times(l1, 2), k2, 10.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default="l1,l2")
    parser.add_argument("--batches", default="64,1")
    parser.add_argument("--impls", default="native,reference")
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--l2-kernel", type=int, default=3)
    parser.add_argument("--final", action="store_true")
    args = parser.parse_args()
    for case in args.cases.split(","):
        for batch in map(int, args.batches.split(",")):
            times, kernel, threshold = workload(case, batch, args.l2_kernel)
            fns = {}
            for impl in args.impls.split(","):
                fn = jax.jit(lambda t, k, impl=impl: conv_fire(
                    t, k, threshold, T, return_final=args.final, impl=impl))
                jax.block_until_ready(fn(times, kernel))
                jax.block_until_ready(fn(times, kernel))
                fns[impl] = fn
            samples = {impl: [] for impl in fns}
            cpu = {impl: [0.0, 0] for impl in fns}
            for _ in range(args.rounds):
                for impl, fn in fns.items():
                    reps = args.reps if impl != "reference" or batch == 1 else max(3, args.reps // 6)
                    start = time.process_time()
                    samples[impl].append(statistics.median(
                        time_call(fn, times, kernel) for _ in range(reps)))
                    cpu[impl][0] += time.process_time() - start
                    cpu[impl][1] += reps * batch
            for impl, secs in samples.items():
                sec = statistics.median(secs)
                emit({"case": f"{case}_conv_fire" + ("_final" if args.final else ""),
                      "impl": impl, "batch": batch, "kernel": list(kernel.shape),
                      "input_spike_frac": round(float((np.asarray(times) < T).mean()), 3),
                      "samples_per_s": round(batch / sec, 1), "ms_per_call": round(sec * 1e3, 3),
                      "cpu_us_per_sample": round(cpu[impl][0] / cpu[impl][1] * 1e6, 1),
                      "peak_rss_mb": round(peak_rss_mb(), 1)})


if __name__ == "__main__":
    main()
