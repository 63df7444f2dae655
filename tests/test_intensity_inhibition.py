"""intensity_lateral_inhibition and generate_inhibition_kernel: SpykeTorch semantics, hand cases, errors."""

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyxlike.intensity_inhibition import generate_inhibition_kernel, intensity_lateral_inhibition


def naive(x, kernel):
    """Direct loops over SpykeTorch's definition on one (H, W) channel."""
    h, w = x.shape
    r = kernel.shape[0] // 2
    out = np.zeros_like(x, dtype=np.float64)
    for i in range(h):
        for j in range(w):
            factor = 0.0
            for a in range(-r, r + 1):
                for b in range(-r, r + 1):
                    ii, jj = i + a, j + b
                    neighbour = x[ii, jj] if 0 <= ii < h and 0 <= jj < w else 0.0
                    if x[i, j] > neighbour:
                        factor += kernel[a + r, b + r]
            out[i, j] = x[i, j] * (1.0 + factor)
    return out


def test_generate_inhibition_kernel_hand_computed():
    k = generate_inhibition_kernel([0.15, 0.12])
    expected = np.array([
        [0.12, 0.12, 0.12, 0.12, 0.12],
        [0.12, 0.15, 0.15, 0.15, 0.12],
        [0.12, 0.15, 0.00, 0.15, 0.12],
        [0.12, 0.15, 0.15, 0.15, 0.12],
        [0.12, 0.12, 0.12, 0.12, 0.12],
    ], np.float32)
    np.testing.assert_array_equal(k, expected)
    assert k.dtype == np.float32
    np.testing.assert_array_equal(generate_inhibition_kernel([1.0]), [[1, 1, 1], [1, 0, 1], [1, 1, 1]])


def test_hand_computed_3x3():
    x = np.array([[1.0, 2.0, 0.0],
                  [2.0, 5.0, 2.0],
                  [0.0, 2.0, 3.0]], np.float32)
    k = generate_inhibition_kernel([0.1])
    y = np.asarray(intensity_lateral_inhibition(x[None, :, :, None], k))[0, :, :, 0]
    # centre 5 beats all 8 neighbours: 5 * (1 + 0.8)
    assert y[1, 1] == pytest.approx(9.0)
    # corner 3 beats (1,2)=2, (2,1)=2 and the 5 zero-padded outside neighbours, not 5: 3 * 1.7
    assert y[2, 2] == pytest.approx(3 * 1.7)
    # top-left 1: beats (0,1)? no (2); (1,0)? no; (1,1)? no; the 5 outside zeros: 1 * 1.5
    assert y[0, 0] == pytest.approx(1.5)
    # (0, 1) = 2: beats 1, 0 and 3 outside zeros; ties with (1,0) and (1,2) inhibit nothing: 2 * 1.5
    assert y[0, 1] == pytest.approx(3.0)
    # zeros stay zero
    assert y[0, 2] == 0 and y[2, 0] == 0


def check_against_naive(x, k):
    y = np.asarray(intensity_lateral_inhibition(x, k))
    for b in range(x.shape[0]):
        for ch in range(x.shape[-1]):
            np.testing.assert_allclose(y[b, :, :, ch], naive(x[b, :, :, ch], k), rtol=1e-5, atol=1e-6)


# one image shape, so hypothesis varies the data and kernels without a compile per example
@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 3), seed=st.integers(0, 2**31 - 1), levels=st.sampled_from([3, 1000]))
def test_matches_naive_definition(n, seed, levels):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels, (2, 5, 6, 2)).astype(np.float32) / levels   # few levels -> many ties
    check_against_naive(x, generate_inhibition_kernel(list(rng.random(n))))


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (1, 1, 7, 1), (1, 7, 1, 3), (2, 2, 3, 1)])
def test_small_and_thin_images(shape):
    rng = np.random.default_rng(sum(shape))
    x = rng.integers(0, 4, shape).astype(np.float32)
    check_against_naive(x, generate_inhibition_kernel([0.3, 0.2]))


def test_arbitrary_kernel_weights_and_negative_values():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 5, 6, 1)).astype(np.float32)
    k = rng.random((3, 3)).astype(np.float32)
    y = np.asarray(intensity_lateral_inhibition(x, k))
    np.testing.assert_allclose(y[0, :, :, 0], naive(x[0, :, :, 0], k), rtol=1e-5, atol=1e-6)


def test_jit_and_vmap():
    rng = np.random.default_rng(2)
    x = rng.random((3, 6, 6, 2)).astype(np.float32)
    k = generate_inhibition_kernel([0.2, 0.1])
    eager = np.asarray(intensity_lateral_inhibition(x, k))
    f = lambda a: intensity_lateral_inhibition(a, k)  # noqa: E731
    np.testing.assert_allclose(np.asarray(jax.jit(f)(x)), eager, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(jax.vmap(f)(x[:, None]))[:, 0], eager, rtol=1e-6)


@pytest.mark.parametrize("percents,exc,match", [
    ([], ValueError, "must not be empty"),
    ([0.1, 1.5], ValueError, r"inhibition_percents\[1\] must be in \[0, 1\]"),
    ([-0.1], ValueError, "must be in"),
    (0.5, TypeError, "must be a sequence"),
    (["a"], TypeError, "must be a float"),
])
def test_generate_errors(percents, exc, match):
    with pytest.raises(exc, match=match):
        generate_inhibition_kernel(percents)


def test_inhibition_errors():
    k = generate_inhibition_kernel([0.1])
    with pytest.raises(ValueError, match="intensity_lateral_inhibition: x must be channels-last"):
        intensity_lateral_inhibition(np.zeros((4, 4)), k)
    with pytest.raises(ValueError, match="odd K"):
        intensity_lateral_inhibition(np.zeros((1, 4, 4, 1)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="odd K"):
        intensity_lateral_inhibition(np.zeros((1, 4, 4, 1)), np.ones((3,)))
    with pytest.raises(ValueError, match="finite"):
        intensity_lateral_inhibition(np.zeros((1, 4, 4, 1)), np.full((3, 3), np.nan))
    with pytest.raises(TypeError, match="real"):
        intensity_lateral_inhibition(np.zeros((1, 4, 4, 1)), np.array([["a"] * 3] * 3))
