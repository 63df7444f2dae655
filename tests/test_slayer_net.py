"""build_network: SLAYER layer lists to Haiku networks."""

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike.slayer_layers import SpikeLayer
from spyxlike.slayer_net import build_network

NEURON = {"type": "SRMALPHA", "theta": 10, "tauSr": 10.0, "tauRef": 1.0, "scaleRef": 2,
          "tauRho": 1, "scaleRho": 1}
SIM = {"Ts": 5.0, "tSample": 100}


def _config(layers, neuron=NEURON):
    return {"simulation": SIM, "neuron": neuron, "layer": [{"dim": d} for d in layers],
            "training": {"error": {"type": "NumSpikes", "tgtSpikeRegion": {"start": 0, "stop": 100},
                                   "tgtSpikeCount": {True: 8, False: 2}}}}


def test_shapes_and_equality_with_a_hand_built_stack():
    cfg = _config(["12x10x2", "4c3z", "2a", "6c3", "5"])  # SLAYER dims are W x H x C
    x = (np.random.default_rng(0).random((3, 20, 10, 12, 2)) < 0.2).astype(np.uint8)
    net = hk.without_apply_rng(hk.transform(build_network(cfg, collect=True)))
    params = net.init(jax.random.PRNGKey(0), x)
    outs = net.apply(params, x)
    assert [o.shape for o in outs] == [(3, 20, 10, 12, 4), (3, 20, 5, 6, 4), (3, 20, 3, 4, 6), (3, 20, 5)]
    assert set(params) == {"layer_1", "layer_3", "layer_4"}  # pooling has no parameters

    def by_hand(x):
        sl = SpikeLayer(NEURON, SIM)
        h = sl.spike(sl.conv(2, 4, 3, padding=1, name="layer_1")(sl.psp(x.astype(jnp.float32))))
        h = sl.spike(sl.pool(2, name="layer_2")(sl.psp(h)))
        h = sl.spike(sl.conv(4, 6, 3, name="layer_3")(sl.psp(h)))
        return sl.spike(sl.dense((3, 4, 6), 5, name="layer_4")(sl.psp(h)))

    ref = hk.without_apply_rng(hk.transform(by_hand))
    np.testing.assert_array_equal(ref.apply(params, x), outs[-1])
    assert float(outs[0].sum()) > 0


def test_wscale_and_gradients():
    cfg = _config(["8", "6"])
    cfg["layer"][1]["wScale"] = 40
    x = (np.random.default_rng(1).random((2, 20, 8)) < 0.3).astype(np.float32)
    net = hk.without_apply_rng(hk.transform(build_network(cfg)))
    params = net.init(jax.random.PRNGKey(1), x)
    bound = 40 / np.sqrt(8)
    w = params["layer_1"]["w"]
    assert float(jnp.abs(w).max()) <= bound and float(jnp.abs(w).max()) > bound / 2
    grads = jax.jit(jax.grad(lambda p: jnp.sum(net.apply(p, x))))(params)
    assert np.isfinite(np.asarray(grads["layer_1"]["w"])).all()
    assert float(jnp.abs(grads["layer_1"]["w"]).sum()) > 0


def test_errors():
    with pytest.raises(ValueError, match="neuron.type must be 'SRMALPHA'"):
        build_network(_config(["8", "6"], neuron={**NEURON, "type": "LOIHI", "vThMant": 80,
                                                  "vDecay": 128, "iDecay": 1024, "refDelay": 1,
                                                  "wgtExp": 0}))
    net = hk.transform(build_network(_config(["8", "6"])))
    with pytest.raises(ValueError, match=r"input spikes must be \(batch, 20, 8\)"):
        net.init(jax.random.PRNGKey(0), jnp.zeros((2, 19, 8)))
