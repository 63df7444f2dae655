"""spyxlike.evsim: the EvSpikeSim-style API (network, layers, SpikeArray,
initializers, infer overloads, batched inference, custom neuron models)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import spyxlike.evsim as sim


EVSPIKESIM_W = np.array([[1.0, 0.2], [-0.1, 0.8], [0.5, 0.4]], np.float32).T  # ours: (n_inputs, n_neurons)
EVSPIKESIM_OUT = ([0, 0, 2, 0, 1, 1, 2, 1, 1, 2],
                  [1.0047829, 1.0112512, 1.0129402, 1.0215546, 1.2063813, 1.2163547, 1.2233235,
                   1.506313, 1.5162327, 1.5267321])


def test_spike_array_sorted_on_construction():
    s = sim.SpikeArray([3, 1, 2, 0], [0.5, 0.1, 0.5, 0.3])
    assert s.indices.tolist() == [1, 0, 2, 3] and s.times.tolist() == pytest.approx([0.1, 0.3, 0.5, 0.5])
    assert len(s) == s.n_spikes == 4 and not s.empty()
    assert list(s)[0] == (1, pytest.approx(0.1))
    s.sort()
    assert s == sim.SpikeArray([0, 1, 3, 2], [0.3, 0.1, 0.5, 0.5])
    assert sim.SpikeArray().empty()
    with pytest.raises(ValueError, match="same length"):
        sim.SpikeArray([0, 1], [0.1])


def test_initializers_with_seeds():
    a = sim.UniformInitializer(-0.5, 2.0, seed=3)((40, 30))
    b = sim.UniformInitializer(-0.5, 2.0, seed=3)((40, 30))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and a.min() >= -0.5 and a.max() < 2.0
    assert not np.array_equal(a, sim.UniformInitializer(-0.5, 2.0, seed=4)((40, 30)))
    n = sim.NormalInitializer(1.0, 0.1, seed=0)((200, 200))
    assert abs(n.mean() - 1.0) < 0.01 and abs(n.std() - 0.1) < 0.01
    np.testing.assert_array_equal(n, sim.NormalInitializer(1.0, 0.1, seed=0)((200, 200)))
    assert (sim.ConstantInitializer(0.25)((2, 3)) == 0.25).all()
    sim.set_seed(11)
    g1 = sim.UniformInitializer()((5, 5))
    sim.set_seed(11)
    np.testing.assert_array_equal(g1, sim.UniformInitializer()((5, 5)))


def test_network_structure_and_weights():
    net = sim.SpikingNetwork()
    params = [(2, 3, 0.1, 1.1), (3, 4, 0.2, 2.2), (4, 5, 0.3, 3.3)]
    for p in params:
        layer = net.add_fc_layer(*p, sim.UniformInitializer(seed=0), buffer_size=16)
        assert isinstance(layer, sim.FCLayer)
    assert len(net) == 3 and net.output_layer is net[2] and net[-1] is net[2]
    for (n_in, n_out, tau_s, th), layer in zip(params, net):
        assert (layer.n_inputs, layer.n_neurons, layer.tau_s, layer.threshold) == (n_in, n_out, tau_s, th)
        assert layer.tau == pytest.approx(2 * tau_s) and layer.buffer_size == 16
        assert isinstance(layer.weights, jax.Array) and layer.weights.shape == (n_in, n_out)
    net[0].weights = np.ones((2, 3))
    assert net[0].weights.dtype == jnp.float32 and float(net[0].weights.sum()) == 6.0
    with pytest.raises(ValueError, match="weights must have shape"):
        net[0].weights = np.ones((3, 2))
    with pytest.raises(ValueError, match="n_inputs"):
        net.add_fc_layer(7, 2, 0.1, 1.0, sim.ConstantInitializer())
    with pytest.raises(ValueError, match="tau_s"):
        net.add_fc_layer(5, 2, 0.0, 1.0, sim.ConstantInitializer())
    with pytest.raises(ValueError, match="buffer_size"):
        net.add_fc_layer(5, 2, 0.1, 1.0, sim.ConstantInitializer(), buffer_size=0)


def test_infer_overloads_and_layer_outputs():
    net = sim.SpikingNetwork(impl="native")
    layer = net.add_fc_layer(2, 3, 0.020, 0.1, sim.ConstantInitializer())
    layer.weights = EVSPIKESIM_W
    out = net.infer(sim.SpikeArray([0, 1, 1], [1.0, 1.5, 1.2]))
    assert out == sim.SpikeArray(*EVSPIKESIM_OUT)
    assert layer.post_spikes == out and layer.n_spikes.tolist() == [3, 4, 3]
    again = net.infer([0, 1, 1], [1.0, 1.5, 1.2])  # unsorted lists are sorted first
    assert again == out
    assert len(net.infer([], [])) == 0
    with pytest.raises(ValueError, match="in_times must be >= 0"):
        net.infer([0], [-1.0])
    with pytest.raises(ValueError, match="indices"):
        net.infer([5], [0.1])


def test_overflow_is_an_error():
    net = sim.SpikingNetwork()
    net.add_fc_layer(1, 1, 0.01, 1.0, sim.ConstantInitializer(40.0), buffer_size=2)
    with pytest.raises(sim.BufferOverflowError, match="buffer_size=2"):
        net.infer([0], [0.0])
    out = net.infer_batch(np.zeros((1, 1), np.int32), np.zeros((1, 1), np.float32), check_overflow=False)
    assert bool(out.overflow[0][0, 0]) and int(out.count[0]) == 2


def _random_inputs(rng, batch, n_in, e_max, t_max=0.05):
    counts = rng.integers(0, e_max + 1, batch)
    idx = np.zeros((batch, e_max), np.int32)
    times = np.full((batch, e_max), np.inf, np.float32)
    for s in range(batch):
        idx[s, : counts[s]] = rng.integers(0, n_in, counts[s])
        times[s, : counts[s]] = np.sort(rng.uniform(0, t_max, counts[s]))
    return idx, times, counts.astype(np.int32)


def _two_layer_net(impl):
    net = sim.SpikingNetwork(impl=impl)
    net.add_fc_layer(12, 20, 0.005, 1.0, sim.UniformInitializer(-0.5, 1.5, seed=0), buffer_size=32)
    net.add_fc_layer(20, 4, 0.005, 1.0, sim.UniformInitializer(-0.6, 0.6, seed=1), buffer_size=32)
    return net


def test_batch_inference_equals_per_sample_inference():
    net = _two_layer_net("native")
    idx, times, counts = _random_inputs(np.random.default_rng(0), 6, 12, 30)
    out = net.infer_batch(idx, times)  # count defaults to the number of finite times
    assert int(out.count.sum()) > 0
    for s in range(6):
        single = net.infer(idx[s, : counts[s]], times[s, : counts[s]])
        c = int(out.count[s])
        assert single == sim.SpikeArray(np.asarray(out.indices[s, :c]), np.asarray(out.times[s, :c]))
        np.testing.assert_array_equal(net[0].n_spikes, np.asarray(out.layer_counts[0][s]))
    # run_network is jittable as a pure function of the weights
    cfgs = [l.config() for l in net]
    f = jax.jit(lambda ws, i, t, c: sim.run_network(cfgs, ws, i, t, c, impl="native"))
    again = f([l.weights for l in net], idx, times, counts)
    np.testing.assert_array_equal(again.times, out.times)


def test_native_and_reference_networks_agree():
    idx, times, counts = _random_inputs(np.random.default_rng(1), 4, 12, 30)
    a = _two_layer_net("native").infer_batch(idx, times, counts)
    b = _two_layer_net("reference").infer_batch(idx, times, counts)
    np.testing.assert_array_equal(a.count, b.count)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.times, b.times, rtol=2e-5)


def test_custom_neuron_model_default_equals_native():
    idx, times, counts = _random_inputs(np.random.default_rng(2), 3, 12, 25)
    native_net = _two_layer_net("native")
    custom = sim.SpikingNetwork()
    for layer in native_net:
        custom.add_fc_layer_from_model(layer.n_inputs, layer.n_neurons, layer.tau_s, layer.threshold,
                                       sim.ConstantInitializer(), sim.default_neuron_model(),
                                       buffer_size=layer.buffer_size).weights = layer.weights
    a = native_net.infer_batch(idx, times, counts)
    b = custom.infer_batch(idx, times, counts)
    np.testing.assert_array_equal(a.layer_counts[0], b.layer_counts[0])
    np.testing.assert_array_equal(a.count, b.count)
    np.testing.assert_allclose(a.times, b.times, rtol=1e-5)


def test_custom_neuron_model_weight_scaling_callback():
    # EvSpikeSim's on_pre callback may rescale the weight; a model doubling every weight
    # equals the default neuron with doubled weights.
    base = sim.default_neuron_model()
    doubled = sim.NeuronModel(base.init, base.advance, lambda s, w, p: base.on_pre(s, 2.0 * w, p),
                              base.next_spike, base.on_post)
    net = sim.SpikingNetwork()
    net.add_fc_layer_from_model(2, 3, 0.02, 0.1, sim.ConstantInitializer(), doubled).weights = EVSPIKESIM_W / 2
    ref = sim.SpikingNetwork()
    ref.add_fc_layer(2, 3, 0.02, 0.1, sim.ConstantInitializer()).weights = EVSPIKESIM_W
    got = net.infer([0, 1, 1], [1.0, 1.5, 1.2])
    assert got == ref.infer([0, 1, 1], [1.0, 1.5, 1.2]) == sim.SpikeArray(*EVSPIKESIM_OUT)
    with pytest.raises(TypeError, match="NeuronModel"):
        net.add_fc_layer_from_model(3, 2, 0.02, 0.1, sim.ConstantInitializer(), model=object())
