"""spikeconv: conv, fc, pool (hand-computed cases, transforms, errors)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike import spikeconv as sc


def test_conv_hand_computed_with_stride_and_padding():
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3, 1)  # (B, T, H, W, C)
    k = np.ones((2, 2, 1, 1), np.float32)
    np.testing.assert_array_equal(sc.conv(x, k)[0, 0, :, :, 0], [[12, 16], [24, 28]])
    # (top, left, bottom, right) = (1, 0, 0, 0): a zero row on top
    np.testing.assert_array_equal(sc.conv(x, k, 1, (1, 0, 0, 0))[0, 0, :, :, 0],
                                  [[3, 5], [12, 16], [24, 28]])
    np.testing.assert_array_equal(sc.conv(x, k, (1, 2), 0)[0, 0, :, :, 0], [[12], [24]])
    assert sc.conv(x[:, 0], k).shape == (1, 2, 2, 1)


def test_conv_all_time_steps_equal_per_step_and_transforms():
    rng = np.random.default_rng(0)
    x = (rng.random((2, 3, 6, 5, 2)) > 0.5).astype(np.uint8)
    k = rng.normal(size=(3, 3, 2, 4)).astype(np.float32)
    y = sc.conv(x, k, 2, 1)
    assert y.shape == (2, 3, 3, 3, 4) and y.dtype == jnp.float32
    np.testing.assert_allclose(y[:, 1], sc.conv(x[:, 1], k, 2, 1), rtol=1e-6)
    np.testing.assert_allclose(jax.jit(lambda a: sc.conv(a, k, 2, 1))(x), y, rtol=1e-6)
    np.testing.assert_allclose(jax.vmap(lambda a: sc.conv(a, k, 2, 1))(x[None])[0], y, rtol=1e-6)


def test_fc_and_sign():
    x = np.array([[[1, 0, 1]]], np.float32)
    w = np.array([[0.5, -2.0], [3.0, 0.0], [0.0, -0.1]], np.float32)
    np.testing.assert_allclose(sc.fc(x, w)[0, 0], [0.5, -2.1])
    np.testing.assert_array_equal(sc.fc(x, w, sign=True)[0, 0], [1, -2])
    np.testing.assert_allclose(jax.jit(lambda a: sc.fc(a, w))(x), sc.fc(x, w))


def test_pool_earliest_spike_and_padding():
    times = np.array([[3, 1, 4, 4], [2, 4, 0, 4]], np.int32)[None, :, :, None]  # (1, 2, 4, 1)
    waves = (times[:, None] <= np.arange(4)[None, :, None, None, None]).astype(np.float32)
    y = sc.pool(waves, 2)
    first = np.argmax(np.asarray(y)[0, :, 0, :, 0], axis=0)
    np.testing.assert_array_equal(first, [1, 0])  # earliest spike of each window
    p = -np.ones((1, 1, 2, 2, 1), np.float32)
    # padded cells count as 0 (Spyker): only the window inside the input stays -1
    np.testing.assert_array_equal(sc.pool(p, 2, 1, 1)[0, 0, :, :, 0],
                                  [[0, 0, 0], [0, -1, 0], [0, 0, 0]])
    assert sc.pool(waves, (2, 3), (1, 1)).shape == (1, 4, 1, 2, 1)
    np.testing.assert_array_equal(jax.jit(lambda a: sc.pool(a, 2))(waves), y)


def test_pool_rates_picks_the_highest_rate():
    x = (np.array([[1, 2], [3, 4]], np.float32)[None, None, :, :, None]
         * np.array([1, 10, 100], np.float32)[None, :, None, None, None])  # (1, 3, 2, 2, 1)
    for rates, want in [([5, 2, 3, 1], 1), ([1, 2, 3, 4], 4), ([1, 9, 3, 4], 2), ([0, 0, 0, 0], 1),
                        ([1, 1, 2, 2], 3)]:
        r = np.array(rates, np.float32).reshape(1, 2, 2, 1)
        np.testing.assert_array_equal(sc.pool(x, 2, rates=r).ravel(), [want, 10 * want, 100 * want])
    r = np.array([1, 9, 3, 4], np.float32).reshape(1, 2, 2, 1)
    np.testing.assert_array_equal(sc.pool(x[:, 0], 2, rates=r).ravel(), [2])


def test_errors():
    x = np.zeros((1, 2, 4, 4, 2), np.float32)
    k = np.zeros((3, 3, 2, 1), np.float32)
    with pytest.raises(ValueError, match="conv: kernel height 5 is larger than the padded input"):
        sc.conv(x, np.zeros((5, 3, 2, 1), np.float32))
    assert sc.conv(x, np.zeros((5, 5, 2, 1), np.float32), 1, 1).shape == (1, 2, 2, 2, 1)
    with pytest.raises(ValueError, match="conv: kernel expects Cin=3"):
        sc.conv(x, np.zeros((3, 3, 3, 1), np.float32))
    with pytest.raises(ValueError, match="conv: waves must have rank"):
        sc.conv(x[0, 0], k)
    with pytest.raises(ValueError, match="conv: kernel must have rank 4"):
        sc.conv(x, k[0])
    with pytest.raises(ValueError, match="conv: stride entries must be >= 1"):
        sc.conv(x, k, 0)
    with pytest.raises(TypeError, match="conv: padding"):
        sc.conv(x, k, 1, 1.5)
    with pytest.raises(ValueError, match="fc: weights expect Fin=3"):
        sc.fc(np.zeros((1, 2, 4)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="fc: x must have rank >= 2"):
        sc.fc(np.zeros(3), np.zeros((3, 2)))
    with pytest.raises(TypeError, match="fc: sign must be a bool"):
        sc.fc(np.zeros((1, 3)), np.zeros((3, 2)), sign=1)
    with pytest.raises(ValueError, match="pool: kernel width 5 is larger"):
        sc.pool(x, (2, 5))
    with pytest.raises(ValueError, match="pool: kernel_size entries must be >= 1"):
        sc.pool(x, 0)
    with pytest.raises(ValueError, match=r"pool: rates must have shape \(1, 4, 4, 2\)"):
        sc.pool(x, 2, rates=np.zeros((1, 4, 4, 1)))
    with pytest.raises(ValueError, match="pool: padding is not supported with rates"):
        sc.pool(x, 2, padding=1, rates=np.zeros((1, 4, 4, 2)))
