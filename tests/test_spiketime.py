"""spiketime: gather, scatter, labelize, backward (hand-computed cases, transforms, errors)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike import coding, spiketime as st


def test_gather_rank_and_rate():
    w = np.array([[[0, 0, 0], [0, 1, 0], [1, 1, 0], [1, 1, 1]]], np.uint8)  # (1, T=4, 3)
    np.testing.assert_array_equal(st.gather(w), [[2, 1, 3]])
    np.testing.assert_array_equal(st.gather(w, code="rate"), [[1, 1, 1]])
    p = np.array([[[0.5, 0.0, -1], [1.5, 2, 0], [2.5, 0.5, 0], [0.2, 3.0, 0.7]]], np.float32)
    np.testing.assert_array_equal(st.gather(p, 1.0), [[1, 1, 4]])   # strict, T = no spike
    np.testing.assert_array_equal(st.gather(p, 2.0), [[2, 3, 4]])
    np.testing.assert_array_equal(st.gather(p, 1.0, code="rate"), [[0, 3, 0]])  # truncation
    np.testing.assert_allclose(st.gather(p, code="rate", dtype=jnp.float32), [[0.2, 3.0, 0.7]])


def test_scatter_is_inverse_of_gather():
    t = np.array([[0, 1, 2, 3, 4, 5]], np.int32)
    w = st.scatter(t, 4)
    np.testing.assert_array_equal(w[0].T, [[1, 1, 1, 1], [0, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1],
                                           [0, 0, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(st.gather(w), np.minimum(t, 4))
    np.testing.assert_array_equal(w, coding.times_to_waves(t, 4))
    np.testing.assert_array_equal(st.scatter(np.array([[0.5, 1.7, -1.0]]), 3)[0].T,
                                  [[0, 1, 1], [0, 0, 1], [1, 1, 1]])


def test_labelize_rules():
    def lab(rows, th):
        return int(st.labelize(np.array([rows], np.float32), th)[0])
    assert lab([[0, 0, 0], [0, 1, 3]], 0.5) == 1          # lowest index at the first step
    assert lab([[0, 0, 1], [9, 0, 1]], 0.5) == 2          # earlier beats bigger
    assert lab([[0, 0.5, 0], [0, 0.5, 0.6]], 0.5) == 2    # strictly above
    assert lab([[0.4, 0.1, 0], [0.1, 0.3, 0]], 0.5) == 1  # none: argmax of the last step
    assert lab([[0, 0, 0]], 0.5) == 0


def test_backward_hand_computed():
    x = np.array([[1, 2, 3], [12, 15, 11], [8, 9, 9.5]], np.float32)
    y = st.backward(x, np.array([1, 0, 0]), 10, 1.0)
    np.testing.assert_allclose(y[0], [0.1, -0.1, 0.0], atol=1e-7)
    # tau = 11: the target is pulled to 11; output 2 (11 < 12) is pushed to min(12, 10) = 10
    np.testing.assert_allclose(y[1], [-0.1, 0.0, -0.1], atol=1e-7)
    np.testing.assert_allclose(st.backward(x[2:], np.array([0]), 10, 3.0)[0], [0, 0.1, 0.05],
                               atol=1e-7)
    # an out-of-range label: every output is wrong
    np.testing.assert_allclose(st.backward(x[:1], np.array([7]), 10, 1.0)[0], [0.1, 0, 0],
                               atol=1e-7)


def test_transforms():
    rng = np.random.default_rng(0)
    p = rng.normal(size=(3, 5, 4)).astype(np.float32)
    np.testing.assert_array_equal(jax.jit(lambda a: st.gather(a, 0.5))(p), st.gather(p, 0.5))
    np.testing.assert_array_equal(jax.vmap(lambda a: st.labelize(a, 0.5))(p[None])[0],
                                  st.labelize(p, 0.5))
    t = rng.random((3, 4)).astype(np.float32) * 9
    y = np.array([0, 3, 1])
    np.testing.assert_allclose(jax.jit(lambda a, b: st.backward(a, b, 10, 2.0))(t, y),
                               st.backward(t, y, 10, 2.0))
    np.testing.assert_array_equal(jax.vmap(lambda a: st.scatter(a, 5))(t[None])[0], st.scatter(t, 5))


def test_errors():
    with pytest.raises(ValueError, match="gather: waves must have rank >= 2"):
        st.gather(np.ones(3))
    with pytest.raises(ValueError, match="gather: code must be one of"):
        st.gather(np.ones((1, 3)), code="phase")
    with pytest.raises(ValueError, match="scatter: time must be >= 1"):
        st.scatter(np.ones((1, 3)), 0)
    with pytest.raises(ValueError, match=r"labelize: x must have rank 3 \(batch, T, F\)"):
        st.labelize(np.ones((2, 3)), 0.0)
    with pytest.raises(ValueError, match="labelize: x needs T >= 1 and F >= 1"):
        st.labelize(np.ones((2, 0, 3)), 0.0)
    with pytest.raises(ValueError, match=r"backward: target must have shape \(2,\)"):
        st.backward(np.ones((2, 3)), np.zeros(3, np.int64), 10, 1.0)
    with pytest.raises(TypeError, match="backward: target must hold integer labels"):
        st.backward(np.ones((2, 3)), np.zeros(2), 10, 1.0)
    with pytest.raises(ValueError, match="backward: input must have rank 2"):
        st.backward(np.ones((2, 3, 1)), np.zeros(2, np.int64), 10, 1.0)
    with pytest.raises(ValueError, match="backward: time must be >= 1"):
        st.backward(np.ones((2, 3)), np.zeros(2, np.int64), 0, 1.0)
