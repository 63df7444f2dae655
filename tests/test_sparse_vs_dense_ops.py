"""spyxlike.sparse gives the results of the dense single-spike ops on the same spikes.

Dense side: cumulative spike-waves (values 0/1) through spikewave.pad,
spiketime.gather, inhibition.inhibit (Spyker's) and competition.convwta
(Spyker's); sparse side: the same spikes as SparseSpikes events. The
conv/pool equalities are in test_sparse_vs_dense.py.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike import sparse
from spyxlike.coding import times_to_waves, waves_to_times
from spyxlike.competition import convwta
from spyxlike.inhibition import inhibit
from spyxlike.sparse_spikes import SparseSpikes
from spyxlike.spiketime import gather
from spyxlike.spikewave import pad

T = 6


def _random_times(seed, shape=(2, 7, 6, 4), p_spike=0.4):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, T, shape).astype(np.int32)
    return np.where(rng.random(shape) < p_spike, t, T).astype(np.int32)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gather_equals_dense_gather(seed):
    t = _random_times(seed)
    s = SparseSpikes.from_times(jnp.asarray(t), T)
    dense = gather(times_to_waves(jnp.asarray(t), T), 0.0, "rank")
    np.testing.assert_array_equal(np.asarray(sparse.gather(s)), np.asarray(dense))
    np.testing.assert_array_equal(np.asarray(dense), t)


@pytest.mark.parametrize("padding", [1, (2, 0), (0, 1, 2, 3)])
def test_pad_equals_dense_pad(padding):
    t = _random_times(3)
    s = sparse.pad(SparseSpikes.from_times(jnp.asarray(t), T), padding)
    dense = pad(times_to_waves(jnp.asarray(t), T), padding, 0)
    np.testing.assert_array_equal(np.asarray(s.to_times()), np.asarray(waves_to_times(dense)))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_inhibit_equals_dense_spyker_inhibit(seed):
    t = _random_times(seed, p_spike=0.7)  # many positions with several spiking channels
    s = sparse.inhibit(SparseSpikes.from_times(jnp.asarray(t), T))
    dense = inhibit(times_to_waves(jnp.asarray(t), T), 0.0, impl="reference")
    np.testing.assert_array_equal(np.asarray(s.to_times()), np.asarray(waves_to_times(dense)))
    # at most one channel per position survives
    assert int(np.max(np.sum(np.asarray(s.to_times()) < T, axis=-1))) <= 1


@pytest.mark.parametrize("seed, radius, count", [(0, 1, 3), (1, 0, 4), (2, 2, 2), (3, (1, 2), 5)])
def test_convwta_equals_dense_spyker_convwta(seed, radius, count):
    t = _random_times(seed, p_spike=0.3)
    winners_sparse = sparse.convwta(SparseSpikes.from_times(jnp.asarray(t), T), radius, count)
    winners_dense = convwta(times_to_waves(jnp.asarray(t), T), radius, count, 0.0, impl="reference")
    assert winners_sparse.to_list() == winners_dense.to_list()
    assert max(len(w) for w in winners_dense.to_list()) >= 1
