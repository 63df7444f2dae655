"""spyxlike.compat.slayer: SLAYER spellings map onto the core API with the same results."""

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import spyxlike.compat.slayer as snn
from spyxlike import io as sio
from spyxlike import loihi as sloihi
from spyxlike.slayer_layers import SpikeLayer
from spyxlike.slayer_loss import SpikeLoss

NEURON = {"type": "SRMALPHA", "theta": 10, "tauSr": 10.0, "tauRef": 1.0, "scaleRef": 2,
          "tauRho": 1, "scaleRho": 1}
LOIHI = {"type": "LOIHI", "vThMant": 80, "vDecay": 128, "iDecay": 1024, "refDelay": 1,
         "wgtExp": 0, "tauRho": 1, "scaleRho": 1}
SIM = {"Ts": 1.0, "tSample": 30}


def test_spike_layer_methods_equal_the_core():
    x = (np.random.default_rng(0).random((2, 30, 6, 6, 2)) < 0.2).astype(np.float32)

    def slayer_style(x):
        sl = snn.layer(NEURON, SIM)
        h = sl.spike(sl.conv(2, 3, 3, padding=1, weightScale=100, name="c")(sl.psp(x)))
        h = sl.spike(sl.pool(2, name="p")(sl.psp(h)))
        return sl.spike(sl.dense((3, 3, 3), 4, weightScale=10, name="d")(sl.psp(h)))

    def core_style(x):
        sl = SpikeLayer(NEURON, SIM)
        h = sl.spike(sl.conv(2, 3, 3, padding=1, weight_scale=100, name="c")(sl.psp(x)))
        h = sl.spike(sl.pool(2, name="p")(sl.psp(h)))
        return sl.spike(sl.dense((3, 3, 3), 4, weight_scale=10, name="d")(sl.psp(h)))

    a = hk.without_apply_rng(hk.transform(slayer_style))
    b = hk.without_apply_rng(hk.transform(core_style))
    p = a.init(jax.random.PRNGKey(0), x)
    np.testing.assert_array_equal(a.apply(p, x), b.apply(p, x))
    sl = snn.layer(NEURON, SIM)
    np.testing.assert_array_equal(sl.delayShift(x, 3), SpikeLayer(NEURON, SIM).delay_shift(x, 3))


def test_loihi_layers_quantise_weights_in_steps_of_two():
    x = (np.random.default_rng(1).random((2, 30, 5)) < 0.3).astype(np.float32)

    def net(x):
        lo = snn.loihi(LOIHI, SIM)
        return lo.dense(5, 3, name="d")(x)

    f = hk.without_apply_rng(hk.transform(net))
    p = f.init(jax.random.PRNGKey(0), x)
    w = p["d"]["w"]
    assert not np.allclose(w, np.round(w / 2) * 2)  # the stored weights are not on the grid
    expected = jnp.einsum("btk,kn->btn", x, sloihi.loihi_weights(w))
    np.testing.assert_allclose(f.apply(p, x), expected, rtol=1e-6)
    lo = snn.loihi(LOIHI, SIM)
    ws = jnp.asarray(np.random.default_rng(2).normal(0, 300, (2, 30, 3)), jnp.float32)
    np.testing.assert_array_equal(lo.spikeLoihi(ws), sloihi.spike_loihi(ws, LOIHI, 1.0))
    np.testing.assert_array_equal(lo.spikeLoihiFull(ws)[1], sloihi.spike_loihi_full(ws, LOIHI, 1.0)[1])


def test_loss_classifier_quantize_stats():
    cfg = {"simulation": SIM, "neuron": NEURON, "layer": [{"dim": "4"}],
           "training": {"error": {"type": "NumSpikes", "tgtSpikeRegion": {"start": 0, "stop": 30},
                                  "tgtSpikeCount": {True: 5, False: 1}}}}
    out = (np.random.default_rng(3).random((3, 30, 4)) < 0.2).astype(np.float32)
    y = jnp.array([0, 2, 3])
    np.testing.assert_allclose(snn.loss(snn.params(cfg)).numSpikes(out, y),
                               SpikeLoss(cfg).num_spikes(out, y), rtol=1e-6)
    np.testing.assert_array_equal(snn.predict.getClass(out), jnp.argmax(out.sum(1), -1))
    np.testing.assert_array_equal(snn.quantize(jnp.array([0.9, 1.1, 3.2]), 2), [0.0, 2.0, 4.0])
    g = jax.grad(lambda w: snn.quantizeWeights.apply(w, 2).sum())(jnp.ones(3))
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0])
    assert snn.learningStats is not None and hasattr(snn.learningStats(), "training")


def test_spike_file_io(tmp_path):
    ev = snn.event(np.array([1, 5, 33]), np.array([0, 7, 33]), np.array([1, 0, 1]),
                   np.array([0.5, 2.0, 9.0]))
    path = tmp_path / "s.bin"
    snn.io.encode2Dspikes(str(path), ev)
    back = snn.io.read2Dspikes(str(path))
    assert isinstance(back, snn.event)
    np.testing.assert_array_equal(back.x, ev.x)
    np.testing.assert_allclose(back.t, ev.t)
    arr = back.toSpikeArray(samplingTime=1, dim=(2, 34, 34, 10))
    np.testing.assert_array_equal(arr, sio.Event(ev.x, ev.y, ev.p, ev.t).to_spike_array(1, (2, 34, 34, 10)))
    assert arr.sum() == 3  # one spike each (height 1/Ts = 1)


def test_nadam_matches_optax_and_layout_round_trip():
    params = {"w": jnp.array([1.0, -2.0])}
    grads = {"w": jnp.array([0.5, 0.25])}
    ours, ref = snn.optimizer.Nadam(lr=0.01), optax.nadam(0.01)
    u1, _ = ours.update(grads, ours.init(params), params)
    u2, _ = ref.update(grads, ref.init(params), params)
    np.testing.assert_allclose(u1["w"], u2["w"])
    def run(opt, steps=3):
        p, state = params, opt.init(params)
        for _ in range(steps):
            g = {"w": p["w"] * 0.3 + grads["w"]}
            u, state = opt.update(g, state, p)
            p = optax.apply_updates(p, u)
        return p["w"]

    decayed = run(snn.Nadam(lr=0.01, weight_decay=0.1))
    np.testing.assert_allclose(
        decayed, run(optax.chain(optax.add_decayed_weights(0.1), optax.nadam(0.01))), rtol=1e-6)
    assert float(np.max(np.abs(decayed - run(optax.nadam(0.01))))) > 1e-6  # decay changes the path
    with pytest.raises(ValueError, match="amsgrad"):
        snn.Nadam(amsgrad=True)
    x = jnp.arange(2 * 3 * 4 * 5 * 6, dtype=jnp.float32).reshape(2, 3, 4, 5, 6)  # NCHWT
    np.testing.assert_array_equal(snn.toNCHWT(snn.fromNCHWT(x)), x)
    assert snn.fromNCHWT(x).shape == (2, 6, 4, 5, 3)
