"""Exact spike-time gradients of spyxlike.ops.evsim (custom_vjp) against finite differences.

Everything runs in float64 (``jax.enable_x64``) with central differences;
the test cases are chosen so that no spike appears or disappears within the
finite-difference step.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike.ops.evsim import fc_layer_backward, fc_layer_reference, layer_output_to_events

TAU_S, THETA = 1.0, 1.0


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


def _layer(idx, cnt, buffer_size):
    def f(w, t):
        return fc_layer_reference(idx, t, cnt, w, tau_s=TAU_S, threshold=THETA,
                                  buffer_size=buffer_size)
    return f


def _weighted_time_loss(f, coef):
    def loss(w, t):
        out, counts, _ = f(w, t)
        valid = jnp.arange(out.shape[-1]) < counts[..., None]
        return jnp.sum(jnp.where(valid, out, 0.0) * coef)
    return loss


def _fd(loss, x, eps=1e-6):
    loss = jax.jit(loss)
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (float(loss(x + d)) - float(loss(x - d))) / (2 * eps)
    return g


def _problem(seed, batch=2, n_in=4, n_out=3, n_ev=6, buffer_size=8):
    rng = np.random.default_rng(seed)
    cnt = np.array([n_ev, n_ev - 2][:batch], np.int32)
    idx = rng.integers(0, n_in, (batch, n_ev)).astype(np.int32)
    t = np.sort(rng.uniform(0, 4, (batch, n_ev)), axis=1)
    t = np.where(np.arange(n_ev)[None] < cnt[:, None], t, np.inf)
    w = rng.uniform(0.3, 3.0, (n_in, n_out))
    coef = rng.normal(size=(batch, n_out, buffer_size))
    return idx, t, cnt, w, coef


@pytest.mark.parametrize("seed", [0, 1])
def test_weight_and_time_gradients_match_finite_differences(seed):
    idx, t, cnt, w, coef = _problem(seed)
    f = _layer(idx, cnt, 8)
    out, counts, ovf = f(w, t)
    assert int(counts.sum()) >= 4 and not bool(ovf.any())
    assert int(counts.max()) >= 2  # the reset chain is exercised
    loss = _weighted_time_loss(f, coef)
    gw, gt = jax.grad(loss, argnums=(0, 1))(w, t)
    np.testing.assert_allclose(np.asarray(gw), _fd(lambda x: loss(x, t), w), rtol=1e-5, atol=1e-8)
    valid = np.arange(t.shape[1])[None] < cnt[:, None]
    t_fd = _fd(lambda x: loss(w, jnp.where(valid, x, jnp.inf)), np.where(valid, t, 0.0))
    np.testing.assert_allclose(np.asarray(gt)[valid], t_fd[valid], rtol=1e-5, atol=1e-8)
    assert np.all(np.asarray(gt)[~valid] == 0)  # padding events get zero gradient


def test_reset_chain_of_one_input():
    """Several spikes of one input: every spike depends on the earlier ones through resets."""
    idx = np.zeros((1, 1), np.int32)
    cnt = np.ones(1, np.int32)
    t = np.array([[0.3]])
    f = _layer(idx, cnt, 32)
    for w0 in [25.0]:
        w = np.array([[w0]])
        out, counts, ovf = f(w, t)
        k = int(counts[0, 0])
        assert k >= 2 and not bool(ovf[0, 0])
        coef = np.random.default_rng(k).normal(size=(1, 1, 32))
        loss = _weighted_time_loss(f, coef)
        gw, gt = jax.grad(loss, argnums=(0, 1))(w, t)
        np.testing.assert_allclose(np.asarray(gw), _fd(lambda x: loss(x, t), w), rtol=1e-5)
        # shifting the only input shifts every output spike by the same amount
        np.testing.assert_allclose(float(gt[0, 0]), coef[0, 0, :k].sum(), rtol=1e-9)


def test_two_layer_gradient_through_event_list():
    idx, t, cnt, w1, _ = _problem(3, n_out=4, buffer_size=3)
    rng = np.random.default_rng(7)
    w2 = rng.uniform(1.0, 5.0, (4, 2))

    def net(w1, w2):
        o1, c1, _ = fc_layer_reference(idx, t, cnt, w1, tau_s=TAU_S, threshold=THETA,
                                       buffer_size=3)
        ev = layer_output_to_events(o1, c1)
        o2, c2, _ = fc_layer_reference(*ev, w2, tau_s=TAU_S, threshold=THETA, buffer_size=2)
        return o2, c2

    o2, c2 = net(w1, w2)
    assert int(c2.sum()) >= 2
    coef = rng.normal(size=o2.shape)

    def loss(w1, w2):
        o2, c2 = net(w1, w2)
        valid = jnp.arange(o2.shape[-1]) < c2[..., None]
        return jnp.sum(jnp.where(valid, o2, 0.0) * coef)

    g1, g2 = jax.jit(jax.grad(loss, argnums=(0, 1)))(w1, w2)
    np.testing.assert_allclose(np.asarray(g1), _fd(lambda x: loss(x, w2), w1), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(np.asarray(g2), _fd(lambda x: loss(w1, x), w2), rtol=1e-5, atol=1e-8)
    assert np.abs(np.asarray(g1)).max() > 0


def test_absent_spikes_have_zero_gradient():
    # neuron 0 fires, neuron 1 is silent (weights too small), neuron 2 fires
    idx = np.array([[0, 1]], np.int32)
    t = np.array([[0.2, 0.6]])
    cnt = np.array([2], np.int32)
    w = np.array([[5.0, 0.5, 3.0], [0.0, 0.5, 3.0]])
    f = _layer(idx, cnt, 3)
    out, counts, _ = f(w, t)
    assert list(np.asarray(counts[0])) == [1, 0, 1]

    def loss(w, t):
        out, _, _ = f(w, t)
        # padded slots hold +inf: sum the first spike time of the firing neurons only
        return out[0, 0, 0] + out[0, 2, 0]

    gw, gt = jax.grad(loss, argnums=(0, 1))(w, t)
    assert np.all(np.asarray(gw)[:, 1] == 0)
    assert np.all(np.isfinite(np.asarray(gw))) and np.all(np.isfinite(np.asarray(gt)))
    # cotangents on padded slots (and on a silent neuron) are ignored
    ones = jnp.ones_like(out)
    gw2, gt2 = fc_layer_backward(idx, t, cnt, w, out, counts, ones, tau_s=TAU_S, threshold=THETA)
    only_kept = jnp.where(jnp.arange(3) < counts[..., None], ones, 0.0)
    gw3, gt3 = fc_layer_backward(idx, t, cnt, w, out, counts, only_kept, tau_s=TAU_S,
                                 threshold=THETA)
    np.testing.assert_array_equal(np.asarray(gw2), np.asarray(gw3))
    np.testing.assert_array_equal(np.asarray(gt2), np.asarray(gt3))
    assert np.all(np.asarray(gw2)[:, 1] == 0)


def test_gradient_of_silent_layer_is_zero_and_finite():
    idx = np.array([[0, 1, 0]], np.int32)
    t = np.array([[0.2, 0.6, np.inf]])
    cnt = np.array([2], np.int32)
    w = np.full((2, 2), 0.1)

    def loss(w, t):
        out, counts, _ = fc_layer_reference(idx, t, cnt, w, tau_s=TAU_S, threshold=THETA,
                                            buffer_size=2)
        return jnp.sum(jnp.where(jnp.isfinite(out), out, 0.0))

    gw, gt = jax.grad(loss, argnums=(0, 1))(w, t)
    assert np.all(np.asarray(gw) == 0) and np.all(np.asarray(gt) == 0)


def test_float32_gradient_close_to_float64():
    idx, t, cnt, w, coef = _problem(0)
    loss = _weighted_time_loss(_layer(idx, cnt, 8), coef)
    g64 = np.asarray(jax.grad(loss)(w, t))
    with jax.enable_x64(False):
        loss32 = _weighted_time_loss(_layer(idx, cnt, 8), coef.astype(np.float32))
        g32 = jax.grad(loss32)(w.astype(np.float32), t.astype(np.float32))
        assert g32.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(g32), g64, rtol=2e-3, atol=1e-4)
