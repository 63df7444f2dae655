"""spikewave: fire (reference/native/Pallas), code, threshold, infinite, quantize, pad."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyxlike import spikewave as sw
from spyxlike.ops import native

IMPLS = ["reference", "pallas"] + (["native"] if native.available() else [])


# ---------------------------------------------------------------- fire (SpykeTorch)

def _pot():
    # (B=1, T=3, F=4): potentials per step
    return np.array([[[0.5, 2.0, 1.0, -1.0], [1.5, 2.0, 0.2, 3.0], [2.5, 0.5, 1.0, 3.0]]],
                    np.float32)


@pytest.mark.parametrize("impl", IMPLS)
def test_fire_hand_computed(impl):
    s, thr = sw.fire(_pot(), 1.0, True, impl=impl)
    np.testing.assert_array_equal(s[0], [[0, 1, 0, 0], [1, 1, 0, 1], [1, 0, 0, 1]])
    # equal to the threshold does not fire, thresholded keeps the potential
    np.testing.assert_array_equal(thr[0], [[0, 2, 0, 0], [1.5, 2, 0, 3], [2.5, 0, 0, 3]])
    assert s.dtype == jnp.float32 and thr.dtype == jnp.float32


@pytest.mark.parametrize("impl", IMPLS)
def test_fire_none_fires_last_step_only(impl):
    s, thr = sw.fire(_pot(), None, True, impl=impl)
    np.testing.assert_array_equal(s[0], [[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]])
    np.testing.assert_array_equal(thr[0, 2], [2.5, 0.5, 1.0, 3.0])
    assert float(np.abs(np.asarray(thr[0, :2])).sum()) == 0.0
    p = _pot().copy()
    p[0, 2, 1] = -0.5
    np.testing.assert_array_equal(sw.fire(p, impl=impl)[0, 2], [1, 0, 1, 1])


def test_fire_default_returns_only_spikes_and_int_input_promoted():
    out = sw.fire(np.array([[[0, 2], [3, 0]]], np.int32), 1)
    assert isinstance(out, jax.Array) and out.dtype == jnp.float32
    np.testing.assert_array_equal(out[0], [[0, 1], [1, 0]])


@settings(max_examples=20, deadline=None)
@given(
    shape=st.sampled_from([(2, 3, 4, 4, 2), (1, 5, 7), (3, 1, 2, 2, 1), (2, 4, 1), (4, 6, 3, 5, 2)]),
    th=st.sampled_from([None, 0.0, 0.5, -1.25]),
    seed=st.integers(0, 2**16),
)
def test_fire_fast_paths_equal_reference(shape, th, seed):
    p = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    p[..., 0] = 0.0 if th is None else np.float32(th)  # values on the threshold
    ref = sw.fire(p, th, True, impl="reference")
    for impl in IMPLS[1:]:
        got = sw.fire(p, th, True, impl=impl)
        for a, b in zip(ref, got):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("impl", IMPLS)
def test_fire_jit_and_vmap(impl):
    p = np.random.default_rng(1).normal(size=(3, 2, 4, 5, 3)).astype(np.float32)
    want = sw.fire(p, 0.2, True, impl="reference")
    got = jax.jit(lambda x: sw.fire(x, 0.2, True, impl=impl))(p)
    for a, b in zip(want, got):
        np.testing.assert_array_equal(a, b)
    got = jax.vmap(lambda x: sw.fire(x, None, impl=impl))(p)
    want = jnp.stack([sw.fire(p[i], None, impl="reference") for i in range(3)])
    np.testing.assert_array_equal(got, want)


def test_fire_traced_threshold_runs_reference():
    p = _pot()
    f = jax.jit(lambda x, th: sw.fire(x, th))
    np.testing.assert_array_equal(f(p, jnp.float32(1.0)), sw.fire(p, 1.0, impl="reference"))
    np.testing.assert_array_equal(jax.jit(lambda x, th: sw.fire(x, th, impl="pallas"))(p, 1.0),
                                  sw.fire(p, 1.0, impl="reference"))
    if native.available():
        with pytest.raises(ValueError, match="native.*static"):
            jax.jit(lambda x, th: sw.fire(x, th, impl="native"))(p, 1.0)


def test_fire_errors():
    with pytest.raises(ValueError, match="fire: potentials must have rank >= 2"):
        sw.fire(np.zeros(3, np.float32), 0.0)
    with pytest.raises(ValueError, match="fire: threshold must be a scalar"):
        sw.fire(_pot(), np.zeros(2, np.float32))
    with pytest.raises(TypeError, match="fire: threshold"):
        sw.fire(_pot(), "1")
    with pytest.raises(TypeError, match="fire: potentials must be a real array"):
        sw.fire(np.zeros((2, 2), np.complex64))
    with pytest.raises(ValueError, match="fire: impl must be one of"):
        sw.fire(_pot(), 1.0, impl="cuda")
    if native.available():
        with pytest.raises(ValueError, match="fire: impl='native' needs float32"):
            sw.fire(_pot().astype(np.float16), 1.0, impl="native")


# ---------------------------------------------------------------- spyker_fire

def test_spyker_fire_rank_is_per_step_crossing():
    np.testing.assert_array_equal(sw.spyker_fire(_pot(), 1.0)[0],
                                  sw.fire(_pot(), 1.0, impl="reference")[0])


def test_spyker_fire_rate_hand_computed():
    # column 0: 0.5, 1.5, 2.5 with threshold 0 -> every step rises above the last spike
    # column 1: 2, 2, 0.5 -> one spike; column 2: 1, 0.2, 1 -> one spike
    np.testing.assert_array_equal(sw.spyker_fire(_pot(), 0.0, code="rate", dtype=jnp.int32)[0],
                                  [[1, 1, 1, 0], [2, 1, 1, 1], [3, 1, 1, 1]])
    # threshold 1: 1.5 spikes (ref 1.5), 2.5 - 1.5 = 1 is not > 1
    np.testing.assert_array_equal(sw.spyker_fire(_pot(), 1.0, code="rate")[0, :, 0], [0, 1, 1])


def test_spyker_fire_jit_vmap_and_errors():
    p = np.random.default_rng(2).normal(size=(2, 5, 3)).astype(np.float32)
    want = sw.spyker_fire(p, 0.1, code="rate")
    np.testing.assert_array_equal(jax.jit(lambda x: sw.spyker_fire(x, 0.1, code="rate"))(p), want)
    np.testing.assert_array_equal(
        jax.vmap(lambda x: sw.spyker_fire(x, 0.1, code="rate"))(p[None])[0], want)
    with pytest.raises(ValueError, match="spyker_fire: code must be one of"):
        sw.spyker_fire(p, 0.0, code="phase")
    with pytest.raises(TypeError, match="spyker_fire: dtype"):
        sw.spyker_fire(p, 0.0, dtype="nope")


# ---------------------------------------------------------------- code

def test_code_rank_hand_computed():
    x = np.array([[3.0, 1.0, 2.0, 0.0, -1.0, 2.0]])
    # sort=True: descending 3, 2(i2), 2(i5), 1, 0 at positions 0..4, M = 5 above the minimum
    np.testing.assert_array_equal(sw.code_times(x, 4, sort=True), [[0, 2, 0, 3, 4, 1]])
    # sort=False: floor((3 - x) / 4 * 4)
    np.testing.assert_array_equal(sw.code_times(x, 4, sort=False), [[0, 2, 1, 3, 4, 1]])
    waves = sw.code(x, 4)
    assert waves.shape == (1, 4, 6) and waves.dtype == jnp.float32
    np.testing.assert_array_equal(waves[0, :, 1], [0, 0, 1, 1])   # cumulative


def test_code_constant_and_minimum_groups():
    x = np.array([[2.0, 2.0, 2.0], [5.0, 0.0, 0.0]])
    for sort in (True, False):
        np.testing.assert_array_equal(sw.code_times(x, 3, sort=sort), [[0, 0, 0], [0, 3, 3]])


def test_code_per_sample_and_jit_vmap():
    x = np.random.default_rng(3).normal(size=(3, 4, 5)).astype(np.float32)
    y = sw.code(x, 6, dtype=jnp.uint8)
    assert y.shape == (3, 6, 4, 5) and y.dtype == jnp.uint8
    np.testing.assert_array_equal(y[1], sw.code(x[1:2], 6, dtype=jnp.uint8)[0])
    np.testing.assert_array_equal(jax.jit(lambda a: sw.code(a, 6, sort=False))(x),
                                  sw.code(x, 6, sort=False))
    np.testing.assert_array_equal(jax.vmap(lambda a: sw.code(a, 6))(x[:, None])[:, 0], sw.code(x, 6))


def test_code_rate_properties():
    x = np.tile(np.linspace(0, 1, 5, dtype=np.float32), (400, 1))
    y = np.asarray(sw.code(x, 10, code="rate", key=jax.random.PRNGKey(0), dtype=jnp.int32))
    inc = np.diff(np.concatenate([np.zeros_like(y[:, :1]), y], 1), axis=1)
    assert set(np.unique(inc)) <= {0, 1}
    means = y[:, -1].mean(0) / 10
    np.testing.assert_allclose(means, [0, 0.25, 0.5, 0.75, 1.0], atol=0.04)
    # scale invariant, deterministic per key
    y2 = sw.code(x * 7 + 3, 10, code="rate", key=jax.random.PRNGKey(0), dtype=jnp.int32)
    np.testing.assert_array_equal(y, y2)


def test_code_errors():
    with pytest.raises(ValueError, match="code: x must have rank >= 2"):
        sw.code(np.ones(3), 4)
    with pytest.raises(ValueError, match="code: time must be >= 1"):
        sw.code(np.ones((1, 3)), 0)
    with pytest.raises(TypeError, match="code: time must be an int"):
        sw.code(np.ones((1, 3)), 2.0)
    with pytest.raises(ValueError, match="code: code must be one of"):
        sw.code(np.ones((1, 3)), 2, code="latency")
    with pytest.raises(ValueError, match="code: code='rate' needs a jax.random key"):
        sw.code(np.ones((1, 3)), 2, code="rate")
    with pytest.raises(ValueError, match="code: x contains NaN"):
        sw.code(np.array([[1.0, np.nan]]), 2)
    with pytest.raises(TypeError, match="code: sort must be a bool"):
        sw.code(np.ones((1, 3)), 2, sort="yes")


# ---------------------------------------------------------------- threshold, infinite, quantize, pad

def test_threshold_and_infinite():
    p = _pot()
    np.testing.assert_array_equal(sw.threshold(p, 1.0)[0, 0], [0, 2, 0, 0])
    np.testing.assert_array_equal(sw.threshold(p, 1.0, -9)[0, 0], [-9, 2, -9, -9])
    none = sw.threshold(p)
    np.testing.assert_array_equal(none[0, :2], 0)
    np.testing.assert_array_equal(none[0, 2], p[0, 2])   # last step kept, negatives too
    np.testing.assert_array_equal(sw.infinite(p, 4.0)[0, :2], 4.0)
    np.testing.assert_array_equal(jax.jit(lambda a: sw.threshold(a, 1.0))(p), sw.threshold(p, 1.0))
    with pytest.raises(ValueError, match="threshold: potentials must have rank >= 2"):
        sw.threshold(np.ones(3))
    with pytest.raises(ValueError, match="infinite: x must have rank >= 2"):
        sw.infinite(np.ones(3))
    with pytest.raises(TypeError, match="threshold: value"):
        sw.threshold(p, 1.0, "a")


def test_quantize():
    x = np.array([-1.6, -0.5, 0.5, 1.5, 2.4, 300.0], np.float32)
    np.testing.assert_array_equal(sw.quantize(x, jnp.int8), [-2, 0, 0, 2, 2, 127])
    np.testing.assert_array_equal(sw.quantize(x, jnp.uint8, 2, 1), [0, 0, 2, 4, 6, 255])
    np.testing.assert_allclose(sw.quantize(x, jnp.float16, 0.5), x * 0.5, rtol=1e-3)
    assert sw.quantize(np.array([np.nan]), jnp.int32)[0] == 0
    np.testing.assert_array_equal(sw.quantize_levels(x, -1.0, 0.5, 5.0), [-1, -1, 5, 5, 5, 5])
    with pytest.raises(TypeError, match="quantize: dtype"):
        sw.quantize(x, "bogus")
    with pytest.raises(TypeError, match="quantize: scale"):
        sw.quantize(x, jnp.int8, scale=[1, 2])


def test_pad_expand4_order():
    x = np.ones((1, 2, 2, 3, 1), np.float32)
    y = sw.pad(x, (1, 0, 0, 2), value=-1)  # top, left, bottom, right
    assert y.shape == (1, 2, 3, 5, 1)
    np.testing.assert_array_equal(y[0, 0, :, :, 0], [[-1] * 5, [1, 1, 1, -1, -1], [1, 1, 1, -1, -1]])
    assert sw.pad(x, (1, 2)).shape == (1, 2, 4, 7, 1)
    assert sw.pad(x[:, 0], 1).shape == (1, 4, 5, 1)
    with pytest.raises(ValueError, match="pad: x must have rank >= 3"):
        sw.pad(np.ones((2, 2)), 1)
    with pytest.raises(ValueError, match="pad: pad entries must be >= 0"):
        sw.pad(x, -1)
    with pytest.raises(ValueError, match="pad: pad must be an int or a sequence of length"):
        sw.pad(x, (1, 2, 3))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("shape", [(0, 3, 4), (2, 0, 3), (2, 3, 0)])
def test_fire_empty(impl, shape):
    p = np.zeros(shape, np.float32)
    for th in (None, 0.5):
        s, thr = sw.fire(p, th, True, impl=impl)
        assert s.shape == shape and thr.shape == shape
