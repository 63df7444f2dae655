"""Filter banks: SpykeTorch kernels and Filter, Spyker DoG/Gabor/LoG vs recorded oracle, transforms, errors."""

import math
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike.filter_kernels import (
    DoGFilter,
    DoGKernel,
    GaborFilter,
    GaborKernel,
    spyker_dog_kernels,
    spyker_gabor_kernels,
    spyker_log_kernels,
)
from spyxlike.filters import DoG, Filter, Gabor, LoG, filter_bank, local_normalization

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "spyker_filters.npz")


@pytest.fixture(scope="module")
def rec():
    with np.load(FIXTURE, allow_pickle=False) as d:
        return {k: d[k] for k in d.files}


def nhwc(a):
    """Spyker (B, C, H, W) -> (B, H, W, C)."""
    return np.transpose(a, (0, 2, 3, 1))


def pad_arg(arr):
    t = tuple(int(p) for p in arr)
    return t[0] if len(t) == 1 else t


def correlate(img, k):
    """Naive valid cross-correlation of a 2-D image with a 2-D kernel."""
    kh, kw = k.shape
    out = np.zeros((img.shape[0] - kh + 1, img.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (img[i:i + kh, j:j + kw] * k).sum()
    return out


# ---------------------------------------------------------------- SpykeTorch kernels

def test_dog_kernel_hand_computed_3x3():
    # raw f(rho^2) = (exp(-rho^2/2) - exp(-rho^2/8)/4) / (2 pi), sigma1 = 1, sigma2 = 2
    raw = {d2: (math.exp(-d2 / 2) - math.exp(-d2 / 8) / 4) / (2 * math.pi) for d2 in (0, 1, 2)}
    mean = (raw[0] + 4 * raw[1] + 4 * raw[2]) / 9
    centre, edge, corner = raw[0] - mean, raw[1] - mean, raw[2] - mean
    expected = np.array([[corner, edge, corner], [edge, centre, edge], [corner, edge, corner]]) / centre
    k = DoGKernel(3, 1.0, 2.0)()
    assert k.shape == (3, 3) and k.dtype == np.float32
    np.testing.assert_allclose(k, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(k[1, 1], 1.0)
    np.testing.assert_allclose(k[0, 1], 0.12935, atol=2e-5)
    np.testing.assert_allclose(k[0, 0], -0.37935, atol=2e-5)


@pytest.mark.parametrize("size,s1,s2", [(7, 1.0, 2.0), (5, 2.0, 1.0), (9, 0.5, 3.0)])
def test_dog_kernel_properties(size, s1, s2):
    k = DoGKernel(size, s1, s2)()
    assert k.shape == (size, size)
    np.testing.assert_allclose(k.sum(), 0.0, atol=1e-5)       # mean removed
    np.testing.assert_allclose(k.max(), 1.0, rtol=1e-6)      # peak 1
    np.testing.assert_allclose(k, k.T, atol=1e-7)            # symmetric
    np.testing.assert_allclose(k, k[::-1, ::-1], atol=1e-7)
    if s1 < s2:
        assert k[size // 2, size // 2] == k.max()            # on-centre


@pytest.mark.parametrize("orientation", [0.0, 45.0, 90.0, 135.0])
def test_gabor_kernel_properties(orientation):
    k = GaborKernel(5, orientation)()
    np.testing.assert_allclose(k.sum(), 0.0, atol=1e-5)
    np.testing.assert_allclose(k.max(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(k, k[::-1, ::-1], atol=1e-6)   # cosine carrier: point symmetric


def test_gabor_kernel_formula_values():
    # window 5, div 4: lambda = 2.5, sigma = 2, gamma = 0.3, theta = 0 -> X = row offset, Y = column offset
    lam, sig, g = 2.5, 2.0, 0.3
    raw = np.array([[math.exp(-(r * r + g * g * c * c) / (2 * sig * sig)) * math.cos(2 * math.pi * r / lam)
                     for c in range(-2, 3)] for r in range(-2, 3)])
    raw = raw - raw.mean()
    np.testing.assert_allclose(GaborKernel(5, 0.0)(), raw / raw.max(), rtol=1e-5, atol=1e-6)
    # 90 degrees is the same kernel turned by a quarter
    np.testing.assert_allclose(GaborKernel(5, 90.0)(), (raw / raw.max()).T, atol=1e-6)


def _bars(size=15):
    horizontal = np.zeros((size, size), np.float32)
    horizontal[size // 2, :] = 1.0
    return horizontal, horizontal.T.copy()


def test_gabor_orientation_prefers_its_bar():
    horizontal, vertical = _bars()
    imgs = np.stack([horizontal, vertical])[..., None]
    f = Filter([GaborKernel(5, 0.0), GaborKernel(5, 90.0), GaborKernel(5, 45.0)], padding=2)
    y = np.asarray(f(imgs))
    peak = y.max(axis=(1, 2))  # (image, kernel)
    assert peak[0, 0] > 2 * peak[1, 0]      # 0 degrees: horizontal bar
    assert peak[1, 1] > 2 * peak[0, 1]      # 90 degrees: vertical bar
    np.testing.assert_allclose(peak[0, 2], peak[1, 2], rtol=1e-5)  # 45 degrees: both alike


def test_spyker_gabor_orientation_prefers_its_bar():
    horizontal, vertical = _bars()
    imgs = np.stack([horizontal, vertical])[..., None]
    g = Gabor(2, [GaborFilter(1.5, 0.0, 0.5, 4.0, 0.0), GaborFilter(1.5, 90.0, 0.5, 4.0, 0.0)], pad=2)
    peak = np.asarray(g(imgs)).max(axis=(1, 2))
    assert peak[0, 0] > 2 * peak[1, 0]
    assert peak[1, 1] > 2 * peak[0, 1]


# ---------------------------------------------------------------- SpykeTorch Filter

def test_filter_stacks_and_zero_pads_smaller_kernels():
    small, big = DoGKernel(3, 1.0, 2.0), DoGKernel(7, 1.0, 2.0)
    f = Filter([small, big])
    assert f.kernels.shape == (2, 7, 7) and f.max_window_size == 7 and f.number_of_kernels == 2
    np.testing.assert_array_equal(f.kernels[0, 2:5, 2:5], small())
    assert np.count_nonzero(f.kernels[0]) == np.count_nonzero(small())
    np.testing.assert_array_equal(f.kernels[1], big())


def test_filter_matches_naive_correlation_with_threshold_and_abs():
    rng = np.random.default_rng(0)
    img = rng.random((2, 12, 12, 1)).astype(np.float32)
    kernels = [DoGKernel(3, 1.0, 2.0), DoGKernel(5, 2.0, 1.0), GaborKernel(5, 45.0)]
    thresholds = [0.1, -1.0, 0.2]
    f = Filter(kernels, padding=1, thresholds=thresholds)
    y = np.asarray(f(img))
    assert y.shape == (2, 10, 10, 3)
    for b in range(2):
        padded = np.pad(img[b, :, :, 0], 1)
        for m in range(3):
            raw = correlate(padded, f.kernels[m])
            expected = np.where(raw < thresholds[m], 0.0, raw)
            np.testing.assert_allclose(y[b, :, :, m], expected, atol=1e-5)
    # use_abs is applied after thresholding: negatives above a negative threshold survive as |.|
    fa = Filter(kernels, padding=1, thresholds=thresholds, use_abs=True)
    np.testing.assert_allclose(np.asarray(fa(img)), np.abs(y), atol=1e-6)
    assert (y[..., 1] < 0).any()


def test_filter_scalar_threshold_and_raw_array_kernels():
    rng = np.random.default_rng(1)
    img = rng.random((1, 9, 9, 1)).astype(np.float32)
    k = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32)
    y = np.asarray(Filter([k], thresholds=0.0)(img))
    expected = correlate(img[0, :, :, 0], k)
    np.testing.assert_allclose(y[0, :, :, 0], np.where(expected < 0, 0, expected), atol=1e-5)


def test_filter_accepts_a_numpy_stack():
    stack = np.stack([DoGKernel(5, 1.0, 2.0)(), GaborKernel(5, 0.0)()])
    f = Filter(stack)
    assert f.number_of_kernels == 2
    np.testing.assert_array_equal(f.kernels, stack)


def test_filter_multichannel_is_channel_major():
    rng = np.random.default_rng(2)
    img = rng.random((1, 8, 8, 2)).astype(np.float32)
    f = Filter([DoGKernel(3, 1.0, 2.0), GaborKernel(3, 0.0)])
    y = np.asarray(f(img))
    assert y.shape == (1, 6, 6, 4)
    for c in range(2):
        for m in range(2):
            np.testing.assert_allclose(y[0, :, :, c * 2 + m], correlate(img[0, :, :, c], f.kernels[m]), atol=1e-5)


def test_filter_bank_functional_padding_orders():
    img = np.arange(25, dtype=np.float32).reshape(1, 5, 5, 1)
    one = np.ones((1, 1), np.float32)
    y = np.asarray(filter_bank(img, one, padding=(1, 2, 0, 3)))   # (top, left, bottom, right)
    assert y.shape == (1, 6, 10, 1)
    np.testing.assert_array_equal(y[0, 1:, 2:7, 0], img[0, :, :, 0])
    assert y[0, 0].sum() == 0 and y[0, :, :2].sum() == 0 and y[0, :, 7:].sum() == 0


@pytest.mark.parametrize("k", [3, 11, 13])   # 3 and 11: shifted sums; 13: lax conv
def test_both_bank_paths_match_naive_correlation(k):
    rng = np.random.default_rng(k)
    img = rng.random((2, 16, 15, 2)).astype(np.float32)
    bank = rng.standard_normal((3, k, k)).astype(np.float32)
    y = np.asarray(filter_bank(img, bank, padding=(1, 2, 0, 3)))
    assert y.shape == (2, 16 + 1 - k + 1, 15 + 5 - k + 1, 6)
    for c in range(2):
        padded = np.pad(img[1, :, :, c], ((1, 0), (2, 3)))
        for m in range(3):
            np.testing.assert_allclose(y[1, :, :, c * 3 + m], correlate(padded, bank[m]), rtol=1e-4, atol=1e-4)


def test_grad_of_a_bank_is_the_correlation_adjoint():
    rng = np.random.default_rng(5)
    img = rng.random((1, 8, 8, 1)).astype(np.float32)
    bank = rng.standard_normal((2, 3, 3)).astype(np.float32)
    g = np.asarray(jax.grad(lambda a: filter_bank(a, bank).sum())(img))[0, :, :, 0]
    # d/dx of sum over valid outputs: each pixel collects the kernel taps that reach it
    expected = np.zeros((8, 8))
    for m in range(2):
        for i in range(6):
            for j in range(6):
                expected[i:i + 3, j:j + 3] += bank[m]
    np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-5)


def test_local_normalization_hand_computed():
    x = np.zeros((1, 3, 3, 1), np.float32)
    x[0, 1, 1, 0] = 9.0
    x[0, 0, 0, 0] = 3.0
    y = np.asarray(local_normalization(x, 1))
    # centre: mean over the full 3x3 = 12/9; corner (0,0): window holds 3 + 9 plus zero padding -> 12/9
    np.testing.assert_allclose(y[0, 1, 1, 0], 9.0 / (12.0 / 9.0), rtol=1e-6)
    np.testing.assert_allclose(y[0, 0, 0, 0], 3.0 / (12.0 / 9.0), rtol=1e-6)
    # (2, 2): window holds only the 9 -> 9/9 = 1
    assert y[0, 2, 2, 0] == 0.0
    np.testing.assert_allclose(np.asarray(local_normalization(x, 0))[0, 1, 1, 0], 1.0, rtol=1e-6)


def test_local_normalization_channels_independent_and_eps():
    rng = np.random.default_rng(3)
    x = rng.random((2, 6, 7, 3)).astype(np.float32)
    y = np.asarray(local_normalization(x, 2, eps=0.5))
    for c in range(3):
        padded = np.pad(x[0, :, :, c], 2)
        means = correlate(padded, np.full((5, 5), 1 / 25.0)) + 0.5
        np.testing.assert_allclose(y[0, :, :, c], x[0, :, :, c] / means, rtol=1e-5)


# ---------------------------------------------------------------- Spyker oracle

def test_spyker_dog_kernels_match(rec):
    for i in range(3):
        stds = rec[f"dog{i}_stds"]
        k = spyker_dog_kernels(int(rec[f"dog{i}_size"]), [DoGFilter(*s) for s in stds])
        ref = rec[f"dog{i}_kernel"]            # (2, F, K, K): the Gaussians apart
        np.testing.assert_allclose(k, ref[0] - ref[1], atol=1e-7)
        np.testing.assert_allclose(k.sum(axis=(1, 2)), 0.0, atol=1e-6)


def test_spyker_gabor_and_log_kernels_match(rec):
    for i in range(2):
        params = rec[f"gabor{i}_params"]
        k = spyker_gabor_kernels(int(rec[f"gabor{i}_size"]), [GaborFilter(*p) for p in params])
        np.testing.assert_allclose(k, rec[f"gabor{i}_kernel"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(k.sum(axis=(1, 2)), 1.0, rtol=1e-5)
        k = spyker_log_kernels(int(rec[f"log{i}_size"]), list(rec[f"log{i}_stds"]))
        ref = rec[f"log{i}_kernel"]            # (2, S, K, K): the Gaussians apart
        np.testing.assert_allclose(k, ref[0] - ref[1], atol=1e-7)


@pytest.mark.parametrize("i", [0, 1, 2])
def test_spyker_dog_outputs(rec, i):
    m = DoG(int(rec[f"dog{i}_size"]), [DoGFilter(*s) for s in rec[f"dog{i}_stds"]],
            pad=pad_arg(rec[f"dog{i}_pad"]))
    for j in (1, 2):
        y = np.asarray(m(nhwc(rec[f"img{j}"])))
        ref = nhwc(rec[f"dog{i}_out{j}"])
        assert y.shape == ref.shape
        np.testing.assert_allclose(y, ref, atol=2e-6)
        assert (y >= 0).all() and (y == 0).any()


@pytest.mark.parametrize("i", [0, 1])
def test_spyker_gabor_outputs(rec, i):
    m = Gabor(int(rec[f"gabor{i}_size"]), [GaborFilter(*p) for p in rec[f"gabor{i}_params"]],
              pad=pad_arg(rec[f"gabor{i}_pad"]))
    for j in (1, 2):
        y = np.asarray(m(nhwc(rec[f"img{j}"])))
        ref = nhwc(rec[f"gabor{i}_out{j}"])
        assert y.shape == ref.shape
        np.testing.assert_allclose(y, ref, rtol=1e-5, atol=2e-5)
    assert (y < 0).any()   # Spyker's Gabor is not rectified


@pytest.mark.parametrize("i", [0, 1])
def test_spyker_log_outputs(rec, i):
    m = LoG(int(rec[f"log{i}_size"]), list(rec[f"log{i}_stds"]), pad=pad_arg(rec[f"log{i}_pad"]))
    for j in (1, 2):
        y = np.asarray(m(nhwc(rec[f"img{j}"])))
        ref = nhwc(rec[f"log{i}_out{j}"])
        assert y.shape == ref.shape
        np.testing.assert_allclose(y, ref, atol=2e-6)
    s = len(rec[f"log{i}_stds"])
    on, off = y[..., :s], y[..., s:2 * s]
    assert ((on == 0) | (off == 0)).all()     # on and off parts never overlap


def test_spyker_dog_hand_case_positive_part_only():
    img = np.zeros((1, 5, 5, 1), np.float32)
    img[0, 2, 2, 0] = 1.0
    m = DoG(1, DoGFilter(1.0, 2.0))
    y = np.asarray(m(img))[0, :, :, 0]
    k = m.kernel[0]
    # an impulse gives the flipped kernel; keep its positive part
    np.testing.assert_allclose(y, np.maximum(k[::-1, ::-1], 0), atol=1e-7)


# ---------------------------------------------------------------- transforms

def test_jit_and_vmap_all_banks():
    rng = np.random.default_rng(4)
    x = rng.random((3, 10, 10, 2)).astype(np.float32)
    mods = [
        Filter([DoGKernel(3, 1.0, 2.0), GaborKernel(5, 30.0)], padding=1, thresholds=[0.0, 0.1], use_abs=True),
        DoG(2, [DoGFilter(1.0, 2.0)], pad=(1, 0)),
        Gabor(1, GaborFilter(1.0, 10.0, 0.5, 3.0, 0.0)),
        LoG(2, [1.0, 1.5]),
        lambda a: local_normalization(a, 2),
        lambda a: filter_bank(a, np.ones((2, 3, 3), np.float32), 1),
    ]
    for mod in mods:
        eager = np.asarray(mod(x))
        np.testing.assert_allclose(np.asarray(jax.jit(mod)(x)), eager, rtol=1e-6, atol=1e-6)
        vm = np.asarray(jax.vmap(mod)(x[:, None]))[:, 0]
        np.testing.assert_allclose(vm, eager, rtol=1e-6, atol=1e-6)


def test_integer_input_and_float64_promotion():
    img = np.arange(49, dtype=np.uint8).reshape(1, 7, 7, 1)
    y = DoG(1, DoGFilter(1.0, 2.0))(img)
    assert y.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(y), np.asarray(DoG(1, DoGFilter(1.0, 2.0))(img.astype(np.float32))))


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("make,exc,match", [
    (lambda: DoGKernel(4, 1.0, 2.0), ValueError, "odd"),
    (lambda: DoGKernel(0, 1.0, 2.0), ValueError, "window_size must be >= 1"),
    (lambda: DoGKernel(3.0, 1.0, 2.0), TypeError, "window_size must be an int"),
    (lambda: DoGKernel(3, 0.0, 2.0), ValueError, "sigma1 must be > 0"),
    (lambda: DoGKernel(3, 1.0, -2.0), ValueError, "sigma2 must be > 0"),
    (lambda: DoGKernel(3, 1.0, 1.0), ValueError, "cannot be normalised"),
    (lambda: DoGKernel(1, 1.0, 2.0), ValueError, "cannot be normalised"),
    (lambda: GaborKernel(5, float("nan")), ValueError, "orientation must be finite"),
    (lambda: GaborKernel(5, 0.0, div=0.0), ValueError, "div must be > 0"),
    (lambda: GaborKernel(6, 0.0), ValueError, "odd"),
    (lambda: DoGFilter(0.0, 1.0), ValueError, "std1 must be > 0"),
    (lambda: DoGFilter(1.0, "2"), TypeError, "std2 must be a real number"),
    (lambda: GaborFilter(1.0, 0.0, 1.0, 0.0, 0.0), ValueError, "lambda_ must be > 0"),
    (lambda: GaborFilter(-1.0, 0.0, 1.0, 2.0, 0.0), ValueError, "sigma must be > 0"),
    (lambda: DoG(0, DoGFilter(1.0, 2.0)), ValueError, "DoG: size must be >= 1"),
    (lambda: DoG(2, []), ValueError, "at least one DoGFilter"),
    (lambda: DoG(2, [(1.0, 2.0)]), TypeError, r"filters\[0\] must be a DoGFilter"),
    (lambda: DoG(2, DoGFilter(1.0, 2.0), pad=-1), ValueError, "pad"),
    (lambda: DoG(2, DoGFilter(1.0, 2.0), pad=(1, 2, 3)), ValueError, "length"),
    (lambda: Gabor(2, []), ValueError, "at least one GaborFilter"),
    # rows of -sin(pi r / 2): 1, 0, -1 -> the raw sum is 0 up to round-off
    (lambda: Gabor(1, GaborFilter(100.0, 0.0, 1.0, 4.0, math.pi / 2)), ValueError, "sum"),
    (lambda: LoG(2, []), ValueError, "at least one"),
    (lambda: LoG(2, [1.0, 0.0]), ValueError, r"stds\[1\] must be > 0"),
    (lambda: Filter([]), ValueError, "non-empty"),
    (lambda: Filter(["dog"]), TypeError, "must be a FilterKernel"),
    (lambda: Filter([np.ones((2, 2))]), ValueError, "odd size"),
    (lambda: Filter([np.ones((3, 5))]), ValueError, "square"),
    (lambda: Filter([DoGKernel(3, 1.0, 2.0)], thresholds=[0.1, 0.2]), ValueError, "one value per kernel"),
    (lambda: Filter([DoGKernel(3, 1.0, 2.0)], thresholds=[float("inf")]), ValueError, "finite"),
    (lambda: Filter([DoGKernel(3, 1.0, 2.0)], use_abs=1), TypeError, "use_abs"),
    (lambda: Filter([DoGKernel(3, 1.0, 2.0)], padding=1.5), TypeError, "padding"),
])
def test_construction_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_call_errors():
    dog = DoG(2, DoGFilter(1.0, 2.0))
    with pytest.raises(ValueError, match=r"DoG: x must be channels-last images of shape \(B, H, W, C\)"):
        dog(np.zeros((8, 8, 1), np.float32))
    with pytest.raises(ValueError, match="kernel is larger than the padded image"):
        dog(np.zeros((1, 4, 8, 1), np.float32))
    with pytest.raises(TypeError, match="real array"):
        dog(np.zeros((1, 8, 8, 1), np.complex64))
    with pytest.raises(ValueError, match="non-empty"):
        dog(np.zeros((1, 8, 8, 0), np.float32))
    f = Filter([DoGKernel(7, 1.0, 2.0)])
    with pytest.raises(ValueError, match="Filter: the 7x7 kernel is larger"):
        f(np.zeros((1, 6, 6, 1), np.float32))
    with pytest.raises(ValueError, match="local_normalization: normalization_radius must be >= 0"):
        local_normalization(np.zeros((1, 4, 4, 1)), -1)
    with pytest.raises(TypeError, match="normalization_radius must be an int"):
        local_normalization(np.zeros((1, 4, 4, 1)), 1.0)
    with pytest.raises(ValueError, match="eps must be finite"):
        local_normalization(np.zeros((1, 4, 4, 1)), 1, eps=float("nan"))
    with pytest.raises(ValueError, match="filter_bank: kernels must be square"):
        filter_bank(np.zeros((1, 4, 4, 1)), np.ones((2, 3, 2)))
    with pytest.raises(ValueError, match="filter_bank: kernels must be finite"):
        filter_bank(np.zeros((1, 4, 4, 1)), np.full((3, 3), np.nan))
