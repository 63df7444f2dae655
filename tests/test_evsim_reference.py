"""Pure-JAX exact event-driven engine (spyxlike.ops.evsim) against closed forms.

The closed forms are computed in numpy float64 from the model's definition
(EvSpikeSim's current-based LIF, tau = 2 tau_s):
``V(t) = sum_j w_j (exp(-(t-t_j)/tau) - exp(-(t-t_j)/tau_s)) - theta sum_k exp(-(t-t_k)/tau)``.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike.ops.evsim import fc_layer_reference, layer_output_to_events

TAU_S = 1.5
TAU = 2 * TAU_S
THETA = 1.0


def run1(times, weights, buffer_size=8, tau_s=TAU_S, theta=THETA, dtype=np.float32):
    """One neuron, one input channel per event (weights[j] on channel j)."""
    n = len(times)
    idx = np.arange(n, dtype=np.int32)[None]
    t = np.asarray(times, dtype)[None]
    w = np.asarray(weights, dtype).reshape(n, 1)
    out, cnt, ovf = fc_layer_reference(idx, t, np.array([n], np.int32), w, tau_s=tau_s,
                                       threshold=theta, buffer_size=buffer_size)
    c = int(cnt[0, 0])
    return np.asarray(out[0, 0, :c], np.float64), c, bool(ovf[0, 0]), np.asarray(out[0, 0])


def potential(t, in_times, in_w, out_times, tau_s=TAU_S, theta=THETA):
    """The model's membrane potential from its definition, float64."""
    tau = 2 * tau_s
    t = np.asarray(t, np.float64)[..., None]
    ti, wi = np.asarray(in_times, np.float64), np.asarray(in_w, np.float64)
    s = t - ti
    v = np.where(s > 0, wi * (np.exp(-np.maximum(s, 0) / tau) - np.exp(-np.maximum(s, 0) / tau_s)),
                 0.0).sum(-1)
    to = np.asarray(out_times, np.float64)
    if to.size:
        so = t - to
        v = v - theta * np.where(so > 0, np.exp(-np.maximum(so, 0) / tau), 0.0).sum(-1)
    return v


def single_input_time(t0, w, tau=TAU, theta=THETA):
    """First crossing of w (x - x^2) = theta, x = exp(-(t - t0)/tau)."""
    x = (1 + np.sqrt(1 - 4 * theta / w)) / 2
    return t0 - tau * np.log(x)


def single_input_train(t0, w, n, tau=TAU, theta=THETA):
    """All spikes of one input: V = (w - theta S) x - w x^2, S = sum_k 1/x_k."""
    out, s = [], 0.0
    for _ in range(n):
        b = w - theta * s
        disc = b * b - 4 * w * theta
        if disc < 0 or b <= 0:
            break
        x = (b + np.sqrt(disc)) / (2 * w)
        out.append(t0 - tau * np.log(x))
        s += 1 / x
    return np.array(out)


def test_one_input_closed_form():
    for t0, w in [(0.0, 10.0), (0.7, 4.5), (3.25, 7.0)]:
        got, c, ovf, _ = run1([t0], [w], buffer_size=1)
        assert c == 1
        np.testing.assert_allclose(got[0], single_input_time(t0, w), rtol=1e-6)


def test_two_inputs_closed_form():
    # neither input alone reaches threshold (w < 4 theta); together they do
    t1, t2, w1, w2 = 0.4, 1.1, 2.5, 2.5
    assert single_input_train(0.0, w1, 1).size == 0
    got, c, _, _ = run1([t1, t2], [w1, w2], buffer_size=1)
    assert c == 1
    d = np.exp(-(t2 - t1) / TAU)
    a, b = w1 * d * d + w2, w1 * d + w2
    x = (b + np.sqrt(b * b - 4 * a * THETA)) / (2 * a)
    np.testing.assert_allclose(got[0], t2 - TAU * np.log(x), rtol=1e-6)
    np.testing.assert_allclose(potential(got[0], [t1, t2], [w1, w2], []), THETA, rtol=1e-5)


def test_threshold_exactly_reached_and_never_reached():
    # w = 4 theta: the PSP peak w/4 touches the threshold at t0 + tau ln 2
    got, c, _, _ = run1([0.5], [4.0 * THETA])
    assert c == 1
    np.testing.assert_allclose(got[0], 0.5 + TAU * np.log(2.0), rtol=1e-6)
    for w in [4.0 * THETA * (1 - 1e-3), 1.0, 0.0, -5.0]:
        _, c, ovf, out = run1([0.5], [w])
        assert c == 0 and not ovf and np.all(np.isinf(out))


def test_no_events_no_spikes():
    out, cnt, ovf = fc_layer_reference(np.zeros((2, 3), np.int32), np.full((2, 3), np.inf, np.float32),
                                       np.zeros(2, np.int32), np.ones((1, 4), np.float32),
                                       tau_s=1.0, threshold=1.0, buffer_size=2)
    assert out.shape == (2, 4, 2) and cnt.shape == (2, 4) and ovf.shape == (2, 4)
    assert np.all(np.isinf(out)) and np.all(np.asarray(cnt) == 0) and not np.any(ovf)


def test_several_spikes_with_resets():
    w = 60.0
    want = single_input_train(0.3, w, 100)
    got, c, ovf, _ = run1([0.3], [w], buffer_size=100)
    assert c == want.size and c > 5 and not ovf
    np.testing.assert_allclose(got, want, rtol=2e-6)
    with jax.enable_x64(True):
        got64, _, _, _ = run1([0.3], [w], buffer_size=100, dtype=np.float64)
    np.testing.assert_allclose(got64, want, rtol=1e-12)
    # V reaches theta at each spike and stays below in between
    for k, tk in enumerate(got64):
        np.testing.assert_allclose(potential(tk, [0.3], [w], got64[:k]), THETA, rtol=1e-9)
        prev = 0.3 if k == 0 else got64[k - 1]
        grid = np.linspace(prev, tk, 200)[1:-1]
        assert np.all(potential(grid, [0.3], [w], got64[:k]) < THETA)


def test_buffer_overflow_flagged():
    w = 60.0
    n = single_input_train(0.3, w, 100).size
    full, c, ovf, _ = run1([0.3], [w], buffer_size=n)
    assert c == n and not ovf  # exactly fits: no overflow
    got, c, ovf, out = run1([0.3], [w], buffer_size=3)
    assert c == 3 and ovf
    np.testing.assert_allclose(got, full[:3], rtol=1e-7)
    # an overflowed neuron does not disturb the others
    idx = np.array([[0, 1]], np.int32)
    t = np.array([[0.3, 0.5]], np.float32)
    wts = np.array([[w, 0.0], [0.0, 10.0]], np.float32)
    o, cnt, ov = fc_layer_reference(idx, t, np.array([2], np.int32), wts, tau_s=TAU_S,
                                    threshold=THETA, buffer_size=3)
    assert list(np.asarray(ov[0])) == [True, False]
    _, c1, _, out1 = run1([0.5], [10.0], buffer_size=3)
    assert int(cnt[0, 1]) == c1
    np.testing.assert_allclose(np.asarray(o[0, 1]), out1, rtol=1e-6)


def test_padding_ignored():
    rng = np.random.default_rng(0)
    idx = np.array([[0, 2, 1, 0, 0, 0]], np.int32)
    t = np.array([[0.1, 0.5, 0.9, np.inf, np.inf, np.inf]], np.float32)
    w = rng.uniform(0, 3, (3, 5)).astype(np.float32)
    ref = fc_layer_reference(idx, t, np.array([3], np.int32), w, tau_s=1.0, threshold=1.0,
                             buffer_size=4)
    # garbage in the padding (finite, unsorted times; any index) changes nothing
    idx2 = np.array([[0, 2, 1, 1, 2, 0]], np.int32)
    t2 = np.array([[0.1, 0.5, 0.9, 0.2, 0.0, 5.0]], np.float32)
    got = fc_layer_reference(idx2, t2, np.array([3], np.int32), w, tau_s=1.0, threshold=1.0,
                             buffer_size=4)
    for a, b in zip(ref, got):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # the same events without padding slots
    got3 = fc_layer_reference(idx[:, :3], t[:, :3], np.array([3], np.int32), w, tau_s=1.0,
                              threshold=1.0, buffer_size=4)
    for a, b in zip(ref, got3):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _random_layer(rng, batch=3, n_in=6, n_out=5, n_ev=12, scale=2.5):
    counts = rng.integers(n_ev // 2, n_ev + 1, batch).astype(np.int32)
    idx = rng.integers(0, n_in, (batch, n_ev)).astype(np.int32)
    t = np.sort(rng.uniform(0, 5, (batch, n_ev)), axis=1)
    t = np.where(np.arange(n_ev)[None] < counts[:, None], t, np.inf)
    idx = np.where(np.arange(n_ev)[None] < counts[:, None], idx, 0).astype(np.int32)
    w = rng.normal(0.8, scale, (n_in, n_out))
    return idx, t, counts, w


def test_random_layers_satisfy_the_spike_condition():
    """Every kept spike has V = theta, V < theta between spikes (float64), no spike is missed."""
    rng = np.random.default_rng(1)
    with jax.enable_x64(True):
        idx, t, cnt, w = _random_layer(rng)
        out, oc, ov = fc_layer_reference(idx, t, cnt, w, tau_s=TAU_S, threshold=THETA,
                                         buffer_size=16)
        out, oc, ov = np.asarray(out), np.asarray(oc), np.asarray(ov)
    assert out.dtype == np.float64 and oc.sum() > 5 and not ov.any()
    for b in range(t.shape[0]):
        ti, ii = t[b, :cnt[b]], idx[b, :cnt[b]]
        for n in range(w.shape[1]):
            spikes = out[b, n, :oc[b, n]]
            assert np.all(np.isinf(out[b, n, oc[b, n]:]))
            assert np.all(np.diff(spikes) > 0)
            edges = np.concatenate([[0.0], spikes, [ti[-1] + 40 * TAU]])
            for k in range(len(edges) - 1):
                grid = np.linspace(edges[k], edges[k + 1], 400)[1:-1]
                v = potential(grid, ti, w[ii, n], spikes[:k])
                assert np.all(v < THETA + 1e-9)
                if k < len(spikes):
                    np.testing.assert_allclose(potential(spikes[k], ti, w[ii, n], spikes[:k]),
                                               THETA, rtol=1e-9)


def test_float32_matches_float64():
    rng = np.random.default_rng(2)
    idx, t, cnt, w = _random_layer(rng, batch=4)
    o32, c32, _ = fc_layer_reference(idx, t.astype(np.float32), cnt, w.astype(np.float32),
                                     tau_s=TAU_S, threshold=THETA, buffer_size=16)
    assert o32.dtype == jnp.float32 and c32.dtype == jnp.int32
    with jax.enable_x64(True):
        o64, c64, _ = fc_layer_reference(idx, t, cnt, w, tau_s=TAU_S, threshold=THETA,
                                         buffer_size=16)
        o64, c64 = np.asarray(o64), np.asarray(c64)
    np.testing.assert_array_equal(np.asarray(c32), c64)
    np.testing.assert_allclose(np.asarray(o32), o64, rtol=1e-5)


def test_jit_and_vmap():
    rng = np.random.default_rng(3)
    idx, t, cnt, w = _random_layer(rng, batch=4)
    t, w = t.astype(np.float32), w.astype(np.float32)
    f = lambda i, tt, c, ww: fc_layer_reference(i, tt, c, ww, tau_s=TAU_S, threshold=THETA,
                                                buffer_size=8)
    ref = f(idx, t, cnt, w)
    for a, b in zip(ref, jax.jit(f)(idx, t, cnt, w)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # vmap over an extra leading axis (two groups of two samples) and over weights
    out = jax.vmap(f)(idx.reshape(2, 2, -1), t.reshape(2, 2, -1), cnt.reshape(2, 2),
                      np.stack([w, w]))
    for a, b in zip(ref, out):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b).reshape(np.shape(a)))
    out = jax.vmap(f, in_axes=(None, None, None, 0))(idx, t, cnt, np.stack([w, 2 * w]))
    for a, b in zip(ref, out):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b)[0])


def test_layer_output_to_events():
    out = np.array([[[0.5, 2.0, np.inf], [0.1, 7.0, 9.0], [np.inf] * 3],
                    [[1.0, np.inf, np.inf], [1.0, 3.0, np.inf], [0.2, np.inf, np.inf]]], np.float32)
    cnt = np.array([[2, 2, 0], [1, 2, 1]], np.int32)  # the 9.0 slot is beyond the count
    idx, t, c = layer_output_to_events(out, cnt)
    assert idx.shape == t.shape == (2, 9) and idx.dtype == jnp.int32
    np.testing.assert_array_equal(np.asarray(c), [4, 4])
    np.testing.assert_array_equal(np.asarray(idx[0, :4]), [1, 0, 0, 1])
    np.testing.assert_array_equal(np.asarray(t[0, :4]), np.float32([0.1, 0.5, 2.0, 7.0]))
    np.testing.assert_array_equal(np.asarray(idx[1, :4]), [2, 0, 1, 1])  # tie at 1.0 by neuron
    assert np.all(np.isinf(np.asarray(t[:, 4:]))) and np.all(np.asarray(idx[:, 4:]) == 0)
    # the event list feeds the next layer
    o2, c2, _ = fc_layer_reference(idx, t, c, np.ones((3, 2), np.float32) * 5, tau_s=1.0,
                                   threshold=1.0, buffer_size=2)
    assert o2.shape == (2, 2, 2) and np.all(np.asarray(c2) > 0)


@pytest.mark.parametrize("kwargs, name", [
    (dict(tau_s=0.0), "tau_s"), (dict(tau_s=-1.0), "tau_s"), (dict(threshold=0.0), "threshold"),
    (dict(buffer_size=0), "buffer_size"),
])
def test_bad_hyperparameters(kwargs, name):
    args = dict(tau_s=1.0, threshold=1.0, buffer_size=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        fc_layer_reference(np.zeros((1, 1), np.int32), np.zeros((1, 1), np.float32),
                           np.ones(1, np.int32), np.ones((1, 1), np.float32), **args)


def test_bad_buffer_size_type():
    with pytest.raises(TypeError, match="buffer_size"):
        fc_layer_reference(np.zeros((1, 1), np.int32), np.zeros((1, 1), np.float32),
                           np.ones(1, np.int32), np.ones((1, 1), np.float32), tau_s=1.0,
                           threshold=1.0, buffer_size=2.5)


@pytest.mark.parametrize("idx, times, count, name", [
    ([[0, 1, 0]], [[0.5, 0.2, 0.9]], [3], "sorted"),
    ([[0, 1, 0]], [[-0.5, 0.2, 0.9]], [3], ">= 0"),
    ([[0, 2, 0]], [[0.1, 0.2, 0.9]], [3], "in_indices"),
    ([[0, -1, 0]], [[0.1, 0.2, 0.9]], [3], "in_indices"),
    ([[0, 1, 0]], [[0.1, np.nan, 0.9]], [3], "in_times"),
    ([[0, 1, 0]], [[0.1, 0.2, 0.9]], [4], "in_count"),
])
def test_bad_events(idx, times, count, name):
    with pytest.raises(ValueError, match=name):
        fc_layer_reference(np.array(idx, np.int32), np.array(times, np.float32),
                           np.array(count, np.int32), np.ones((2, 3), np.float32), tau_s=1.0,
                           threshold=1.0, buffer_size=2)


def test_bad_shapes():
    ok = dict(tau_s=1.0, threshold=1.0, buffer_size=2)
    with pytest.raises(ValueError, match="in_times"):
        fc_layer_reference(np.zeros((1, 2), np.int32), np.zeros((1, 3), np.float32),
                           np.ones(1, np.int32), np.ones((2, 3), np.float32), **ok)
    with pytest.raises(ValueError, match="weights"):
        fc_layer_reference(np.zeros((1, 2), np.int32), np.zeros((1, 2), np.float32),
                           np.ones(1, np.int32), np.ones(3, np.float32), **ok)
    with pytest.raises(ValueError, match="in_count"):
        fc_layer_reference(np.zeros((1, 2), np.int32), np.zeros((1, 2), np.float32),
                           np.ones(2, np.int32), np.ones((2, 3), np.float32), **ok)
    with pytest.raises(TypeError, match="in_indices"):
        fc_layer_reference(np.zeros((1, 2), np.float32), np.zeros((1, 2), np.float32),
                           np.ones(1, np.int32), np.ones((2, 3), np.float32), **ok)
