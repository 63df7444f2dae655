"""rank_code: hand-computed cases, native vs reference, transforms, errors."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyxlike import coding
from spyxlike.ops import NativeUnavailableError, native


def test_hand_computed_order():
    x = np.array([[3.0, 1.0, 2.0, 0.0]])
    # n = 3 positives, ranks 0, 2, 1 -> t = r * 3 // 3
    np.testing.assert_array_equal(coding.rank_code(x, 3, impl="reference"), [[0, 2, 1, 3]])
    np.testing.assert_array_equal(coding.rank_code(x, 3, impl="native"), [[0, 2, 1, 3]])


def test_ties_share_a_bin_and_negatives_never_spike():
    x = np.array([[5.0, 5.0, 1.0, 0.0, -2.0]])
    # ranks 0, 0, 2 with n = 3, T = 2 -> 0, 0, floor(4/3) = 1
    for impl in ("reference", "native"):
        np.testing.assert_array_equal(coding.rank_code(x, 2, impl=impl), [[0, 0, 1, 2, 2]])


def test_bins_hold_equal_counts_without_ties():
    rng = np.random.default_rng(0)
    x = rng.permutation(np.arange(1, 101, dtype=np.float32))[None]
    for impl in ("reference", "native"):
        times = np.asarray(coding.rank_code(x, 7, impl=impl))[0]
        counts = np.bincount(times, minlength=8)
        assert counts[7] == 0
        assert set(counts[:7]) <= {100 // 7, 100 // 7 + 1}
        assert counts[:7].sum() == 100
        # the strongest input spikes first, the weakest last
        assert times[np.argmax(x[0])] == 0 and times[np.argmin(x[0])] == 6


def test_fewer_inputs_than_bins_and_all_zero():
    x = np.array([[0.0, 0.7, 0.0], [0.0, 0.0, 0.0]])
    for impl in ("reference", "native"):
        np.testing.assert_array_equal(coding.rank_code(x, 10, impl=impl), [[10, 0, 10], [10, 10, 10]])


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=4),
    time_steps=st.integers(1, 20),
    levels=st.integers(2, 9),
    seed=st.integers(0, 2**31 - 1),
)
def test_native_matches_reference(shape, time_steps, levels, seed):
    rng = np.random.default_rng(seed)
    # few distinct levels -> many ties; some zeros and negatives
    x = (rng.integers(-1, levels, size=tuple(shape)) * 0.5).astype(np.float32)
    ref = coding.rank_code(x, time_steps, impl="reference")
    nat = coding.rank_code(x, time_steps, impl="native")
    np.testing.assert_array_equal(np.asarray(ref), np.asarray(nat))
    assert ref.dtype == nat.dtype == jnp.int32
    assert int(jnp.min(ref)) >= 0 and int(jnp.max(ref)) <= time_steps


@settings(max_examples=30, deadline=None)
@given(
    features=st.integers(65, 2500),
    time_steps=st.integers(1, 300),
    kind=st.sampled_from(["ties", "wide", "cluster", "inf"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_native_matches_reference_on_large_samples(features, time_steps, kind, seed):
    """Samples with more than 64 positive inputs take the native bucket ranking:
    value spreads from a few tied levels over many octaves to a narrow cluster
    with an outlier (one bucket holding almost everything)."""
    rng = np.random.default_rng(seed)
    if kind == "ties":
        x = rng.integers(-2, 6, (2, features)) * 0.25
    elif kind == "wide":
        x = rng.random((2, features)) * np.exp2(rng.integers(-40, 40, (2, features)))
        x[rng.random((2, features)) < 0.3] *= -1
    elif kind == "cluster":
        x = 1.0 + rng.integers(0, 500, (2, features)) * 1e-7
        x[:, 0] = 1e30
    else:
        x = rng.integers(0, 4, (2, features)).astype(np.float64)
        x[rng.random((2, features)) < 0.2] = np.inf
    x = x.astype(np.float32)
    ref = coding.rank_code(x, time_steps, impl="reference")
    nat = coding.rank_code(x, time_steps, impl="native")
    np.testing.assert_array_equal(np.asarray(ref), np.asarray(nat))


def test_native_matches_reference_on_images():
    x = np.random.default_rng(1).random((8, 28, 28, 2)).astype(np.float32)
    x[x < 0.6] = 0
    np.testing.assert_array_equal(
        coding.rank_code(x, 15, impl="reference"), coding.rank_code(x, 15, impl="native")
    )


def test_spike_waves_and_intensities():
    x = np.array([[3.0, 1.0, 2.0, 0.0]])
    waves = coding.rank_code(x, 3, output="spikes")
    assert waves.shape == (1, 3, 4)
    np.testing.assert_array_equal(
        waves[0], [[1, 0, 0, 0], [1, 0, 1, 0], [1, 1, 1, 0]]
    )
    inten = coding.rank_code(x, 3, output="intensities")
    np.testing.assert_allclose(inten[0, 2], [3.0, 1.0, 2.0, 0.0])
    np.testing.assert_allclose(inten[0, 0], [3.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(coding.waves_to_times(waves), coding.rank_code(x, 3))


@pytest.mark.parametrize("impl", ["reference", "native", "auto"])
def test_jit_and_vmap(impl):
    x = np.random.default_rng(2).random((3, 4, 5)).astype(np.float32)
    expected = coding.rank_code(x, 6, impl="reference")
    jitted = jax.jit(lambda v: coding.rank_code(v, 6, impl=impl))
    np.testing.assert_array_equal(jitted(x), expected)
    # vmap over an extra leading axis: each slice is its own batch
    stacked = np.stack([x, x[::-1]])
    out = jax.vmap(lambda v: coding.rank_code(v, 6, impl=impl))(stacked)
    np.testing.assert_array_equal(out[0], expected)
    np.testing.assert_array_equal(out[1], expected[::-1])
    # vmap over a non-leading axis
    out2 = jax.vmap(lambda v: coding.rank_code(v, 6, impl=impl), in_axes=1, out_axes=1)(stacked)
    np.testing.assert_array_equal(out2, out)


def test_errors_name_the_argument():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="time_steps must be >= 1, got -1"):
        coding.rank_code(x, -1)
    with pytest.raises(ValueError, match="time_steps must be >= 1, got 0"):
        coding.rank_code(x, 0)
    with pytest.raises(TypeError, match="time_steps must be an int, got float"):
        coding.rank_code(x, 2.5)
    with pytest.raises(ValueError, match="output must be one of"):
        coding.rank_code(x, 2, output="latency")
    with pytest.raises(ValueError, match="impl must be one of"):
        coding.rank_code(x, 2, impl="gpu")
    with pytest.raises(ValueError, match="x must have a batch axis"):
        coding.rank_code(np.float32(1.0), 2)
    with pytest.raises(TypeError, match="x must be a real array"):
        coding.rank_code(np.ones((2, 2), np.complex64), 2)
    bad = x.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="x contains NaN"):
        coding.rank_code(bad, 2)


@pytest.mark.parametrize("impl", ["native", "reference"])
def test_nan_inside_jit_is_a_clear_runtime_error(impl):
    bad = np.ones((2, 3), np.float32)
    bad[0, 1] = np.nan
    with pytest.raises(Exception, match="x contains NaN"):
        jax.block_until_ready(jax.jit(lambda v: coding.rank_code(v, 2, impl=impl))(bad))


def test_auto_falls_back_with_one_warning_when_native_missing(monkeypatch):
    monkeypatch.setattr(native, "_load", lambda: (False, "simulated missing build"))
    native.warn_fallback_once.cache_clear()
    x = np.array([[3.0, 1.0, 2.0, 0.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = coding.rank_code(x, 3)
        b = coding.rank_code(x, 3)
    np.testing.assert_array_equal(a, [[0, 2, 1, 3]])
    np.testing.assert_array_equal(b, a)
    assert sum("simulated missing build" in str(w.message) for w in caught) == 1
    with pytest.raises(NativeUnavailableError, match="simulated missing build"):
        coding.rank_code(x, 3, impl="native")
    native.warn_fallback_once.cache_clear()
