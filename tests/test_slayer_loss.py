"""SLAYER losses: numSpikes against hand-computed values, spikeTime against a
direct computation, gradients, get_class, the config wrapper; validation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike import slayer_loss as sl
from spyxlike.loihi import loihi_psp_kernel
from spyxlike.srm import srm_kernel
from spyxlike.netconfig import NetParams


def conv_np(x, k, ts=1.0):
    """SLAYER's psp: Ts times the causal convolution along axis 1, by loops."""
    y = np.zeros_like(x, dtype=np.float64)
    for t in range(x.shape[1]):
        for j in range(min(len(k), t + 1)):
            y[:, t] += ts * k[j] * x[:, t - j]
    return y


def num_spikes_np(s, is_true, i0, i1, counts, ts, k, scale=1.0):
    region = np.zeros(s.shape[1], bool)
    region[i0:i1] = True
    actual = s[:, i0:i1].sum(1, keepdims=True) * ts  # spikes of height 1/Ts
    desired = np.where(is_true[:, None], counts[0], counts[1])
    err = conv_np(s * ~region[None, :, None], k, ts)
    err[:, region] += ((actual - desired) / (i1 - i0) * scale)
    return 0.5 * np.sum(err ** 2) * ts


def test_num_spikes_hand_example():
    # T = 4, identity PSP, region steps [1, 3), desired count 1.
    # Spikes [1, 1, 1, 0]: outside -> psp [1, 0, 0, 0]; count 2 -> error
    # (2 - 1) / 2 = 0.5 at t = 1, 2; e = [1, .5, .5, 0]; E = 0.75.
    s = jnp.array([[[1.0], [1.0], [1.0], [0.0]]])
    kw = dict(target_region=(1, 3), target_counts=(1, 0), Ts=1.0, psp=[1.0])
    loss = sl.num_spikes(s, jnp.array([[1]]), **kw)
    assert float(loss) == pytest.approx(0.75)
    grad = jax.grad(lambda s: sl.num_spikes(s, jnp.array([[1]]), **kw))(s)
    np.testing.assert_allclose(grad[0, :, 0], [1.0, 0.5, 0.5, 0.0], atol=1e-6)
    # a false class wants 0 spikes: error 1 in the region
    assert float(sl.num_spikes(s, jnp.array([[0]]), **kw)) == pytest.approx(1.5)
    # the psp of spikes before the region leaks into it: K = [1, 1]
    kw["psp"] = [1.0, 1.0]
    # outside psp [1, 1, 0, 0] + count error [0, .5, .5, 0] -> E = (1 + 2.25 + .25) / 2
    assert float(sl.num_spikes(s, jnp.array([[1]]), **kw)) == pytest.approx(1.75)


@pytest.mark.parametrize("ts", [1.0, 0.5])
def test_num_spikes_matches_direct_computation(ts):
    rng = np.random.RandomState(1)
    s = (rng.rand(3, 20, 4) < 0.3).astype(np.float32) / ts
    labels = np.array([0, 3, 1])
    k = np.array([0.0, 0.6, 1.0, 0.7, 0.3], np.float32)
    got = sl.num_spikes(s, labels, target_region={"start": 2.5, "stop": 7.5},
                        target_counts={True: 5, False: 1}, Ts=ts, psp=k,
                        num_spikes_scale=2.0)
    i0, i1 = int(np.rint(2.5 / ts)), int(np.rint(7.5 / ts))
    want = num_spikes_np(s, np.eye(4, dtype=bool)[labels], i0, i1, (5, 1), ts,
                         k, scale=2.0)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # one-hot desired classes, with or without SLAYER's time axis of 1
    onehot = np.eye(4, dtype=np.float32)[labels]
    kw = dict(target_region=(2.5, 7.5), target_counts=(5, 1), Ts=ts, psp=k,
              num_spikes_scale=2.0)
    np.testing.assert_allclose(sl.num_spikes(s, onehot, **kw), got, rtol=1e-6)
    np.testing.assert_allclose(sl.num_spikes(s, onehot[:, None], **kw), got,
                               rtol=1e-6)


def test_num_spikes_gradient_is_psp_adjoint_of_error():
    rng = np.random.RandomState(2)
    s = (rng.rand(2, 15, 3) < 0.4).astype(np.float32)
    k = np.array([0.2, 1.0, 0.5], np.float32)
    kw = dict(target_region=(3, 12), target_counts=(4, 1), Ts=1.0, psp=k)
    labels = np.array([2, 0])
    grad = jax.jit(jax.grad(lambda s: sl.num_spikes(s, labels, **kw)))(s)
    # dE/ds[t] = Ts * sum_j K[j] e[t + j]
    region = np.zeros(15, bool)
    region[3:12] = True
    err = conv_np(s * ~region[None, :, None], k)
    actual = s[:, 3:12].sum(1, keepdims=True)
    desired = np.where(np.eye(3, dtype=bool)[labels][:, None], 4, 1)
    err[:, region] += (actual - desired) / 9
    want = np.zeros_like(err)
    for t in range(15):
        for j in range(len(k)):
            if t + j < 15:
                want[:, t] += k[j] * err[:, t + j]
    np.testing.assert_allclose(grad, want, rtol=1e-4, atol=1e-6)
    assert np.all(np.isfinite(grad))


def test_spike_time_direct_and_gradient():
    rng = np.random.RandomState(3)
    out = (rng.rand(2, 12, 5) < 0.3).astype(np.float32)
    des = (rng.rand(2, 12, 5) < 0.3).astype(np.float32)
    k = srm_kernel(3.0, 1.0, 1.0, 12)
    got = sl.spike_time(out, des, psp=k, Ts=0.5)
    want = 0.5 * np.sum(conv_np(out - des, k, 0.5) ** 2) * 0.5
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # a callable psp (which carries its own Ts factor) gives the same
    psp = lambda x: jnp.asarray(conv_np(np.asarray(x), k, 0.5), x.dtype)  # noqa: E731
    np.testing.assert_allclose(sl.spike_time(out, des, psp=psp, Ts=0.5), got,
                               rtol=1e-5)
    g = jax.grad(sl.spike_time)(out, des, psp=k, Ts=0.5)
    assert np.all(np.isfinite(g)) and np.abs(g).sum() > 0
    # vmap over the batch: sum of per-sample losses
    per = jax.vmap(lambda a, b: sl.spike_time(a[None], b[None], psp=k, Ts=0.5))(out, des)
    np.testing.assert_allclose(per.sum(), got, rtol=1e-5)


def test_get_class():
    s = np.zeros((3, 5, 4), np.float32)
    s[0, :, 2] = 1
    s[1, :2, 1] = 1
    s[1, :2, 3] = 1  # tie: first wins
    s[2, 0, 0] = 1
    np.testing.assert_array_equal(sl.get_class(s), [2, 1, 0])
    img = np.zeros((2, 3, 2, 2, 3), np.float32)
    img[0, :, 1, 0, 2] = 1
    img[1, :, 0, 1, 0] = 1
    np.testing.assert_array_equal(jax.jit(sl.get_class)(img),
                                  [np.ravel_multi_index((1, 0, 2), (2, 2, 3)),
                                   np.ravel_multi_index((0, 1, 0), (2, 2, 3))])


def _params(kind="NumSpikes", neuron=None):
    return NetParams({
        "simulation": {"Ts": 1.0, "tSample": 30},
        "neuron": neuron or {"type": "SRMALPHA", "theta": 10, "tauSr": 2.0,
                             "tauRef": 1.0, "scaleRef": 2, "tauRho": 1,
                             "scaleRho": 1},
        "training": {"error": {"type": kind,
                               "tgtSpikeRegion": {"start": 5, "stop": 25},
                               "tgtSpikeCount": {True: 8, False: 2}}},
    })


def test_spike_loss_wrapper():
    rng = np.random.RandomState(4)
    s = (rng.rand(2, 30, 3) < 0.3).astype(np.float32)
    labels = np.array([1, 2])
    loss = sl.spike_loss(_params())
    k = srm_kernel(2.0, 1.0, 1.0, 30)
    want = sl.num_spikes(s, labels, target_region=(5, 25), target_counts=(8, 2),
                         Ts=1.0, psp=k)
    np.testing.assert_allclose(loss.num_spikes(s, labels), want, rtol=1e-6)
    with pytest.raises(ValueError, match="training.error.type"):
        loss.spike_time(s, s)
    assert float(sl.spike_loss(_params("SpikeTime")).spike_time(s, s)) == 0.0
    loihi_neuron = {"type": "LOIHI", "vThMant": 80, "vDecay": 128, "iDecay": 1024,
                    "refDelay": 1, "wgtExp": 0, "tauRho": 1, "scaleRho": 1}
    lo = sl.spike_loss(_params(neuron=loihi_neuron))
    want = sl.num_spikes(s, labels, target_region=(5, 25), target_counts=(8, 2),
                         Ts=1.0, psp=loihi_psp_kernel(loihi_neuron, 30))
    np.testing.assert_allclose(lo.num_spikes(s, labels), want, rtol=1e-6)
    g = jax.grad(lambda s: lo.num_spikes(s, labels))(s)
    assert np.all(np.isfinite(g))


def test_validation():
    s = np.zeros((2, 10, 3), np.float32)
    kw = dict(target_region=(0, 5), target_counts=(3, 1), Ts=1.0, psp=[1.0])
    with pytest.raises(ValueError, match="target_region"):
        sl.num_spikes(s, np.array([0, 1]), **{**kw, "target_region": (4, 12)})
    with pytest.raises(ValueError, match="target_region"):
        sl.num_spikes(s, np.array([0, 1]), **{**kw, "target_region": (5, 5)})
    with pytest.raises(ValueError, match="desired_class"):
        sl.num_spikes(s, np.array([0, 1, 2]), **kw)
    with pytest.raises(ValueError, match="target_counts"):
        sl.num_spikes(s, np.array([0, 1]), **{**kw, "target_counts": {"a": 1}})
    with pytest.raises(ValueError, match="psp"):
        sl.num_spikes(s, np.array([0, 1]), **{**kw, "psp": None})
    with pytest.raises(ValueError, match="psp"):
        sl.spike_time(s, s, psp=lambda x: x[:, :5])
    with pytest.raises(ValueError, match="spike_desired"):
        sl.spike_time(s, s[:, :5], psp=[1.0])
    with pytest.raises(ValueError, match="Ts"):
        sl.spike_time(s, s, psp=[1.0], Ts=0)
    with pytest.raises(TypeError, match="spike_out"):
        sl.spike_time(s.astype(np.int32), s, psp=[1.0])
    with pytest.raises(ValueError, match="get_class: spike"):
        sl.get_class(np.zeros((3, 4)))


def test_loihi_network_learns_with_num_spikes_and_nadam():
    """The docs/slayer.md example: one Loihi layer, step-2 weights, numSpikes
    and optax.nadam separate two input patterns."""
    import optax

    from spyxlike import loihi

    params = NetParams({
        "simulation": {"Ts": 1.0, "tSample": 50},
        "neuron": {"type": "LOIHI", "vThMant": 10, "vDecay": 128, "iDecay": 1024,
                   "refDelay": 1, "wgtExp": 0, "tauRho": 1, "scaleRho": 1},
        "training": {"error": {"type": "NumSpikes",
                               "tgtSpikeRegion": {"start": 0, "stop": 50},
                               "tgtSpikeCount": {True: 10, False: 2}}},
    })
    error = sl.spike_loss(params)
    rng = np.random.RandomState(0)
    x = (rng.rand(16, 50, 20) < 0.2).astype(np.float32)
    y = rng.randint(0, 2, 16)
    x[y == 1, :, :10] = 0

    @jax.jit
    def step(w, opt_state):
        def loss_fn(w):
            out = loihi.spike_loihi(x @ loihi.loihi_weights(w), params["neuron"])
            return error.num_spikes(out, y), out
        (loss, out), g = jax.value_and_grad(loss_fn, has_aux=True)(w)
        updates, opt_state = opt.update(g, opt_state, w)
        return optax.apply_updates(w, updates), opt_state, loss, out

    w = jnp.asarray(rng.normal(0, 4, (20, 2)), jnp.float32)
    opt = optax.nadam(0.1)
    opt_state = opt.init(w)
    losses, accs = [], []
    for _ in range(20):
        w, opt_state, loss, out = step(w, opt_state)
        losses.append(float(loss))
        accs.append(float(np.mean(np.asarray(sl.get_class(out)) == y)))
    assert min(losses[-5:]) < 0.5 * losses[0]
    assert accs[-1] >= 0.9
