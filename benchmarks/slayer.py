"""SLAYER-style SRM network training: spyxlike vs lava-dl (``lava.lib.dl.slayer``), side by side.

Task: input spikes (batch 64, T = 100 steps of Ts = 1 ms, 700 channels,
Bernoulli p = 0.02, fixed seed), 20 classes. Network: dense 700 -> 128 ->
128 -> 20, each followed by spiking neurons; Adam(1e-3); a spike-count loss.

* spyxlike: SLAYER's SRM-alpha neurons (``SpikeLayer``: theta 10, tauSr 10,
  tauRef 1, scaleRef 2, tauRho 1, scaleRho 1; psp kernel of 77 taps),
  ``spike(dense(psp(x)))`` per layer, computed as ``spike(psp(dense(x)))``
  (equal by linearity: psp acts on time, dense on features; psp then runs on
  128 instead of 700 channels), dense layers spike-driven
  (``spike_matmul``) with ``weightScale`` 30 (``--weight-scale``; SLAYER's
  default 10 leaves this network silent on this input), loss ``spyxlike.slayer_loss.num_spikes``
  (target counts 20 / 5 in [0, 100) ms) when importable, else the local
  ``count_loss``; ``--delays`` adds a learnable per-neuron axonal delay after
  each hidden layer (``SpikeLayer.delay``), clamped to >= 0 after each step.
* lava-dl (when importable): ``slayer.block.cuba.Dense`` CUBA blocks with the
  lava-dl tutorial neuron parameters, ``delay=True`` on the hidden blocks for
  the delay case, loss ``slayer.loss.SpikeRate(0.2, 0.05)``, torch Adam(1e-3),
  ``torch.set_num_threads(--torch-threads)`` (default 1).

The two models are the same size and task, not the same neuron model (lava-dl
has no SRM block; SLAYER PyTorch needs CUDA). Contenders alternate in every
round; each prints one JSON line with training samples/s (median over
rounds) and the process's peak RSS so far.

Usage: python benchmarks/slayer.py [--rounds 5] [--steps 5] [--torch-threads 1]
       [--only spyxlike|lava] [--impl auto]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import statistics
import sys
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import haiku as hk  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from common import emit, peak_rss_mb  # noqa: E402

from spyxlike.delays import clamp_delays  # noqa: E402
from spyxlike.slayer_layers import SpikeLayer  # noqa: E402

IN, HIDDEN, CLASSES = 700, 128, 20
NEURON = {"type": "SRMALPHA", "theta": 10.0, "tauSr": 10.0, "tauRef": 1.0, "scaleRef": 2.0,
          "tauRho": 1.0, "scaleRho": 1.0}
TRUE_COUNT, FALSE_COUNT = 20.0, 5.0


def make_data(batch, steps, p, seed):
    rng = np.random.default_rng(seed)
    x = (rng.random((batch, steps, IN)) < p).astype(np.float32)
    y = rng.integers(0, CLASSES, batch).astype(np.int32)
    return x, y


# ------------------------------------------------------------------ spyxlike


def count_loss(spikes, labels, Ts):
    """Local numSpikes-style loss: 0.5 * sum((count - target)^2), counts over the whole sample."""
    counts = spikes.sum(axis=1) * Ts
    target = jnp.where(jax.nn.one_hot(labels, CLASSES) > 0, TRUE_COUNT, FALSE_COUNT)
    return 0.5 * jnp.sum((counts - target) ** 2)


def spyxlike_loss(sl, steps):
    try:
        from spyxlike.slayer_loss import num_spikes
    except ImportError:
        return "count_loss", lambda out, y: count_loss(out, y, sl.Ts)

    def loss(out, y):
        return num_spikes(out, y, target_region=(0, steps * sl.Ts),
                          target_counts=(TRUE_COUNT, FALSE_COUNT), Ts=sl.Ts, psp=sl.srm_kernel)

    return "spyxlike.slayer_loss.num_spikes", loss


def spyxlike_model(sl, delays, weight_scale, with_rates=False):
    def net(x):
        h, rates = x, []
        for i, (n_in, n_out) in enumerate([(IN, HIDDEN), (HIDDEN, HIDDEN), (HIDDEN, CLASSES)]):
            h = sl.spike(sl.psp(sl.dense(n_in, n_out, weight_scale, spike_driven=True,
                                         name=f"fc{i}")(h)))
            rates.append(jnp.mean(h > 0))
            if delays and i < 2:
                h = sl.delay(n_out, name=f"delay{i}")(h)
        return (h, rates) if with_rates else h

    return hk.without_apply_rng(hk.transform(net))


def build_spyxlike(args, x, y, delays):
    sl = SpikeLayer(NEURON, {"Ts": 1.0, "tSample": float(args.steps_T)}, impl=args.impl)
    model = spyxlike_model(sl, delays, args.weight_scale)
    probe = spyxlike_model(sl, delays, args.weight_scale, with_rates=True)
    loss_name, loss = spyxlike_loss(sl, args.steps_T)
    opt = optax.adam(1e-3)
    params = model.init(jax.random.PRNGKey(0), x[:1])
    opt_state = opt.init(params)

    @jax.jit
    def train_step(params, opt_state, x, y):
        value, grads = jax.value_and_grad(lambda p: loss(model.apply(p, x), y))(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        if delays:
            params = clamp_delays(params)
        return params, opt_state, value

    xj, yj = jnp.asarray(x), jnp.asarray(y)
    state = {"p": params, "s": opt_state, "loss": None}

    def step():
        state["p"], state["s"], state["loss"] = train_step(state["p"], state["s"], xj, yj)
        jax.block_until_ready(state["loss"])

    def rates():
        return [round(float(r), 4) for r in probe.apply(state["p"], xj)[1]]

    return step, state, rates, loss_name


# ------------------------------------------------------------------ lava-dl


def _import_lava():
    if "torchvision" not in sys.modules:  # lava-dl imports torchvision only for object detection
        tv = types.ModuleType("torchvision")
        tv.ops = types.ModuleType("torchvision.ops")
        tv.transforms = types.ModuleType("torchvision.transforms")
        sys.modules.update({"torchvision": tv, "torchvision.ops": tv.ops,
                            "torchvision.transforms": tv.transforms})
    import torch
    import lava.lib.dl.slayer as slayer
    return torch, slayer


def build_lava(args, x, y, delays):
    torch, slayer = _import_lava()
    torch.manual_seed(0)
    neuron = {"threshold": 1.25, "current_decay": 0.25, "voltage_decay": 0.03,
              "tau_grad": 0.03, "scale_grad": 3, "requires_grad": False}
    blocks = torch.nn.ModuleList([
        slayer.block.cuba.Dense(neuron, IN, HIDDEN, delay=delays),
        slayer.block.cuba.Dense(neuron, HIDDEN, HIDDEN, delay=delays),
        slayer.block.cuba.Dense(neuron, HIDDEN, CLASSES),
    ])
    loss_fn = slayer.loss.SpikeRate(true_rate=TRUE_COUNT / args.steps_T,
                                    false_rate=FALSE_COUNT / args.steps_T, reduction="sum")
    opt = torch.optim.Adam(blocks.parameters(), lr=1e-3)
    xt = torch.from_numpy(np.ascontiguousarray(np.swapaxes(x, 1, 2)))  # (N, C, T)
    yt = torch.from_numpy(y.astype(np.int64))
    state = {"loss": None}

    def forward():
        h = xt
        for b in blocks:
            h = b(h)
        return h

    def step():
        out = forward()
        loss = loss_fn(out, yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        state["loss"] = float(loss.detach())

    def rates():
        out, h = [], xt
        with torch.no_grad():
            for b in blocks:
                h = b(h)
                out.append(round(float((h > 0).float().mean()), 4))
        return out

    return step, state, rates, "slayer.loss.SpikeRate"


# ------------------------------------------------------------------ workers


def worker(args):
    """Serves one lava-dl contender over stdin/stdout: 'step N' -> per-step seconds; 'info'; 'quit'."""
    torch, _ = _import_lava()
    torch.set_num_threads(args.torch_threads)
    x, y = make_data(args.batch, args.steps_T, args.p, 0)
    step, state, rates, loss_name = build_lava(args, x, y, args.worker_delays)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] == "step":
            per = []
            for _ in range(int(cmd[1])):
                t0 = time.perf_counter()
                step()
                per.append(time.perf_counter() - t0)
            print("@@" + json.dumps(per), flush=True)
        elif cmd[0] == "info":
            print("@@" + json.dumps({"loss": state["loss"], "rates": rates(),
                                     "rss": peak_rss_mb(), "loss_name": loss_name}), flush=True)


class RemoteLava:
    """A lava-dl contender living in another interpreter (its own venv), driven step by step."""

    def __init__(self, python, args, delays):
        cmd = [python, os.path.abspath(__file__), "--worker", "--batch", str(args.batch),
               "--time", str(args.steps_T), "--p", str(args.p),
               "--torch-threads", str(args.torch_threads)] + (["--worker-delays"] if delays else [])
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        while True:  # skip whatever lava-dl prints on import; replies start with '@@'
            reply = self.proc.stdout.readline()
            if not reply:
                raise RuntimeError("lava-dl worker died (run it with --only lava to see why)")
            if reply.startswith("@@"):
                return json.loads(reply[2:])

    def close(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait(timeout=60)


# ------------------------------------------------------------------ main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--time", dest="steps_T", type=int, default=100)
    parser.add_argument("--p", type=float, default=0.02)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5, help="timed training steps per round")
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--impl", default="auto", choices=["auto", "reference", "native"])
    parser.add_argument("--only", default="", choices=["", "spyxlike", "lava"])
    parser.add_argument("--weight-scale", type=float, default=30.0,
                        help="SLAYER weightScale of the spyxlike dense layers (SLAYER's default 10 "
                             "leaves this network silent on this input)")
    parser.add_argument("--lava-python", default="/work/lavavenv/bin/python",
                        help="interpreter of a venv with lava-dl, used when lava-dl is not "
                             "importable here (its own process, alternating with spyxlike)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker-delays", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-delays", action="store_true", help="skip the delay cases")
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    x, y = make_data(args.batch, args.steps_T, args.p, 0)
    cases = [False] if args.no_delays else [False, True]
    contenders = {}  # (lib, delays) -> (run(n) -> per-step seconds, info() -> dict)
    if args.only in ("", "spyxlike"):
        for d in cases:
            step, state, rates, loss_name = build_spyxlike(args, x, y, d)

            def run(n, step=step):
                per = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    step()
                    per.append(time.perf_counter() - t0)
                return per

            def info(state=state, rates=rates, loss_name=loss_name):
                return {"loss": float(state["loss"]), "rates": rates(), "rss": peak_rss_mb(),
                        "loss_name": loss_name, "where": "in-process",
                        "jax_device": str(jax.devices()[0])}

            contenders[("spyxlike", d)] = (run, info)
    remotes = []
    if args.only in ("", "lava"):
        try:
            torch, _ = _import_lava()
        except ImportError as err:
            if args.lava_python and os.path.exists(args.lava_python):
                for d in cases:
                    r = RemoteLava(args.lava_python, args, d)
                    remotes.append(r)
                    contenders[("lava-dl", d)] = (
                        lambda n, r=r: r.ask(f"step {n}"),
                        lambda r=r: dict(r.ask("info"), where=f"worker {args.lava_python}"))
            else:
                emit({"case": "slayer_dense", "impl": "lava-dl",
                      "error": f"lava-dl not importable: {err}"})
        else:
            torch.set_num_threads(args.torch_threads)
            for d in cases:
                step, state, rates, loss_name = build_lava(args, x, y, d)
                contenders[("lava-dl", d)] = (
                    lambda n, step=step: [_timed(step) for _ in range(n)],
                    lambda state=state, rates=rates, loss_name=loss_name: {
                        "loss": state["loss"], "rates": rates(), "rss": peak_rss_mb(),
                        "loss_name": loss_name, "where": "in-process"})

    times = {k: [] for k in contenders}
    for run, _ in contenders.values():
        run(2)  # compile / warm up
    for _ in range(args.rounds):
        for key, (run, _) in contenders.items():
            times[key].append(statistics.median(run(args.steps)))
    for (lib, d), (_, info) in contenders.items():
        med = statistics.median(times[(lib, d)])
        meta = info()
        emit({"case": "slayer_dense_700_128_128_20" + ("_delays" if d else ""),
              "impl": lib, "samples_per_s": round(args.batch / med, 1),
              "step_ms": round(1000 * med, 2), "peak_rss_mb": round(meta["rss"], 1),
              "batch": args.batch, "T": args.steps_T, "loss": meta["loss_name"],
              "final_loss": meta["loss"], "layer_spike_rates": meta["rates"],
              "torch_threads": args.torch_threads if lib == "lava-dl" else None,
              "runs": meta["where"]})
    for r in remotes:
        r.close()
    for d in cases:
        a, b = ("spyxlike", d), ("lava-dl", d)
        if a in times and b in times:
            emit({"case": "slayer_dense_speedup" + ("_delays" if d else ""),
                  "spyxlike_over_lava": round(statistics.median(times[b]) /
                                              statistics.median(times[a]), 2)})


def _timed(step):
    t0 = time.perf_counter()
    step()
    return time.perf_counter() - t0

if __name__ == "__main__":
    main()
