"""Filter-bank throughput: spyxlike vs Spyker on the same images (one JSON line per case).

Cases (batch 64 and 1, 28x28 single-channel images):

* ``dog``: Spyker-style ``DoG(3, [DoGFilter(1, 2), DoGFilter(2, 1)], pad=3)``;
* ``log``: ``LoG(3, [1.0, 2.0], pad=3)`` (on/off channels);
* ``gabor``: ``Gabor(2, 4 orientations)``.

spyxlike runs jitted; Spyker runs when ``import spyker`` works in this
interpreter, or in another one given with ``--peer-python`` (e.g. a venv
holding only spyker and numpy; that side imports no JAX).

    python benchmarks/filters.py [--peer-python /path/to/spyker/venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = ("dog", "log", "gabor")
BATCHES = (64, 1)
GABOR = [(2.0, float(t), 0.5, 4.0, 0.0) for t in (0, 45, 90, 135)]


def images(batch):
    return np.random.default_rng(0).random((batch, 28, 28, 1), dtype=np.float32)


def median_seconds(fn, calls=30, rounds=5):
    fn()
    per_round = []
    for _ in range(rounds):
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        per_round.append(statistics.median(times))
    return statistics.median(per_round)


def emit(case, impl, batch, seconds):
    print(json.dumps({
        "case": f"{case}_b{batch}", "impl": impl, "samples_per_s": batch / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }), flush=True)


def run_spyker():
    import spyker

    mods = {
        "dog": spyker.DoG(3, [spyker.DoGFilter(1.0, 2.0), spyker.DoGFilter(2.0, 1.0)], pad=3),
        "log": spyker.LoG(3, [1.0, 2.0], pad=3),
        "gabor": spyker.Gabor(2, [spyker.GaborFilter(*p) for p in GABOR]),
    }
    for batch in BATCHES:
        x = np.ascontiguousarray(np.transpose(images(batch), (0, 3, 1, 2)))
        for case in CASES:
            mod = mods[case]
            emit(case, "spyker", batch, median_seconds(lambda: mod(x)))


def run_spyxlike():
    sys.path.insert(0, os.path.dirname(HERE))
    import jax

    from spyxlike.filter_kernels import DoGFilter, GaborFilter
    from spyxlike.filters import DoG, Gabor, LoG

    mods = {
        "dog": DoG(3, [DoGFilter(1.0, 2.0), DoGFilter(2.0, 1.0)], pad=3),
        "log": LoG(3, [1.0, 2.0], pad=3),
        "gabor": Gabor(2, [GaborFilter(*p) for p in GABOR]),
    }
    for batch in BATCHES:
        x = jax.device_put(images(batch))
        for case in CASES:
            fn = jax.jit(mods[case])
            emit(case, "spyxlike", batch, median_seconds(lambda: fn(x).block_until_ready()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", help="interpreter that can import spyker (runs the Spyker side)")
    parser.add_argument("--only-spyker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only_spyker:
        run_spyker()
        return
    run_spyxlike()
    if args.peer_python:
        subprocess.run([args.peer_python, os.path.abspath(__file__), "--only-spyker"], check=True)
    else:
        try:
            import spyker  # noqa: F401
        except ImportError:
            return
        run_spyker()


if __name__ == "__main__":
    main()
