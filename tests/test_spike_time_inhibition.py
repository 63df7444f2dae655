"""pointwise_inhibition_times equals SpykeTorch's pointwise_inhibition on waves."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike.coding import times_to_waves, waves_to_times
from spyxlike.inhibition import pointwise_inhibition
from spyxlike.spike_time_inhibition import pointwise_inhibition_times

T = 5


def test_hand_computed_ties():
    t = jnp.array([[[[2, 1, 1, 5]]]], jnp.int32)
    v = jnp.array([[[[9.0, 3.0, 3.0, 0.0]]]])
    tt, vv = pointwise_inhibition_times(t, v, T)
    np.testing.assert_array_equal(tt[0, 0, 0], [5, 1, 5, 5])  # earliest; tie -> lower index
    np.testing.assert_array_equal(vv[0, 0, 0], [0.0, 3.0, 0.0, 0.0])


def test_matches_wave_form_on_random_layers():
    rng = np.random.default_rng(0)
    t = rng.integers(0, T + 1, (3, 4, 4, 6)).astype(np.int32)
    v_at = rng.integers(1, 4, t.shape).astype(np.float32)  # integer values make ties common
    v_at = np.where(t < T, v_at, 0.0)
    # Thresholded potentials that are v_at from the spike on (constant after the spike).
    waves = np.asarray(times_to_waves(jnp.asarray(t), T))
    pots = waves * v_at[:, None]
    inhibited = np.asarray(pointwise_inhibition(jnp.asarray(pots), impl="reference"))
    tt, vv = pointwise_inhibition_times(t, v_at, T)
    np.testing.assert_array_equal(np.asarray(waves_to_times(jnp.asarray(inhibited))), np.asarray(tt))
    np.testing.assert_array_equal(inhibited[:, -1], np.asarray(vv))


def test_jit_vmap_and_errors():
    t = jnp.zeros((2, 1, 2, 3, 4), jnp.int32)
    v = jnp.ones((2, 1, 2, 3, 4))
    out = jax.jit(jax.vmap(lambda a, b: pointwise_inhibition_times(a, b, T)))(t, v)
    assert out[0].shape == t.shape and int((out[0] < T).sum()) == 2 * 2 * 3
    with pytest.raises(ValueError, match="times must be"):
        pointwise_inhibition_times(t[0, 0], v[0, 0], T)
    with pytest.raises(ValueError, match="values must"):
        pointwise_inhibition_times(t[0], v[0, :, :1], T)
    with pytest.raises(ValueError, match="time_steps"):
        pointwise_inhibition_times(t[0], v[0], 0)
