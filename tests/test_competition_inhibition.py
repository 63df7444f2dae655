"""pointwise_inhibition (SpykeTorch), inhibit (Spyker), feature_inhibition: hand cases,
SpykeTorch's formula, native/Pallas vs reference, jit, vmap, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyxlike import inhibition

IMPLS = ["reference", "native", "pallas"]


def spyketorch_pointwise(x):
    """SpykeTorch's pointwise_inhibition written out on one (T, C, H, W) sample."""
    maximum = x.max(axis=1)
    winners_t = x.argmax(axis=1)
    sign = np.sign(maximum)
    first = sign.argmax(axis=0)
    coef_val = np.take_along_axis(sign, first[None], 0)[0]
    winner = np.take_along_axis(winners_t, first[None], 0)[0]
    coef = np.zeros(x.shape[1:], x.dtype)
    for h in range(x.shape[2]):
        for w in range(x.shape[3]):
            coef[winner[h, w], h, w] = coef_val[h, w]
    return x * coef[None]


def pot(x_tc):
    """(T, C) per-position series -> (1, T, 1, 1, C)."""
    return np.asarray(x_tc, np.float32)[None, :, None, None, :]


@pytest.mark.parametrize("impl", IMPLS)
def test_pointwise_earliest_then_largest_then_lowest(impl):
    x = pot([[0, 0, 0, 0],
             [0, 2, 3, 0],     # c1, c2 spike first at t=1; c2 larger
             [5, 2, 3, 0]])    # c0 larger later: irrelevant
    y = np.asarray(inhibition.pointwise_inhibition(x, impl=impl))
    np.testing.assert_array_equal(y[0, :, 0, 0], [[0, 0, 0, 0], [0, 0, 3, 0], [0, 0, 3, 0]])
    ties = pot([[0, 1, 1], [4, 1, 1]])  # c1 and c2 tie at t=0 -> lowest index c1
    y = np.asarray(inhibition.pointwise_inhibition(ties, impl=impl))
    np.testing.assert_array_equal(y[0, :, 0, 0], [[0, 1, 0], [0, 1, 0]])
    silent = pot([[0, 0], [0, 0]])
    np.testing.assert_array_equal(inhibition.pointwise_inhibition(silent, impl=impl), silent)
    negative = pot([[-1, -2], [-3, -0.5]])  # SpykeTorch's sign formula negates the survivor
    y = np.asarray(inhibition.pointwise_inhibition(negative, impl=impl))
    np.testing.assert_array_equal(y[0, :, 0, 0], [[1, 0], [3, 0]])


@pytest.mark.parametrize("impl", IMPLS)
def test_inhibit_spyker_rule(impl):
    x = pot([[0.2, 0.1], [0.3, 0.9], [0.4, 0.9]])
    # threshold 0: every step is above -> t* = 0 -> c0 (0.2 > 0.1) keeps its values
    np.testing.assert_array_equal(np.asarray(inhibition.inhibit(x, 0.0, impl=impl))[0, :, 0, 0],
                                  np.float32([[0.2, 0], [0.3, 0], [0.4, 0]]))
    # threshold 0.5: two steps above -> t* = 1 -> c1, values below threshold kept
    np.testing.assert_array_equal(np.asarray(inhibition.inhibit(x, 0.5, impl=impl))[0, :, 0, 0],
                                  np.float32([[0, 0.1], [0, 0.9], [0, 0.9]]))
    # nothing above: the feature leading at the last step survives
    np.testing.assert_array_equal(np.asarray(inhibition.inhibit(x, 5.0, impl=impl))[0, :, 0, 0],
                                  np.float32([[0, 0.1], [0, 0.9], [0, 0.9]]))
    # non-monotone: n counts steps, t* = T - n
    y = inhibition.inhibit(pot([[1, 0], [0, 0.5], [1, 3]]), 0.0, impl=impl)
    np.testing.assert_array_equal(np.asarray(y)[0, :, 0, 0], [[1, 0], [0, 0], [1, 0]])


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), levels=st.integers(1, 5))
def test_pointwise_matches_spyketorch_formula(seed, levels):
    rng = np.random.default_rng(seed)
    x = (rng.integers(-1, levels, (2, 4, 3, 5, 4)) * 0.5).astype(np.float32)
    y = np.asarray(inhibition.pointwise_inhibition(x, impl="native"))
    for b in range(2):
        expected = spyketorch_pointwise(np.transpose(x[b], (0, 3, 1, 2)))
        np.testing.assert_array_equal(np.transpose(y[b], (0, 3, 1, 2)), expected)


SHAPES = [(1, 1, 1, 1, 1), (2, 3, 4, 5, 3), (3, 5, 2, 3, 6)]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), shape=st.sampled_from(SHAPES), levels=st.integers(1, 5),
       thr=st.sampled_from([-0.5, 0.0, 0.7]))
def test_native_matches_reference(seed, shape, levels, thr):
    rng = np.random.default_rng(seed)
    x = (rng.integers(-2, levels, shape) * 0.5).astype(np.float32)
    for fn in (inhibition.pointwise_inhibition, lambda v, impl: inhibition.inhibit(v, thr, impl=impl)):
        np.testing.assert_array_equal(np.asarray(fn(x, impl="native")),
                                      np.asarray(fn(x, impl="reference")))


def test_pallas_matches_reference():
    rng = np.random.default_rng(7)
    x = (rng.integers(-2, 4, (2, 3, 3, 5, 3)) * 0.5).astype(np.float32)
    for fn in (inhibition.pointwise_inhibition, lambda v, impl: inhibition.inhibit(v, 0.5, impl=impl)):
        np.testing.assert_array_equal(np.asarray(fn(x, impl="pallas")),
                                      np.asarray(fn(x, impl="reference")))


@pytest.mark.parametrize("impl", ["reference", "native", "auto"])
def test_jit_and_vmap(impl):
    x = np.random.default_rng(3).normal(size=(2, 3, 2, 4, 3)).astype(np.float32)
    f = lambda v: inhibition.pointwise_inhibition(v, impl=impl)
    g = lambda v: inhibition.inhibit(v, 0.2, impl=impl)
    for fn in (f, g):
        expected = np.asarray(fn(x))
        np.testing.assert_array_equal(jax.jit(fn)(x), expected)
        out = jax.vmap(fn)(np.stack([x, x[::-1]]))
        np.testing.assert_array_equal(out[0], expected)
        np.testing.assert_array_equal(out[1], expected[::-1])


def test_feature_inhibition_list_and_mask():
    x = np.arange(2 * 2 * 1 * 2 * 3, dtype=np.float32).reshape(2, 2, 1, 2, 3) + 1
    y = np.asarray(inhibition.feature_inhibition(x, [0, 2]))
    assert np.all(y[..., [0, 2]] == 0) and np.array_equal(y[..., 1], x[..., 1])
    np.testing.assert_array_equal(inhibition.feature_inhibition(x, []), x)
    np.testing.assert_array_equal(inhibition.feature_inhibition(x, [-1]),
                                  inhibition.feature_inhibition(x, [2]))
    mask = np.array([[True, False, False], [False, False, True]])
    y = np.asarray(inhibition.feature_inhibition(x, mask))
    assert np.all(y[0, ..., 0] == 0) and np.all(y[1, ..., 2] == 0)
    np.testing.assert_array_equal(y[0, ..., 1:], x[0, ..., 1:])
    np.testing.assert_array_equal(y[1, ..., :2], x[1, ..., :2])
    jitted = jax.jit(inhibition.feature_inhibition)(x, jnp.asarray(mask))
    np.testing.assert_array_equal(jitted, y)
    v = jax.vmap(inhibition.feature_inhibition)(x[:, None], jnp.asarray(mask)[:, None])
    np.testing.assert_array_equal(v[:, 0], y)


def test_errors():
    x = np.ones((1, 2, 2, 2, 3), np.float32)
    with pytest.raises(ValueError, match=r"pointwise_inhibition: potentials must have rank 5"):
        inhibition.pointwise_inhibition(x[0])
    with pytest.raises(ValueError, match=r"pointwise_inhibition: impl must be one of"):
        inhibition.pointwise_inhibition(x, impl="gpu")
    with pytest.raises(ValueError, match=r"inhibit: potentials must have rank 5"):
        inhibition.inhibit(x[..., 0])
    with pytest.raises(ValueError, match=r"inhibit: threshold must be finite"):
        inhibition.inhibit(x, float("inf"))
    with pytest.raises(TypeError, match=r"inhibit: threshold must be a real number"):
        inhibition.inhibit(x, "0")
    with pytest.raises(ValueError, match=r"feature_inhibition: inhibited_features must be in"):
        inhibition.feature_inhibition(x, [3])
    with pytest.raises(TypeError, match=r"feature_inhibition: inhibited_features must be a list"):
        inhibition.feature_inhibition(x, [0.5])
    with pytest.raises(ValueError, match=r"feature_inhibition: inhibited_features mask must"):
        inhibition.feature_inhibition(x, np.ones((2, 3), bool))
    with pytest.raises(TypeError, match=r"feature_inhibition: a 2-D inhibited_features must be"):
        inhibition.feature_inhibition(x, np.ones((1, 3), np.int32))
    with pytest.raises(ValueError, match=r"feature_inhibition: potentials must be"):
        inhibition.feature_inhibition(np.ones(3), [0])
