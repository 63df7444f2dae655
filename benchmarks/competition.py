"""k-WTA benchmark: native vs reference ``get_k_winners`` / ``k_winners_from_times``.

Workload (fixed seed 0): batch 64, T = 15, a 24 x 24 x 30 layer, kwta 5,
inhibition radius 3. Potentials are thresholded rising potentials: 30 % of
the neurons fire at a uniform random step and hold a cumulative positive
potential from then on (the rest stay 0); spikes=None. ``k_winners_from_times``
gets the matching spike times and values. Both implementations are jitted
and warmed up, then alternate for ``--rounds`` rounds of ``--calls`` calls;
each line gives the median seconds per call and samples/s; the last line the
speed-ups of native over reference.

Run: ``PYTHONPATH=. python benchmarks/competition.py``
"""

from __future__ import annotations

import argparse
import statistics

import jax
import numpy as np

from benchmarks.common import alternate, emit, peak_rss_mb
from spyxlike import competition
from spyxlike.ops.kwta import first_crossing


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=5)
    args = parser.parse_args()
    B, T, H, W, C, K, R = args.batch, 15, 24, 24, 30, 5, 3
    rng = np.random.default_rng(0)
    fire = rng.integers(0, T, (B, 1, H, W, C))
    active = rng.random((B, 1, H, W, C)) < 0.3
    steps = np.arange(T).reshape(1, T, 1, 1, 1)
    pot = (np.cumsum(rng.random((B, T, H, W, C)), axis=1) * ((steps >= fire) & active))
    pot = pot.astype(np.float32)
    times, values = (np.asarray(a) for a in first_crossing(pot > 0, pot))
    pot, times, values = jax.device_put(pot), jax.device_put(times), jax.device_put(values)

    fns = {}
    for impl in ("reference", "native"):
        gk = jax.jit(lambda p, impl=impl: competition.get_k_winners(p, K, R, impl=impl))
        kt = jax.jit(lambda t, v, impl=impl: competition.k_winners_from_times(t, v, K, R, T,
                                                                                 impl=impl))
        fns[f"get_k_winners/{impl}"] = lambda gk=gk: gk(pot)
        fns[f"k_winners_from_times/{impl}"] = lambda kt=kt: kt(times, values)
    for fn in fns.values():
        jax.block_until_ready(fn())
    a, b = fns["get_k_winners/reference"](), fns["get_k_winners/native"]()
    assert all(np.array_equal(x, y) for x, y in zip(a, b)), "native and reference differ"
    samples = alternate(fns, args.rounds, args.calls)
    medians = {}
    for name, secs in samples.items():
        med = statistics.median(secs)
        medians[name] = med
        case, impl = name.split("/")
        emit({"case": case, "impl": impl, "median_s": round(med, 6),
              "samples_per_s": round(B / med, 1), "peak_rss_mb": round(peak_rss_mb(), 1)})
    emit({"case": "speedup_native_over_reference",
          "get_k_winners": round(medians["get_k_winners/reference"] /
                                 medians["get_k_winners/native"], 2),
          "k_winners_from_times": round(medians["k_winners_from_times/reference"] /
                                        medians["k_winners_from_times/native"], 2)})


if __name__ == "__main__":
    main()
