"""conv_fire_winners (conv + fire fused with k-WTA) and winner_time_map: hand cases, native vs
reference vs the unfused composition, STDP equality, jit/vmap, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from spyxlike.competition import k_winners_from_times
from spyxlike.event_conv import conv_fire, conv_fire_winners, winner_time_map


def _np(outs):
    winners, times, values = outs
    return [np.asarray(a) for a in winners] + [np.asarray(times), np.asarray(values)]


def _composed(times, kernel, threshold, time_steps, kwta, radius, impl, **kw):
    """The unfused definition, through the public functions."""
    post, fire = conv_fire(times, kernel, threshold, time_steps, impl=impl, **kw)
    win = k_winners_from_times(post, fire, kwta, radius, time_steps, impl=impl)
    b = np.arange(post.shape[0])[:, None]
    f, r, c, valid = (np.asarray(a) for a in win)
    post, fire = np.asarray(post), np.asarray(fire)
    wt = np.where(valid, post[b, np.maximum(r, 0), np.maximum(c, 0), np.maximum(f, 0)], time_steps)
    wv = np.where(valid, fire[b, np.maximum(r, 0), np.maximum(c, 0), np.maximum(f, 0)], 0.0)
    return [f, r, c, valid, wt.astype(np.int32), wv.astype(np.float32)]


# ---------------------------------------------------------------- hand-computed


@pytest.mark.parametrize("impl", ("reference", "native", "pallas"))
def test_hand_computed_ties_and_radius(impl):
    # 1x3 image, one channel spiking at t = 0, 0, 1; 1x1 kernel with 2 features
    # (3 and 2), threshold 1: columns 0, 1 fire at t=0 in both maps, column 2 at t=1.
    times = np.array([0, 0, 1], np.int32).reshape(1, 1, 3, 1)
    kernel = np.array([3.0, 2.0], np.float32).reshape(1, 1, 1, 2)
    # radius 0: f0 col 0 (v=3, lowest col among the tie), then f1 col 0 (tie 2 == 2);
    # then every map is taken.
    f, r, c, valid, wt, wv = _np(conv_fire_winners(times, kernel, 1.0, 3, 3, 0, impl=impl))
    np.testing.assert_array_equal(f, [[0, 1, -1]])
    np.testing.assert_array_equal(r, [[0, 0, -1]])
    np.testing.assert_array_equal(c, [[0, 0, -1]])
    np.testing.assert_array_equal(valid, [[True, True, False]])
    np.testing.assert_array_equal(wt, [[0, 0, 3]])
    np.testing.assert_array_equal(wv, [[3.0, 2.0, 0.0]])
    # radius 1: the first winner inhibits columns 0..1 in all maps, so f1 wins
    # at column 2, one step later.
    f, r, c, valid, wt, wv = _np(conv_fire_winners(times, kernel, 1.0, 3, 3, 1, impl=impl))
    np.testing.assert_array_equal(f, [[0, 1, -1]])
    np.testing.assert_array_equal(c, [[0, 2, -1]])
    np.testing.assert_array_equal(wt, [[0, 1, 3]])
    np.testing.assert_array_equal(wv, [[3.0, 2.0, 0.0]])


@pytest.mark.parametrize("impl", ("reference", "native"))
def test_no_spike_gives_no_winner(impl):
    times = np.full((2, 4, 4, 1), 5, np.int32)
    kernel = np.ones((2, 2, 1, 3), np.float32)
    f, r, c, valid, wt, wv = _np(conv_fire_winners(times, kernel, 0.5, 5, 2, 1, impl=impl))
    assert not valid.any() and (f == -1).all() and (wt == 5).all() and (wv == 0).all()


# ------------------------------------------------------- native vs reference


@st.composite
def _case(draw):
    b = draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    cin = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    cout = draw(st.integers(1, 20))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = tuple(draw(st.integers(0, 1)) for _ in range(4))
    assume(h + padding[0] + padding[2] >= kh and w + padding[1] + padding[3] >= kw)
    time_steps = draw(st.integers(1, 8))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    times = rng.integers(0, time_steps + 1, (b, h, w, cin)).astype(np.int32)
    # dyadic weights: exact sums, many ties between potentials
    kernel = (rng.integers(-2, 7, (kh, kw, cin, cout)) * 0.5).astype(np.float32)
    threshold = float(rng.integers(-3, 8)) * 0.5  # negative thresholds take the unfused path
    kwta = draw(st.integers(1, 6))
    radius = draw(st.integers(0, 3))
    return times, kernel, threshold, time_steps, kwta, radius, dict(stride=stride, padding=padding)


@settings(max_examples=25, deadline=None)
@given(case=_case())
def test_native_matches_reference_and_composition(case):
    times, kernel, threshold, time_steps, kwta, radius, kw = case
    ref = _np(conv_fire_winners(times, kernel, threshold, time_steps, kwta, radius,
                                impl="reference", **kw))
    nat = _np(conv_fire_winners(times, kernel, threshold, time_steps, kwta, radius,
                                impl="native", **kw))
    comp = _composed(times, kernel, threshold, time_steps, kwta, radius, "native", **kw)
    for r, n, c in zip(ref, nat, comp):
        assert r.shape == n.shape and r.dtype == n.dtype
        np.testing.assert_array_equal(r, n)
        np.testing.assert_array_equal(c, n)


def test_layer1_workload_matches_composition_and_stdp():
    from spyxlike.coding import rank_code
    from spyxlike.stdp import stdp_conv

    rng = np.random.default_rng(5)
    x = rng.random((6, 28, 28, 2)).astype(np.float32)
    x[rng.random(x.shape) < 0.5] = 0
    times = rank_code(x, 15)
    kernel = (0.8 + 0.02 * rng.standard_normal((5, 5, 2, 30))).astype(np.float32)
    nat = _np(conv_fire_winners(times, kernel, 15.0, 15, 5, 3, impl="native"))
    comp = _composed(times, kernel, 15.0, 15, 5, 3, "native")
    for c, n in zip(comp, nat):
        np.testing.assert_array_equal(c, n)
    assert nat[3].sum() >= 6 * 3  # winners found
    # STDP from winner_time_map equals STDP from the full post times
    post, fire = conv_fire(times, kernel, 15.0, 15, impl="native")
    win_full = k_winners_from_times(post, fire, 5, 3, 15)
    winners, wt, _ = conv_fire_winners(times, kernel, 15.0, 15, 5, 3, impl="native")
    tmap = winner_time_map(winners, wt, (24, 24, 30), 15)
    for impl in ("reference", "native"):
        a = stdp_conv(kernel, times, post, win_full, (0.004, -0.003), impl=impl)
        b = stdp_conv(kernel, times, tmap, winners, (0.004, -0.003), impl=impl)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        assert not np.array_equal(np.asarray(a), kernel)


def test_winner_time_map_hand_computed():
    from spyxlike.winners import winners_from_list

    winners = winners_from_list([[(1, 0, 2), (0, 1, 1)], [(2, 1, 0)]], 2)
    wt = jnp.array([[3, 4], [1, 9]], jnp.int32)
    m = np.asarray(winner_time_map(winners, wt, (2, 3, 3), 7))
    expected = np.full((2, 2, 3, 3), 7, np.int32)
    expected[0, 0, 2, 1] = 3
    expected[0, 1, 1, 0] = 4
    expected[1, 1, 0, 2] = 1  # the invalid second slot of sample 1 is dropped
    np.testing.assert_array_equal(m, expected)


# ------------------------------------------------------------------ transforms


@pytest.mark.parametrize("impl", ("reference", "native"))
def test_jit_with_traced_threshold(impl):
    rng = np.random.default_rng(0)
    times = rng.integers(0, 6, (3, 7, 7, 2)).astype(np.int32)
    kernel = rng.integers(0, 3, (3, 3, 2, 5)).astype(np.float32)
    eager = _np(conv_fire_winners(times, kernel, 4.0, 5, 3, 1, padding=1, impl=impl))
    jitted = jax.jit(lambda t, k, th: conv_fire_winners(t, k, th, 5, 3, 1, padding=1, impl=impl))
    for a, b in zip(eager, _np(jitted(times, kernel, 4.0))):
        np.testing.assert_array_equal(a, b)
    assert eager[3].any()


@pytest.mark.parametrize("impl", ("reference", "native"))
def test_vmap_over_times_kernel_and_threshold(impl):
    rng = np.random.default_rng(1)
    times = rng.integers(0, 5, (3, 2, 6, 6, 2)).astype(np.int32)
    kernels = rng.integers(-1, 3, (3, 2, 2, 2, 4)).astype(np.float32)
    thresholds = np.array([1.0, 2.0, -1.0], np.float32)

    def f(t, k, th):
        return conv_fire_winners(t, k, th, 4, 3, 1, stride=(1, 2), impl=impl)

    expected = [_np(f(times[i], kernels[i], thresholds[i])) for i in range(3)]
    for got in (jax.vmap(f)(times, kernels, thresholds),
                jax.jit(jax.vmap(f))(times, kernels, thresholds)):
        got = _np(got)
        for j in range(6):
            np.testing.assert_array_equal(got[j], np.stack([e[j] for e in expected]))
    got = _np(jax.vmap(lambda t: f(t, kernels[0], 2.0))(times))
    for i in range(3):
        for j, e in enumerate(_np(f(times[i], kernels[0], 2.0))):
            np.testing.assert_array_equal(got[j][i], e)


def test_native_rejects_out_of_range_times_at_run_time():
    kernel = np.ones((1, 1, 1, 1), np.float32)
    times = np.array([[[[7]]]], np.int32)
    with pytest.raises(Exception, match="pre_times must lie in"):
        jax.block_until_ready(
            jax.jit(lambda t: conv_fire_winners(t, kernel, 0.5, 3, 1, 0, impl="native"))(times))


# ------------------------------------------------------------------------ errors


def test_errors():
    times = np.zeros((1, 4, 4, 2), np.int32)
    kernel = np.ones((2, 2, 2, 3), np.float32)
    with pytest.raises(ValueError, match="conv_fire_winners: kwta must be >= 1"):
        conv_fire_winners(times, kernel, 1.0, 3, 0, 1)
    with pytest.raises(ValueError, match="conv_fire_winners: inhibition_radius must be >= 0"):
        conv_fire_winners(times, kernel, 1.0, 3, 1, -1)
    with pytest.raises(TypeError, match="conv_fire_winners: kwta must be an int"):
        conv_fire_winners(times, kernel, 1.0, 3, True, 1)
    with pytest.raises(TypeError, match="conv_fire_winners: inhibition_radius must be an int"):
        conv_fire_winners(times, kernel, 1.0, 3, 1, 1.5)
    with pytest.raises(ValueError, match="conv_fire_winners: pre_times must be"):
        conv_fire_winners(times[0], kernel, 1.0, 3, 1, 1)
    with pytest.raises(ValueError, match="conv_fire_winners: kernel Cin"):
        conv_fire_winners(times, kernel[:, :, :1], 1.0, 3, 1, 1)
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv_fire_winners(times, np.ones((5, 5, 2, 3), np.float32), 1.0, 3, 1, 1)
    with pytest.raises(ValueError, match="conv_fire_winners: pre_times must lie in"):
        conv_fire_winners(times + 4, kernel, 1.0, 3, 1, 1)
    with pytest.raises(ValueError, match="conv_fire_winners: time_steps must be >= 1"):
        conv_fire_winners(times, kernel, 1.0, 0, 1, 1)
    with pytest.raises(ValueError, match="conv_fire_winners: impl"):
        conv_fire_winners(times, kernel, 1.0, 3, 1, 1, impl="gpu")
    winners, wt, _ = conv_fire_winners(times, kernel, 1.0, 3, 2, 1)
    with pytest.raises(ValueError, match="winner_time_map: shape"):
        winner_time_map(winners, wt, (3, 3), 3)
    with pytest.raises(ValueError, match="winner_time_map: winner_times"):
        winner_time_map(winners, wt[:, :1], (3, 3, 3), 3)
