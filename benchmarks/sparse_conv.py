"""Sparse vs dense convolution with firing threshold at several input activities.

Workload (explicit, fixed seeds): batch 16, T = 15 time steps, input 28 x 28 x 2,
kernel 5 x 5 x 2 x 30 (HWIO) with weights N(0.8, 0.05) (SpykeTorch's STDP
initialisation, seed 1), threshold ``--threshold`` (default 10), stride 1, no
padding. Each input neuron spikes once with probability ``activity`` (2 %,
10 %, 50 %; ``--activities``) at a uniform time in [0, T) (seed 0).

Contenders, alternated within each round (median over ``--rounds`` rounds of
``--calls`` calls, after one warm-up call each):

* ``sparse_native``: ``spyxlike.sparse.conv(..., impl="native")`` on a
  prebuilt :class:`SparseSpikes` (events -> output events, C++);
* ``sparse_reference``: the same with the pure-JAX event-driven reference
  (``--reference`` to include it; slow, one scan step per event);
* ``dense``: the dense composition under ``jax.jit``: ``lax.conv`` of the
  cumulative spike-waves (B*T frames) + threshold + first crossing -> spike
  times, i.e. what a dense ``conv`` + ``fire`` pipeline computes.

Both produce the same output spikes (checked before timing). One JSON line
per (activity, impl) with the median seconds per call and input/output
event counts, then one line per activity with ``dense / sparse_native``.

Usage:  python benchmarks/sparse_conv.py [--activities 0.02,0.1,0.5] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from common import alternate, emit, peak_rss_mb  # noqa: E402

from spyxlike import sparse  # noqa: E402
from spyxlike.sparse_spikes import SparseSpikes  # noqa: E402

B, T, H, W, C = 16, 15, 28, 28, 2
KH, KW, COUT = 5, 5, 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", default="0.02,0.1,0.5")
    parser.add_argument("--threshold", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--reference", action="store_true", help="also time the pure-JAX reference")
    args = parser.parse_args()

    kernel = jnp.asarray(np.random.default_rng(1).normal(0.8, 0.05, (KH, KW, C, COUT)), jnp.float32)
    threshold = args.threshold

    @jax.jit
    def dense(waves):
        pot = jax.lax.conv_general_dilated(
            waves.reshape(B * T, H, W, C), kernel, (1, 1), "VALID",
            dimension_numbers=("NHWC", "HWIO", "NHWC"))
        fire = (pot > threshold).reshape((B, T) + pot.shape[1:])
        return jnp.where(fire.any(axis=1), jnp.argmax(fire, axis=1), T).astype(jnp.int32)

    sparse_native = jax.jit(lambda s: sparse.conv(s, kernel, threshold, impl="native"))
    sparse_ref = jax.jit(lambda s: sparse.conv(s, kernel, threshold, impl="reference"))

    for activity in (float(a) for a in args.activities.split(",")):
        rng = np.random.default_rng(0)
        times = np.where(rng.random((B, H, W, C)) < activity,
                         rng.integers(0, T, (B, H, W, C)), T).astype(np.int32)
        spikes = SparseSpikes.from_times(times, T)
        waves = jnp.asarray((times[:, None] <= np.arange(T)[None, :, None, None, None]).astype(np.float32))
        out = sparse_native(spikes)
        dense_times = np.asarray(dense(waves))
        if not np.array_equal(np.asarray(sparse.gather(out)), dense_times):
            raise SystemExit(f"sparse and dense outputs differ at activity {activity}")
        contenders = {"sparse_native": lambda: sparse_native(spikes).events, "dense": lambda: dense(waves)}
        if args.reference:
            contenders["sparse_reference"] = lambda: sparse_ref(spikes).events
        for fn in contenders.values():
            jax.block_until_ready(fn())
        samples = alternate(contenders, args.rounds, args.calls)
        medians = {name: statistics.median(v) for name, v in samples.items()}
        for name, sec in medians.items():
            emit({
                "case": f"sparse_conv_activity_{activity:g}", "impl": name,
                "median_s": round(sec, 6), "samples_per_s": round(B / sec, 1),
                "input_events": int(spikes.count), "output_events": int(out.count),
                "device": jax.devices()[0].device_kind, "peak_rss_mb": round(peak_rss_mb(), 1),
            })
        emit({"case": f"sparse_conv_activity_{activity:g}", "impl": "ratio",
              "dense_over_sparse_native": round(medians["dense"] / medians["sparse_native"], 2)})


if __name__ == "__main__":
    main()
