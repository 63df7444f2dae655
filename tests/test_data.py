"""Data helpers: shapes, dtypes, statistics and closed forms; validation;
jit and vmap (over keys)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike import data

KEY = jax.random.PRNGKey(0)


def test_rate_code_shapes_and_dtype():
    x = np.full((3, 1, 5), 0.5, np.float32)
    out = data.rate_code(7)(x, KEY)
    assert out.shape == (3, 7, 5) and out.dtype == jnp.uint8
    # No time axis: a new one is inserted at position 1.
    assert data.rate_code(7)(x[:, 0], KEY).shape == (3, 7, 5)
    assert data.rate_code(4)(np.zeros((2, 3, 3, 2)), KEY).shape == (2, 4, 3, 3, 2)
    assert data.rate_code(4)(np.zeros((6,)), KEY).shape == (6, 4)


def test_rate_code_probabilities():
    out = data.rate_code(1)(np.zeros((4, 5)), KEY)
    assert int(out.sum()) == 0
    out = data.rate_code(3, max_r=1.0)(np.ones((4, 5)), KEY)
    assert int(out.min()) == 1
    # Rate = max_r * x, estimated from 200 * 2000 draws per value.
    x = np.tile(np.asarray([0.2, 0.6, 1.0], np.float32), (2000, 1))
    rates = np.asarray(data.rate_code(200, max_r=0.5)(x, KEY), np.float64)
    np.testing.assert_allclose(rates.mean(axis=(0, 1)), [0.1, 0.3, 0.5],
                               atol=0.005)


def test_rate_code_same_bits_with_or_without_singleton_time_axis():
    x = np.random.RandomState(0).uniform(size=(3, 6)).astype(np.float32)
    f = data.rate_code(5)
    np.testing.assert_array_equal(f(x, KEY), f(x[:, None], KEY))


def test_rate_code_vmap_over_keys_gives_independent_draws():
    keys = jax.random.split(KEY, 4)
    x = np.full((2, 1, 50), 0.5, np.float32)
    outs = jax.vmap(data.rate_code(3), in_axes=(None, 0))(x, keys)
    assert outs.shape == (4, 2, 3, 50)
    np.testing.assert_array_equal(outs[1], data.rate_code(3)(x, keys[1]))
    assert not np.array_equal(outs[0], outs[1])


def test_angle_code_bins():
    f = data.angle_code(5, -1.0, 1.0)  # edges -1, -.5, 0, .5, 1
    obs = jnp.asarray([-1.5, -1.0, -0.7, -0.5, 0.0, 0.49, 0.5, 0.99, 1.0, 2.0])
    out = np.asarray(f(obs))
    assert out.shape == (10, 5) and out.dtype == np.float32
    idx = [row.argmax() if row.any() else -1 for row in out]
    assert idx == [0, 1, 1, 2, 3, 3, 4, 4, -1, -1]
    np.testing.assert_array_equal(out.sum(-1), [1] * 8 + [0, 0])
    # jit-compiled function; vmap matches the batched call
    np.testing.assert_array_equal(jax.vmap(f)(obs), out)
    assert f(jnp.zeros((2, 3))).shape == (2, 3, 5)


def test_shift_augment_rolls_by_one_shift_in_range():
    x = jnp.arange(2 * 3 * 8, dtype=jnp.float32).reshape(2, 3, 8)
    f = data.shift_augment(max_shift=3)
    seen = set()
    for k in jax.random.split(KEY, 40):
        out = np.asarray(f(x, k))
        shifts = [s for s in range(-3, 4)
                  if np.array_equal(out, np.roll(np.asarray(x), s, -1))]
        assert len(shifts) == 1
        seen.add(shifts[0])
    # uniform over [-max_shift, max_shift): +3 never occurs
    assert seen == {-3, -2, -1, 0, 1, 2}


def test_shift_augment_several_axes_and_vmap():
    x = jnp.arange(2 * 3 * 8, dtype=jnp.float32).reshape(2, 3, 8)
    f = data.shift_augment(2, axes=(1, 2))
    out = np.asarray(f(x, KEY))
    s = jax.random.randint(KEY, (2,), -2, 2)
    np.testing.assert_array_equal(out, np.roll(np.asarray(x), np.asarray(s),
                                               (1, 2)))
    per = jax.vmap(data.shift_augment(2, axes=(-1,)))(x, jax.random.split(KEY, 2))
    assert per.shape == x.shape
    assert data.shift_augment(0)(x, KEY).tolist() == x.tolist()


def test_shuffler_is_a_batched_permutation():
    x = jnp.arange(10 * 3, dtype=jnp.float32).reshape(10, 3)
    y = jnp.arange(10, dtype=jnp.int32)
    f = data.shuffler((x, y), batch_size=3)
    bx, by = f((x, y), KEY)
    assert bx.shape == (3, 3, 3) and by.shape == (3, 3)
    flat = np.asarray(by).ravel()
    assert len(set(flat)) == 9 and set(flat) <= set(range(10))
    # features travel with their labels
    np.testing.assert_array_equal(np.asarray(bx).reshape(9, 3),
                                  np.asarray(x)[flat])
    bx2, by2 = f((x, y), jax.random.PRNGKey(1))
    assert not np.array_equal(by, by2)
    vx, vy = jax.vmap(f, in_axes=(None, 0))((x, y), jax.random.split(KEY, 2))
    assert vx.shape == (2, 3, 3, 3) and vy.shape == (2, 3, 3)


@pytest.mark.parametrize("make,exc,pattern", [
    (lambda: data.rate_code(0), ValueError, "num_steps must be an int >= 1; got 0"),
    (lambda: data.rate_code(2.5), TypeError, "num_steps must be an int"),
    (lambda: data.rate_code(3, max_r=1.5), ValueError,
     r"max_r must be in \[0.0, 1.0\]; got 1.5"),
    (lambda: data.angle_code(1, 0, 1), ValueError,
     "neuron_count must be an int >= 2; got 1"),
    (lambda: data.angle_code(4, 1.0, 1.0), ValueError,
     "max_val must be greater than min_val=1.0; got max_val=1.0"),
    (lambda: data.shift_augment(-1), ValueError,
     "max_shift must be an int >= 0; got -1"),
    (lambda: data.shift_augment(2, axes=()), ValueError,
     r"axes must be a non-empty tuple of ints"),
    (lambda: data.shift_augment(2, axes=-1), ValueError,
     r"axes must be a non-empty tuple of ints.*got -1"),
    (lambda: data.shuffler((np.zeros((4, 2)), np.zeros(5)), 2), ValueError,
     r"share their first .*x.shape=\(4, 2\), y.shape=\(5,\)"),
    (lambda: data.shuffler((np.zeros((4, 2)), np.zeros(4)), 5), ValueError,
     "batch_size must be <= the number of samples 4; got 5"),
    (lambda: data.shuffler((np.zeros((4, 2)), np.zeros(4)), 0), ValueError,
     "batch_size must be an int >= 1; got 0"),
    (lambda: data.shuffler(np.zeros((4, 2)), 2), ValueError,
     "dataset must be a pair"),
])
def test_invalid_arguments(make, exc, pattern):
    with pytest.raises(exc, match=pattern):
        make()


def test_invalid_call_arguments():
    x = jnp.zeros((2, 3, 8))
    with pytest.raises(ValueError, match=r"axes=\(3,\) must be distinct axes"):
        data.shift_augment(1, axes=(3,))(x, KEY)
    with pytest.raises(ValueError, match=r"axes=\(2, -1\) must be distinct"):
        data.shift_augment(1, axes=(2, -1))(x, KEY)
    f = data.shuffler((np.zeros((4, 2)), np.zeros(4)), 2)
    with pytest.raises(ValueError, match=r"built for x.shape=\(4, 2\)"):
        f((np.zeros((5, 2)), np.zeros(5)), KEY)
    with pytest.raises(ValueError, match="must have a batch axis"):
        data.rate_code(2)(np.float32(0.5), KEY)
