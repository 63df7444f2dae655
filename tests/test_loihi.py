"""Loihi CUBA neuron: integer dynamics against a hand-stepped loop (a literal
transcription of SLAYER's CUDA kernel), the PSP kernel, the surrogate
gradient, quantisation with a straight-through gradient; jit and vmap."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike import loihi
from spyxlike.loihi import LoihiNeuron


def slayer_loop(w, ws, i_decay, v_decay, ref_delay, theta, skip_first=True):
    """SLAYER's getSpikesKernel for one neuron, step by step in Python ints."""
    ns = len(w)
    s, u, v = [0] * ns, [0] * ns, [0] * ns
    u_old = v_old = 0
    ref_state = 0
    for i in range(ns):
        if skip_first and i == 0:
            continue
        u_sign = 1 if u_old >= 0 else -1
        v_sign = 1 if v_old >= 0 else -1
        u_tmp = u_sign * ((u_sign * u_old * (4096 - i_decay)) >> 12) + ws * int(w[i])
        v_tmp = v_sign * ((v_sign * v_old * (4096 - v_decay)) >> 12) + u_tmp
        if i >= ref_delay:
            ref_state -= s[i - ref_delay]
        spike = int(v_tmp > theta and ref_state == 0)
        v_old = v_tmp * (1 - spike) * int(ref_state == 0)
        ref_state += spike
        s[i] = spike
        u[i] = u_old = u_tmp
        v[i] = v_decay if spike else v_old
    return np.array(s), np.array(v), np.array(u)


NEURONS = [
    LoihiNeuron(v_th_mant=2, v_decay=128, i_decay=1024, ref_delay=1),
    LoihiNeuron(v_th_mant=3, v_decay=300, i_decay=2000, ref_delay=3, wgt_exp=1),
    LoihiNeuron(v_th_mant=1, v_decay=0, i_decay=4096, ref_delay=5, wgt_exp=-2),
    LoihiNeuron(v_th_mant=80, v_decay=4096, i_decay=0, ref_delay=2, wgt_exp=3),
]


@pytest.mark.parametrize("neuron", NEURONS)
def test_integer_dynamics_match_slayer_kernel(neuron):
    rng = np.random.RandomState(neuron.ref_delay)
    x = rng.uniform(-3, 9, size=(3, 40, 4)).astype(np.float32)
    x[:, 0] = 0  # SLAYER ignores step 0; spyxlike integrates it
    s, v, u = (np.asarray(a) for a in loihi.spike_loihi_full(x, neuron))
    assert s.dtype == np.float32 and v.dtype == u.dtype == np.int32
    for b in range(3):
        for n in range(4):
            rs, rv, ru = slayer_loop(x[b, :, n], neuron.weight_scale,
                                     neuron.i_decay, neuron.v_decay,
                                     neuron.ref_delay, neuron.theta)
            np.testing.assert_array_equal(s[b, :, n], rs)
            np.testing.assert_array_equal(u[b, :, n], ru)
            # SLAYER marks spike steps with vDecay; spyxlike keeps the reset 0
            np.testing.assert_array_equal(v[b, :, n], np.where(rs == 1, 0, rv))
    assert s.sum() > 0


def test_step_zero_is_integrated():
    neuron = LoihiNeuron(v_th_mant=1, ref_delay=2)
    x = np.zeros((1, 6, 1), np.float32)
    x[0, 0, 0] = 2.0  # 2 * 64 = 128 > theta = 64: spike at step 0
    s, v, u = loihi.spike_loihi_full(x, neuron)
    rs, rv, ru = slayer_loop(x[0, :, 0], 64, neuron.i_decay, neuron.v_decay,
                             2, 64, skip_first=False)
    np.testing.assert_array_equal(np.asarray(s)[0, :, 0], rs)
    np.testing.assert_array_equal(np.asarray(u)[0, :, 0], ru)
    assert int(s[0, 0, 0]) == 1 and int(v[0, 0, 0]) == 0
    # hand-stepped: u = 128, 96, 72, ...; v held at 0 for refDelay-1 = 1 step
    assert list(np.asarray(u)[0, :3, 0]) == [128, 96, 72]
    assert int(v[0, 1, 0]) == 0 and int(s[0, 1, 0]) == 0


def test_truncation_and_integer_input():
    neuron = LoihiNeuron(v_th_mant=1000)
    xf = np.array([[[1.9], [-1.9], [2.5], [-0.5]]], np.float32)
    xi = np.array([[[1], [-1], [2], [0]]], np.int32)
    for a, b in zip(loihi.spike_loihi_full(xf, neuron),
                    loihi.spike_loihi_full(xi, neuron)):
        np.testing.assert_array_equal(a, b)
    out = loihi.spike_loihi(xi, neuron)
    assert out.dtype == jnp.float32


def test_large_values_do_not_overflow():
    neuron = LoihiNeuron(v_th_mant=(1 << 17) - 1, v_decay=1, i_decay=1,
                         wgt_exp=7)
    x = np.full((1, 8, 1), 1000.0, np.float32)  # u grows towards 2**26
    s, v, u = loihi.spike_loihi_full(x, neuron)
    rs, rv, ru = slayer_loop(x[0, :, 0], neuron.weight_scale, 1, 1, 1,
                             neuron.theta, skip_first=False)
    np.testing.assert_array_equal(np.asarray(s)[0, :, 0], rs)
    np.testing.assert_array_equal(np.asarray(u)[0, :, 0], ru)
    np.testing.assert_array_equal(np.asarray(v)[0, :, 0], np.where(rs == 1, 0, rv))
    assert ru.max() * 4095 > 2 ** 31  # a naive int32 product would overflow


def test_psp_kernel_matches_slayer():
    neuron = LoihiNeuron(v_decay=128, i_decay=1024)
    u = v = 1 << 7
    ref = [v]
    while v > 0:
        u = (u * (4096 - 1024)) >> 12
        v = ((v * (4096 - 128)) >> 12) + u
        ref.append(v)
    ref = np.array(ref, float) / 2
    k = loihi.loihi_psp_kernel(neuron, len(ref) + 5)
    np.testing.assert_array_equal(k[:len(ref)], ref)
    np.testing.assert_array_equal(k[len(ref):], 0)
    assert loihi.loihi_psp_kernel(neuron, 3).shape == (3,)
    assert loihi.loihi_psp_kernel_max(neuron) == ref.max()
    # a slayer-style mapping gives the same
    k2 = loihi.loihi_psp_kernel(neuron.to_params(), 10)
    np.testing.assert_array_equal(k2, k[:10])


def test_surrogate_gradient_formula():
    neuron = LoihiNeuron(v_th_mant=2, v_decay=256, i_decay=1024, tau_rho=0.5,
                         scale_rho=2.0)
    rng = np.random.RandomState(3)
    x = rng.uniform(-1, 4, size=(2, 25, 3)).astype(np.float32)
    g = rng.normal(size=x.shape).astype(np.float32)
    grad = jax.grad(lambda x: jnp.sum(loihi.spike_loihi(x, neuron) * g))(x)
    # direct computation: rho at the pre-reset voltage, correlated with K
    s, v, u = (np.asarray(a) for a in loihi.spike_loihi_full(x, neuron))
    v_pre = np.zeros_like(v)
    for b in range(2):
        for n in range(3):
            vv = 0
            for t in range(25):
                vv = int(np.sign(vv)) * ((abs(vv) * (4096 - 256)) >> 12) + int(u[b, t, n])
                v_pre[b, t, n] = vv
                if s[b, t, n]:
                    vv = 0
    theta, tau = 128.0, 0.5 * 128.0
    kmax = loihi.loihi_psp_kernel_max(neuron)
    rho = 2.0 / kmax / tau * np.exp(-np.abs(v_pre - theta) / tau)
    k = loihi.loihi_psp_kernel(neuron, 25).astype(np.float64)
    y = g * rho
    want = np.zeros_like(y)
    for t in range(25):
        want[:, t] = np.einsum("k,bkn->bn", k[:25 - t], y[:, t:])
    np.testing.assert_allclose(grad, want, rtol=2e-4, atol=1e-7)
    assert np.all(np.isfinite(grad)) and np.abs(grad).sum() > 0


def test_jit_vmap_and_training_signal():
    neuron = {"type": "LOIHI", "vThMant": 2, "vDecay": 128, "iDecay": 1024,
              "refDelay": 1, "wgtExp": 0, "tauRho": 1, "scaleRho": 1}
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 5, size=(4, 30, 5)).astype(np.float32)
    ref = loihi.spike_loihi(x, neuron)
    np.testing.assert_array_equal(jax.jit(lambda a: loihi.spike_loihi(a, neuron))(x), ref)
    vm = jax.vmap(lambda a: loihi.spike_loihi(a[None], neuron)[0])(x)
    np.testing.assert_array_equal(vm, ref)
    full = jax.jit(lambda a: loihi.spike_loihi_full(a, neuron))(x)
    np.testing.assert_array_equal(full[0], ref)
    # gradients through quantised weights reach the weights
    spikes_in = (rng.rand(2, 30, 6) < 0.3).astype(np.float32)
    w = rng.normal(scale=3.0, size=(6, 5)).astype(np.float32)

    def loss(w):
        ws = jnp.einsum("btn,nm->btm", spikes_in, loihi.loihi_weights(w))
        return jnp.sum(loihi.spike_loihi(ws, neuron))

    gw = jax.jit(jax.grad(loss))(w)
    assert gw.shape == w.shape and np.all(np.isfinite(gw)) and np.abs(gw).sum() > 0
    bgrad = jax.vmap(jax.grad(lambda a: loihi.spike_loihi(a[None], neuron).sum()))(x)
    np.testing.assert_allclose(
        bgrad, jax.grad(lambda a: loihi.spike_loihi(a, neuron).sum())(x), rtol=1e-5,
        atol=1e-8)


def test_quantize_values_and_straight_through():
    w = jnp.array([-3.1, -1.0, -0.26, 0.25, 0.74, 1.0, 2.9], jnp.float32)
    np.testing.assert_allclose(loihi.quantize(w, 0.5),
                               [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
    np.testing.assert_allclose(loihi.quantize(w), [-3, -1, 0, 0, 1, 1, 3])
    np.testing.assert_allclose(loihi.loihi_weights(w), [-4, -0, -0, 0, 0, 0, 2])
    np.testing.assert_allclose(loihi.loihi_weights(w, False), w)
    g = jax.grad(lambda w: jnp.sum(loihi.quantize(w, 2.0) * jnp.arange(7.0)))(w)
    np.testing.assert_allclose(g, np.arange(7.0))
    np.testing.assert_allclose(jax.jit(loihi.quantize, static_argnums=1)(w, 2.0),
                               loihi.loihi_weights(w))
    assert loihi.quantize(jnp.arange(5), 2).dtype == jnp.int32
    with pytest.raises(ValueError, match="step"):
        loihi.quantize(w, 0)
    with pytest.raises(TypeError, match="quantize_weights"):
        loihi.loihi_weights(w, "yes")


def test_pool_weight():
    neuron = LoihiNeuron()
    kmax = loihi.loihi_psp_kernel_max(neuron)
    raw = 1.1 * 80 * 64 / kmax
    assert loihi.loihi_pool_weight(neuron) == pytest.approx(np.round(raw / 2) * 2 / 1.1)


def test_validation():
    with pytest.raises(ValueError, match="vDecay"):
        LoihiNeuron(v_decay=5000)
    with pytest.raises(ValueError, match="refDelay"):
        LoihiNeuron(ref_delay=0)
    with pytest.raises(TypeError, match="iDecay"):
        LoihiNeuron(i_decay=1.5)
    with pytest.raises(ValueError, match="tauRho"):
        LoihiNeuron(tau_rho=-1)
    with pytest.raises(ValueError, match="neuron.type"):
        LoihiNeuron.from_params({"type": "SRMALPHA"})
    with pytest.raises(ValueError, match="neuron.vThmant"):
        LoihiNeuron.from_params({"vThmant": 3})
    with pytest.raises(ValueError, match="theta"):
        LoihiNeuron.from_params({"vThMant": 3, "theta": 10})
    assert LoihiNeuron.from_params({"vThMant": 3, "theta": 192}).theta == 192
    with pytest.raises(ValueError, match="weighted_spikes"):
        loihi.spike_loihi(np.zeros(5, np.float32), LoihiNeuron())


def test_sampling_time_units():
    """Like SLAYER: real inputs are scaled by Ts, spikes have height 1/Ts and
    the surrogate gradient carries a factor Ts."""
    neuron = LoihiNeuron(v_th_mant=2, v_decay=256)
    rng = np.random.RandomState(5)
    x = rng.uniform(-1, 8, size=(2, 20, 3)).astype(np.float32)
    s1, v1, u1 = loihi.spike_loihi_full(x * 2, neuron)
    s2, v2, u2 = loihi.spike_loihi_full(x * 4, neuron, Ts=0.5)
    np.testing.assert_array_equal(u1, u2)
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(np.asarray(s2) * 0.5, s1)
    np.testing.assert_array_equal(loihi.spike_loihi(x * 4, neuron, Ts=0.5), s2)
    g1 = jax.grad(lambda a: loihi.spike_loihi(a, neuron).sum())(x * 2)
    g2 = jax.grad(lambda a: loihi.spike_loihi(a, neuron, Ts=0.5).sum())(x * 4)
    # SLAYER's backward is Ts * corr(dL/dout * rho, K): same voltages, so Ts * g1
    np.testing.assert_allclose(g2, 0.5 * g1, rtol=1e-5, atol=1e-9)
    # integer inputs ignore Ts (SLAYER sets Ts = 1 for int32 inputs)
    xi = np.trunc(x * 2).astype(np.int32)
    si, _, ui = loihi.spike_loihi_full(xi, neuron, Ts=0.5)
    np.testing.assert_array_equal(ui, u1)
    np.testing.assert_array_equal(si, s1)
    with pytest.raises(ValueError, match="Ts"):
        loihi.spike_loihi(x, neuron, Ts=0.0)
