"""spyxlike.sparse ops: hand cases, native vs reference, equality with the dense composition, jit, vmap, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyxlike import sparse
from spyxlike.sparse_spikes import SparseSpikes

T = 6
SHAPE = (2, 7, 6, 3)  # (B, H, W, C) of the shared random cases


def _times(seed, shape=SHAPE, activity=0.4):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, T, size=shape)
    return np.where(rng.random(shape) < activity, t, T).astype(np.int32)


def _kernel(seed, shape=(3, 3, 3, 4)):
    # multiples of 1/8: every potential is exact, so dense and sparse sums agree bit for bit
    return (np.random.default_rng(seed).integers(-3, 8, size=shape) / 8.0).astype(np.float32)


def dense_conv_fire(times, kernel, threshold, stride, padding):
    """Dense composition: lax conv of the cumulative waves, then first step with V > threshold
    (at or after the sample's first input spike: Spyker's rule, only matters for threshold < 0)."""
    b, h, w, c = times.shape
    waves = (times[:, None] <= np.arange(T)[None, :, None, None, None]).astype(np.float32)
    top, left, bottom, right = padding
    pot = jax.lax.conv_general_dilated(
        jnp.asarray(waves.reshape(b * T, h, w, c)), jnp.asarray(kernel), stride,
        [(top, bottom), (left, right)], dimension_numbers=("NHWC", "HWIO", "NHWC"))
    pot = np.asarray(pot).reshape((b, T) + pot.shape[1:])
    first = times.reshape(b, -1).min(axis=1)
    allowed = np.arange(T)[None, :] >= first[:, None]
    fire = (pot > threshold) & allowed[:, :, None, None, None]
    return np.where(fire.any(1), fire.argmax(1), T).astype(np.int32)


def dense_pool(times, k, s, padding):
    top, left, bottom, right = padding
    padded = np.pad(times, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=T)
    ho = (padded.shape[1] - k[0]) // s[0] + 1
    wo = (padded.shape[2] - k[1]) // s[1] + 1
    out = np.empty((times.shape[0], ho, wo, times.shape[3]), np.int32)
    for r in range(ho):
        for c in range(wo):
            win = padded[:, r * s[0]:r * s[0] + k[0], c * s[1]:c * s[1] + k[1]]
            out[:, r, c] = win.min(axis=(1, 2))
    return out


def test_conv_hand_case_strict_threshold_and_one_event_per_neuron():
    # one input neuron spiking at t=1, 1x1 kernel: potential 0.5 from t=1 on
    s = SparseSpikes.from_times(np.array([[[[1]]]], np.int32), 3)
    k = np.full((1, 1, 1, 2), 0.5, np.float32)
    k[..., 1] = 0.25
    for impl in ("reference", "native"):
        out = sparse.conv(s, k, 0.25, impl=impl)
        assert int(out.count) == 1  # 0.25 is not > 0.25
        np.testing.assert_array_equal(np.asarray(out.events[0]), [0, 1, 0, 0, 0])
        # the negative weight makes the potential fall again: still one event
        down = SparseSpikes.from_times(np.array([[[[0, 2]]]], np.int32), 4)
        kk = np.array([1.0, -1.0], np.float32).reshape(1, 1, 2, 1)
        np.testing.assert_array_equal(np.asarray(sparse.conv(down, kk, 0.5, impl=impl).to_times()),
                                      [[[[0]]]])


def test_conv_negative_threshold_follows_spyker():
    times = np.full((2, 1, 3, 1), T, np.int32)
    times[0, 0, 0, 0] = 2  # sample 1 has no events
    s = SparseSpikes.from_times(times, T)
    k = np.array([0.0, 0.0, 1.0], np.float32).reshape(1, 3, 1, 1)
    for impl in ("reference", "native"):
        out = sparse.conv(s, k, -0.5, padding=(0, 2), impl=impl)
        np.testing.assert_array_equal(np.asarray(out.to_times())[..., 0], [[[2] * 5], [[T] * 5]])


@pytest.mark.parametrize("stride, padding", [(1, (0, 0, 0, 0)), ((2, 1), (1, 2, 0, 1))])
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), threshold=st.sampled_from([-0.25, 0.0, 0.5, 1.0, 2.0]),
       activity=st.sampled_from([0.05, 0.3, 0.9]))
def test_conv_native_reference_and_dense_agree(stride, padding, seed, threshold, activity):
    times = _times(seed, activity=activity)
    k = _kernel(seed)
    s = SparseSpikes.from_times(times, T)
    ref = sparse.conv(s, k, threshold, stride=stride, padding=padding, impl="reference")
    nat = sparse.conv(s, k, threshold, stride=stride, padding=padding, impl="native")
    np.testing.assert_array_equal(np.asarray(nat.events), np.asarray(ref.events))
    assert int(nat.count) == int(ref.count) and int(nat.overflow) == 0
    expect = dense_conv_fire(times, k, threshold, sparse.expand2(stride, "s"), padding)
    np.testing.assert_array_equal(np.asarray(ref.to_times()), expect)


@pytest.mark.parametrize("kernel_size, stride, padding", [(2, None, 0), (3, 2, (1, 0, 1, 1))])
@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), activity=st.sampled_from([0.05, 0.4, 1.0]))
def test_pool_native_reference_and_dense_agree(kernel_size, stride, padding, seed, activity):
    times = _times(seed, activity=activity)
    s = SparseSpikes.from_times(times, T)
    ref = sparse.pool(s, kernel_size, stride, padding, impl="reference")
    nat = sparse.pool(s, kernel_size, stride, padding, impl="native")
    np.testing.assert_array_equal(np.asarray(nat.events), np.asarray(ref.events))
    assert int(nat.count) == int(ref.count)
    k = sparse.expand2(kernel_size, "k")
    st_ = k if stride is None else sparse.expand2(stride, "s")
    np.testing.assert_array_equal(np.asarray(ref.to_times()),
                                  dense_pool(times, k, st_, sparse.expand4(padding, "p")))


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), flat=st.booleans())
def test_gather_native_matches_reference_with_repeated_events(seed, flat):
    rng = np.random.default_rng(seed)
    shape = (2, T, 5) if flat else (2, T, 3, 2, 2)
    dense = (rng.random(shape) < 0.3).astype(np.float32)
    s = SparseSpikes.from_dense(dense, cumulative=False)  # several events per neuron
    ref = np.asarray(sparse.gather(s, impl="reference"))
    np.testing.assert_array_equal(np.asarray(sparse.gather(s, impl="native")), ref)
    expect = np.where(dense.any(1), dense.argmax(1), T)
    np.testing.assert_array_equal(ref, expect)


def test_gather_dtype_and_out():
    s = SparseSpikes.from_times(_times(3), T)
    g = sparse.gather(s, jnp.uint8)
    assert g.dtype == jnp.uint8
    np.testing.assert_array_equal(np.asarray(g), _times(3))
    f = sparse.gather(s, out=jnp.zeros(SHAPE, jnp.float32))
    assert f.dtype == jnp.float32
    with pytest.raises(ValueError, match="out must have shape"):
        sparse.gather(s, out=jnp.zeros((1, 2)))
    big = SparseSpikes.from_times(np.zeros((1, 2), np.int32), 300)
    with pytest.raises(ValueError, match="cannot hold T=300"):
        sparse.gather(big, jnp.uint8)


def test_pad_shifts_events_and_shape():
    s = SparseSpikes.from_times(_times(4), T)
    p = sparse.pad(s, (1, 2, 3, 0))
    assert p.shape == (2, T, 11, 8, 3)
    expect = np.pad(_times(4), ((0, 0), (1, 3), (2, 0), (0, 0)), constant_values=T)
    np.testing.assert_array_equal(np.asarray(p.to_times()), expect)


def test_inhibit_hand_case_ties_to_lowest_channel():
    times = np.array([[[[3, 1, 1], [2, 2, T]]]], np.int32)  # (1, 1, 2, 3)
    out = sparse.inhibit(SparseSpikes.from_times(times, T))
    np.testing.assert_array_equal(np.asarray(out.to_times()), [[[[T, 1, T], [2, T, T]]]])


def test_convwta_hand_case():
    times = np.full((1, 3, 4, 2), T, np.int32)
    times[0, 0, 0, 1] = 1
    times[0, 2, 3, 0] = 1  # same time: channel 0 wins the tie
    times[0, 0, 1, 0] = 0  # earliest, but channel 0 ...
    w = sparse.convwta(SparseSpikes.from_times(times, T), 1, 3)
    # winner 1: (0, 0, 1) at t=0 inhibits channel 0 and the 3x3 around (0, 1) -> (0,0,ch1) gone
    assert w.to_list() == [[(0, 0, 1)]]
    w = sparse.convwta(SparseSpikes.from_times(times, T), 0, 3)
    assert w.to_list() == [[(0, 0, 1), (1, 0, 0)]]
    np.testing.assert_array_equal(np.asarray(w.valid), [[True, True, False]])


def test_code_matches_rank_code():
    from spyxlike.coding import rank_code

    x = np.random.default_rng(5).random((2, 4, 4, 2)).astype(np.float32)
    s = sparse.code(x, T)
    np.testing.assert_array_equal(np.asarray(s.to_times()), np.asarray(rank_code(x, T)))
    assert s.shape == (2, T, 4, 4, 2)


def test_jit_and_vmap_pipeline():
    k = _kernel(1)

    def pipeline(times, impl):
        s = SparseSpikes.from_times(times, T)
        c = sparse.conv(s, k, 1.0, padding=1, impl=impl)
        p = sparse.pool(c, 2, impl=impl)
        return sparse.gather(p, impl=impl), p

    times = np.stack([_times(i) for i in range(3)])
    eager = np.stack([np.asarray(pipeline(t, "native")[0]) for t in times])
    for impl in ("native", "reference"):
        g, p = jax.jit(jax.vmap(lambda t: pipeline(t, impl)))(jnp.asarray(times))
        np.testing.assert_array_equal(np.asarray(g), eager)
        assert p.events.shape[0] == 3
        w = jax.vmap(lambda s: sparse.convwta(s, 1, 2))(p)
        assert w.feature.shape == (3, 2, 2)


def test_overflow_is_reported_and_propagated():
    s = SparseSpikes.from_times(np.zeros((1, 4, 4, 1), np.int32), T)
    k = np.ones((1, 1, 1, 1), np.float32)
    for impl in ("reference", "native"):
        with pytest.raises(ValueError, match="sparse.conv: 12 spike events did not fit"):
            sparse.conv(s, k, 0.5, capacity=4, impl=impl)
        out = jax.jit(lambda s: sparse.pool(sparse.conv(s, k, 0.5, capacity=4, impl=impl), 1,
                                            impl=impl))(s)
        assert int(out.overflow) == 12  # the conv's overflow travels with the result
        with pytest.raises(ValueError, match="did not fit"):
            out.check()
    with pytest.raises(ValueError, match="sparse.pool: 12 spike"):
        sparse.pool(s, 1, capacity=4)


def test_errors():
    s = SparseSpikes.from_times(_times(0), T)
    flat = SparseSpikes.from_times(np.zeros((1, 3), np.int32), T)
    k = _kernel(0)
    with pytest.raises(TypeError, match="sparse.conv: spikes must be a SparseSpikes"):
        sparse.conv(np.zeros(3), k, 1.0)
    with pytest.raises(ValueError, match="image layout"):
        sparse.conv(flat, k, 1.0)
    with pytest.raises(ValueError, match="kernel must be \\(kh, kw, C=3, Cout\\)"):
        sparse.conv(s, np.zeros((3, 3, 2, 4), np.float32), 1.0)
    with pytest.raises(TypeError, match="kernel must be a float"):
        sparse.conv(s, np.zeros((3, 3, 3, 4), np.int32), 1.0)
    with pytest.raises(TypeError, match="threshold must be"):
        sparse.conv(s, k, np.ones(2))
    with pytest.raises(ValueError, match="stride entries must be >= 1"):
        sparse.conv(s, k, 1.0, stride=0)
    with pytest.raises(ValueError, match="larger than the padded input"):
        sparse.conv(s, np.zeros((9, 3, 3, 1), np.float32), 1.0)
    with pytest.raises(ValueError, match="capacity must be >= 1"):
        sparse.conv(s, k, 1.0, capacity=0)
    with pytest.raises(ValueError, match="impl must be one of"):
        sparse.conv(s, k, 1.0, impl="fast")
    with pytest.raises(ValueError, match="padding must be an int or a sequence of length"):
        sparse.pool(s, 2, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="larger than the padded input"):
        sparse.pool(s, 8)
    with pytest.raises(ValueError, match="count must be >= 1"):
        sparse.convwta(s, 1, 0)
    with pytest.raises(TypeError, match="count must be an int"):
        sparse.convwta(s, 1, 2.0)
    with pytest.raises(ValueError, match="radius entries must be >= 0"):
        sparse.convwta(s, -1, 2)
    with pytest.raises(ValueError, match="x must be \\(B, H, W, C\\) or \\(B, F\\)"):
        sparse.code(np.zeros((2, 3, 4)), T)
    with pytest.raises(ValueError, match="events must be \\(capacity, 5\\)"):
        stacked = jax.vmap(lambda t: SparseSpikes.from_times(t, T))(jnp.stack([_times(0)] * 2))
        sparse.gather(stacked)


def test_native_rejects_out_of_range_events():
    # a hand-built container that bypasses validation: the kernel must refuse, not read out of bounds
    bad = SparseSpikes(jnp.array([[0, 0, 9, 0, 0]], jnp.int32), jnp.int32(1), jnp.int32(0), (1, T, 2, 2, 1))
    with pytest.raises(Exception, match="outside the dense shape"):
        jax.block_until_ready(sparse.gather(bad, impl="native"))
    with pytest.raises(Exception, match="outside the dense shape"):
        jax.block_until_ready(sparse.conv(bad, np.ones((1, 1, 1, 1), np.float32), 0.5, impl="native").events)
    over = SparseSpikes(jnp.array([[0, 0, 0, 0, 0]], jnp.int32), jnp.int32(5), jnp.int32(0), (1, T, 2, 2, 1))
    with pytest.raises(Exception, match="count out of"):
        jax.block_until_ready(sparse.pool(over, 1, impl="native").events)
