"""SparseSpikes: round trips dense <-> sparse <-> times <-> (indices, times), sorting, overflow, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike.coding import times_to_waves
from spyxlike.sparse_spikes import SparseSpikes


def _times(rng, shape, T, activity=0.5):
    t = rng.integers(0, T, size=shape)
    return np.where(rng.random(shape) < activity, t, T).astype(np.int32)


def test_from_times_hand_case_canonical_order():
    times = np.array([[[[2, 0], [4, 1]]], [[[4, 4], [0, 4]]]], np.int32)  # (2, 1, 2, 2), T = 4
    s = SparseSpikes.from_times(times, 4)
    assert s.shape == (2, 4, 1, 2, 2) and s.capacity == 8
    assert int(s.count) == 4 and int(s.overflow) == 0
    np.testing.assert_array_equal(
        np.asarray(s.events[:4]),
        [[0, 0, 0, 0, 1], [0, 1, 0, 1, 1], [0, 2, 0, 0, 0], [1, 0, 0, 1, 0]],
    )
    np.testing.assert_array_equal(np.asarray(s.events[4:]), -1)
    np.testing.assert_array_equal(np.asarray(s.valid), [1, 1, 1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(np.asarray(s.index[:4]), [1, 3, 0, 2])
    np.testing.assert_array_equal(np.asarray(s.to_times()), times)


@pytest.mark.parametrize("shape", [(3, 4, 5, 2), (2, 7)])
def test_round_trips_times_waves_indices(shape):
    rng = np.random.default_rng(1)
    T = 6
    times = _times(rng, shape, T)
    s = SparseSpikes.from_times(times, T)
    np.testing.assert_array_equal(np.asarray(s.to_times()), times)
    waves = np.asarray(times_to_waves(times, T))
    np.testing.assert_array_equal(np.asarray(s.to_dense()), waves)
    d = SparseSpikes.from_dense(waves)
    np.testing.assert_array_equal(np.asarray(d.events), np.asarray(s.events))
    assert int(d.count) == int(s.count) == int((times < T).sum())
    pairs = s.to_indices_times()
    assert len(pairs) == shape[0]
    flat = times.reshape(shape[0], -1)
    for b, (idx, ts) in enumerate(pairs):
        np.testing.assert_array_equal(flat[b, idx], ts)
        assert len(idx) == int((flat[b] < T).sum())
        assert np.all(np.diff(ts) >= 0)
    back = SparseSpikes.from_indices_times([p[0] for p in pairs], [p[1] for p in pairs],
                                           (shape[0], T) + shape[1:])
    np.testing.assert_array_equal(np.asarray(back.to_times()), times)


def test_from_dense_non_cumulative_keeps_every_spike():
    x = np.zeros((1, 4, 3), np.float32)
    x[0, 0, 0] = x[0, 2, 0] = x[0, 1, 2] = 1.0
    s = SparseSpikes.from_dense(x, cumulative=False)
    assert int(s.count) == 3
    np.testing.assert_array_equal(np.asarray(s.events[:3]), [[0, 0, 0], [0, 1, 2], [0, 2, 0]])
    np.testing.assert_array_equal(np.asarray(s.to_dense(cumulative=False)), x)
    np.testing.assert_array_equal(np.asarray(s.to_times()), [[0, 4, 1]])
    # cumulative reading of the same array: one event per neuron at its first spike
    c = SparseSpikes.from_dense(x)
    assert int(c.count) == 2


def test_sort_by_time_orders():
    ev = np.array([[1, 2, 0], [0, 3, 1], [1, 0, 2], [0, 0, 0]])
    s = SparseSpikes.from_events(ev, (2, 4, 3), capacity=6)
    np.testing.assert_array_equal(np.asarray(s.sort_by_time().events[:4]),
                                  [[0, 0, 0], [0, 3, 1], [1, 0, 2], [1, 2, 0]])
    g = s.sort_by_time(per_sample=False)
    np.testing.assert_array_equal(np.asarray(g.events[:4]), [[0, 0, 0], [1, 0, 2], [1, 2, 0], [0, 3, 1]])
    np.testing.assert_array_equal(np.asarray(g.events[4:]), -1)
    assert int(g.count) == 4


def test_from_indices_times_sort_flag():
    s = SparseSpikes.from_indices_times([np.array([2, 0])], [np.array([3, 1])], (1, 4, 3), sort=True)
    np.testing.assert_array_equal(np.asarray(s.events[:2]), [[0, 1, 0], [0, 3, 2]])


def test_overflow_raises_when_concrete_and_is_carried_under_jit():
    times = np.zeros((2, 3, 3, 1), np.int32)
    with pytest.raises(ValueError, match="did not fit into capacity=5"):
        SparseSpikes.from_times(times, 4, capacity=5)
    with pytest.raises(ValueError, match="did not fit"):
        SparseSpikes.from_dense(np.ones((1, 2, 3)), capacity=2)
    out = jax.jit(lambda t: SparseSpikes.from_times(t, 4, capacity=5))(times)
    assert int(out.count) == 5 and int(out.overflow) == 13
    with pytest.raises(ValueError, match="13 spike events did not fit"):
        out.check()
    ok = jax.jit(lambda t: SparseSpikes.from_times(t, 4))(times)
    assert ok.check() is ok


def test_pytree_jit_vmap():
    rng = np.random.default_rng(2)
    times = _times(rng, (4, 2, 3, 3, 2), 5)  # 4 independent batches
    stacked = jax.vmap(lambda t: SparseSpikes.from_times(t, 5))(jnp.asarray(times))
    assert stacked.events.shape == (4, 36, 5) and stacked.shape == (2, 5, 3, 3, 2)
    back = jax.jit(jax.vmap(lambda s: s.to_times()))(stacked)
    np.testing.assert_array_equal(np.asarray(back), times)
    leaves, treedef = jax.tree_util.tree_flatten(stacked)
    assert len(leaves) == 3
    assert jax.tree_util.tree_unflatten(treedef, leaves).shape == stacked.shape


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: SparseSpikes.from_times(np.array([[0, -1]]), 3), "negative times"),
        (lambda: SparseSpikes.from_times(np.array([[0, 4]]), 3), "<= time_steps"),
        (lambda: SparseSpikes.from_times(np.array([[0, 1]]), 0), "time_steps must be >= 1"),
        (lambda: SparseSpikes.from_times(np.array([[0, 1]]), 3, capacity=0), "capacity must be >= 1"),
        (lambda: SparseSpikes.from_times(np.zeros((2, 3, 4)), 3), "must be \\(B, H, W, C\\)"),
        (lambda: SparseSpikes.from_events([[0, -1, 0]], (1, 3, 2)), "negative times"),
        (lambda: SparseSpikes.from_events([[0, 1, 2]], (1, 3, 2)), "index out of range"),
        (lambda: SparseSpikes.from_events([[1, 1, 0]], (1, 3, 2)), "batch out of range"),
        (lambda: SparseSpikes.from_events([[0, 0, 0, 0, 2]], (1, 3, 2, 2, 2)), "channel out of range"),
        (lambda: SparseSpikes.from_events([[0, 0, 0]] * 3, (1, 3, 2), capacity=2), "do not fit"),
        (lambda: SparseSpikes.from_events([[0, 0]], (1, 3, 2)), "must have shape \\(n, 3\\)"),
        (lambda: SparseSpikes.from_events([[0, 0, 0]], (1, 3)), "shape must be"),
        (lambda: SparseSpikes.from_indices_times([[1, 0]], [[2, 1]], (1, 3, 2)), "must be sorted"),
        (lambda: SparseSpikes.from_indices_times([[0]], [[-1]], (1, 3, 2)), "negative times"),
        (lambda: SparseSpikes.from_indices_times([[2]], [[0]], (1, 3, 2)), "indices must be in"),
        (lambda: SparseSpikes.from_indices_times([[0]], [[3]], (1, 3, 2)), "times must be < T"),
        (lambda: SparseSpikes.from_indices_times([[0], [1]], [[0]], (1, 3, 2)), "one array per sample"),
        (lambda: SparseSpikes.from_dense(np.zeros((2, 3, 4, 5))), "must be \\(B, T, H, W, C\\)"),
    ],
)
def test_errors_name_the_argument(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_type_errors():
    with pytest.raises(TypeError, match="times must be integers"):
        SparseSpikes.from_times(np.zeros((1, 2), np.float32), 3)
    with pytest.raises(TypeError, match="capacity must be an int"):
        SparseSpikes.from_times(np.zeros((1, 2), np.int32), 3, capacity=2.0)
    with pytest.raises(TypeError, match="events must be integers"):
        SparseSpikes.from_events(np.zeros((1, 3)), (1, 3, 2))
    with pytest.raises(ValueError, match="only image layouts"):
        _ = SparseSpikes.from_events([[0, 0, 0]], (1, 3, 2)).row
