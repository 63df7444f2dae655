"""ZCA whitening: identity covariance, Spyker oracle, split, save/load, corrupt files, transforms, errors."""

import os
import zipfile

import jax
import numpy as np
import pytest

from spyxlike.zca import ZCA, zca_apply, zca_fit, zca_split

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


@pytest.fixture(scope="module")
def rec():
    with np.load(os.path.join(FIXTURES, "spyker_filters.npz"), allow_pickle=False) as d:
        return {k: d[k] for k in d.files}


def correlated(n=400, d=6, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) + 3.0).astype(np.float32)


def test_whitening_gives_identity_covariance():
    x = correlated()
    z = ZCA().fit(x, 1e-6)
    y = np.asarray(z(x), np.float64)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(np.cov(y, rowvar=False), np.eye(6), atol=2e-3)
    # ZCA (not PCA): the matrix is symmetric, and it is the inverse square root of the covariance
    t = np.asarray(z.transform, np.float64)
    np.testing.assert_allclose(t, t.T, atol=1e-5)
    cov = np.cov(x.astype(np.float64), rowvar=False)
    np.testing.assert_allclose(t @ cov @ t, np.eye(6), atol=2e-3)


def test_epsilon_shrinks_the_transform():
    x = correlated(seed=1)
    small = np.abs(np.asarray(zca_fit(x, 1e-6)[1])).max()
    big = np.abs(np.asarray(zca_fit(x, 10.0)[1])).max()
    assert big < small


def test_hand_computed_diagonal_case():
    # two independent features with variances 4 and 1 (unbiased), means 1 and -2
    x = np.array([[3.0, -1.0], [-1.0, -3.0], [1.0, -2.0 + np.sqrt(1.0)], [1.0, -2.0 - np.sqrt(1.0)]], np.float32)
    x[:, 1] = [-2.0 + 1.2247449, -2.0 - 1.2247449, -2.0, -2.0]   # var = 2 * 1.5 / 3 = 1
    x[:, 0] = [1.0, 1.0, 1.0 + 2.4494898, 1.0 - 2.4494898]       # var = 2 * 6 / 3 = 4
    mean, t = zca_fit(x, 0.0)
    np.testing.assert_allclose(np.asarray(mean), [1.0, -2.0], atol=1e-6)
    np.testing.assert_allclose(np.asarray(t), np.diag([0.5, 1.0]), atol=1e-5)
    mean, t = zca_fit(x, 1.0)
    np.testing.assert_allclose(np.asarray(t), np.diag([1 / np.sqrt(5.0), 1 / np.sqrt(2.0)]), atol=1e-5)


def test_matches_spyker_flat(rec):
    z = ZCA().fit(rec["zca_x"], float(rec["zca_eps"]))
    np.testing.assert_allclose(np.asarray(z.mean), rec["zca_mean"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(z.transform), rec["zca_transform"], rtol=1e-4, atol=2e-5)
    y = np.asarray(z(rec["zca_y"]))
    np.testing.assert_allclose(y, rec["zca_y_white"], rtol=1e-4, atol=5e-5)
    # Spyker: (N, 2, D); here: (N, 2D), same order
    s = np.asarray(ZCA.split(y))
    np.testing.assert_allclose(s, rec["zca_y_split"].reshape(s.shape), rtol=1e-4, atol=5e-5)


def test_matches_spyker_on_images_channels_last(rec):
    x_nchw = rec["zcaimg_x"]
    x = np.transpose(x_nchw, (0, 2, 3, 1))
    z = ZCA().fit(x, float(rec["zcaimg_eps"]))
    assert z.mean.shape == (18,)
    y = np.asarray(z(x))
    assert y.shape == x.shape
    np.testing.assert_allclose(y, np.transpose(rec["zcaimg_white"], (0, 2, 3, 1)), rtol=1e-4, atol=1e-4)
    # Spyker's split is (N, 2, C, H, W); channels-last (N, H, W, 2C) holds the same channels
    s = np.asarray(ZCA.split(y))
    ref = rec["zcaimg_split"]
    n, p, c, h, w = ref.shape
    np.testing.assert_allclose(s, np.transpose(ref.reshape(n, p * c, h, w), (0, 2, 3, 1)), rtol=1e-4, atol=1e-4)


def test_split_hand_computed():
    x = np.array([[1.5, -2.0, 0.0]], np.float32)
    np.testing.assert_array_equal(np.asarray(zca_split(x)), [[1.5, 0.0, 0.0, 0.0, 2.0, 0.0]])


def test_fit_transform_and_multiple_arrays():
    x = correlated(seed=2)
    z, y = ZCA().fit(x, 0.1, transform=True)
    np.testing.assert_allclose(np.asarray(y), np.asarray(z(x)), atol=1e-6)
    a, b = z(x[:3], x[3:5])
    np.testing.assert_allclose(np.asarray(a), np.asarray(y[:3]), atol=1e-6)
    np.testing.assert_allclose(np.asarray(b), np.asarray(y[3:5]), atol=1e-6)


def test_save_load_round_trip(tmp_path):
    x = correlated(seed=3)
    z = ZCA().fit(x, 0.1)
    path = tmp_path / "zca.npz"
    z.save(path)
    with np.load(path, allow_pickle=False) as d:
        assert sorted(d.files) == ["mean", "transform"]
    z2 = ZCA().load(path)
    np.testing.assert_array_equal(np.asarray(z2.mean), np.asarray(z.mean))
    np.testing.assert_array_equal(np.asarray(z2.transform), np.asarray(z.transform))
    np.testing.assert_array_equal(np.asarray(z2(x)), np.asarray(z(x)))


def test_loads_a_file_written_by_spyker(rec):
    z = ZCA().load(os.path.join(FIXTURES, "spyker_zca_saved.npz"))
    np.testing.assert_array_equal(np.asarray(z.mean), rec["zca_mean"])
    np.testing.assert_array_equal(np.asarray(z.transform), rec["zca_transform"])
    np.testing.assert_allclose(np.asarray(z(rec["zca_y"])), rec["zca_y_white"], rtol=1e-5, atol=1e-5)


def test_truncated_and_corrupt_files_raise_clear_errors(tmp_path):
    z = ZCA().fit(correlated(seed=4), 0.1)
    good = tmp_path / "good.npz"
    z.save(good)
    data = good.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 5):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="ZCA.load: .* not a readable .npz file"):
            ZCA().load(bad)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip archive at all" * 4)
    with pytest.raises(ValueError, match="not a readable .npz file"):
        ZCA().load(garbage)
    # a zip whose member is not a valid .npy
    broken = tmp_path / "broken.npz"
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("mean.npy", b"\x93NUMPY garbage")
        zf.writestr("transform.npy", b"nothing")
    with pytest.raises(ValueError, match="not a readable .npz file"):
        ZCA().load(broken)


def test_bad_contents_raise(tmp_path):
    p = tmp_path / "missing.npz"
    np.savez(p, mean=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"lacks the key\(s\) \['transform'\]"):
        ZCA().load(p)
    p = tmp_path / "shape.npz"
    np.savez(p, mean=np.zeros(3, np.float32), transform=np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match=r"mean must have shape \(D,\) and transform \(D, D\)"):
        ZCA().load(p)
    p = tmp_path / "nan.npz"
    np.savez(p, mean=np.zeros(2, np.float32), transform=np.full((2, 2), np.nan, np.float32))
    with pytest.raises(ValueError, match="non-finite"):
        ZCA().load(p)
    p = tmp_path / "ints.npz"
    np.savez(p, mean=np.zeros(2, np.int32), transform=np.eye(2, dtype=np.int32))
    with pytest.raises(ValueError, match="must be a float array"):
        ZCA().load(p)
    p = tmp_path / "pickled.npz"
    np.savez(p, mean=np.array([{"a": 1}], dtype=object), transform=np.eye(1, dtype=np.float32))
    with pytest.raises(ValueError, match="not a readable .npz file"):
        ZCA().load(p)
    with pytest.raises(FileNotFoundError, match="ZCA.load: no such file"):
        ZCA().load(tmp_path / "nope.npz")


def test_jit_vmap_and_pytree():
    x = correlated(seed=5)
    z = ZCA().fit(x, 0.1)
    eager = np.asarray(z(x))
    np.testing.assert_allclose(np.asarray(jax.jit(lambda m, a: m(a))(z, x)), eager, rtol=1e-5, atol=1e-5)
    batched = np.asarray(jax.vmap(z)(x.reshape(4, 100, 6)))
    np.testing.assert_allclose(batched.reshape(400, 6), eager, rtol=1e-5, atol=1e-5)
    mean, t = jax.jit(zca_fit, static_argnums=1)(x, 0.1)
    np.testing.assert_allclose(np.asarray(t), np.asarray(z.transform), rtol=1e-4, atol=2e-5)
    leaves = jax.tree_util.tree_leaves(z)
    assert len(leaves) == 2
    np.testing.assert_allclose(np.asarray(jax.jit(zca_split)(x)), np.asarray(zca_split(x)))


def test_errors():
    with pytest.raises(ValueError, match="not fitted"):
        ZCA()(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="not fitted"):
        ZCA().save("unused.npz")
    with pytest.raises(ValueError, match="zca_fit: x must hold at least 2 samples"):
        ZCA().fit(np.zeros((1, 3)), 0.1)
    with pytest.raises(ValueError, match=r"zca_fit: x must have shape \(N, features...\)"):
        ZCA().fit(np.zeros(5), 0.1)
    with pytest.raises(ValueError, match="epsilon must be finite and >= 0"):
        ZCA().fit(np.zeros((3, 2)), -1.0)
    with pytest.raises(TypeError, match="epsilon must be a float"):
        ZCA().fit(np.zeros((3, 2)), "0.1")
    with pytest.raises(TypeError, match="transform must be a bool"):
        ZCA().fit(np.zeros((3, 2)), 0.1, transform="yes")
    z = ZCA().fit(correlated(seed=6), 0.1)
    with pytest.raises(ValueError, match="x has 5 features per sample"):
        z(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="give at least one array"):
        z()
    with pytest.raises(ValueError, match="give both mean and transform"):
        ZCA(mean=np.zeros(3))
    with pytest.raises(TypeError, match="real array"):
        zca_apply(np.zeros((2, 2), np.complex64), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="0-d"):
        zca_split(np.float32(1.0))
