"""Tests for spyxlike.datasets.load_digits."""

import numpy as np
import pytest
from sklearn.datasets import load_digits as sk_load_digits

from spyxlike.datasets import load_digits


@pytest.fixture(scope="module")
def default_split():
    return load_digits()


def test_default_shapes_dtypes_and_sizes(default_split):
    (x_tr, y_tr), (x_te, y_te) = default_split
    assert x_tr.shape == (1437, 64) and x_te.shape == (360, 64)
    assert y_tr.shape == (1437,) and y_te.shape == (360,)
    assert x_tr.dtype == np.float32 and x_te.dtype == np.float32
    assert y_tr.dtype == np.int32 and y_te.dtype == np.int32
    assert set(np.unique(y_tr)) == set(range(10)) and set(np.unique(y_te)) == set(range(10))


def test_pixels_scaled_by_16(default_split):
    (x_tr, _), (x_te, _) = default_split
    x = np.concatenate([x_tr, x_te])
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(x * 16, np.round(x * 16))  # exactly k / 16


def test_split_is_a_partition_of_the_bundled_data(default_split):
    (x_tr, y_tr), (x_te, y_te) = default_split
    sk = sk_load_digits()
    ours = np.concatenate([np.concatenate([x_tr, x_te]) * 16, np.concatenate([y_tr, y_te])[:, None]], 1)
    ref = np.concatenate([sk.data, sk.target[:, None]], 1)
    order = lambda a: a[np.lexsort(a.T[::-1])]
    np.testing.assert_array_equal(order(ours), order(ref.astype(np.float64)))


def test_split_is_stratified(default_split):
    (_, y_tr), (_, y_te) = default_split
    total = np.bincount(np.concatenate([y_tr, y_te]), minlength=10)
    test_counts = np.bincount(y_te, minlength=10)
    assert np.all(np.abs(test_counts - 0.2 * total) <= 1.0)


def test_as_images_is_the_reshaped_flat_layout(default_split):
    (x_tr, y_tr), (x_te, y_te) = default_split
    (i_tr, j_tr), (i_te, j_te) = load_digits(as_images=True)
    assert i_tr.shape == (1437, 8, 8, 1) and i_te.shape == (360, 8, 8, 1)
    np.testing.assert_array_equal(i_tr.reshape(-1, 64), x_tr)
    np.testing.assert_array_equal(i_te.reshape(-1, 64), x_te)
    np.testing.assert_array_equal(j_tr, y_tr)
    # row-major 8x8: pixel (r, c) is flat index 8 r + c
    np.testing.assert_array_equal(i_tr[:, 2, 5, 0], x_tr[:, 8 * 2 + 5])


def test_deterministic_per_seed_and_seed_changes_split(default_split):
    (x_tr, y_tr), (x_te, y_te) = default_split
    (x2, y2), (x3, y3) = load_digits(seed=0)
    np.testing.assert_array_equal(x2, x_tr)
    np.testing.assert_array_equal(y3, y_te)
    (x4, _), _ = load_digits(seed=1)
    assert x4.shape == x_tr.shape and not np.array_equal(x4, x_tr)


def test_fraction_and_dtype_options():
    (x_tr, _), (x_te, y_te) = load_digits(test_fraction=0.5, dtype=np.float64)
    assert x_te.shape == (899, 64) and x_tr.shape == (898, 64)  # ceil(0.5 * 1797) test
    assert x_te.dtype == np.float64


def test_labels_match_images_nearest_centroid_learns(default_split):
    """A nearest-class-mean classifier fit on train must score > 85 % on test."""
    (x_tr, y_tr), (x_te, y_te) = default_split
    centroids = np.stack([x_tr[y_tr == k].mean(0) for k in range(10)])
    pred = np.argmin(((x_te[:, None, :] - centroids[None]) ** 2).sum(-1), axis=1)
    assert np.mean(pred == y_te) > 0.85


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5, 0.001, 0.999])
def test_bad_test_fraction_value(bad):
    with pytest.raises(ValueError, match="test_fraction"):
        load_digits(test_fraction=bad)


@pytest.mark.parametrize(
    "kwargs, err, word",
    [
        ({"test_fraction": "0.2"}, TypeError, "test_fraction"),
        ({"test_fraction": True}, TypeError, "test_fraction"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"dtype": np.int32}, TypeError, "dtype"),
        ({"as_images": 1}, TypeError, "as_images"),
    ],
)
def test_bad_arguments(kwargs, err, word):
    with pytest.raises(err, match=word):
        load_digits(**kwargs)


def test_data_module_re_exports_the_digits_loader():
    from spyxlike import data

    (a, _), _ = data.load_digits()
    (b, _), _ = load_digits()
    np.testing.assert_array_equal(a, b)


def test_load_digits_upsampled_protocol():
    from spyxlike.datasets import load_digits_upsampled

    (x_tr, y_tr), (x_te, y_te) = load_digits_upsampled()
    sk = sk_load_digits()
    assert x_tr.shape == (1200, 28, 28, 1) and x_te.shape == (597, 28, 28, 1)
    assert x_tr.dtype == np.float32 and y_tr.dtype == np.int32
    np.testing.assert_array_equal(y_tr, sk.target[:1200])
    np.testing.assert_array_equal(y_te, sk.target[1200:])
    assert 0.0 <= x_tr.min() and x_tr.max() <= 1.0
    # The mean intensity is kept by bilinear upsampling (up to border effects).
    np.testing.assert_allclose(x_tr.mean(axis=(1, 2, 3)), sk.images[:1200].mean(axis=(1, 2)) / 16, atol=0.03)


@pytest.mark.parametrize("kwargs", [{"size": 4}, {"n_train": 0}, {"n_train": 1797}])
def test_load_digits_upsampled_rejects_bad_arguments(kwargs):
    from spyxlike.datasets import load_digits_upsampled

    with pytest.raises(ValueError):
        load_digits_upsampled(**kwargs)
