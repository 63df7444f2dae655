"""Single-spike STDP workloads: spyxlike (reference / native) vs Spyker 0.1.0, side by side.

Cases (images/s, the bundled digits upsampled to 28x28, fixed order):

* ``layer1_stdp``: the layer-1 STDP training step — DoG (on/off, 7x7,
  sigma 1/2) -> rank code (T = 15) -> conv 30 maps 5x5 -> fire (threshold
  15) -> k-WTA (k = 5, radius 3) -> STDP (0.004 / -0.003) on the batch;
* ``inference``: the 2-layer feature extractor — the same front end, conv1
  -> fire -> point-wise inhibition -> pool 2x2 (stride 2, padding 1) ->
  conv2 100 maps 3x3 (padding 1, threshold 10) -> fire, giving the layer-2
  spike times (Spyker sparse: ``sparse.gather`` of them; Spyker dense: the
  fired layer-2 spike-wave);
* ``inference_readout`` (spyxlike only): the same plus the read-out
  features of :mod:`spyxlike.stdp_features` (final layer-2 potentials,
  which need every input event, max-pooled on a 3x3 grid).

Each runs batched (``--batch``, default 64) and per image (batch-1 calls in
a loop over the same images). spyxlike runs ``impl="reference"`` (pure JAX:
dense convolution over all T steps) and ``impl="native"`` (event-driven C++
conv, k-WTA and STDP custom calls). When ``--spyker-python`` points at an
interpreter with ``spyker`` 0.1.0 (default: ``$SPYKER_PYTHON`` or
``/work/spykervenv/bin/python``), Spyker's dense and sparse modes run the
same workload in a worker process; contenders alternate in every round and
the medians of the per-round medians are reported, with the ratio of
spyxlike native to Spyker's faster mode.

Each contender's turn in a round is: ``--gap`` seconds idle (pool threads of
the previous contender settle), then untimed calls for ``--warm`` seconds
(at least one: after an idle gap this machine runs the first tens of
milliseconds slower, which would otherwise fall entirely on the contender
with the shorter calls), then ``--calls`` timed calls.

Usage: python benchmarks/stdp.py [--rounds 8] [--calls 3] [--batch 64]
       [--per-image 16] [--gap 0.2] [--warm 0.1] [--impls native,reference]
       [--cases layer1_stdp,inference,inference_readout]
       [--only spyxlike|spyker] [--spyker-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

T = 15
THRESH1, THRESH2 = 15.0, 10.0
KWTA, RADIUS = 5, 3
LR = (0.004, -0.003)


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ------------------------------------------------------------------ Spyker worker (numpy + spyker only)


def spyker_worker(images_path, threads):
    import numpy as np
    import spyker
    from spyker import sparse

    if threads:
        spyker.set_max_threads(threads)
    spyker.random_seed(0)
    images = np.load(images_path)  # (N, 1, 28, 28) float32
    dog = spyker.DoG(3, [spyker.DoGFilter(1.0, 2.0), spyker.DoGFilter(2.0, 1.0)], pad=3)
    conv1 = spyker.Conv(2, 30, 5, mean=0.8, std=0.02)
    conv1.stdpconfig = [spyker.STDPConfig(LR[0], LR[1])]
    conv2 = spyker.Conv(30, 100, 3, pad=1, mean=0.8, std=0.02)

    def train_dense(x):
        c = spyker.code(dog(x), T)
        p = conv1(c)
        s = spyker.fire(p, THRESH1)
        w = spyker.convwta(p, RADIUS, KWTA, THRESH1)
        conv1.stdp(c, w, s)

    def train_sparse(x):
        c = sparse.code(dog(x), T)
        s = conv1(c, THRESH1)
        w = sparse.convwta(s, RADIUS, KWTA)
        conv1.stdp(c, w)

    def infer_dense(x):
        c = spyker.code(dog(x), T)
        p1 = spyker.inhibit(conv1(c), THRESH1)
        s1 = spyker.pool(spyker.fire(p1, THRESH1), 2, 2, 1)
        p2 = conv2(s1)
        return spyker.fire(p2, THRESH2)

    def infer_sparse(x):
        c = sparse.code(dog(x), T)
        s1 = sparse.inhibit(conv1(c, THRESH1))
        s1 = sparse.pool(s1, 2, 2, 1)
        return sparse.gather(conv2(s1, THRESH2))

    cases = {"layer1_stdp/dense": train_dense, "layer1_stdp/sparse": train_sparse,
             "inference/dense": infer_dense, "inference/sparse": infer_sparse}
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        if cmd[0] == "run":  # run CASE BATCH_SIZE N_IMAGES CALLS -> per-call seconds
            fn, bs, n, calls = cases[cmd[1]], int(cmd[2]), int(cmd[3]), int(cmd[4])
            chunks = [images[i:i + bs] for i in range(0, n, bs)]
            per = []
            for _ in range(calls):
                t0 = time.perf_counter()
                for chunk in chunks:
                    fn(chunk)
                per.append(time.perf_counter() - t0)
            print("@@" + json.dumps(per), flush=True)
        elif cmd[0] == "info":
            print("@@" + json.dumps({"rss": _rss_mb(), "version": spyker.version()
                                     if callable(getattr(spyker, "version", None)) else "0.1.0"}),
                  flush=True)


class RemoteSpyker:
    """Spyker in its own interpreter (its own venv), driven case by case over a pipe."""

    def __init__(self, python, images_path, threads):
        cmd = [python, os.path.abspath(__file__), "--worker", images_path, "--threads", str(threads)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        while True:
            reply = self.proc.stdout.readline()
            if not reply:
                raise RuntimeError("Spyker worker died (run with --only spyker --worker-debug)")
            if reply.startswith("@@"):
                return json.loads(reply[2:])

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=60)
        except (BrokenPipeError, subprocess.TimeoutExpired):
            self.proc.kill()


# ------------------------------------------------------------------ spyxlike


def build_spyxlike(impl):
    import dataclasses
    from functools import partial

    import jax
    import jax.numpy as jnp

    from spyxlike.coding import rank_code
    from spyxlike.event_conv import (conv_fire, conv_fire_pointwise_pool, conv_fire_winners,
                                     winner_time_map)
    from spyxlike.stdp import stdp_conv
    from spyxlike.stdp_features import KheradpishehConfig, dog_filter, init_weights, readout_features

    cfg = dataclasses.replace(KheradpishehConfig(), time_steps=T)
    dog = dog_filter(cfg)
    weights = init_weights(cfg, jax.random.PRNGKey(0))

    def encode(x):
        return rank_code(dog(x), T, impl=impl)

    @jax.jit
    def train_step(w1, x):
        t_in = encode(x)
        # = conv_fire -> k_winners_from_times, fused (the STDP reads the post
        # times only at the winners)
        winners, t_win, _ = conv_fire_winners(t_in, w1, THRESH1, T, KWTA, RADIUS, impl=impl)
        layer = (t_in.shape[1] - w1.shape[0] + 1, t_in.shape[2] - w1.shape[1] + 1, w1.shape[3])
        t = winner_time_map(winners, t_win, layer, T)
        return stdp_conv(w1, t_in, t, winners, LR, impl=impl)

    def layer1_times(w1, x):
        # = conv_fire -> pointwise_inhibition_times -> pool_times, fused
        return conv_fire_pointwise_pool(encode(x), w1, THRESH1, T, pool_kernel_size=2,
                                        pool_stride=2, pool_padding=1, impl=impl)

    @jax.jit
    def infer(w1, w2, x):
        # the same output as Spyker's contenders: layer-2 spike times
        return conv_fire(layer1_times(w1, x), w2, THRESH2, T, padding=1,
                         return_potentials=False, impl=impl)

    @jax.jit
    def infer_readout(w1, w2, x):
        # plus the read-out features (final layer-2 potentials, pooled): spyxlike only
        _, final = conv_fire(layer1_times(w1, x), w2, THRESH2, T, padding=1,
                             return_final=True, return_potentials=False, impl=impl)
        return readout_features(cfg, final)

    state = {"w1": weights["conv1"]}

    def run_train(chunks):
        w1 = state["w1"]
        for chunk in chunks:
            w1 = train_step(w1, chunk)
        jax.block_until_ready(w1)
        state["w1"] = w1

    def runner(fn):
        def run(chunks):
            out = None
            for chunk in chunks:
                out = fn(state["w1"], weights["conv2"], chunk)
            jax.block_until_ready(out)
        return run

    return ({"layer1_stdp": run_train, "inference": runner(infer),
             "inference_readout": runner(infer_readout)}, partial(jnp.asarray))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--calls", type=int, default=3, help="calls per contender per round (median)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--per-image", type=int, default=16, help="images timed one at a time")
    p.add_argument("--only", choices=["spyxlike", "spyker"], default=None)
    p.add_argument("--impls", default="native,reference")
    p.add_argument("--cases", default="layer1_stdp,inference,inference_readout",
                   help="comma-separated cases to run (default: all three)")
    p.add_argument("--gap", type=float, default=0.2,
                   help="seconds of idle time before timing each contender (default 0.2)")
    p.add_argument("--warm", type=float, default=0.1,
                   help="seconds of untimed calls after the gap, before timing (default 0.1)")
    p.add_argument("--threads", type=int, default=0, help="Spyker max threads (0: its default)")
    p.add_argument("--spyker-python",
                   default=os.environ.get("SPYKER_PYTHON", "/work/spykervenv/bin/python"))
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        spyker_worker(args.worker, args.threads)
        return 0

    import numpy as np

    from spyxlike.datasets import load_digits_upsampled

    known = ("layer1_stdp", "inference", "inference_readout")
    wanted = [c for c in args.cases.split(",") if c]
    for c in wanted:
        if c not in known:
            p.error(f"--cases: unknown case {c!r}; expected some of {', '.join(known)}")

    (x, _), _ = load_digits_upsampled()
    n = max(args.batch, args.per_image)
    images = np.ascontiguousarray(x[:n])  # (n, 28, 28, 1)
    contenders = {}  # (case, mode) -> callable() running one timed call

    if args.only != "spyker":
        import jax.numpy as jnp

        for impl in args.impls.split(","):
            cases, _ = build_spyxlike(impl)
            batched = [jnp.asarray(images[:args.batch])]
            single = [jnp.asarray(images[i:i + 1]) for i in range(args.per_image)]
            for case, fn in cases.items():
                if case not in wanted:
                    continue
                contenders[(case, f"spyxlike/{impl}", "batch")] = (lambda fn=fn, c=batched: fn(c), args.batch)
                contenders[(case, f"spyxlike/{impl}", "per_image")] = (lambda fn=fn, c=single: fn(c), args.per_image)
    remote = None
    if args.only != "spyxlike" and os.path.exists(args.spyker_python):
        tmp = tempfile.NamedTemporaryFile(suffix=".npy", delete=False)
        np.save(tmp.name, np.transpose(images, (0, 3, 1, 2)).astype(np.float32))
        remote = RemoteSpyker(args.spyker_python, tmp.name, args.threads)
        for case in [c for c in ("layer1_stdp", "inference") if c in wanted]:
            for mode in ("dense", "sparse"):
                for kind, bs, count in (("batch", args.batch, args.batch),
                                        ("per_image", 1, args.per_image)):
                    def call(case=case, mode=mode, bs=bs, count=count):
                        return remote.ask(f"run {case}/{mode} {bs} {count} 1")[0]
                    contenders[(case, f"spyker/{mode}", kind)] = (call, count)

    # warm-up (compiles spyxlike, first-touch allocations in Spyker)
    for fn, _ in contenders.values():
        fn()
        fn()
    samples = {key: [] for key in contenders}
    for _ in range(args.rounds):
        for key, (fn, count) in contenders.items():
            # idle gap between contenders: worker/pool threads that spin after a call
            # (OpenMP, Eigen) settle before the next contender is timed, in both directions
            time.sleep(args.gap)
            warm_until = time.perf_counter() + args.warm
            fn()
            while time.perf_counter() < warm_until:
                fn()
            per = []
            for _ in range(args.calls):
                t0 = time.perf_counter()
                ret = fn()
                dt = time.perf_counter() - t0
                per.append(ret if key[1].startswith("spyker") else dt)
            samples[key].append(count / statistics.median(per))
    spyker_rss = remote.ask("info")["rss"] if remote else None
    results = {}
    for (case, who, kind), rates in samples.items():
        med = statistics.median(rates)
        results[(case, who, kind)] = med
        rec = {"case": case, "impl": who, "mode": kind, "images_per_s": round(med, 1),
               "min": round(min(rates), 1), "max": round(max(rates), 1), "rounds": len(rates),
               "peak_rss_mb": round(spyker_rss if who.startswith("spyker") else _rss_mb(), 1)}
        print(json.dumps(rec), flush=True)
    for case in wanted:
        for kind in ("batch", "per_image"):
            native = results.get((case, "spyxlike/native", kind))
            ref = results.get((case, "spyxlike/reference", kind))
            peers = {m: results.get((case, f"spyker/{m}", kind)) for m in ("dense", "sparse")}
            best = max((v for v in peers.values() if v), default=None)
            rec = {"case": case, "mode": kind, "summary": True}
            if native and ref:
                rec["native_over_reference"] = round(native / ref, 2)
            if native and best:
                rec["native_over_best_spyker"] = round(native / best, 2)
                rec["best_spyker_mode"] = max((m for m in peers if peers[m]), key=lambda m: peers[m])
            print(json.dumps(rec), flush=True)
    if remote:
        remote.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
