"""Axonal delays: integer / fractional shifts against hand-shifted arrays, gradients, Delay module."""

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike.delays import Delay, clamp_delays, delay_shift


def _hand_shift(x, k):
    """x (B, T, N); k per neuron ints."""
    y = np.zeros_like(x)
    T = x.shape[1]
    for n, kn in enumerate(np.broadcast_to(k, x.shape[2:])):
        for t in range(T):
            if 0 <= t - kn < T:
                y[:, t, n] = x[:, t - kn, n]
    return y


def test_integer_delays_per_neuron():
    x = np.random.default_rng(0).random((2, 10, 4)).astype(np.float32)
    d = np.array([0, 1, 3, 12], np.float32)
    np.testing.assert_array_equal(delay_shift(x, d), _hand_shift(x, [0, 1, 3, 12]))
    np.testing.assert_array_equal(delay_shift(x, 2.0), _hand_shift(x, [2, 2, 2, 2]))
    np.testing.assert_array_equal(delay_shift(x, -2.0), _hand_shift(x, [-2] * 4))


def test_fractional_delays_truncate_like_slayer():
    x = np.random.default_rng(1).random((1, 8, 3)).astype(np.float32)
    # delay/Ts = 1.7, 0.4, 2.99 -> 1, 0, 2 samples; Ts = 0.5 -> delays 0.85, 0.2, 1.495 ms
    np.testing.assert_array_equal(delay_shift(x, [0.85, 0.2, 1.495], Ts=0.5),
                                  _hand_shift(x, [1, 0, 2]))
    # negative fractional delays truncate toward zero (static_cast<int>)
    np.testing.assert_array_equal(delay_shift(x, [-0.5, -1.5, 0.0]), _hand_shift(x, [0, -1, 0]))


def test_linear_mode_interpolates():
    x = np.random.default_rng(2).random((2, 9, 2)).astype(np.float32)
    y = np.asarray(delay_shift(x, [1.25, 3.0], mode="linear"))
    a, b = _hand_shift(x, [1, 3]), _hand_shift(x, [2, 4])
    np.testing.assert_allclose(y[..., 0], 0.75 * a[..., 0] + 0.25 * b[..., 0], atol=1e-6)
    np.testing.assert_allclose(y[..., 1], a[..., 1], atol=1e-6)


def test_channel_delay_on_maps():
    x = np.random.default_rng(3).random((1, 6, 2, 2, 3)).astype(np.float32)
    y = np.asarray(delay_shift(x, np.array([0.0, 1.0, 2.0])))
    for c, k in enumerate([0, 1, 2]):
        flat = x[..., c].reshape(1, 6, 4)
        np.testing.assert_array_equal(y[..., c].reshape(1, 6, 4), _hand_shift(flat, [k] * 4))


def test_gradient_wrt_input_is_adjoint_shift():
    x = jnp.asarray(np.random.default_rng(4).random((2, 7, 3)), jnp.float32)
    d = jnp.asarray([0.5, 2.0, 4.2])
    g = np.random.default_rng(5).normal(size=x.shape).astype(np.float32)
    gx = jax.grad(lambda x: jnp.sum(delay_shift(x, d) * g))(x)
    np.testing.assert_array_equal(gx, _hand_shift(g, [0, -2, -4]))


def test_slayer_delay_gradient_formula():
    x = jnp.asarray(np.random.default_rng(6).random((2, 10, 3)), jnp.float32)
    g = np.random.default_rng(7).normal(size=x.shape).astype(np.float32)
    d = jnp.asarray([1.0, 2.5, 0.0])
    Ts = 0.5
    gd = jax.grad(lambda d: jnp.sum(delay_shift(x, d, Ts) * g))(d)
    y = np.asarray(delay_shift(x, d, Ts))
    prev = np.concatenate([np.zeros_like(y[:, :1]), y[:, :-1]], 1)
    np.testing.assert_allclose(gd, -(g * (y - prev)).sum((0, 1)) / Ts, rtol=1e-5, atol=1e-6)
    # scalar delay: gradient summed over neurons
    gs = jax.grad(lambda d: jnp.sum(delay_shift(x, d) * g))(1.0)
    assert gs.shape == ()


def test_linear_mode_gradients_finite_differences():
    rng = np.random.default_rng(8)
    x = jnp.asarray(rng.random((1, 12, 2)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(1, 12, 2)), jnp.float32)
    f = lambda x, d: jnp.sum(delay_shift(x, d, mode="linear") * w)
    d = jnp.asarray([1.3, 2.6])
    gx, gd = jax.grad(f, argnums=(0, 1))(x, d)
    eps = 1e-2
    for i in range(2):
        e = jnp.zeros(2).at[i].set(eps)
        fd = (f(x, d + e) - f(x, d - e)) / (2 * eps)
        assert float(gd[i]) == pytest.approx(float(fd), rel=2e-2, abs=1e-3)
    for idx in [(0, 0, 0), (0, 5, 1)]:
        e = jnp.zeros(x.shape).at[idx].set(eps)
        fd = (f(x + e, d) - f(x - e, d)) / (2 * eps)
        assert float(gx[idx]) == pytest.approx(float(fd), rel=2e-2, abs=1e-3)


def test_slayer_mode_delay_gradient_matches_linear_slope_at_integers():
    # at an integer delay k, -sum g (y[t] - y[t-1]) is the slope of the linearly
    # interpolated shift on [k, k + 1]
    rng = np.random.default_rng(9)
    x = jnp.asarray(rng.random((1, 15, 1)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(1, 15, 1)), jnp.float32)
    f = lambda d, mode: jnp.sum(delay_shift(x, d, mode=mode) * w)
    gs = jax.grad(f)(jnp.asarray([3.0]), "slayer")
    fd = (f(jnp.asarray([4.0]), "linear") - f(jnp.asarray([3.0]), "linear"))
    assert float(gs[0]) == pytest.approx(float(fd), rel=1e-4, abs=1e-5)


def test_jit_vmap():
    x = jnp.asarray(np.random.default_rng(10).random((3, 2, 8, 4)), jnp.float32)
    d = jnp.asarray([0.0, 1.0, 2.0, 3.0])
    vm = jax.vmap(lambda x: delay_shift(x, d))(x)
    np.testing.assert_array_equal(vm[2], delay_shift(x[2], d))
    np.testing.assert_array_equal(jax.jit(delay_shift)(x[0], d), delay_shift(x[0], d))


def test_delay_module_init_and_clamp():
    def net(x):
        return Delay(name="ax")(x)

    model = hk.transform(net)
    x = jnp.ones((2, 6, 5))
    params = model.init(jax.random.PRNGKey(0), x)
    d = params["ax"]["delay"]
    assert d.shape == (5,) and bool(jnp.all((d >= 0) & (d < 1)))
    y = model.apply(params, None, x)
    np.testing.assert_array_equal(y, x)  # delays < 1 ms -> no shift at Ts = 1
    params = jax.tree_util.tree_map(lambda p: p - 2.0, params)
    clamped = clamp_delays(params)
    assert bool(jnp.all(clamped["ax"]["delay"] == 0))
    g = jax.grad(lambda p: jnp.sum(model.apply(p, None, x * jnp.arange(6.0)[None, :, None])))(params)
    assert g["ax"]["delay"].shape == (5,)
    mod = hk.transform(lambda x: Delay((3,), Ts=0.5, name="d")(x))
    p = mod.init(jax.random.PRNGKey(1), jnp.ones((1, 4, 2, 2, 3)))
    assert p["d"]["delay"].shape == (3,)


def test_bad_inputs():
    with pytest.raises(ValueError, match="delay must broadcast"):
        delay_shift(np.zeros((1, 4, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="mode"):
        delay_shift(np.zeros((1, 4, 3)), 1.0, mode="cubic")
    with pytest.raises(ValueError, match="Ts"):
        delay_shift(np.zeros((1, 4, 3)), 1.0, Ts=-1)
    with pytest.raises(ValueError, match="x must be"):
        delay_shift(np.zeros((4,)), 1.0)
    with pytest.raises(ValueError, match="input_size"):
        hk.transform(lambda: Delay(input_size=(0, 2))).init(None)
    with pytest.raises(ValueError, match="max_delay"):
        clamp_delays({}, 1.0, 0.5)
