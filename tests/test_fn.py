"""Losses and regularisers against NumPy closed forms; validation; jit,
vmap, grad."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from spyxlike import fn

RNG = np.random.RandomState(0)
TRACES = RNG.normal(size=(6, 5, 4)).astype(np.float32)
TARGETS = RNG.randint(0, 4, size=(6,)).astype(np.int32)
SPIKES = RNG.randint(0, 2, size=(6, 5, 4)).astype(np.float32)


def _smooth(y, c, eps):
    return (1 - eps) * np.eye(c)[y] + eps / c


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_integral_accuracy_closed_form():
    acc, preds = fn.integral_accuracy()(TRACES, TARGETS)
    want = TRACES.sum(1).argmax(-1)
    np.testing.assert_array_equal(preds, want)
    assert float(acc) == pytest.approx(np.mean(want == TARGETS))
    acc0, preds0 = fn.integral_accuracy(time_axis=0)(
        np.swapaxes(TRACES, 0, 1), TARGETS)
    np.testing.assert_array_equal(preds0, want)
    # a perfect read-out
    acc1, _ = fn.integral_accuracy()(np.eye(4, dtype=np.float32)[TARGETS][:, None],
                                     TARGETS)
    assert float(acc1) == 1.0


@pytest.mark.parametrize("eps", [0.0, 0.3, 0.9])
def test_integral_crossentropy_closed_form(eps):
    loss = fn.integral_crossentropy(smoothing=eps)(TRACES, TARGETS)
    z = TRACES.sum(1).astype(np.float64)
    want = np.mean(-(_smooth(TARGETS, 4, eps) * _log_softmax(z)).sum(-1))
    assert float(loss) == pytest.approx(want, rel=1e-5)


def test_integral_crossentropy_default_smoothing_is_03():
    assert float(fn.integral_crossentropy()(TRACES, TARGETS)) == pytest.approx(
        float(fn.integral_crossentropy(0.3)(TRACES, TARGETS)))


@pytest.mark.parametrize("rho,eps", [(0.25, 0.0), (0.5, 0.1), (1.0, 0.0)])
def test_mse_spikerate_targets_rates(rho, eps):
    loss = fn.mse_spikerate(sparsity=rho, smoothing=eps)(SPIKES, TARGETS)
    rates = SPIKES.mean(1)
    want = np.mean((rates - rho * _smooth(TARGETS, 4, eps)) ** 2)
    assert float(loss) == pytest.approx(want, rel=1e-5)


def test_mse_spikerate_is_zero_at_target_rate():
    # Correct class spikes in half of 4 steps, others never: rho = 0.5.
    spk = np.zeros((6, 4, 4), np.float32)
    spk[np.arange(6), :2, TARGETS] = 1.0
    assert float(fn.mse_spikerate(sparsity=0.5)(spk, TARGETS)) == 0.0


def test_silence_reg_closed_form():
    a = RNG.randint(0, 4, size=(6, 3)).astype(np.float32)
    b = RNG.randint(0, 3, size=(6, 2, 2)).astype(np.float32)
    got = fn.silence_reg(2.0)({"a": a, "b": b})
    want = sum(np.sum(np.maximum(0, 2.0 - x.reshape(6, -1).mean(0)) ** 2)
               for x in (a, b))
    assert float(got) == pytest.approx(want, rel=1e-6)
    assert float(fn.silence_reg(0.0)(a)) == 0.0


def test_sparsity_reg_closed_form():
    a = RNG.randint(0, 4, size=(6, 3)).astype(np.float32)
    b = RNG.randint(0, 3, size=(6, 2, 2)).astype(np.float32)

    def huber(x, d=1.0):
        return np.where(np.abs(x) <= d, 0.5 * x ** 2, d * (np.abs(x) - 0.5 * d))

    got = fn.sparsity_reg(0.5)([a, b])
    want = sum(np.sum(huber(np.maximum(0, x.reshape(6, -1).mean(-1) - 0.5)))
               for x in (a, b))
    assert float(got) == pytest.approx(want, rel=1e-6)
    got2 = fn.sparsity_reg(1.0, norm=optax.l2_loss)((a, b))
    want2 = sum(np.sum(0.5 * np.maximum(0, x.reshape(6, -1).mean(-1) - 1) ** 2)
                for x in (a, b))
    assert float(got2) == pytest.approx(want2, rel=1e-6)


def test_grads_of_losses():
    traces = jnp.asarray(TRACES)
    g = jax.grad(lambda t: fn.integral_crossentropy(0.0)(t, TARGETS))(traces)
    z = TRACES.sum(1).astype(np.float64)
    p = np.exp(_log_softmax(z))
    want = (p - np.eye(4)[TARGETS]) / 6  # same for every time step
    np.testing.assert_allclose(g, np.repeat(want[:, None], 5, 1), atol=1e-6)

    s = jnp.asarray(SPIKES)
    g = jax.grad(lambda t: fn.mse_spikerate(0.5)(t, TARGETS))(s)
    r = SPIKES.mean(1)
    want = 2 * (r - 0.5 * np.eye(4)[TARGETS]) / (6 * 4) / 5
    np.testing.assert_allclose(g, np.repeat(want[:, None], 5, 1), atol=1e-6)

    a = jnp.asarray([[0.0, 3.0], [1.0, 3.0]])
    g = jax.grad(fn.silence_reg(2.0))(a)
    # d/da_bm of (2 - mean_b a)^2 = -2 (2 - mean) / B for the silent column
    np.testing.assert_allclose(g, [[-1.5, 0.0], [-1.5, 0.0]])
    g = jax.grad(fn.sparsity_reg(1.0, optax.l2_loss))(a)
    # per-sample means 1.5 and 2 -> excess .5 and 1; d/da = excess / M
    np.testing.assert_allclose(g, [[0.25, 0.25], [0.5, 0.5]])


def test_vmap_over_batches_of_batches():
    tr = jnp.stack([TRACES, 2 * TRACES])
    losses = jax.vmap(fn.integral_crossentropy(0.1), in_axes=(0, None))(
        tr, TARGETS)
    f = fn.integral_crossentropy(0.1)
    np.testing.assert_allclose(losses, [f(TRACES, TARGETS),
                                        f(2 * TRACES, TARGETS)], rtol=1e-6)
    accs, _ = jax.vmap(fn.integral_accuracy(), in_axes=(0, None))(tr, TARGETS)
    np.testing.assert_array_equal(accs[0], accs[1])
    m = jax.vmap(fn.mse_spikerate(), in_axes=(0, None))(
        jnp.stack([SPIKES, 1 - SPIKES]), TARGETS)
    assert m.shape == (2,)
    np.testing.assert_allclose(m[0], fn.mse_spikerate()(SPIKES, TARGETS))
    r = jax.vmap(fn.silence_reg(1.0))(jnp.stack([SPIKES, SPIKES]))
    np.testing.assert_allclose(r[0], r[1])
    r = jax.vmap(fn.sparsity_reg(0.1))(jnp.stack([SPIKES, 0 * SPIKES]))
    assert float(r[0]) > 0 and float(r[1]) == 0.0


@pytest.mark.parametrize("make,arg,shown", [
    (lambda: fn.integral_crossentropy(smoothing=1.0), "smoothing", "1.0"),
    (lambda: fn.integral_crossentropy(smoothing=-0.1), "smoothing", "-0.1"),
    (lambda: fn.mse_spikerate(sparsity=0.0), "sparsity", "0.0"),
    (lambda: fn.mse_spikerate(sparsity=1.5), "sparsity", "1.5"),
    (lambda: fn.mse_spikerate(smoothing=1.0), "smoothing", "1.0"),
    (lambda: fn.silence_reg(-1), "min_spikes", "-1"),
    (lambda: fn.sparsity_reg(float("nan")), "max_spikes", "nan"),
])
def test_invalid_hyperparameters(make, arg, shown):
    with pytest.raises(ValueError, match=rf"^{arg} must .*got {shown}"):
        make()


def test_invalid_types():
    with pytest.raises(TypeError, match="time_axis must be an int"):
        fn.integral_accuracy(time_axis=1.0)
    with pytest.raises(TypeError, match="norm must be callable"):
        fn.sparsity_reg(1.0, norm="huber")
    with pytest.raises(TypeError, match="targets must be integer class labels"):
        fn.integral_crossentropy()(TRACES, TARGETS.astype(np.float32))


def test_shape_mismatches_raise_value_error():
    with pytest.raises(ValueError, match=r"targets must have shape \(6,\).*got targets.shape=\(5,\)"):
        fn.integral_accuracy()(TRACES, TARGETS[:5])
    with pytest.raises(ValueError, match=r"targets must have shape \(5,\)"):
        fn.mse_spikerate(time_axis=0)(SPIKES, TARGETS)
    with pytest.raises(ValueError, match="time_axis=2 must name an axis"):
        fn.integral_crossentropy(time_axis=2)(TRACES, TARGETS)
    with pytest.raises(ValueError, match="time_axis=3 must name an axis"):
        fn.integral_crossentropy(time_axis=3)(TRACES, TARGETS)
    with pytest.raises(ValueError, match="traces must have a time axis"):
        fn.integral_accuracy()(TRACES[0, 0], TARGETS[:1])
    with pytest.raises(ValueError, match="at least one array"):
        fn.silence_reg(1.0)({})
    with pytest.raises(ValueError, match="batch axis"):
        fn.sparsity_reg(1.0)(jnp.float32(1.0))
