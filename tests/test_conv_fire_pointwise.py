"""conv_fire_pointwise (conv + fire fused with SpykeTorch's point-wise inhibition): hand cases,
native vs reference vs the unfused composition, jit/vmap, errors."""

import jax
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from spyxlike.event_conv import conv_fire, conv_fire_pointwise, conv_fire_pointwise_pool, pool_times
from spyxlike.spike_time_inhibition import pointwise_inhibition_times


def _np(outs):
    return [np.asarray(o) for o in outs]


@pytest.mark.parametrize("impl", ("reference", "native", "pallas"))
def test_hand_computed_earliest_then_largest_then_lowest(impl):
    # one input pixel (1x1 kernel), two channels spiking at t=0 and t=1;
    # features: f0 = 2 (fires t=0, v=2), f1 = 3 (fires t=0, v=3), f2 = 3 (tie with
    # f1, higher index), f3 = 0.5 + 4 (fires only at t=1): f1 survives.
    times = np.array([0, 1], np.int32).reshape(1, 1, 1, 2)
    kernel = np.array([[2.0, 3.0, 3.0, 0.5], [0.0, 0.0, 0.0, 4.0]], np.float32).reshape(1, 1, 2, 4)
    post, fire = _np(conv_fire_pointwise(times, kernel, 1.0, 3, impl=impl))
    np.testing.assert_array_equal(post.reshape(4), [3, 0, 3, 3])
    np.testing.assert_array_equal(fire.reshape(4), [0.0, 3.0, 0.0, 0.0])
    # without f1/f2, f0 (t=0) beats f3 (t=1, larger potential)
    post, fire = _np(conv_fire_pointwise(times, kernel[..., [0, 3]], 1.0, 3, impl=impl))
    np.testing.assert_array_equal(post.reshape(2), [0, 3])
    np.testing.assert_array_equal(fire.reshape(2), [2.0, 0.0])


@st.composite
def _case(draw):
    b = draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    cin = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    cout = draw(st.sampled_from([1, 3, 16, 17, 40]))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = tuple(draw(st.integers(0, 1)) for _ in range(4))
    assume(h + padding[0] + padding[2] >= kh and w + padding[1] + padding[3] >= kw)
    time_steps = draw(st.integers(1, 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    times = rng.integers(0, time_steps + 1, (b, h, w, cin)).astype(np.int32)
    kernel = (rng.integers(-2, 7, (kh, kw, cin, cout)) * 0.5).astype(np.float32)  # exact, ties
    threshold = float(rng.integers(-3, 8)) * 0.5
    return times, kernel, threshold, time_steps, dict(stride=stride, padding=padding)


@settings(max_examples=25, deadline=None)
@given(case=_case())
def test_native_matches_reference_and_composition(case):
    times, kernel, threshold, time_steps, kw = case
    ref = _np(conv_fire_pointwise(times, kernel, threshold, time_steps, impl="reference", **kw))
    nat = _np(conv_fire_pointwise(times, kernel, threshold, time_steps, impl="native", **kw))
    comp = _np(pointwise_inhibition_times(
        *conv_fire(times, kernel, threshold, time_steps, impl="native", **kw), time_steps))
    for r, n, c in zip(ref, nat, comp):
        assert r.shape == n.shape and r.dtype == n.dtype
        np.testing.assert_array_equal(r, n)
        np.testing.assert_array_equal(c, n)
    assert ((nat[0] < time_steps).sum(-1) <= 1).all()
    for impl in ("reference", "native", "pallas"):
        times_only = conv_fire_pointwise(times, kernel, threshold, time_steps,
                                         return_potentials=False, impl=impl, **kw)
        np.testing.assert_array_equal(np.asarray(times_only), ref[0])


def test_layer1_workload_matches_composition():
    from spyxlike.coding import rank_code

    rng = np.random.default_rng(7)
    x = rng.random((4, 28, 28, 2)).astype(np.float32)
    x[rng.random(x.shape) < 0.5] = 0
    times = rank_code(x, 15)
    kernel = (0.8 + 0.02 * rng.standard_normal((5, 5, 2, 30))).astype(np.float32)
    nat = _np(conv_fire_pointwise(times, kernel, 15.0, 15, impl="native"))
    comp = _np(pointwise_inhibition_times(*conv_fire(times, kernel, 15.0, 15, impl="native"), 15))
    for c, n in zip(comp, nat):
        np.testing.assert_array_equal(c, n)
    assert (nat[0] < 15).sum() > 100


@pytest.mark.parametrize("impl", ("reference", "native"))
def test_jit_and_vmap(impl):
    rng = np.random.default_rng(1)
    times = rng.integers(0, 5, (3, 2, 6, 6, 2)).astype(np.int32)
    kernels = rng.integers(-1, 3, (3, 2, 2, 2, 20)).astype(np.float32)
    thresholds = np.array([1.0, 2.0, -1.0], np.float32)

    def f(t, k, th):
        return conv_fire_pointwise(t, k, th, 4, padding=1, impl=impl)

    expected = [_np(f(times[i], kernels[i], thresholds[i])) for i in range(3)]
    for got in (jax.vmap(f)(times, kernels, thresholds),
                jax.jit(jax.vmap(f))(times, kernels, thresholds)):
        for j, g in enumerate(_np(got)):
            np.testing.assert_array_equal(g, np.stack([e[j] for e in expected]))
    jitted = _np(jax.jit(f)(times[0], kernels[0], 1.0))
    for a, b in zip(jitted, expected[0]):
        np.testing.assert_array_equal(a, b)


def test_errors():
    times = np.zeros((1, 4, 4, 2), np.int32)
    kernel = np.ones((2, 2, 2, 3), np.float32)
    with pytest.raises(ValueError, match="conv_fire_pointwise: pre_times must be"):
        conv_fire_pointwise(times[0], kernel, 1.0, 3)
    with pytest.raises(ValueError, match="conv_fire_pointwise: kernel Cin"):
        conv_fire_pointwise(times, kernel[:, :, :1], 1.0, 3)
    with pytest.raises(ValueError, match="conv_fire_pointwise: pre_times must lie in"):
        conv_fire_pointwise(times - 1, kernel, 1.0, 3)
    with pytest.raises(TypeError, match="conv_fire_pointwise: pre_times must be integer"):
        conv_fire_pointwise(times.astype(np.float32), kernel, 1.0, 3)
    with pytest.raises(ValueError, match="conv_fire_pointwise: impl"):
        conv_fire_pointwise(times, kernel, 1.0, 3, impl="cuda")
    with pytest.raises(Exception, match="pre_times must lie in"):
        jax.block_until_ready(jax.jit(
            lambda t: conv_fire_pointwise(t, kernel, 1.0, 3, impl="native"))(times + 5))


# ------------------------------------------------------- conv_fire_pointwise_pool (fused pooling)


@settings(max_examples=30, deadline=None)
@given(case=_case(), pool_k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       pool_s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       pool_p=st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2),
                        st.integers(0, 2)))
def test_fused_pool_matches_composition(case, pool_k, pool_s, pool_p):
    times, kernel, threshold, time_steps, kw = case
    (kh, kwid), (top, left, bottom, right) = pool_k, pool_p
    assume(max(top, bottom) < kh and max(left, right) < kwid)
    ho = (times.shape[1] + kw["padding"][0] + kw["padding"][2] - kernel.shape[0]) // kw["stride"][0] + 1
    wo = (times.shape[2] + kw["padding"][1] + kw["padding"][3] - kernel.shape[1]) // kw["stride"][1] + 1
    assume(ho + top + bottom >= kh and wo + left + right >= kwid)
    pool = dict(pool_kernel_size=pool_k, pool_stride=pool_s, pool_padding=pool_p)
    want = np.asarray(pool_times(
        conv_fire_pointwise(times, kernel, threshold, time_steps, return_potentials=False,
                            impl="reference", **kw), pool_k, pool_s, pool_p))
    for impl in ("reference", "native", "pallas"):
        got = np.asarray(conv_fire_pointwise_pool(times, kernel, threshold, time_steps,
                                                  impl=impl, **kw, **pool))
        assert got.dtype == np.int32 and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_fused_pool_layer1_workload_and_hand_case():
    # hand case: 1x1 kernel, one feature; spikes at (0,0) t=2 and (1,1) t=1 pool
    # (2x2 window, stride 1, no padding) to the earliest in each window
    times = np.full((1, 3, 3, 1), 4, np.int32)
    times[0, 0, 0, 0], times[0, 1, 1, 0] = 2, 1
    kernel = np.full((1, 1, 1, 1), 1.0, np.float32)
    for impl in ("reference", "native"):
        got = np.asarray(conv_fire_pointwise_pool(times, kernel, 0.5, 4, pool_kernel_size=2,
                                                  pool_stride=1, impl=impl))
        np.testing.assert_array_equal(got[0, :, :, 0], [[1, 1], [1, 1]])
    rng = np.random.default_rng(5)
    times = rng.integers(0, 16, (4, 28, 28, 2)).astype(np.int32)
    kernel = (rng.integers(0, 9, (5, 5, 2, 30)) * 0.125).astype(np.float32)
    want = pool_times(conv_fire_pointwise(times, kernel, 10.0, 15, return_potentials=False,
                                          impl="native"), 2, 2, 1)
    got = jax.jit(lambda t: conv_fire_pointwise_pool(
        t, kernel, 10.0, 15, pool_kernel_size=2, pool_stride=2, pool_padding=1,
        impl="native"))(times)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    assert got.shape == (4, 13, 13, 30) and (np.asarray(got) < 15).sum() > 100
    per_group = jax.vmap(lambda t: conv_fire_pointwise_pool(
        t, kernel, 10.0, 15, pool_kernel_size=2, pool_stride=2, pool_padding=1,
        impl="native"))(times.reshape(2, 2, 28, 28, 2))
    np.testing.assert_array_equal(np.asarray(per_group).reshape(want.shape), np.asarray(want))


def test_fused_pool_errors():
    times = np.zeros((1, 6, 6, 2), np.int32)
    kernel = np.ones((3, 3, 2, 4), np.float32)
    with pytest.raises(ValueError, match="conv_fire_pointwise_pool: pool_padding must be smaller"):
        conv_fire_pointwise_pool(times, kernel, 1.0, 3, pool_kernel_size=2, pool_padding=2)
    with pytest.raises(ValueError, match="conv_fire_pointwise_pool: window 5x5 is larger"):
        conv_fire_pointwise_pool(times, kernel, 1.0, 3, pool_kernel_size=5)
    with pytest.raises(ValueError, match="conv_fire_pointwise_pool: pool_kernel_size"):
        conv_fire_pointwise_pool(times, kernel, 1.0, 3, pool_kernel_size=0)
    with pytest.raises(ValueError, match="conv_fire_pointwise_pool: kernel Cin"):
        conv_fire_pointwise_pool(times, kernel[:, :, :1], 1.0, 3, pool_kernel_size=2)

