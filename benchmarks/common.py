"""Shared helpers for the benchmarks: timing, peak RSS, JSON lines."""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time

import jax


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux ru_maxrss is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_call(fn, *args) -> float:
    """Seconds for one call of ``fn(*args)``, waiting for all its outputs."""
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def alternate(contenders: dict, rounds: int, calls_per_round: int) -> dict:
    """Times each contender (name -> zero-arg callable) in turn, ``rounds`` times.

    Contenders alternate within each round so machine noise hits all of them
    alike. Returns name -> list of per-call seconds (one median per round).
    """
    samples = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            per_call = [time_call(fn) for _ in range(calls_per_round)]
            samples[name].append(statistics.median(per_call))
    return samples


def emit(record: dict) -> None:
    """Prints one JSON line (the benchmark output format of DESIGN.md)."""
    print(json.dumps(record, sort_keys=False), flush=True)
    sys.stdout.flush()
