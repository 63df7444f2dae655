"""spyxlike.layout: converters to and from SLAYER, SpykeTorch and Spyker layouts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike import layout


def _arange(shape):
    return np.arange(int(np.prod(shape))).reshape(shape)


def test_slayer_round_trip_and_indexing():
    x = _arange((2, 3, 4, 5, 6))                       # spyxlike (B, T, H, W, C)
    s = layout.to_slayer(x)
    assert s.shape == (2, 6, 4, 5, 3)                  # (N, C, H, W, T)
    assert s[1, 4, 2, 3, 0] == x[1, 0, 2, 3, 4]
    np.testing.assert_array_equal(layout.from_slayer(s), x)
    assert isinstance(s, np.ndarray)


def test_slayer_dense():
    x = _arange((2, 7, 5))                              # (B, T, F)
    s = layout.to_slayer(x)
    assert s.shape == (2, 5, 1, 1, 7)                   # neurons on the channel axis
    assert s[1, 3, 0, 0, 6] == x[1, 6, 3]
    np.testing.assert_array_equal(layout.from_slayer(s, flatten=True), x)
    # flatten follows SLAYER's C, H, W order
    s2 = _arange((1, 2, 3, 4, 5))
    f = layout.from_slayer(s2, flatten=True)
    assert f.shape == (1, 5, 24)
    assert f[0, 4, 1 * 12 + 2 * 4 + 3] == s2[0, 1, 2, 3, 4]


def test_spyker_round_trip():
    x = _arange((2, 3, 4, 5, 6))
    k = layout.to_spyker(x)
    assert k.shape == (2, 3, 6, 4, 5)
    assert k[1, 2, 5, 3, 4] == x[1, 2, 3, 4, 5]
    np.testing.assert_array_equal(layout.from_spyker(k), x)
    d = _arange((2, 3, 4))
    np.testing.assert_array_equal(layout.to_spyker(d), d)
    np.testing.assert_array_equal(layout.from_spyker(d), d)


def test_spyketorch_layout_and_waves():
    times = np.array([[0, 2], [5, 1]])                  # (H, W) spike times, 5 = never (T = 4)
    t = 4
    waves = (np.arange(t)[:, None, None] >= times[None]).astype(np.float32)[:, None]   # (T, 1, H, W)
    x = layout.from_spyketorch(waves)
    assert x.shape == (1, 4, 2, 2, 1)
    np.testing.assert_array_equal(x[0, :, :, :, 0], waves[:, 0])
    spikes = layout.from_spyketorch(waves, to_spikes=True)
    assert spikes.sum() == 3                            # one spike per neuron that fires
    assert spikes[0, 2, 0, 1, 0] == 1 and spikes[0, 1, 1, 1, 0] == 1 and spikes[0, 0, 0, 0, 0] == 1
    np.testing.assert_array_equal(layout.to_spyketorch(spikes, from_spikes=True), waves)
    np.testing.assert_array_equal(layout.to_spyketorch(x), waves)
    np.testing.assert_array_equal(layout.to_spyketorch(x[0]), waves)   # unbatched input


def test_rank_and_batch_errors():
    with pytest.raises(ValueError, match=r"from_slayer: x must be SLAYER NCHWT .*got rank 4"):
        layout.from_slayer(np.zeros((1, 2, 3, 4)))
    with pytest.raises(ValueError, match=r"to_slayer: .*rank 5.*rank 3.*got rank 2"):
        layout.to_slayer(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"from_spyketorch: waves must be SpykeTorch \(T, C, H, W\)"):
        layout.from_spyketorch(np.zeros((1, 2, 3, 4, 5)))
    with pytest.raises(ValueError, match="one sample; got batch size 2"):
        layout.to_spyketorch(np.zeros((2, 3, 4, 5, 6)))
    with pytest.raises(ValueError, match="to_spyker"):
        layout.to_spyker(np.zeros((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="from_spyker"):
        layout.from_spyker(np.zeros((2,)))


def test_jax_arrays_and_jit():
    x = jnp.asarray(_arange((2, 3, 4, 5, 6)), jnp.float32)
    s = layout.to_slayer(x)
    assert isinstance(s, jax.Array)
    roundtrip = jax.jit(lambda a: layout.from_slayer(layout.to_slayer(a)))(x)
    np.testing.assert_array_equal(np.asarray(roundtrip), np.asarray(x))
    k = jax.jit(layout.to_spyker)(x)
    np.testing.assert_array_equal(np.asarray(k), layout.to_spyker(np.asarray(x)))
    waves = jnp.asarray((np.random.default_rng(0).random((6, 2, 3, 3)) < 0.3).cumsum(0) > 0, jnp.float32)
    sp = jax.jit(lambda w: layout.from_spyketorch(w, to_spikes=True))(waves)
    back = jax.jit(lambda s: layout.to_spyketorch(s, from_spikes=True))(sp)
    np.testing.assert_array_equal(np.asarray(back), np.asarray(waves))
    # vmap over a leading axis of SpykeTorch samples
    many = jnp.stack([waves, waves])
    v = jax.vmap(layout.from_spyketorch)(many)
    assert v.shape == (2, 1, 6, 3, 3, 2)
    with pytest.raises(ValueError, match="got rank 4"):
        jax.jit(layout.from_slayer)(jnp.zeros((1, 2, 3, 4)))


def test_gradient_flows_through_layouts():
    x = jnp.ones((1, 2, 3, 3, 2))
    g = jax.grad(lambda a: jnp.sum(layout.to_slayer(a) * jnp.arange(2.0)[None, :, None, None, None]))(x)
    np.testing.assert_array_equal(np.asarray(g[..., 1]), 1.0)
    np.testing.assert_array_equal(np.asarray(g[..., 0]), 0.0)
