"""spyxlike.compat.evspikesim: EvSpikeSim spellings give the same results as spyxlike.evsim."""

import numpy as np
import pytest

import spyxlike.compat.evspikesim as sim
import spyxlike.evsim as core

# EvSpikeSim 0.5's README example: weights in its (n_neurons, n_inputs) layout, and its output.
W_EVS = np.array([[1.0, 0.2], [-0.1, 0.8], [0.5, 0.4]], np.float32)
OUT = ([0, 0, 2, 0, 1, 1, 2, 1, 1, 2],
       [1.0047829, 1.0112512, 1.0129402, 1.0215546, 1.2063813, 1.2163547, 1.2233235,
        1.506313, 1.5162327, 1.5267321])


def test_readme_script_ports_unchanged():
    net = sim.SpikingNetwork("/tmp/unused")  # compile_path accepted, nothing is compiled
    assert net.compile_path == "/tmp/unused"
    layer = net.add_fc_layer(2, 3, 0.020, 0.1, sim.initializers.ConstantInitializer())
    assert isinstance(layer, sim.layers.FCLayer)
    layer.weights = np.array([[1.0, 0.3], [-0.1, 0.8], [0.5, 0.4]], np.float32)
    layer.weights[0, 1] -= 0.1  # in-place edit of EvSpikeSim's view reaches the simulation
    spikes = sim.SpikeArray(np.array([0, 1, 1], np.uint32), np.array([1.0, 1.5, 1.2], np.float32))
    spikes.sort()
    out = net.infer(spikes)
    assert isinstance(out, sim.SpikeArray) and out == core.SpikeArray(*OUT)
    np.testing.assert_allclose(np.asarray(layer.core.weights), W_EVS.T)
    assert layer.n_spikes.tolist() == [3, 4, 3] and layer.post_spikes == out
    # the same through the core API with the transposed weights
    ref = core.SpikingNetwork()
    ref.add_fc_layer(2, 3, 0.020, 0.1, core.ConstantInitializer()).weights = W_EVS.T
    assert ref.infer([0, 1, 1], [1.0, 1.5, 1.2]) == out
    # the (indices, times) overload
    assert net.infer([0, 1, 1], [1.0, 1.5, 1.2]) == out
    first = next(iter(out))
    assert isinstance(first, sim.Spike) and (first.index, first.time) == (0, pytest.approx(OUT[1][0]))
    with pytest.raises(ValueError, match=r"\(n_neurons, n_inputs\) = \(3, 2\)"):
        layer.weights = W_EVS.T


def test_network_indexing_iteration_descriptor():
    sim.random.set_seed(5)
    net = sim.SpikingNetwork()
    a = net.add_fc_layer(4, 6, 0.01, 0.5, sim.initializers.UniformInitializer(), buffer_size=8)
    b = net.add_fc_layer(6, 2, 0.02, 0.7, sim.initializers.NormalInitializer(0.0, 0.5))
    assert len(net) == net.get_n_layers() == 2 and list(net) == [a, b]
    assert net[0] is a and net[-1] is b and net.output_layer is b
    assert b.descriptor == sim.layers.FCLayerDescriptor(6, 2, 0.02, 0.7) and b.descriptor.tau == 0.04
    assert (a.n_inputs, a.n_neurons, a.tau_s, a.tau, a.threshold, a.buffer_size) == (4, 6, 0.01, 0.02, 0.5, 8)
    # weights: EvSpikeSim's (n_neurons, n_inputs) view of the core's (n_inputs, n_neurons) draw
    assert a.weights.shape == (6, 4) and a.weights.dtype == np.float32
    core.set_seed(5)
    np.testing.assert_array_equal(a.weights, core.UniformInitializer()((4, 6)).T)
    with pytest.raises(IndexError, match="no layer"):
        sim.SpikingNetwork().output_layer


def test_random_network_equals_core_single_and_batched():
    rng = np.random.default_rng(0)
    net = sim.SpikingNetwork()
    net.add_fc_layer(10, 16, 0.005, 1.0, sim.UniformInitializer(-0.5, 1.5, seed=0), buffer_size=32)
    net.add_fc_layer(16, 3, 0.005, 1.0, sim.UniformInitializer(-0.6, 0.6, seed=1), buffer_size=32)
    net[1].weights *= 1.5  # augmented assignment on EvSpikeSim's view
    ref = core.SpikingNetwork()
    for layer in net:
        ref.add_fc_layer(layer.n_inputs, layer.n_neurons, layer.tau_s, layer.threshold,
                         core.ConstantInitializer(), layer.buffer_size).weights = layer.weights.T
    idx = np.zeros((3, 25), np.int32)
    times = np.full((3, 25), np.inf, np.float32)
    for s in range(3):
        idx[s] = rng.integers(0, 10, 25)
        times[s] = np.sort(rng.uniform(0, 0.03, 25))
    got, want = net.infer_batch(idx, times), ref.infer_batch(idx, times)
    assert int(want.count.sum()) > 0
    np.testing.assert_array_equal(got.count, want.count)
    np.testing.assert_array_equal(got.times, want.times)
    for s in range(3):
        out = net.infer(idx[s], times[s])
        assert out == ref.infer(idx[s], times[s])
        np.testing.assert_array_equal(net[0].n_spikes, ref[0].n_spikes)
        assert len(out) == int(want.count[s])


def test_spike_array_and_spike():
    s = sim.SpikeArray()
    assert s.empty() and s.n_spikes == 0
    s.add(2, 0.5)
    s.add([0, 1], [0.3, 0.1])
    assert s.indices.tolist() == [1, 0, 2] and len(s) == 3  # kept sorted
    assert [sp.index for sp in s] == [1, 0, 2]
    assert s == core.SpikeArray([2, 0, 1], [0.5, 0.3, 0.1])
    s.clear()
    assert s.empty()
    # EvSpikeSim's Spike: ordered by time, equal when the times are within 1e-6
    assert sim.Spike(0, 0.1) < sim.Spike(1, 0.2) and sim.Spike(3, 0.1) == sim.Spike(4, 0.1 + 1e-7)
    assert sim.Spike(0, 0.1) != sim.Spike(0, 0.2)


def test_from_source_takes_a_neuron_model_and_rejects_cpp():
    base = sim.default_neuron_model()
    doubled = sim.NeuronModel(base.init, base.advance, lambda s, w, p: base.on_pre(s, 2.0 * w, p),
                              base.next_spike, base.on_post)
    net = sim.SpikingNetwork()
    layer = net.add_fc_layer_from_source(doubled, 2, 3, 0.020, 0.1, sim.ConstantInitializer())
    layer.weights = W_EVS / 2  # on_pre doubles them back
    assert net.infer([0, 1, 1], [1.0, 1.5, 1.2]) == core.SpikeArray(*OUT)
    assert layer.core.model is doubled
    # EvSpikeSim's binding names the first two keywords the other way round
    other = sim.SpikingNetwork()
    other.add_fc_layer_from_source(n_inputs=doubled, src_path=2, n_neurons=3, tau_s=0.02, threshold=0.1,
                                   initializer=sim.ConstantInitializer())
    assert other[0].n_inputs == 2 and other[0].core.model is doubled
    with pytest.raises(TypeError, match=r"does not compile EvSpikeSim C\+\+ callback sources"):
        net.add_fc_layer_from_source("callbacks/STDP.cpp", 3, 2, 0.02, 0.1, sim.ConstantInitializer())
    assert len(net) == 1  # nothing was added
    with pytest.raises(TypeError, match="src_path"):
        net.add_fc_layer_from_source(object(), 3, 2, 0.02, 0.1, sim.ConstantInitializer())


def test_overflow_and_errors_are_the_cores():
    net = sim.SpikingNetwork()
    net.add_fc_layer(1, 1, 0.01, 1.0, sim.ConstantInitializer(40.0), buffer_size=2)
    with pytest.raises(sim.BufferOverflowError, match="buffer_size=2"):
        net.infer([0], [0.0])
    with pytest.raises(ValueError, match="tau_s"):
        net.add_fc_layer(1, 1, 0.0, 1.0, sim.ConstantInitializer())
    with pytest.raises(TypeError, match="compile_path"):
        sim.SpikingNetwork(compile_path=3)
