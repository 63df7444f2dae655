"""SLAYER-style layers: SpikeLayer helpers and the Haiku modules."""

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike import srm
from spyxlike.slayer_layers import SpikeLayer

NEURON = {"type": "SRMALPHA", "theta": 10, "tauSr": 10.0, "tauRef": 1.0, "scaleRef": 2,
          "tauRho": 1, "scaleRho": 1}
SIM = {"Ts": 1.0, "tSample": 50}


def _sl(**kw):
    return SpikeLayer(NEURON, SIM, **kw)


def test_kernels_and_descriptors():
    sl = _sl()
    np.testing.assert_array_equal(sl.srm_kernel, srm.srm_kernel(10.0, 1.0, 1.0, 50))
    np.testing.assert_array_equal(sl.ref_kernel, srm.refractory_kernel(10, 1.0, 2, 1.0, 50))
    assert sl.Ts == 1.0 and sl.neuron.theta == 10.0
    assert len(_sl(full_ref_kernel=True).ref_kernel) > len(sl.ref_kernel)
    with pytest.raises(ValueError, match="type"):
        SpikeLayer(dict(NEURON, type="LOIHI"), SIM)
    with pytest.raises(ValueError, match="tSample"):
        SpikeLayer(NEURON, {"Ts": 0.7, "tSample": 50})


def test_dense_network_forward_and_grad():
    sl = _sl()

    def net(x):
        h = sl.spike(sl.dense(12, 8, name="fc1")(sl.psp(x)))
        return sl.spike(sl.dense(8, 3, name="fc2")(sl.psp(h)))

    model = hk.without_apply_rng(hk.transform(net))
    x = (jax.random.uniform(jax.random.PRNGKey(0), (2, 50, 12)) < 0.3).astype(jnp.float32)
    params = model.init(jax.random.PRNGKey(1), x)
    w = params["fc1"]["w"]
    assert w.shape == (12, 8)
    bound = 10 / np.sqrt(12)
    assert float(jnp.abs(w).max()) <= bound and float(jnp.abs(w).max()) > 0.5 * bound
    out = model.apply(params, x)
    assert out.shape == (2, 50, 3)
    g = jax.jit(jax.grad(lambda p: jnp.sum(model.apply(p, x))))(params)
    assert bool(jnp.any(g["fc1"]["w"] != 0))
    # dense applies the same map at every time step
    y = hk.without_apply_rng(hk.transform(lambda x: sl.dense(12, 8, name="fc1")(x)))
    np.testing.assert_allclose(y.apply({"fc1": params["fc1"]}, x)[:, 7], x[:, 7] @ w, atol=1e-5)


def test_dense_accepts_tuple_and_checks_size():
    sl = _sl()
    f = hk.transform(lambda x: sl.dense((4, 3, 2), 5)(x))
    x = jnp.ones((1, 3, 3, 4, 2))
    p = f.init(jax.random.PRNGKey(0), x)
    assert f.apply(p, None, x).shape == (1, 3, 5)
    with pytest.raises(ValueError, match="in_features"):
        f.init(jax.random.PRNGKey(0), jnp.ones((1, 3, 7)))


def test_conv_matches_per_time_conv2d():
    sl = _sl()
    f = hk.without_apply_rng(hk.transform(
        lambda x: sl.conv(2, 4, 3, stride=2, padding=1, name="c")(x)))
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 3, 9, 9, 2))
    p = f.init(jax.random.PRNGKey(1), x)
    w = p["c"]["w"]
    assert w.shape == (3, 3, 2, 4)
    assert float(jnp.abs(w).max()) <= 100 / np.sqrt(18)
    y = f.apply(p, x)
    assert y.shape == (2, 3, 5, 5, 4)
    ref = jax.lax.conv_general_dilated(x[:, 1], w, (2, 2), [(1, 1), (1, 1)],
                                       dimension_numbers=("NHWC", "HWIO", "NHWC"))
    np.testing.assert_allclose(y[:, 1], ref, rtol=1e-5, atol=1e-4)
    g = hk.transform(lambda x: sl.conv(4, 4, (3, 1), groups=2, dilation=(1, 2))(x))
    pg = g.init(jax.random.PRNGKey(0), jnp.ones((1, 2, 6, 6, 4)))
    assert jax.tree_util.tree_leaves(pg)[0].shape == (3, 1, 2, 4)
    with pytest.raises(ValueError, match="groups"):
        hk.transform(lambda: sl.conv(3, 4, 3, groups=2)).init(None)
    with pytest.raises(ValueError, match="kernel_size"):
        hk.transform(lambda: sl.conv(3, 4, (3, 3, 3))).init(None)


def test_pool_sums_with_slayer_weight():
    sl = _sl()
    f = hk.transform(lambda x: sl.pool(2)(x))
    x = np.arange(2 * 1 * 5 * 4 * 3, dtype=np.float32).reshape(2, 1, 5, 4, 3)
    y = np.asarray(f.apply(f.init(None, x), None, x))
    # H=5 is padded by 5 % 2 = 1 row as SLAYER -> 3 rows out
    assert y.shape == (2, 1, 3, 2, 3)
    xp = np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 0), (0, 0)))
    expect = xp.reshape(2, 1, 3, 2, 2, 2, 3).sum((3, 5)) * 1.1 * 10
    np.testing.assert_allclose(y, expect, rtol=1e-6)
    assert f.init(None, x) == {}


def test_dropout_keeps_dropped_neurons_silent_all_time():
    sl = _sl()
    f = hk.transform(lambda x, t: sl.dropout(0.5)(x, is_training=t))
    x = jnp.ones((4, 30, 50))
    y = np.asarray(f.apply({}, jax.random.PRNGKey(3), x, True))
    dropped = y[:, 0] == 0
    assert 0.2 < dropped.mean() < 0.8
    assert np.all(y[:, :, :][np.broadcast_to(dropped[:, None], y.shape)] == 0)
    assert np.all(y[np.broadcast_to(~dropped[:, None], y.shape)] == 2.0)
    np.testing.assert_array_equal(f.apply({}, None, x, False), x)
    with pytest.raises(ValueError, match="p must be"):
        hk.transform(lambda: sl.dropout(1.0)).init(None)


def test_delay_factory_uses_simulation_Ts():
    sl = SpikeLayer(NEURON, {"Ts": 0.5, "tSample": 10})
    f = hk.transform(lambda x: sl.delay(3, name="d")(x))
    x = jnp.ones((1, 20, 3))
    assert f.init(jax.random.PRNGKey(0), x)["d"]["delay"].shape == (3,)
    p = {"d": {"delay": jnp.asarray([0.0, 0.5, 1.2])}}
    y = np.asarray(f.apply(p, None, x))
    # 0.5 ms -> 1 sample, 1.2 ms -> int(2.4) = 2 samples
    np.testing.assert_array_equal(y[0, :3], [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(sl.delay_shift(x, 2.0),
                                  np.concatenate([np.zeros((1, 2, 3)), np.ones((1, 18, 3))], 1))


def test_psp_layer_starts_at_srm_kernel_and_learns():
    sl = _sl()
    f = hk.without_apply_rng(hk.transform(lambda x: sl.psp_layer(name="pl")(x)))
    x = (jax.random.uniform(jax.random.PRNGKey(0), (2, 50, 4)) < 0.2).astype(jnp.float32)
    p = f.init(None, x)
    np.testing.assert_array_equal(p["pl"]["kernel"], sl.srm_kernel)
    np.testing.assert_allclose(f.apply(p, x), sl.psp(x), atol=1e-5)
    g = jax.grad(lambda p: jnp.sum(f.apply(p, x) ** 2))(p)
    assert g["pl"]["kernel"].shape == sl.srm_kernel.shape and bool(jnp.any(g["pl"]["kernel"] != 0))


def test_psp_filter_bank():
    sl = _sl()
    f = hk.without_apply_rng(hk.transform(lambda x: sl.psp_filter(3, 7, filter_scale=2.0, name="pf")(x)))
    x = jax.random.uniform(jax.random.PRNGKey(0), (2, 20, 2, 2, 5))
    p = f.init(jax.random.PRNGKey(1), x)
    k = p["pf"]["kernels"]
    assert k.shape == (3, 7) and float(jnp.abs(k).max()) <= 2 / np.sqrt(7)
    y = f.apply(p, x)
    assert y.shape == (2, 20, 2, 2, 15)
    np.testing.assert_allclose(y[..., 5:10], srm.psp(x, k[1]), atol=1e-5)


def test_layers_vmap_and_jit():
    sl = _sl()
    model = hk.without_apply_rng(hk.transform(
        lambda x: sl.spike(sl.dense(6, 4, name="fc")(sl.psp(x)))))
    x = (jax.random.uniform(jax.random.PRNGKey(0), (3, 2, 50, 6)) < 0.3).astype(jnp.float32)
    p = model.init(jax.random.PRNGKey(1), x[0])
    vm = jax.vmap(lambda xi: model.apply(p, xi))(x)
    np.testing.assert_array_equal(vm[1], jax.jit(model.apply)(p, x[1]))


def test_spike_driven_dense_equals_dense():
    sl = _sl()
    x = (jax.random.uniform(jax.random.PRNGKey(0), (2, 50, 12)) < 0.2).astype(jnp.float32)
    dense = hk.without_apply_rng(hk.transform(lambda x: sl.dense(12, 5, name="fc")(x)))
    sparse = hk.without_apply_rng(hk.transform(
        lambda x: sl.dense(12, 5, spike_driven=True, name="fc")(x)))
    p = dense.init(jax.random.PRNGKey(1), x)
    np.testing.assert_allclose(sparse.apply(p, x), dense.apply(p, x), atol=1e-5)
    ga = jax.grad(lambda p: jnp.sum(sl.psp(sparse.apply(p, x)) ** 2))(p)
    gb = jax.grad(lambda p: jnp.sum(sl.psp(dense.apply(p, x)) ** 2))(p)
    np.testing.assert_allclose(ga["fc"]["w"], gb["fc"]["w"], rtol=1e-4, atol=1e-3)
