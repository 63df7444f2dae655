"""Tests for spyxlike.parallel: data-parallel training equals single-device training."""

import json
import os
import subprocess
import sys
import textwrap

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from spyxlike import parallel as P
from spyxlike import train as T

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs in a fresh interpreter: the 4 fake CPU devices must be configured
# before jax is imported.
SCRIPT = textwrap.dedent(
    """
    import json
    import haiku as hk, jax, jax.numpy as jnp, numpy as np, optax
    from spyxlike import parallel as P, train as T
    from spyxlike.datasets import load_digits

    out = {"n_devices": len(jax.devices())}
    (x, y), _ = load_digits()
    model = hk.without_apply_rng(hk.transform(
        lambda v: hk.nets.MLP([32, 10], activation=jnp.tanh)(v)))

    def loss_fn(params, batch, rng):
        xb, yb = batch
        logits = model.apply(params, xb)
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()
        return loss, {"accuracy": jnp.mean(logits.argmax(-1) == yb)}

    opt = optax.adam(1e-2)
    init = T.init_train_state(model.init(jax.random.key(0), x[:1]), opt, 0)
    mesh = P.data_mesh()
    single = T.make_train_step(loss_fn, opt)
    dp = P.make_data_parallel_train_step(loss_fn, opt, mesh)
    dp_local = P.make_data_parallel_train_step(loss_fn, opt, mesh, process_local=True)

    states = {"single": init, "dp": init, "dp_local": init}
    losses = {k: [] for k in states}
    steps = {"single": single, "dp": dp, "dp_local": dp_local}
    for i, batch in enumerate(T.epoch_batches((x, y), 64, init.rng, 0)):
        if i == 8:
            break
        for k in states:
            states[k], m = steps[k](states[k], batch)
            losses[k].append(float(m["loss"]))
    out["losses"] = losses
    out["max_param_diff"] = max(
        float(jnp.max(jnp.abs(a - b)))
        for a, b in zip(jax.tree_util.tree_leaves(states["single"].params),
                        jax.tree_util.tree_leaves(states["dp"].params)))

    sharded = P.shard_batch(batch, mesh)
    out["batch_shards"] = sorted(
        [s.device.id, list(s.data.shape)] for s in sharded[0].addressable_shards)
    glob = P.make_global_batch(batch, mesh)
    out["global_batch_shape"] = list(glob[0].shape)
    out["global_equals_local"] = bool(np.array_equal(np.asarray(glob[0]), batch[0]))
    compiled = dp.jitted.lower(states["dp"], sharded).compile()
    out["step_batch_spec"] = [list(s.spec) for s in compiled.input_shardings[0][1]]
    w = states["dp"].params["mlp/~/linear_0"]["w"]
    out["param_replicated"] = bool(w.sharding.is_fully_replicated) and len(w.addressable_shards) == 4

    try:
        dp(states["dp"], (x[:30], y[:30]))
        out["error"] = None
    except ValueError as err:
        out["error"] = str(err)

    # data-parallel fit from a checkpoint restored onto the mesh
    import tempfile, os
    path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
    T.save_checkpoint(path, states["dp"])
    like = P.replicate(init, mesh)
    restored = T.restore_checkpoint(path, like)
    out["restored_replicated"] = restored.params["mlp/~/linear_0"]["w"].sharding.is_fully_replicated
    fitted, hist = T.fit(restored, dp, (x, y), batch_size=64, epochs=2, progress=False)
    out["fit_steps"] = int(fitted.step)
    out["fit_loss"] = hist["loss"]
    print("RESULT" + json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def four_device_run():
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4").strip()
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT"):])


def test_four_devices_loss_trajectory_matches_single_device(four_device_run):
    r = four_device_run
    assert r["n_devices"] == 4
    single = np.array(r["losses"]["single"])
    assert len(single) == 8 and single[-1] < single[0]  # it is learning
    np.testing.assert_allclose(r["losses"]["dp"], single, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r["losses"]["dp_local"], single, rtol=1e-5, atol=1e-6)
    assert r["max_param_diff"] < 1e-5


def test_batch_is_sharded_over_four_devices(four_device_run):
    r = four_device_run
    assert r["batch_shards"] == [[0, [16, 64]], [1, [16, 64]], [2, [16, 64]], [3, [16, 64]]]
    assert r["step_batch_spec"] == [["data"], ["data"]]  # x and y split on axis 0
    assert r["param_replicated"] is True
    assert r["global_batch_shape"] == [64, 64] and r["global_equals_local"] is True


def test_indivisible_batch_names_batch_size_and_device_count(four_device_run):
    msg = four_device_run["error"]
    assert msg == "batch size 30 must be divisible by the device count 4 of mesh axis 'data'"


def test_checkpoint_restores_onto_mesh_and_fit_continues(four_device_run):
    r = four_device_run
    assert r["restored_replicated"] is True
    assert r["fit_steps"] == 2 * (1437 // 64)
    assert len(r["fit_loss"]) == 2 and r["fit_loss"][1] < r["fit_loss"][0]


# ---------------------------------------------------------------- in-process (1 device)


def _linear_problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 5)).astype(np.float32)
    y = (x @ np.arange(1, 6, dtype=np.float32)).astype(np.float32)
    model = hk.without_apply_rng(hk.transform(lambda v: hk.Linear(1)(v)[:, 0]))

    def loss_fn(params, batch, rng):
        return jnp.mean((model.apply(params, batch[0]) - batch[1]) ** 2), {}

    return (x, y), model.init(jax.random.key(1), x[:1]), loss_fn


def test_single_device_mesh_matches_plain_step():
    data, params, loss_fn = _linear_problem()
    opt = optax.sgd(0.05)
    mesh = P.data_mesh(jax.devices()[:1])
    assert mesh.axis_names == ("data",) and mesh.shape["data"] == 1
    a = b = T.init_train_state(params, opt, 0)
    plain, dp = T.make_train_step(loss_fn, opt), P.make_data_parallel_train_step(loss_fn, opt, mesh)
    for _ in range(5):
        a, ma = plain(a, data)
        b, mb = dp(b, data)
        np.testing.assert_allclose(float(mb["loss"]), float(ma["loss"]), rtol=1e-6)
    np.testing.assert_allclose(b.params["linear"]["w"], a.params["linear"]["w"], rtol=1e-6)
    assert dp.mesh is mesh


def test_argument_validation():
    mesh = P.data_mesh()
    with pytest.raises(TypeError, match="mesh"):
        P.replicate({"a": np.ones(2)}, "mesh")
    other = jax.sharding.Mesh(np.asarray(jax.devices()), ("batch",))
    with pytest.raises(ValueError, match="'data'"):
        P.make_data_parallel_train_step(lambda p, b, r: (0.0, {}), optax.sgd(0.1), other)
    with pytest.raises(ValueError, match="devices"):
        P.data_mesh([])
    with pytest.raises(ValueError, match="leading batch axis"):
        P.shard_batch((np.ones((4, 2)), np.ones(3)), mesh)
    with pytest.raises(ValueError, match="leading batch axis"):
        P.make_global_batch({"x": np.ones(())}, mesh)
