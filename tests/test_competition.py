"""k-WTA (get_k_winners, k_winners_from_times, convwta, fcwta): hand cases, SpykeTorch's
formula, native/Pallas vs reference, jit, vmap, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyxlike import competition
from spyxlike.coding import times_to_waves

IMPLS = ["reference", "native", "pallas"]


def rows(w):
    out = np.stack([np.asarray(w.feature), np.asarray(w.row), np.asarray(w.col)], -1)
    assert np.all(np.asarray(w.valid) == (out[..., 0] >= 0))
    assert np.all(out[~np.asarray(w.valid)] == -1)
    return out


def spyketorch_formula(potentials, kwta, radius, spikes=None):
    """SpykeTorch's get_k_winners written out in float64 on one (T, C, H, W) sample:
    total = sum_t spikes * (v + T * max(spikes * v)), pick argmax (first), stop at 0."""
    T = potentials.shape[0]
    s = (np.sign(potentials) if spikes is None else spikes).astype(np.float64)
    p = potentials.astype(np.float64)
    first = np.argmax(s, axis=0)
    v = np.take_along_axis(p, first[None], 0)
    trunc = s * v
    total = (trunc + s * (trunc.max() * T)).sum(0)
    winners = []
    for _ in range(kwta):
        idx = int(np.argmax(total))
        if total.flat[idx] == 0:
            break
        c, h, w = np.unravel_index(idx, total.shape)
        winners.append((int(c), int(h), int(w)))
        total[c] = 0
        if radius:
            total[:, max(0, h - radius): h + radius + 1, max(0, w - radius): w + radius + 1] = 0
    return winners


def to_btwhc(x_tchw_batch):
    return np.transpose(x_tchw_batch, (0, 1, 3, 4, 2))


# ---------------------------------------------------------------- hand-computed cases

@pytest.mark.parametrize("impl", IMPLS)
def test_earliest_then_highest_then_lowest_index(impl):
    # (B=1, H=2, W=3, C=3), T = 4
    times = np.full((1, 2, 3, 3), 4, np.int32)
    values = np.zeros((1, 2, 3, 3), np.float32)
    times[0, 1, 2, 0], values[0, 1, 2, 0] = 2, 9.0   # late but large
    times[0, 0, 0, 1], values[0, 0, 0, 1] = 1, 1.0   # earliest, ties with the next on value
    times[0, 1, 1, 2], values[0, 1, 1, 2] = 1, 1.0
    times[0, 0, 2, 2], values[0, 0, 2, 2] = 1, 3.0   # earliest and largest: first winner
    w = competition.k_winners_from_times(times, values, 3, 0, 4, impl=impl)
    # 1st (c2, 0, 2); c2 is then out, so (c1, 0, 0) at t=1; then (c0, 1, 2) at t=2
    np.testing.assert_array_equal(rows(w)[0], [[2, 0, 2], [1, 0, 0], [0, 1, 2]])


@pytest.mark.parametrize("impl", IMPLS)
def test_ties_go_to_lowest_feature_then_row_then_col(impl):
    times = np.zeros((1, 3, 3, 2), np.int32)
    values = np.ones((1, 3, 3, 2), np.float32)
    w = competition.k_winners_from_times(times, values, 3, 0, 2, impl=impl)
    # all equal: (c0, 0, 0); then c0 is out -> (c1, 0, 0) (radius 0: SpykeTorch inhibits
    # no position); then no feature is left
    np.testing.assert_array_equal(rows(w)[0], [[0, 0, 0], [1, 0, 0], [-1, -1, -1]])
    # Spyker's convwta with radius 0 also removes the winner's position in every map
    pot = np.ones((1, 2, 3, 3, 2), np.float32)
    w = competition.convwta(pot, 0, 3, 0.0, impl=impl)
    np.testing.assert_array_equal(rows(w)[0], [[0, 0, 0], [1, 0, 1], [-1, -1, -1]])


@pytest.mark.parametrize("impl", IMPLS)
def test_radius_inhibits_all_maps_clipped_at_borders(impl):
    times = np.full((1, 5, 5, 3), 3, np.int32)
    values = np.zeros((1, 5, 5, 3), np.float32)
    times[0, 0, 0, 0], values[0, 0, 0, 0] = 0, 5.0
    times[0, 1, 1, 1], values[0, 1, 1, 1] = 0, 4.0   # within radius 1 of (0,0): inhibited
    times[0, 2, 2, 1], values[0, 2, 2, 1] = 1, 1.0   # outside: wins second
    times[0, 4, 4, 2], values[0, 4, 4, 2] = 2, 1.0
    w = competition.k_winners_from_times(times, values, 5, 1, 3, impl=impl)
    np.testing.assert_array_equal(rows(w)[0][:3], [[0, 0, 0], [1, 2, 2], [2, 4, 4]])
    assert int(w.count[0]) == 3
    w2 = competition.k_winners_from_times(times, values, 5, 2, 3, impl=impl)
    # radius 2 around (0,0) removes (2,2) too
    np.testing.assert_array_equal(rows(w2)[0], [[0, 0, 0], [2, 4, 4]] + [[-1, -1, -1]] * 3)


@pytest.mark.parametrize("impl", IMPLS)
def test_stop_rule_zero_and_negative_values(impl):
    T = 3
    times = np.full((3, 1, 3, 2), T, np.int32)
    values = np.zeros((3, 1, 3, 2), np.float32)
    # sample 0: a zero-valued spike competes because another spike is positive
    times[0, 0, 0, 0], values[0, 0, 0, 0] = 0, 0.0
    times[0, 0, 2, 1], values[0, 0, 2, 1] = 1, 2.0
    # sample 1: only zero-valued spikes -> every SpykeTorch total is 0 -> no winner
    times[1, 0, 1, 0], values[1, 0, 1, 0] = 0, 0.0
    # sample 2: a negative spike never wins
    times[2, 0, 0, 0], values[2, 0, 0, 0] = 0, -1.0
    times[2, 0, 1, 1], values[2, 0, 1, 1] = 2, 0.5
    w = competition.k_winners_from_times(times, values, 2, 0, T, impl=impl)
    r = rows(w)
    np.testing.assert_array_equal(r[0], [[0, 0, 0], [1, 0, 2]])
    np.testing.assert_array_equal(r[1], [[-1, -1, -1]] * 2)
    np.testing.assert_array_equal(r[2], [[1, 0, 1], [-1, -1, -1]])
    # SpykeTorch's formula agrees on the first two samples (spikes with matching sign)
    for b in range(2):
        pot = np.zeros((T, 2, 1, 3), np.float32)
        spk = np.zeros((T, 2, 1, 3), np.float32)
        for h, x, c in zip(*np.nonzero(times[b] < T)):
            spk[times[b, h, x, c]:, c, h, x] = 1
            pot[times[b, h, x, c]:, c, h, x] = values[b, h, x, c]
        expect = spyketorch_formula(pot, 2, 0, spk)
        assert [tuple(x) for x in r[b] if x[0] >= 0] == expect


@pytest.mark.parametrize("impl", IMPLS)
def test_get_k_winners_waves_and_explicit_spikes(impl):
    # (B=1, T=3, H=1, W=2, C=2); spikes=None uses potentials > 0
    pot = np.zeros((1, 3, 1, 2, 2), np.float32)
    pot[0, 1:, 0, 0, 0] = [1.0, 3.0]     # spikes at t=1 with 1.0
    pot[0, 2, 0, 1, 1] = 7.0             # spikes at t=2
    pot[0, 1:, 0, 1, 0] = [2.0, 2.5]     # spikes at t=1 with 2.0: first winner
    w = competition.get_k_winners(pot, 3, 0, impl=impl)
    # c0 is then out; radius 0 inhibits no position, so (c1, 0, 1) wins next
    np.testing.assert_array_equal(rows(w)[0], [[0, 0, 1], [1, 0, 1], [-1, -1, -1]])
    w = competition.get_k_winners(pot, 3, 1, impl=impl)  # radius 1 removes it
    np.testing.assert_array_equal(rows(w)[0], [[0, 0, 1], [-1, -1, -1], [-1, -1, -1]])
    # with explicit spikes only (0,0,c0) fires (at t=2, value 3.0)
    spikes = np.zeros_like(pot)
    spikes[0, 2:, 0, 0, 0] = 1
    w = competition.get_k_winners(pot, 3, 0, spikes, impl=impl)
    np.testing.assert_array_equal(rows(w)[0], [[0, 0, 0], [-1, -1, -1], [-1, -1, -1]])


def test_nan_values_never_win():
    times = np.zeros((1, 1, 2, 1), np.int32)
    values = np.array([[[[np.nan], [1.0]]]], np.float32)
    for impl in IMPLS:
        w = competition.k_winners_from_times(times, values, 2, 0, 1, impl=impl)
        np.testing.assert_array_equal(rows(w)[0], [[0, 0, 1], [-1, -1, -1]])


# ---------------------------------------------------------------- SpykeTorch's formula

@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), kwta=st.integers(1, 6), radius=st.integers(0, 3),
       levels=st.integers(2, 6), explicit=st.booleans())
def test_matches_spyketorch_formula(seed, kwta, radius, levels, explicit):
    rng = np.random.default_rng(seed)
    T, C, H, W = rng.integers(1, 6), rng.integers(1, 5), rng.integers(1, 7), rng.integers(1, 7)
    # thresholded potentials of a rising neuron: cumulative, quantised (ties), >= 0
    times = rng.integers(0, T + 1, (C, H, W))
    vals = rng.integers(1, levels, (C, H, W)).astype(np.float32) * 0.5
    steps = np.arange(T)[:, None, None, None]
    spikes = (steps >= times[None]).astype(np.float32)
    pot = spikes * (vals[None] + steps * 0.25).astype(np.float32)
    expected = spyketorch_formula(pot, kwta, radius, spikes if explicit else None)
    w = competition.get_k_winners(to_btwhc(pot[None]), kwta, radius,
                                  to_btwhc(spikes[None]) if explicit else None,
                                  impl="native")
    assert [tuple(x) for x in rows(w)[0] if x[0] >= 0] == expected


# ---------------------------------------------------------------- native / Pallas vs reference

def random_times(rng, shape, T, levels):
    times = rng.integers(0, T + 1, shape).astype(np.int32)
    values = (rng.integers(-1, levels, shape) * 0.5).astype(np.float32)
    return times, values


# few distinct shapes and kwta values: each new combination recompiles the reference
SHAPES = [(0, 2, 2, 1), (1, 1, 6, 3), (2, 5, 4, 4), (3, 6, 6, 5)]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), kwta=st.sampled_from([1, 3, 7]), radius=st.integers(0, 4),
       T=st.integers(1, 8), levels=st.integers(1, 6), shape=st.sampled_from(SHAPES))
def test_native_matches_reference(seed, kwta, radius, T, levels, shape):
    rng = np.random.default_rng(seed)
    times, values = random_times(rng, shape, T, levels)
    times[rng.random(shape) < 0.05] = -3          # out-of-range times: no spike
    ref = competition.k_winners_from_times(times, values, kwta, radius, T, impl="reference")
    nat = competition.k_winners_from_times(times, values, kwta, radius, T, impl="native")
    np.testing.assert_array_equal(rows(nat), rows(ref))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), count=st.sampled_from([2, 5]), ry=st.integers(0, 3),
       rx=st.integers(0, 3), thr=st.sampled_from([-0.5, 0.0, 0.5]),
       shape=st.sampled_from(SHAPES[1:]))
def test_spyker_wta_native_matches_reference(seed, count, ry, rx, thr, shape):
    rng = np.random.default_rng(seed)
    pot = (rng.integers(-2, 4, (shape[0], 4) + shape[1:]) * 0.5).astype(np.float32)
    ref = competition.convwta(pot, (ry, rx), count, thr, impl="reference")
    nat = competition.convwta(pot, (ry, rx), count, thr, impl="native")
    np.testing.assert_array_equal(rows(nat), rows(ref))
    fc = pot.reshape(shape[0], 4, -1)
    ref = competition.fcwta(fc, rx, count, thr, impl="reference")
    nat = competition.fcwta(fc, rx, count, thr, impl="native")
    np.testing.assert_array_equal(rows(nat), rows(ref))


@pytest.mark.parametrize("seed", [0, 1])
def test_pallas_matches_reference(seed):
    rng = np.random.default_rng(seed)
    times, values = random_times(rng, (3, 7, 6, 5), 6, 4)
    for kwta, radius in [(4, 1), (9, 0)]:
        ref = competition.k_winners_from_times(times, values, kwta, radius, 6, impl="reference")
        pal = competition.k_winners_from_times(times, values, kwta, radius, 6, impl="pallas")
        np.testing.assert_array_equal(rows(pal), rows(ref))


def test_native_on_benchmark_sized_input():
    rng = np.random.default_rng(3)
    pot = np.maximum(rng.normal(size=(4, 15, 24, 24, 30)).astype(np.float32), 0)
    pot = np.cumsum(pot, axis=1) * (rng.random((4, 1, 24, 24, 30)) < 0.3)
    ref = competition.get_k_winners(pot, 5, 3, impl="reference")
    nat = competition.get_k_winners(pot, 5, 3, impl="native")
    np.testing.assert_array_equal(rows(nat), rows(ref))
    assert np.all(np.asarray(nat.count) == 5)


# ---------------------------------------------------------------- transforms

@pytest.mark.parametrize("impl", IMPLS + ["auto"])
def test_jit_and_vmap(impl):
    rng = np.random.default_rng(5)
    times, values = random_times(rng, (3, 4, 5, 3), 5, 4)
    expected = rows(competition.k_winners_from_times(times, values, 3, 1, 5, impl="reference"))
    f = lambda t, v: competition.k_winners_from_times(t, v, 3, 1, 5, impl=impl)
    np.testing.assert_array_equal(rows(jax.jit(f)(times, values)), expected)
    stacked_t, stacked_v = np.stack([times, times[::-1]]), np.stack([values, values[::-1]])
    out = rows(jax.vmap(f)(stacked_t, stacked_v))
    np.testing.assert_array_equal(out[0], expected)
    np.testing.assert_array_equal(out[1], expected[::-1])
    if impl == "pallas":
        return  # same kernel below; the Pallas interpreter is slow to compile
    pot = rng.random((2, 4, 3, 3, 2)).astype(np.float32)
    g = lambda p: competition.get_k_winners(p, 2, 1, impl=impl)
    np.testing.assert_array_equal(rows(jax.jit(g)(pot)), rows(g(pot)))
    np.testing.assert_array_equal(rows(jax.vmap(g)(pot[None]))[0], rows(g(pot)))
    h = lambda p: competition.fcwta(p, 1, 2, 0.5, impl=impl)
    fc = pot.reshape(2, 4, -1)
    np.testing.assert_array_equal(rows(jax.jit(h)(fc)), rows(h(fc)))
    np.testing.assert_array_equal(rows(jax.vmap(h)(fc[None]))[0], rows(h(fc)))


# ---------------------------------------------------------------- errors

def test_errors_name_function_and_argument():
    pot = np.ones((1, 2, 3, 3, 2), np.float32)
    t, v = np.zeros((1, 3, 3, 2), np.int32), np.ones((1, 3, 3, 2), np.float32)
    with pytest.raises(ValueError, match=r"get_k_winners: potentials must have rank 5"):
        competition.get_k_winners(pot[0])
    with pytest.raises(ValueError, match=r"get_k_winners: kwta must be >= 1, got 0"):
        competition.get_k_winners(pot, 0)
    with pytest.raises(TypeError, match=r"get_k_winners: kwta must be an int"):
        competition.get_k_winners(pot, 1.5)
    with pytest.raises(ValueError, match=r"get_k_winners: inhibition_radius must be >= 0, got -1"):
        competition.get_k_winners(pot, 1, -1)
    with pytest.raises(ValueError, match=r"get_k_winners: spikes must have the shape"):
        competition.get_k_winners(pot, 1, 0, pot[:, :1])
    with pytest.raises(ValueError, match=r"get_k_winners: impl must be one of"):
        competition.get_k_winners(pot, impl="cuda")
    with pytest.raises(TypeError, match=r"get_k_winners: potentials must be a real array"):
        competition.get_k_winners(pot.astype(np.complex64))
    with pytest.raises(ValueError, match=r"non-empty"):
        competition.get_k_winners(np.ones((1, 0, 3, 3, 2), np.float32))
    with pytest.raises(TypeError, match=r"k_winners_from_times: times must be an integer array"):
        competition.k_winners_from_times(v, v, 1, 0, 2)
    with pytest.raises(ValueError, match=r"k_winners_from_times: values must have the shape"):
        competition.k_winners_from_times(t, v[..., :1], 1, 0, 2)
    with pytest.raises(ValueError, match=r"k_winners_from_times: times must have rank 4"):
        competition.k_winners_from_times(t[0], v[0], 1, 0, 2)
    with pytest.raises(ValueError, match=r"k_winners_from_times: time_steps must be >= 0"):
        competition.k_winners_from_times(t, v, 1, 0, -2)
    with pytest.raises(ValueError, match=r"convwta: count must be >= 1, got 0"):
        competition.convwta(pot, 1, 0)
    with pytest.raises(ValueError, match=r"convwta: radius entries must be >= 0"):
        competition.convwta(pot, (1, -1), 2)
    with pytest.raises(ValueError, match=r"convwta: radius must be an int or a sequence"):
        competition.convwta(pot, (1, 1, 1), 2)
    with pytest.raises(ValueError, match=r"convwta: threshold must be finite"):
        competition.convwta(pot, 1, 2, float("nan"))
    with pytest.raises(ValueError, match=r"fcwta: potentials must have rank 3"):
        competition.fcwta(pot, 1, 2)
    with pytest.raises(ValueError, match=r"fcwta: count must be >= 1"):
        competition.fcwta(pot[:, :, 0, 0], 1, -1)
    with pytest.raises(ValueError, match=r"fcwta: radius must be >= 0"):
        competition.fcwta(pot[:, :, 0, 0], -1, 1)


def test_native_first_crossing_matches_reference():
    from spyxlike.ops.kwta import first_crossing, first_crossing_native

    rng = np.random.default_rng(11)
    pot = (rng.integers(-2, 3, (3, 6, 4, 5, 2)) * 0.5).astype(np.float32)
    pot[0, 2, 1, 1, 0] = np.nan
    spikes = (rng.random(pot.shape) < 0.3).astype(np.float32)
    for signal, thr in [(pot, 0.0), (pot, 0.5), (spikes, 0.0)]:
        t_ref, v_ref = first_crossing(signal > thr, pot)
        t_nat, v_nat = first_crossing_native(signal, pot, thr)
        np.testing.assert_array_equal(t_nat, t_ref)
        np.testing.assert_array_equal(v_nat, v_ref)
        assert int(t_ref.max()) <= 6 and t_ref.dtype == jnp.int32
    t, v = jax.vmap(lambda p: first_crossing_native(p, p, 0.0))(pot[None])
    np.testing.assert_array_equal(t[0], first_crossing(pot > 0, pot)[0])
