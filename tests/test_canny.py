"""canny: edges of synthetic shapes, thresholds and hysteresis, transforms, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike.canny import canny


def square(size=24, top=6, bottom=18, left=8, right=16, value=200.0):
    img = np.zeros((size, size), np.float32)
    img[top:bottom, left:right] = value
    return img


def boundary_band(img):
    """Pixels on either side of a step (4-neighbour differs)."""
    band = np.zeros(img.shape, bool)
    band[:-1] |= img[:-1] != img[1:]
    band[1:] |= img[1:] != img[:-1]
    band[:, :-1] |= img[:, :-1] != img[:, 1:]
    band[:, 1:] |= img[:, 1:] != img[:, :-1]
    return band


def test_square_edges_lie_on_its_outline_and_close_it():
    img = square()
    e = np.asarray(canny(img[None, :, :, None], 50, 100))[0, :, :, 0]
    assert e.dtype == np.uint8 and set(np.unique(e)) <= {0, 255}
    edges = e == 255
    band = boundary_band(img)
    # every edge pixel within one pixel of the outline
    near = np.zeros_like(band)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            near |= np.roll(np.roll(band, dr, 0), dc, 1)
    assert edges.any() and not (edges & ~near).any()
    # every side is found along its whole length (one of the two pixels of the step)
    for r in range(7, 17):
        assert edges[r, 7:9].any() and edges[r, 15:17].any(), r
    for c in range(9, 15):
        assert edges[5:7, c].any() and edges[17:19, c].any(), c
    # thin: at most 2 edge pixels across each side, none inside or far outside
    assert edges[7:17, 7:9].sum(axis=1).max() == 1
    assert not edges[9:15, 10:14].any()
    assert not edges[:4].any() and not edges[20:].any()


def test_scale_invariance_and_channels_independent():
    img = square()
    a = np.asarray(canny(img[None, :, :, None], 50, 100))
    b = np.asarray(canny((img / 200.0)[None, :, :, None], 50, 100))
    np.testing.assert_array_equal(a, b)
    two = np.stack([img, img.T], axis=-1)[None]
    e = np.asarray(canny(two, 50, 100))
    np.testing.assert_array_equal(e[..., 0], a[..., 0])
    np.testing.assert_array_equal(e[0, :, :, 1], a[0, :, :, 0].T)


def test_flat_image_has_no_edges():
    flat = np.full((1, 10, 12, 1), 7.0, np.float32)
    assert not np.asarray(canny(flat, 0, 0)).any()


def test_thresholds_and_hysteresis():
    # a strong step (0 -> 200) and a weak step (200 -> 230) on one image
    img = np.zeros((16, 24), np.float32)
    img[:, 8:] = 200.0
    img[:, 16:] = 230.0
    x = img[None, :, :, None]
    strong_only = np.asarray(canny(x, 100, 100))[0, :, :, 0] == 255
    assert strong_only[:, 7:9].any(axis=1).all()
    assert not strong_only[:, 14:18].any()
    # the weak step is 30/200 = 15% of the peak magnitude
    both = np.asarray(canny(x, 10, 10))[0, :, :, 0] == 255
    assert both[:, 15:17].any(axis=1).all()
    # weak step alone never reaches 'high' and is not connected to the strong one: dropped
    hyst = np.asarray(canny(x, 10, 100))[0, :, :, 0] == 255
    np.testing.assert_array_equal(hyst, strong_only)


def test_hysteresis_follows_connected_weak_pixels():
    # a step whose height fades along the rows: strong at the top, weak at the bottom
    img = np.zeros((20, 12), np.float32)
    for r in range(20):
        img[r, 6:] = 200.0 - 9.0 * r
    x = img[None, :, :, None]
    high_only = np.asarray(canny(x, 60, 60))[0, :, :, 0] == 255
    linked = np.asarray(canny(x, 5, 60))[0, :, :, 0] == 255
    weak_only_rows = ~high_only[:, 4:8].any(axis=1)
    assert weak_only_rows.any()
    # the weak lower part is kept because it is connected to the strong upper part
    assert linked[:, 4:8].any(axis=1)[2:18].all()
    assert (linked & ~high_only).any()


def test_jit_and_vmap():
    rng = np.random.default_rng(0)
    x = (rng.random((3, 12, 14, 2)) * 255).astype(np.float32)
    x[0, 3:9, 4:10, 0] = 255.0
    eager = np.asarray(canny(x, 40, 90))
    np.testing.assert_array_equal(np.asarray(jax.jit(lambda a: canny(a, 40, 90))(x)), eager)
    vm = np.asarray(jax.vmap(lambda a: canny(a, 40, 90))(x[:, None]))[:, 0]
    np.testing.assert_array_equal(vm, eager)
    assert eager.any()


def test_uint8_input():
    img = square().astype(np.uint8)[None, :, :, None]
    np.testing.assert_array_equal(np.asarray(canny(img, 50, 100)),
                                  np.asarray(canny(img.astype(np.float32), 50, 100)))
    assert canny(img, 50, 100).dtype == jnp.uint8


@pytest.mark.parametrize("args,exc,match", [
    ((np.zeros((8, 8, 1)), 1, 2), ValueError, r"canny: x must be channels-last images"),
    ((np.zeros((1, 2, 8, 1)), 1, 2), ValueError, "at least 3x3"),
    ((np.zeros((1, 8, 8, 1)), 5, 2), ValueError, "low must be <= high"),
    ((np.zeros((1, 8, 8, 1)), -1, 2), ValueError, "low must be >= 0"),
    ((np.zeros((1, 8, 8, 1)), 1, float("inf")), ValueError, "high must be finite"),
    ((np.zeros((1, 8, 8, 1)), "1", 2), TypeError, "low must be a real number"),
    ((np.zeros((1, 8, 8, 1), np.complex64), 1, 2), TypeError, "real array"),
])
def test_errors(args, exc, match):
    with pytest.raises(exc, match=match):
        canny(*args)
