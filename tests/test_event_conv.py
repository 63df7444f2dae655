"""conv_fire / fc_fire / pool_times: hand cases, native and Pallas vs reference, transforms, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from spyxlike.event_conv import conv_fire, fc_fire, pool_times
from spyxlike.ops.event_conv import conv_potentials_reference

IMPLS = ("reference", "native", "pallas")


def _np(outs):
    return [np.asarray(o) for o in outs]


# ---------------------------------------------------------------- hand-computed


@pytest.mark.parametrize("impl", IMPLS)
def test_hand_computed_threshold_reached_does_not_fire(impl):
    times = np.array([[0, 1, 3], [2, 0, 3], [3, 3, 3]], np.int32).reshape(1, 3, 3, 1)
    kernel = np.ones((2, 2, 1, 1), np.float32)
    post, fire, final = _np(conv_fire(times, kernel, 2.0, 3, return_final=True, impl=impl))
    # (0,0): potentials 2, 3, 4 -> 2 equals the threshold (no spike), fires at t=1 with 3.
    # (0,1): 1, 2, 2; (1,0): 1, 1, 2; (1,1): 1, 1, 1 -> never above 2.
    np.testing.assert_array_equal(post[0, :, :, 0], [[1, 3], [3, 3]])
    np.testing.assert_array_equal(fire[0, :, :, 0], [[3, 0], [0, 0]])
    np.testing.assert_array_equal(final[0, :, :, 0], [[4, 2], [2, 1]])
    assert post.dtype == np.int32 and fire.dtype == np.float32


@pytest.mark.parametrize("impl", IMPLS)
def test_hand_computed_features_and_ties(impl):
    # one input pixel, two channels spiking at t=0 and t=1; three features:
    # f0 crosses at t=0 (3 > 2), f1 ties at t=0 (2 == 2, no spike) then fires
    # at t=1, f2 never exceeds the threshold.
    times = np.array([0, 1], np.int32).reshape(1, 1, 1, 2)
    kernel = np.array([[3.0, 2.0, 1.0], [1.0, 0.5, 1.0]], np.float32).reshape(1, 1, 2, 3)
    post, fire, final = _np(conv_fire(times, kernel, 2.0, 4, return_final=True, impl=impl))
    np.testing.assert_array_equal(post.reshape(3), [0, 1, 4])
    np.testing.assert_array_equal(fire.reshape(3), [3.0, 2.5, 0.0])
    np.testing.assert_array_equal(final.reshape(3), [4.0, 2.5, 2.0])


@pytest.mark.parametrize("impl", IMPLS)
def test_hand_computed_asymmetric_padding_order(impl):
    # padding (top, left, bottom, right) = (1, 0, 0, 0) (Spyker Expand4 order)
    times = np.array([[0, 1], [2, 2]], np.int32).reshape(1, 2, 2, 1)
    kernel = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32).reshape(2, 2, 1, 1)
    post, fire, final = _np(conv_fire(times, kernel, 5.0, 3, padding=(1, 0, 0, 0),
                                      return_final=True, impl=impl))
    # row 0 sees only input row 0 through kernel row 1: 3, 7, 7
    # row 1 sees both rows: 1, 3, 10
    np.testing.assert_array_equal(post.reshape(2), [1, 2])
    np.testing.assert_array_equal(fire.reshape(2), [7.0, 10.0])
    np.testing.assert_array_equal(final.reshape(2), [7.0, 10.0])


@pytest.mark.parametrize("impl", IMPLS)
def test_hand_computed_stride_and_padding(impl):
    times = np.zeros((1, 3, 3, 1), np.int32)
    times[0, 2, 2, 0] = 1
    kernel = np.ones((3, 3, 1, 1), np.float32)
    post, fire, final = _np(conv_fire(times, kernel, 3.5, 2, stride=2, padding=1,
                                      return_final=True, impl=impl))
    # padded 5x5, 2x2 outputs at padded (0,0), (0,2), (2,0), (2,2), each seeing a
    # 2x2 block of real inputs; only the last holds the late input (3 at t=0, 4 at t=1)
    np.testing.assert_array_equal(final[0, :, :, 0], [[4, 4], [4, 4]])
    np.testing.assert_array_equal(post[0, :, :, 0], [[0, 0], [0, 1]])
    np.testing.assert_array_equal(fire[0, :, :, 0], [[4, 4], [4, 4]])


@pytest.mark.parametrize("impl", IMPLS)
def test_negative_threshold_fires_untouched_outputs_at_zero(impl):
    times = np.full((1, 4, 4, 1), 5, np.int32)  # no spike at all
    kernel = np.ones((2, 2, 1, 2), np.float32)
    post, fire = _np(conv_fire(times, kernel, -0.5, 5, impl=impl))
    np.testing.assert_array_equal(post, np.zeros((1, 3, 3, 2)))
    np.testing.assert_array_equal(fire, np.zeros((1, 3, 3, 2)))
    post, fire = _np(conv_fire(times, kernel, 0.0, 5, impl=impl))
    np.testing.assert_array_equal(post, np.full((1, 3, 3, 2), 5))


@pytest.mark.parametrize("impl", IMPLS)
def test_single_step_and_all_at_t(impl):
    times = np.array([[0, 1], [1, 0]], np.int32).reshape(1, 2, 2, 1)
    kernel = np.ones((2, 2, 1, 1), np.float32)
    post, fire, final = _np(conv_fire(times, kernel, 1.0, 1, return_final=True, impl=impl))
    assert post.item() == 0 and fire.item() == 2.0 and final.item() == 2.0
    post, fire, final = _np(conv_fire(np.ones_like(times), kernel, 0.0, 1, return_final=True,
                                      impl=impl))
    assert post.item() == 1 and fire.item() == 0.0 and final.item() == 0.0


# ------------------------------------------------------- native/Pallas vs reference


@st.composite
def _conv_case(draw, max_cout=40):
    b = draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    cin = draw(st.integers(1, 4))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    cout = draw(st.integers(1, max_cout))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(4))
    assume(h + padding[0] + padding[2] >= kh and w + padding[1] + padding[3] >= kw)
    time_steps = draw(st.integers(1, 8))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    times = rng.integers(0, time_steps + 1, (b, h, w, cin)).astype(np.int32)
    # dyadic weights: every partial sum is exact in float32, so crossings cannot flip
    kernel = (rng.integers(-4, 9, (kh, kw, cin, cout)) * 0.25).astype(np.float32)
    threshold = float(rng.integers(-2, 12)) * 0.5
    return times, kernel, threshold, time_steps, stride, padding


@settings(max_examples=30, deadline=None)
@given(case=_conv_case(), with_final=st.booleans())
def test_native_matches_reference_exact(case, with_final):
    times, kernel, threshold, time_steps, stride, padding = case
    kw = dict(stride=stride, padding=padding, return_final=with_final)
    ref = _np(conv_fire(times, kernel, threshold, time_steps, impl="reference", **kw))
    nat = _np(conv_fire(times, kernel, threshold, time_steps, impl="native", **kw))
    assert len(ref) == len(nat) == (3 if with_final else 2)
    for r, n in zip(ref, nat):
        assert r.shape == n.shape and r.dtype == n.dtype
        np.testing.assert_array_equal(r, n)
    assert ref[0].min() >= 0 and ref[0].max() <= time_steps


@settings(max_examples=6, deadline=None)
@given(case=_conv_case(max_cout=20))
def test_pallas_matches_reference_exact(case):
    times, kernel, threshold, time_steps, stride, padding = case
    kw = dict(stride=stride, padding=padding, return_final=True)
    ref = _np(conv_fire(times, kernel, threshold, time_steps, impl="reference", **kw))
    pal = _np(conv_fire(times, kernel, threshold, time_steps, impl="pallas", **kw))
    for r, p in zip(ref, pal):
        np.testing.assert_array_equal(r, p)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), stride=st.integers(1, 2), padding=st.integers(0, 2))
def test_native_matches_reference_float_weights(seed, stride, padding):
    rng = np.random.default_rng(seed)
    time_steps = 10
    times = rng.integers(0, time_steps + 1, (2, 9, 9, 3)).astype(np.int32)
    kernel = rng.normal(0.8, 0.3, (3, 3, 3, 37)).astype(np.float32)
    threshold = 6.0
    kw = dict(stride=stride, padding=padding, return_final=True)
    ref = _np(conv_fire(times, kernel, threshold, time_steps, impl="reference", **kw))
    nat = _np(conv_fire(times, kernel, threshold, time_steps, impl="native", **kw))
    pots = np.asarray(conv_potentials_reference(
        jnp.asarray(times), jnp.asarray(kernel), time_steps, (stride, stride), (padding,) * 4))
    # times may differ only where a potential comes within rounding of the threshold
    safe = ~(np.abs(pots - threshold) < 1e-4).any(axis=1)
    assert safe.mean() > 0.9
    np.testing.assert_array_equal(ref[0][safe], nat[0][safe])
    np.testing.assert_allclose(ref[1][safe], nat[1][safe], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ref[2], nat[2], rtol=1e-5, atol=1e-5)


def test_native_matches_reference_layer1_workload():
    from spyxlike.coding import rank_code

    rng = np.random.default_rng(3)
    x = rng.random((4, 28, 28, 2)).astype(np.float32)
    x[rng.random(x.shape) < 0.5] = 0
    times = rank_code(x, 15)
    kernel = (0.8 + 0.02 * rng.standard_normal((5, 5, 2, 30))).astype(np.float32)
    ref = _np(conv_fire(times, kernel, 15.0, 15, impl="reference"))
    nat = _np(conv_fire(times, kernel, 15.0, 15, impl="native"))
    pots = np.asarray(conv_potentials_reference(times, jnp.asarray(kernel), 15, (1, 1),
                                                (0, 0, 0, 0)))
    safe = ~(np.abs(pots - 15.0) < 1e-4).any(axis=1)
    assert 0.05 < (ref[0] < 15).mean() < 1.0  # some, not all, neurons fire
    np.testing.assert_array_equal(ref[0][safe], nat[0][safe])
    np.testing.assert_allclose(ref[1][safe], nat[1][safe], rtol=1e-5)


# ------------------------------------------------------------------ transforms


@pytest.mark.parametrize("impl", ("reference", "native"))
def test_jit_with_traced_threshold(impl):
    rng = np.random.default_rng(0)
    times = rng.integers(0, 6, (2, 6, 6, 2)).astype(np.int32)
    kernel = rng.integers(0, 3, (3, 3, 2, 5)).astype(np.float32)
    eager = _np(conv_fire(times, kernel, 4.0, 5, padding=1, impl=impl))
    jitted = jax.jit(lambda t, k, th: conv_fire(t, k, th, 5, padding=1, impl=impl))
    for a, b in zip(eager, _np(jitted(times, kernel, 4.0))):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("impl", ("reference", "native", "pallas"))
def test_vmap_over_times_kernel_and_threshold(impl):
    rng = np.random.default_rng(1)
    times = rng.integers(0, 5, (3, 2, 5, 5, 2)).astype(np.int32)
    kernels = rng.integers(-1, 3, (3, 2, 2, 2, 4)).astype(np.float32)
    thresholds = np.array([1.0, 2.0, 3.0], np.float32)

    def f(t, k, th):
        return conv_fire(t, k, th, 4, stride=(1, 2), return_final=True, impl=impl)

    expected = [f(times[i], kernels[i], thresholds[i]) for i in range(3)]
    for got in (jax.vmap(f)(times, kernels, thresholds),
                jax.jit(jax.vmap(f))(times, kernels, thresholds)):
        for j in range(3):
            np.testing.assert_array_equal(np.asarray(got[j]),
                                          np.stack([np.asarray(e[j]) for e in expected]))
    # only the times mapped; kernel and threshold shared
    got = jax.vmap(lambda t: f(t, kernels[0], 2.0))(times)
    for i in range(3):
        for j in range(3):
            np.testing.assert_array_equal(np.asarray(got[j][i]),
                                          np.asarray(f(times[i], kernels[0], 2.0)[j]))


def test_native_rejects_out_of_range_times_at_run_time():
    kernel = np.ones((1, 1, 1, 1), np.float32)
    times = np.array([[[[7]]]], np.int32)
    with pytest.raises(Exception, match="pre_times must lie in"):
        jax.block_until_ready(jax.jit(lambda t: conv_fire(t, kernel, 0.5, 3, impl="native"))(times))


# ------------------------------------------------------------------------ FC


@pytest.mark.parametrize("impl", IMPLS)
def test_fc_fire_hand_computed(impl):
    times = np.array([[0, 1, 2, 3]], np.int32)
    weights = np.array([[1.0, 0.0], [1.0, 2.0], [1.0, 0.0], [5.0, 5.0]], np.float32)
    post, fire, final = _np(fc_fire(times, weights, 2.0, 3, return_final=True, impl=impl))
    # f0: 1, 2, 3 -> fires at t=2 (2 equals the threshold at t=1); f1: 0, 2, 2 -> never
    np.testing.assert_array_equal(post, [[2, 3]])
    np.testing.assert_array_equal(fire, [[3.0, 0.0]])
    np.testing.assert_array_equal(final, [[3.0, 2.0]])


@settings(max_examples=20, deadline=None)
@given(b=st.integers(1, 4), fin=st.integers(1, 60), fout=st.integers(1, 40),
       time_steps=st.integers(1, 9), seed=st.integers(0, 2**31 - 1))
def test_fc_fire_native_matches_reference(b, fin, fout, time_steps, seed):
    rng = np.random.default_rng(seed)
    times = rng.integers(0, time_steps + 1, (b, fin)).astype(np.int32)
    weights = (rng.integers(-4, 9, (fin, fout)) * 0.125).astype(np.float32)
    threshold = float(rng.integers(0, 20)) * 0.25
    ref = _np(fc_fire(times, weights, threshold, time_steps, return_final=True, impl="reference"))
    nat = _np(fc_fire(times, weights, threshold, time_steps, return_final=True, impl="native"))
    for r, n in zip(ref, nat):
        assert r.shape == (b, fout)
        np.testing.assert_array_equal(r, n)


def test_fc_fire_vmap_and_jit():
    rng = np.random.default_rng(2)
    times = rng.integers(0, 5, (3, 2, 10)).astype(np.int32)
    weights = rng.integers(0, 3, (10, 6)).astype(np.float32)
    f = jax.jit(jax.vmap(lambda t: fc_fire(t, weights, 3.0, 4, impl="native")))
    post, fire = f(times)
    for i in range(3):
        p, q = fc_fire(times[i], weights, 3.0, 4, impl="reference")
        np.testing.assert_array_equal(post[i], p)
        np.testing.assert_array_equal(fire[i], q)


# --------------------------------------------------------------------- pooling


def test_pool_times_hand_computed():
    times = np.array([[0, 5, 3, 5], [5, 2, 5, 1], [4, 5, 5, 5], [5, 5, 5, 5]], np.int32)
    times = times.reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(pool_times(times, 2)[0, :, :, 0], [[0, 1], [4, 5]])
    # padding never spikes: padded windows keep the real minimum
    np.testing.assert_array_equal(pool_times(times, 2, stride=2, padding=1)[0, :, :, 0],
                                  [[0, 3, 5], [4, 2, 1], [5, 5, 5]])
    np.testing.assert_array_equal(pool_times(times, (1, 2), stride=(2, 1))[0, :, :, 0],
                                  [[0, 3, 3], [4, 5, 5]])


def _pool_waves(times, time_steps, k, s, p):
    """SpykeTorch's pooling: max pool of the spike-waves, read back as times."""
    waves = (times[:, None] <= np.arange(time_steps).reshape(1, -1, 1, 1, 1)).astype(np.float32)
    pooled = np.asarray(jax.lax.reduce_window(
        waves, 0.0, jax.lax.max, (1, 1, k, k, 1), (1, 1, s, s, 1),
        ((0, 0), (0, 0), (p, p), (p, p), (0, 0))))
    return np.where(pooled.any(1), pooled.argmax(1), time_steps)


def test_pool_times_large_window():
    times = np.random.default_rng(5).integers(0, 9, (2, 7, 6, 3)).astype(np.int32)
    # 25 entries: the reduce_window path; 3x3: the strided-slices path
    for k, s, p in ((5, 1, 2), (5, 2, 4), (3, 2, 1)):
        np.testing.assert_array_equal(pool_times(times, k, stride=s, padding=p),
                                      _pool_waves(times, 8, k, s, p))


@settings(max_examples=15, deadline=None)
@given(h=st.integers(2, 9), w=st.integers(2, 9), k=st.sampled_from([1, 2, 3, 5]),
       s=st.integers(1, 3),
       p=st.integers(0, 2), seed=st.integers(0, 2**31 - 1))
def test_pool_times_equals_max_pool_of_waves(h, w, k, s, p, seed):
    assume(p < k and h + 2 * p >= k and w + 2 * p >= k)
    time_steps = 6
    rng = np.random.default_rng(seed)
    times = rng.integers(0, time_steps + 1, (2, h, w, 3)).astype(np.int32)
    expected = _pool_waves(times, time_steps, k, s, p)
    np.testing.assert_array_equal(pool_times(times, k, stride=s, padding=p), expected)
    np.testing.assert_array_equal(jax.jit(lambda t: pool_times(t, k, s, p))(times), expected)
    np.testing.assert_array_equal(jax.vmap(lambda t: pool_times(t, k, s, p))(times[:, None])[:, 0],
                                  expected)


# ---------------------------------------------------------------------- errors


def test_conv_fire_errors():
    t = np.zeros((1, 4, 4, 2), np.int32)
    k = np.ones((3, 3, 2, 5), np.float32)
    with pytest.raises(ValueError, match="conv_fire: kernel 3x3 is larger than the padded input 2x4"):
        conv_fire(t[:, :2], k, 1.0, 3)
    conv_fire(t[:, :2], k, 1.0, 3, padding=(1, 0))  # padded to 4x4: fine
    with pytest.raises(ValueError, match=r"pre_times must be \(B, H, W, Cin\)"):
        conv_fire(t[0], k, 1.0, 3)
    with pytest.raises(ValueError, match=r"kernel must be \(kh, kw, Cin, Cout\)"):
        conv_fire(t, k[0], 1.0, 3)
    with pytest.raises(ValueError, match="kernel Cin must equal pre_times Cin = 2"):
        conv_fire(t, np.ones((3, 3, 3, 5), np.float32), 1.0, 3)
    with pytest.raises(ValueError, match=r"pre_times must lie in \[0, time_steps\] = \[0, 3\]"):
        conv_fire(t + 4, k, 1.0, 3)
    with pytest.raises(ValueError, match="got values in \\[-1, 0\\]"):
        conv_fire(t - (np.arange(4) == 0)[:, None, None], k, 1.0, 3)
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match="conv_fire: threshold must be finite"):
            conv_fire(t, k, bad, 3)
    with pytest.raises(ValueError, match="threshold must be a scalar"):
        conv_fire(t, k, np.ones(2), 3)
    with pytest.raises(ValueError, match="conv_fire: time_steps must be >= 1, got 0"):
        conv_fire(t, k, 1.0, 0)
    with pytest.raises(TypeError, match="conv_fire: time_steps must be an int"):
        conv_fire(t, k, 1.0, 3.0)
    with pytest.raises(TypeError, match="conv_fire: pre_times must be integer spike times"):
        conv_fire(t.astype(np.float32), k, 1.0, 3)
    with pytest.raises(ValueError, match="conv_fire: stride entries must be >= 1"):
        conv_fire(t, k, 1.0, 3, stride=0)
    with pytest.raises(ValueError, match="conv_fire: padding must be an int or a sequence"):
        conv_fire(t, k, 1.0, 3, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="conv_fire: impl must be one of"):
        conv_fire(t, k, 1.0, 3, impl="cuda")


def test_fc_fire_and_pool_times_errors():
    t = np.zeros((2, 5), np.int32)
    with pytest.raises(ValueError, match=r"fc_fire: weights must be \(Fin, Fout\) with Fin = 5"):
        fc_fire(t, np.ones((4, 3)), 1.0, 3)
    with pytest.raises(ValueError, match=r"fc_fire: pre_times must be \(B, Fin\)"):
        fc_fire(t[0], np.ones((5, 3)), 1.0, 3)
    with pytest.raises(ValueError, match="fc_fire: threshold must be finite"):
        fc_fire(t, np.ones((5, 3)), np.nan, 3)
    with pytest.raises(ValueError, match=r"fc_fire: pre_times must lie in \[0, time_steps\]"):
        fc_fire(t + 9, np.ones((5, 3)), 1.0, 3)
    times = np.zeros((1, 4, 4, 1), np.int32)
    with pytest.raises(ValueError, match="pool_times: padding must be smaller than the window"):
        pool_times(times, 2, padding=2)
    with pytest.raises(ValueError, match="pool_times: window 5x5 is larger than the padded input"):
        pool_times(times, 5)
    with pytest.raises(ValueError, match=r"pool_times: times must be \(B, H, W, C\)"):
        pool_times(times[0], 2)
    with pytest.raises(TypeError, match="pool_times: times must be integer spike times"):
        pool_times(times.astype(np.float32), 2)


@settings(max_examples=25, deadline=None)
@given(case=_conv_case(), with_final=st.booleans())
def test_without_potentials_native_matches_reference(case, with_final):
    """return_potentials=False: the same times (and final potentials), no fire potentials."""
    times, kernel, threshold, time_steps, stride, padding = case
    kw = dict(stride=stride, padding=padding, return_final=with_final, return_potentials=False)
    full = _np(conv_fire(times, kernel, threshold, time_steps, stride=stride, padding=padding,
                         return_final=True, impl="reference"))
    for impl in ("reference", "native"):
        out = conv_fire(times, kernel, threshold, time_steps, impl=impl, **kw)
        if with_final:
            post, final = _np(out)
            np.testing.assert_array_equal(final, full[2])
        else:
            post = np.asarray(out)
        assert post.dtype == np.int32
        np.testing.assert_array_equal(post, full[0])


def test_without_potentials_under_jit_and_vmap():
    rng = np.random.default_rng(3)
    times = rng.integers(0, 6, (3, 2, 7, 7, 2)).astype(np.int32)
    kernel = (rng.integers(0, 5, (3, 3, 3, 2, 20)) * 0.25).astype(np.float32)
    f = jax.jit(jax.vmap(lambda t, k: conv_fire(t, k, 2.0, 5, return_potentials=False,
                                                impl="native")))
    got = np.asarray(f(times, kernel))
    for g in range(3):
        want = np.asarray(conv_fire(times[g], kernel[g], 2.0, 5, impl="reference")[0])
        np.testing.assert_array_equal(got[g], want)


def test_fc_fire_without_potentials():
    rng = np.random.default_rng(4)
    times = rng.integers(0, 9, (4, 50)).astype(np.int32)
    weights = (rng.integers(-2, 6, (50, 33)) * 0.25).astype(np.float32)
    want = fc_fire(times, weights, 3.0, 8, return_final=True, impl="reference")
    for impl in ("reference", "native"):
        post = fc_fire(times, weights, 3.0, 8, return_potentials=False, impl=impl)
        np.testing.assert_array_equal(np.asarray(post), np.asarray(want[0]))
        post, final = fc_fire(times, weights, 3.0, 8, return_final=True,
                              return_potentials=False, impl=impl)
        np.testing.assert_array_equal(np.asarray(final), np.asarray(want[2]))


@pytest.mark.parametrize("flag", ["return_potentials", "return_final"])
def test_output_flags_must_be_bool(flag):
    times = np.zeros((1, 4, 4, 1), np.int32)
    kernel = np.ones((2, 2, 1, 3), np.float32)
    with pytest.raises(TypeError, match=f"conv_fire: {flag} must be a bool, got str"):
        conv_fire(times, kernel, 1.0, 4, **{flag: "yes"})
    with pytest.raises(TypeError, match=f"fc_fire: {flag} must be a bool, got int"):
        fc_fire(np.zeros((1, 3), np.int32), np.ones((3, 2), np.float32), 1.0, 4, **{flag: 1})


@pytest.mark.parametrize("cout", [49, 64, 100, 112, 130])
def test_wide_outputs_match_reference(cout):
    """Outputs of three or more 16-lane vectors skip the tests of positions whose
    potential bound (sum of kernel row maxima) is not above the threshold; the
    times must stay exactly the reference's, with mixed-sign weights and ties."""
    rng = np.random.default_rng(cout)
    times = rng.integers(0, 9, (2, 9, 9, 6)).astype(np.int32)
    kernel = (rng.integers(-3, 9, (3, 3, 6, cout)) * 0.25).astype(np.float32)
    for threshold in (-0.5, 6.0, 25.0):
        for kw in (dict(padding=1), dict(stride=2)):
            ref = _np(conv_fire(times, kernel, threshold, 8, impl="reference", **kw))
            nat = _np(conv_fire(times, kernel, threshold, 8, impl="native", **kw))
            for r, n in zip(ref, nat):
                np.testing.assert_array_equal(r, n)
            if threshold > 20 and "padding" in kw:  # some fire, some never do
                assert (ref[0] < 8).any() and (ref[0] == 8).any()
