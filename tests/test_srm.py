"""SRM-alpha kernels, psp, spike+refractory (reference and native) against closed forms and loops."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike import srm
from spyxlike.ops import native_available
from spyxlike.ops.srm_spike import srm_spike, srm_spike_reference

needs_native = pytest.mark.skipif(not native_available(), reason="native extension not built")


def _slayer_alpha(tau, mult, Ts, t_sample, eps):
    out = []
    for t in np.arange(0, t_sample, Ts):
        v = mult * t / tau * math.exp(1 - t / tau)
        if abs(v) < eps and t > tau:
            break
        out.append(v)
    return np.asarray(out, np.float32)


@pytest.mark.parametrize("tau,Ts", [(10.0, 1.0), (5.0, 0.5), (1.0, 1.0), (2.5, 0.25)])
def test_srm_kernel_closed_form_and_truncation(tau, Ts):
    k = srm.srm_kernel(tau, Ts=Ts, t_sample=300)
    t = np.arange(len(k)) * Ts
    np.testing.assert_allclose(k, t / tau * np.exp(1 - t / tau), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(k, _slayer_alpha(tau, 1.0, Ts, 300, 0.01))
    # truncated at the first sample past tau below 0.01
    t_next = len(k) * Ts
    assert t_next / tau * math.exp(1 - t_next / tau) < 0.01
    assert k.max() == pytest.approx(1.0, abs=0.05)


def test_kernel_respects_t_sample():
    assert len(srm.srm_kernel(10.0, Ts=1.0, t_sample=20)) == 20


def test_refractory_kernel_closed_form():
    theta, tau_ref, scale_ref = 10.0, 1.0, 2.0
    nu = srm.refractory_kernel(theta, tau_ref, scale_ref, 1.0)
    t = np.arange(len(nu), dtype=np.float64)
    np.testing.assert_allclose(nu, -scale_ref * theta * t / tau_ref * np.exp(1 - t / tau_ref),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(nu, _slayer_alpha(tau_ref, -scale_ref * theta, 1.0, 300, 0.01))
    full = srm.refractory_kernel(theta, tau_ref, scale_ref, 1.0, full=True)
    assert len(full) > len(nu)
    assert nu[1] == pytest.approx(-20.0)


def _direct_psp(x, k, Ts):
    B, T = x.shape[:2]
    y = np.zeros(x.shape, np.float64)
    for t in range(T):
        for s in range(t + 1):
            if t - s < len(k):
                y[:, t] += k[t - s] * x[:, s]
    return y * Ts


@pytest.mark.parametrize("method", ["toeplitz", "fft", "conv", "auto"])
def test_psp_matches_direct_convolution(method):
    rng = np.random.default_rng(1)
    x = (rng.random((2, 60, 3, 2)) < 0.2).astype(np.float32) / 0.5
    k = srm.srm_kernel(4.0, Ts=0.5)
    y = srm.psp(x, k, 0.5, method=method)
    assert y.shape == x.shape and y.dtype == jnp.float32
    np.testing.assert_allclose(y, _direct_psp(x, k, 0.5), atol=2e-5, rtol=1e-5)


def test_psp_single_spike_is_kernel():
    k = srm.srm_kernel(3.0)
    x = np.zeros((1, 40, 1), np.float32)
    x[0, 5, 0] = 1.0
    y = np.asarray(srm.psp(x, k))[0, :, 0]
    np.testing.assert_allclose(y[5:5 + len(k)], k[: 35], atol=1e-6)
    assert np.all(y[:5] == 0)


def test_psp_kernel_longer_than_sequence():
    k = srm.srm_kernel(10.0)  # 77 taps
    x = np.random.default_rng(0).random((2, 30, 4)).astype(np.float32)
    for m in ("toeplitz", "fft", "conv"):
        np.testing.assert_allclose(srm.psp(x, k, method=m), _direct_psp(x, k, 1.0), atol=1e-4)


def test_psp_gradient_finite_differences():
    rng = np.random.default_rng(2)
    x = rng.random((1, 12, 2))
    k = srm.srm_kernel(2.0)
    w = rng.normal(size=(1, 12, 2))
    f = lambda x, k: jnp.sum(srm.psp(x, k, method="toeplitz") * w)
    gx, gk = jax.grad(f, argnums=(0, 1))(jnp.asarray(x, jnp.float32), jnp.asarray(k))
    eps = 1e-2
    for idx in [(0, 0, 0), (0, 5, 1), (0, 11, 0)]:
        d = np.zeros_like(x); d[idx] = eps
        fd = (f(jnp.asarray(x + d, jnp.float32), k) - f(jnp.asarray(x - d, jnp.float32), k)) / (2 * eps)
        assert float(gx[idx]) == pytest.approx(float(fd), rel=1e-2, abs=1e-3)
    for j in [0, 3]:
        d = np.zeros_like(k); d[j] = eps
        fd = (f(jnp.asarray(x, jnp.float32), k + d) - f(jnp.asarray(x, jnp.float32), k - d)) / (2 * eps)
        assert float(gk[j]) == pytest.approx(float(fd), rel=1e-2, abs=1e-3)


def _hand_spikes(u, ref, theta, Ts):
    u = np.array(u, np.float32)
    s = np.zeros_like(u)
    B, T, N = u.shape
    for b in range(B):
        for n in range(N):
            for t in range(T):
                if u[b, t, n] >= theta:
                    s[b, t, n] = np.float32(1 / Ts)
                    for j in range(len(ref)):
                        if t + j < T:
                            u[b, t + j, n] += ref[j]
    return s, u


def test_spike_refractory_hand_stepped():
    ref = np.array([0.0, -5.0, -2.0], np.float32)
    u = np.array([[[0.0], [1.5], [1.5], [1.5], [7.0], [3.0], [1.0]]], np.float32)
    s, v = srm_spike(u, ref, theta=1.0, Ts=0.5, impl="reference")
    # t=1 fires; t=2: 1.5-5 < 1; t=3: 1.5-2 < 1; t=4 fires; t=5: 3-5; t=6: 1-2
    np.testing.assert_array_equal(np.asarray(s)[0, :, 0], [0, 2, 0, 0, 2, 0, 0])
    np.testing.assert_allclose(np.asarray(v)[0, :, 0], [0, 1.5, -3.5, -0.5, 7.0, -2.0, -1.0])


@pytest.mark.parametrize("impl", ["reference", pytest.param("native", marks=needs_native)])
def test_spike_matches_loop_random(impl):
    rng = np.random.default_rng(3)
    n = srm.SRMNeuron(theta=5.0, tau_ref=2.0, scale_ref=1.5)
    ref = srm.refractory_kernel(5.0, 2.0, 1.5, 1.0)
    u = rng.normal(3, 5, (3, 40, 6)).astype(np.float32)
    s, v = srm.spike(u, n, 1.0, return_potential=True, impl=impl)
    hs, hv = _hand_spikes(u, ref, 5.0, 1.0)
    np.testing.assert_array_equal(s, hs)
    np.testing.assert_array_equal(v, hv)


@needs_native
@pytest.mark.parametrize("seed", range(4))
def test_native_equals_reference_exactly(seed):
    rng = np.random.default_rng(seed)
    shape = [(2, 30, 5), (1, 7, 3, 4), (4, 100, 33), (3, 1, 2)][seed]
    u = rng.normal(rng.uniform(0, 10), rng.uniform(1, 20), shape).astype(np.float32)
    ref = srm.refractory_kernel(rng.uniform(1, 10), rng.uniform(0.5, 5), rng.uniform(0, 3),
                                rng.choice([0.5, 1.0, 0.25]), full=bool(seed % 2))
    theta = float(rng.uniform(1, 10))
    s1, v1 = srm_spike(u, ref, theta=theta, Ts=0.5, impl="reference")
    s2, v2 = srm_spike(u, ref, theta=theta, Ts=0.5, impl="native")
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(v1, v2)


def test_spike_gradient_is_slayer_pdf():
    n = srm.SRMNeuron(theta=2.0, tau_rho=0.5, scale_rho=3.0)
    u = jnp.asarray(np.random.default_rng(4).normal(1, 2, (2, 20, 3)), jnp.float32)
    g = np.random.default_rng(5).normal(size=u.shape).astype(np.float32)
    s, v = srm.spike(u, n, return_potential=True)
    grad = jax.grad(lambda u: jnp.sum(srm.spike(u, n) * g))(u)
    tau = 0.5 * 2.0
    expect = g * 3.0 / tau * np.exp(-np.abs(np.asarray(v) - 2.0) / tau)
    np.testing.assert_allclose(grad, expect, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("impl", ["reference", pytest.param("native", marks=needs_native)])
def test_spike_jit_vmap_grad(impl):
    n = srm.SRMNeuron()
    u = jnp.asarray(np.random.default_rng(6).normal(8, 6, (2, 3, 15, 4)), jnp.float32)
    direct = jnp.stack([srm.spike(u[i], n, impl=impl) for i in range(2)])
    vm = jax.vmap(lambda x: srm.spike(x, n, impl=impl))(u)
    jt = jax.jit(lambda x: srm.spike(x, n, impl=impl))(u[0])
    np.testing.assert_array_equal(vm, direct)
    np.testing.assert_array_equal(jt, direct[0])
    g = jax.jit(jax.grad(lambda x: srm.spike(x, n, impl=impl).sum()))(u[0])
    assert g.shape == u[0].shape and bool(jnp.all(jnp.isfinite(g)))
    k = srm.srm_kernel(5.0)
    pv = jax.vmap(lambda x: srm.psp(x, k))(u)
    np.testing.assert_allclose(pv[1], srm.psp(u[1], k), atol=1e-5)


def test_descriptor_validation_names_fields():
    with pytest.raises(ValueError, match="tau_sr"):
        srm.SRMNeuron(tau_sr=-1.0)
    with pytest.raises(ValueError, match="tauRef"):
        srm.SRMNeuron.from_slayer({"theta": 1, "tauSr": 1, "tauRef": -2, "scaleRef": 1,
                                   "tauRho": 1, "scaleRho": 1})
    with pytest.raises(ValueError, match="type"):
        srm.SRMNeuron.from_slayer({"type": "LIF", "theta": 1, "tauSr": 1, "tauRef": 1,
                                   "scaleRef": 1, "tauRho": 1, "scaleRho": 1})
    with pytest.raises(ValueError, match="scaleRho"):
        srm.SRMNeuron.from_slayer({"theta": 1, "tauSr": 1, "tauRef": 1, "scaleRef": 1,
                                   "tauRho": 1})
    with pytest.raises(ValueError, match="tSample"):
        srm.Simulation.from_slayer({"Ts": 0.3, "tSample": 1.0})
    with pytest.raises(ValueError, match="Ts"):
        srm.Simulation(Ts=0.0)
    sim = srm.Simulation.from_slayer({"Ts": 0.5, "tSample": 300})
    assert sim.num_steps == 600 and sim.to_slayer() == {"Ts": 0.5, "tSample": 300.0}
    n = srm.as_neuron({"type": "srmalpha", "theta": 10, "tauSr": 10.0, "tauRef": 1.0,
                       "scaleRef": 2, "tauRho": 1, "scaleRho": 1})
    assert n == srm.SRMNeuron() and n.to_slayer()["tauSr"] == 10.0


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="kernel"):
        srm.psp(np.zeros((1, 4, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="method"):
        srm.psp(np.zeros((1, 4, 2)), np.ones(3), method="magic")
    with pytest.raises(ValueError, match="batch, T"):
        srm.psp(np.zeros((4,)), np.ones(3))
    with pytest.raises(ValueError, match="theta"):
        srm_spike(np.zeros((1, 4, 2)), np.zeros(3), theta=-1.0)
    with pytest.raises(ValueError, match="ref_kernel"):
        srm_spike(np.zeros((1, 4, 2)), np.zeros((0,)), theta=1.0)
    with pytest.raises(ValueError, match="tau"):
        srm.srm_kernel(0.0)


def test_psp_bank_order():
    x = np.random.default_rng(7).random((2, 10, 3, 2)).astype(np.float32)
    ks = np.stack([srm.srm_kernel(2.0), srm.srm_kernel(2.0) * 2])
    y = np.asarray(srm.psp_bank(x, ks))
    assert y.shape == (2, 10, 3, 4)
    np.testing.assert_allclose(y[..., :2], srm.psp(x, ks[0]), atol=1e-6)
    np.testing.assert_allclose(y[..., 2:], srm.psp(x, ks[1]), atol=1e-6)


def test_reference_scan_window_direct():
    u = np.full((1, 5, 1), 2.0, np.float32)
    s, v = srm_spike_reference(jnp.asarray(u), np.array([0.0, -1.0], np.float32), 2.0, 1.0)
    np.testing.assert_array_equal(np.asarray(s)[0, :, 0], [1, 0, 1, 0, 1])
