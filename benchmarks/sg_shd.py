"""SHD-shaped surrogate-gradient benchmark: spyxlike vs Spyx 0.1.20, side by side.

Task: input spikes (batch 256, time 100, 700 channels, Bernoulli p=0.02,
fixed seed), 20 classes; network Linear 700->128 -> LIF -> Linear 128->128 ->
LIF -> Linear 128->20 -> LI (no biases, as in Spyx's SHD example), loss
``integral_crossentropy``, Adam(1e-3).

spyxlike runs the stack with ``layered_unroll`` (each projection one large
matmul outside the time loop, the 700->128 projection spike-driven, the LIF/LI
recurrences as fused native loops; ``--dense-hidden`` keeps the two hidden
projections dense). Spyx runs its own idiom: the first
projection hoisted with ``hk.BatchApply``, the rest in ``hk.DeepRNN`` under
``hk.dynamic_unroll(..., unroll=32)``. Both get the same uint8 spike array;
Spyx's ``hk.Linear`` needs float input, so its model casts to float32 first.

Prints one JSON line per (library, mode) with samples/s (median over rounds of
the median step time), plus a line comparing both on one fixed batch (same
parameters: loss and gradients must agree).

Usage:  python benchmarks/sg_shd.py [--compare spyx] [--rounds 7] [--impl auto]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import haiku as hk  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from common import alternate, emit, peak_rss_mb  # noqa: E402

import spyxlike  # noqa: E402
from spyxlike import fn, nn  # noqa: E402
from spyxlike.spike_linear import SpikeLinear  # noqa: E402
from spyxlike.unroll import layered_unroll  # noqa: E402

HIDDEN = 128
CLASSES = 20


def make_data(batch, time, channels, p, seed):
    rng = np.random.default_rng(seed)
    x = (rng.random((batch, time, channels)) < p).astype(np.uint8)
    y = rng.integers(0, CLASSES, batch).astype(np.int32)
    return jnp.asarray(x), jnp.asarray(y)


def spyxlike_model(impl, with_rates=False, dense_hidden=False):
    hidden_linear = (lambda n, name: hk.Linear(n, with_bias=False, name=name)) if dense_hidden else (
        lambda n, name: SpikeLinear(n, with_bias=False, name=name, impl=impl))

    def net(x):
        layers = [
            SpikeLinear(HIDDEN, with_bias=False, name="linear", impl=impl),
            nn.LIF((HIDDEN,), impl=impl),
            hidden_linear(HIDDEN, "linear_1"),
            nn.LIF((HIDDEN,), impl=impl),
            hidden_linear(CLASSES, "linear_2"),
            nn.LI((CLASSES,), impl=impl),
        ]
        outs, _ = layered_unroll(layers, x, collect=True)
        if with_rates:
            return outs[-1], (jnp.mean(outs[1]), jnp.mean(outs[3]))
        return outs[-1]

    return hk.without_apply_rng(hk.transform(net))


def spyx_model():
    import spyx

    def net(x):
        x = hk.BatchApply(hk.Linear(HIDDEN, with_bias=False))(x.astype(jnp.float32))
        core = hk.DeepRNN([
            spyx.nn.LIF((HIDDEN,)),
            hk.Linear(HIDDEN, with_bias=False),
            spyx.nn.LIF((HIDDEN,)),
            hk.Linear(CLASSES, with_bias=False),
            spyx.nn.LI((CLASSES,)),
        ])
        out, _ = hk.dynamic_unroll(core, x, core.initial_state(x.shape[0]), time_major=False, unroll=32)
        return out

    return hk.without_apply_rng(hk.transform(net))


def build(model, loss_fn, params, optimizer):
    def loss(p, x, y):
        return loss_fn(model.apply(p, x), y)

    @jax.jit
    def train_step(p, s, x, y):
        value, grads = jax.value_and_grad(loss)(p, x, y)
        updates, s = optimizer.update(grads, s, p)
        return optax.apply_updates(p, updates), s, value

    @jax.jit
    def infer(p, x):
        return jnp.argmax(jnp.sum(model.apply(p, x), axis=1), axis=-1)

    grad_fn = jax.jit(jax.value_and_grad(loss))
    return train_step, infer, grad_fn


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--time", type=int, default=100)
    parser.add_argument("--channels", type=int, default=700)
    parser.add_argument("--p", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=3, help="timed calls per round")
    parser.add_argument("--impl", default="auto", choices=["auto", "reference", "native"])
    parser.add_argument("--compare", default="", help="'spyx' to run Spyx 0.1.20 side by side")
    parser.add_argument("--dense-hidden", action="store_true",
                        help="dense hk.Linear for the 128->128 and 128->20 projections "
                             "(default: spike-driven SpikeLinear, same math)")
    args = parser.parse_args(argv)

    x, y = make_data(args.batch, args.time, args.channels, args.p, args.seed)
    loss_fn = fn.integral_crossentropy()
    optimizer = optax.adam(1e-3)
    ours = spyxlike_model(args.impl, dense_hidden=args.dense_hidden)
    params = ours.init(jax.random.PRNGKey(args.seed), x)
    contenders = {"spyxlike": build(ours, loss_fn, params, optimizer)}

    if args.compare == "spyx":
        try:
            import spyx  # noqa: F401
        except ImportError:
            emit({"case": "sg_shd", "impl": "spyx", "error": "spyx is not importable; pip install spyx==0.1.20"})
        else:
            theirs = spyx_model()
            their_params = theirs.init(jax.random.PRNGKey(args.seed), x)
            if jax.tree.structure(their_params) != jax.tree.structure(params):
                raise SystemExit("parameter trees differ between spyxlike and Spyx models")
            contenders["spyx"] = build(theirs, loss_fn, params, optimizer)
    elif args.compare:
        raise SystemExit(f"--compare: unknown peer {args.compare!r} (known: spyx)")

    # Equal results on a fixed batch: same params, same data.
    results = {name: c[2](params, x, y) for name, c in contenders.items()}
    if "spyx" in results:
        (l0, g0), (l1, g1) = results["spyxlike"], results["spyx"]
        grad_diff = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(g0), jax.tree.leaves(g1)))
        grad_scale = max(float(jnp.max(jnp.abs(a))) for a in jax.tree.leaves(g1))
        emit({"case": "sg_shd_equal_results", "loss_spyxlike": float(l0), "loss_spyx": float(l1),
              "max_abs_grad_diff": grad_diff, "max_abs_grad": grad_scale,
              "equal": bool(abs(float(l0) - float(l1)) <= 1e-4 * abs(float(l1)) and grad_diff <= 1e-3 * grad_scale)})

    # Warm up (compile) everything, then time alternately.
    state = {}
    rss = {}
    for name, (train_step, infer, _) in contenders.items():
        opt_state = optimizer.init(params)
        p, s, value = jax.block_until_ready(train_step(params, opt_state, x, y))
        jax.block_until_ready(infer(p, x))
        state[name] = [p, s, value, 1]
        rss[name] = peak_rss_mb()

    def trainer(name):
        step = contenders[name][0]

        def run():
            p, s, value = step(state[name][0], state[name][1], x, y)
            state[name][0], state[name][1] = p, s
            state[name][2] = value
            state[name][3] += 1
            return value

        return run

    def inferrer(name):
        infer = contenders[name][1]
        return lambda: infer(state[name][0], x)

    train_times = alternate({n: trainer(n) for n in contenders}, args.rounds, args.calls)
    infer_times = alternate({n: inferrer(n) for n in contenders}, args.rounds, args.calls)
    rates = jax.jit(spyxlike_model(args.impl, with_rates=True, dense_hidden=args.dense_hidden).apply)(state["spyxlike"][0], x)[1]
    summary = {}
    for name in contenders:
        t_train = statistics.median(train_times[name])
        t_infer = statistics.median(infer_times[name])
        summary[name] = args.batch / t_train
        emit({
            "case": "sg_shd",
            "impl": name if name != "spyxlike" else f"spyxlike-{args.impl}",
            "version": spyxlike.__version__ if name == "spyxlike" else importlib.metadata.version("spyx"),
            "batch": args.batch, "time": args.time, "channels": args.channels, "p": args.p,
            "train_samples_per_s": round(args.batch / t_train, 1),
            "train_ms_per_step": round(1e3 * t_train, 2),
            "inference_samples_per_s": round(args.batch / t_infer, 1),
            "samples_per_s": round(args.batch / t_train, 1),
            "peak_rss_mb": round(rss[name], 1),
            "train_steps": state[name][3], "final_loss": round(float(state[name][2]), 5),
            **({"hidden_spike_rates": [round(float(r), 4) for r in rates],
                "hidden_projection": "dense" if args.dense_hidden else "spike"}
               if name == "spyxlike" else {}),
            "backend": jax.default_backend(), "cpus": os.cpu_count(),
        })
    if "spyx" in summary:
        emit({"case": "sg_shd_ratio", "train_speedup_vs_spyx": round(summary["spyxlike"] / summary["spyx"], 2)})


if __name__ == "__main__":
    main()
