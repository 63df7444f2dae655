"""The whole-network native target (spyxlike.ops.evsim_native.network_native)
against chaining the per-layer native engine and event gather, which the
other evsim tests check against the oracle and the reference engine."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyxlike.ops import native

pytestmark = pytest.mark.skipif(not native.available(), reason="native extension not built")

from spyxlike.ops.evsim_native import (  # noqa: E402
    fc_layer_native,
    layer_output_to_events_native,
    network_native,
)


def chained(idx, times, counts, weights, tau_s, threshold, buffer_size):
    """Layer by layer: fc_layer_native, then the native gather into the next layer's events."""
    layer_counts, flows = [], []
    i, t, c = idx, times, counts
    ot = oc = None
    for l, w in enumerate(weights):
        if l:
            i, t, c = layer_output_to_events_native(ot, oc)
        ot, oc, of = fc_layer_native(i, t, c, w, tau_s=tau_s[l], threshold=threshold[l],
                                     buffer_size=buffer_size[l])
        layer_counts.append(oc)
        flows.append(of)
    oi, otm, occ = layer_output_to_events_native(ot, oc)
    return oi, otm, occ, tuple(layer_counts), tuple(flows)


def assert_same(a, b):
    la, lb = jax.tree_util.tree_leaves(tuple(a)), jax.tree_util.tree_leaves(tuple(b))
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        assert np.asarray(x).shape == np.asarray(y).shape
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def random_events(rng, batch, n_in, e_max, t_max=0.05):
    counts = rng.integers(0, e_max + 1, batch).astype(np.int32)
    idx = np.zeros((batch, e_max), np.int32)
    times = np.full((batch, e_max), np.inf, np.float32)
    for s in range(batch):
        idx[s, : counts[s]] = rng.integers(0, n_in, counts[s])
        times[s, : counts[s]] = np.sort(rng.uniform(0, t_max, counts[s])).astype(np.float32)
    return idx, times, counts


def random_net(rng, sizes, lo=-0.5, hi=1.5):
    return [rng.uniform(lo, hi, (a, b)).astype(np.float32) for a, b in zip(sizes[:-1], sizes[1:])]


@pytest.mark.parametrize("seed", [0, 1])
def test_three_layers_equal_the_layer_by_layer_chain(seed):
    # Layer widths that use the vectorised groups of 8 and the scalar tail, per-layer
    # hyperparameters, and a small buffer in the middle layer so some neurons overflow.
    rng = np.random.default_rng(seed)
    idx, times, counts = random_events(rng, 6, 30, 80)
    ws = random_net(rng, [30, 45, 19, 5])
    kw = dict(tau_s=[0.005, 0.004, 0.006], threshold=[1.0, 1.5, 1.2], buffer_size=[16, 3, 8])
    got = network_native(idx, times, counts, ws, **kw)
    want = chained(idx, times, counts, ws, **kw)
    assert_same(got, want)
    assert int(np.asarray(got[3][0]).sum()) > 50 and int(np.asarray(got[2]).sum()) > 0
    assert np.asarray(got[4][1]).any()  # the 3-spike buffers overflow somewhere
    # the output events: sorted by time, padding 0 / +inf, C = n_out * buffer_size
    oi, ot, oc = map(np.asarray, got[:3])
    assert ot.shape == (6, 5 * 8)
    for s in range(6):
        assert np.all(np.diff(ot[s, : oc[s]]) >= 0) and np.isinf(ot[s, oc[s]:]).all()
        assert (oi[s, oc[s]:] == 0).all()


def test_one_layer_and_no_events():
    rng = np.random.default_rng(2)
    idx, times, counts = random_events(rng, 4, 12, 20)
    counts[1] = 0
    w = random_net(rng, [12, 9], -1.0, 3.0)
    kw = dict(tau_s=[0.005], threshold=[1.0], buffer_size=[4])
    got = network_native(idx, times, counts, w, **kw)
    assert_same(got, chained(idx, times, counts, w, **kw))
    assert int(np.asarray(got[2])[1]) == 0
    # scalar hyperparameters apply to every layer
    assert_same(network_native(idx, times, counts, w, tau_s=0.005, threshold=1.0, buffer_size=4), got)


def test_spike_time_ties_reach_the_next_layer_in_neuron_order():
    # Identical columns fire at identical times: the next layer gets them ordered by
    # neuron index (as the gather does), so its result equals the chain's.
    rng = np.random.default_rng(3)
    idx, times, counts = random_events(rng, 3, 10, 40)
    w1 = np.repeat(rng.uniform(-0.5, 2.0, (10, 3)).astype(np.float32), 4, axis=1)
    w2 = rng.uniform(-1.0, 2.0, (12, 4)).astype(np.float32)
    kw = dict(tau_s=[0.005, 0.005], threshold=[1.0, 1.0], buffer_size=[8, 8])
    got = network_native(idx, times, counts, [w1, w2], **kw)
    assert_same(got, chained(idx, times, counts, [w1, w2], **kw))
    assert int(np.asarray(got[3][0]).sum()) > 20


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n_hidden=st.integers(1, 20), n_out=st.integers(1, 10),
       e_max=st.integers(1, 50), k=st.integers(1, 6))
def test_random_networks_equal_the_chain(seed, n_hidden, n_out, e_max, k):
    rng = np.random.default_rng(seed)
    idx, times, counts = random_events(rng, 3, 7, e_max, t_max=0.03)
    ws = random_net(rng, [7, n_hidden, n_out], -1.0, 2.5)
    kw = dict(tau_s=[0.004, 0.005], threshold=[1.0, 1.3], buffer_size=[k, k + 1])
    assert_same(network_native(idx, times, counts, ws, **kw), chained(idx, times, counts, ws, **kw))


def test_jit_and_vmap():
    rng = np.random.default_rng(4)
    idx, times, counts = random_events(rng, 4, 10, 30)
    ws = random_net(rng, [10, 12, 3])
    kw = dict(tau_s=[0.005, 0.005], threshold=[1.0, 1.0], buffer_size=[8, 8])
    f = jax.jit(lambda i, t, c, w1, w2: network_native(i, t, c, [w1, w2], **kw))
    eager = network_native(idx, times, counts, ws, **kw)
    assert_same(f(idx, times, counts, *ws), eager)
    # vmap over events with shared weights
    stacked = [np.stack([a, a[::-1]]) for a in (idx, times, counts)]
    v = jax.vmap(f, in_axes=(0, 0, 0, None, None))(*stacked, *ws)
    rev = network_native(idx[::-1], times[::-1], counts[::-1], ws, **kw)
    assert_same(jax.tree_util.tree_map(lambda x: x[0], v), eager)
    assert_same(jax.tree_util.tree_map(lambda x: x[1], v), rev)
    # vmap over the first layer's weights with shared events
    w1s = np.stack([ws[0], 2 * ws[0]])
    v2 = jax.vmap(f, in_axes=(None, None, None, 0, None))(idx, times, counts, w1s, ws[1])
    dbl = network_native(idx, times, counts, [2 * ws[0], ws[1]], **kw)
    assert_same(jax.tree_util.tree_map(lambda x: x[1], v2), dbl)


def test_max_events_bounds_the_hidden_events():
    rng = np.random.default_rng(5)
    idx, times, counts = random_events(rng, 4, 20, 50)
    ws = random_net(rng, [20, 16, 4])
    kw = dict(tau_s=[0.005, 0.005], threshold=[1.0, 1.0], buffer_size=[64, 64])
    full = network_native(idx, times, counts, ws, **kw)
    most = int(np.asarray(full[3][0]).sum(1).max())
    assert most > 5
    assert_same(network_native(idx, times, counts, ws, max_events=most, **kw), full)
    f = jax.jit(lambda i, t, c: network_native(i, t, c, ws, max_events=most - 1, **kw))
    with pytest.raises(Exception, match="event capacity"):
        jax.block_until_ready(f(idx, times, counts))


def test_errors_name_the_argument():
    w1 = np.ones((3, 4), np.float32)
    w2 = np.ones((4, 2), np.float32)
    kw = dict(tau_s=0.01, threshold=1.0, buffer_size=4)
    one = np.array([2], np.int32)
    ok = (np.array([[0, 1]], np.int32), np.array([[0.1, 0.2]], np.float32), one)
    with pytest.raises(ValueError, match="weights"):
        network_native(*ok, [], **kw)
    with pytest.raises(ValueError, match=r"weights\[1\]"):
        network_native(*ok, [w1, np.ones((5, 2), np.float32)], **kw)
    with pytest.raises(ValueError, match=r"weights\[0\]"):
        network_native(*ok, [np.ones(3, np.float32)], **kw)
    with pytest.raises(TypeError, match=r"weights\[1\]"):
        network_native(*ok, [w1, np.ones((4, 2), np.int32)], **kw)
    with pytest.raises(ValueError, match="tau_s"):
        network_native(*ok, [w1, w2], tau_s=[0.01], threshold=1.0, buffer_size=4)
    with pytest.raises(ValueError, match="tau_s"):
        network_native(*ok, [w1, w2], tau_s=[0.01, -1.0], threshold=1.0, buffer_size=4)
    with pytest.raises(ValueError, match="threshold"):
        network_native(*ok, [w1, w2], tau_s=0.01, threshold=[1.0, 0.0], buffer_size=4)
    with pytest.raises(ValueError, match="buffer_size"):
        network_native(*ok, [w1, w2], tau_s=0.01, threshold=1.0, buffer_size=[4, 0])
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_events"):
            network_native(*ok, [w1, w2], max_events=bad, **kw)
    with pytest.raises(TypeError, match="in_times"):
        network_native(ok[0], np.array([[0, 1]], np.int32), one, [w1, w2], **kw)
    with pytest.raises(ValueError, match="in_times.*sorted"):
        network_native(ok[0], np.array([[0.2, 0.1]], np.float32), one, [w1, w2], **kw)
    with pytest.raises(ValueError, match="in_indices"):
        network_native(np.array([[0, 3]], np.int32), ok[1], one, [w1, w2], **kw)
    # under jit the kernel itself refuses, naming the argument
    f = jax.jit(lambda i, t, c: network_native(i, t, c, [w1, w2], **kw))
    for i, t, c, what in (([[0, 1]], [[0.2, 0.1]], one, "in_times"),
                          ([[0, 7]], [[0.1, 0.2]], one, "in_indices"),
                          ([[0, 1]], [[0.1, 0.2]], np.array([9], np.int32), "in_count"),
                          ([[0, 1]], [[-0.1, 0.2]], one, "in_times"),
                          ([[0, 1]], [[0.1, np.nan]], one, "in_times")):
        with pytest.raises(Exception, match=f"evsim_network: {what}"):
            jax.block_until_ready(f(jnp.asarray(i, jnp.int32), jnp.asarray(t, jnp.float32), c))
