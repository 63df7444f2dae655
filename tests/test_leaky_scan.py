"""Fused LIF/LI time loops: closed forms, native vs reference, gradients, transforms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike import axn
from spyxlike.ops.leaky_scan import li_scan, lif_scan

IMPLS = ["reference", "native"]


def _random(shape_feat=(7,), batch=3, steps=25, seed=0):
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.normal(0.4, 1.0, (batch, steps) + shape_feat), jnp.float32)
    v0 = jnp.asarray(rng.normal(0.0, 0.5, (batch,) + shape_feat), jnp.float32)
    beta = jnp.asarray(rng.uniform(0.3, 1.0, shape_feat), jnp.float32)
    return x, v0, beta


@pytest.mark.parametrize("impl", IMPLS)
def test_lif_hand_computed(impl):
    # beta 0.5, theta 1: v: 0 -> 0.9 -> 1.35 (spike read at t=2 from v=1.35) ...
    x = jnp.array([[[0.9], [0.9], [0.9], [0.0]]], jnp.float32)
    spikes, v = lif_scan(x, jnp.zeros((1, 1)), 0.5, 1.0, axn.superspike(), impl=impl)
    # t0: s=H(0-1)=0, v=0.9; t1: s=0, v=1.35; t2: s=1, v=0.675+0.9-1=0.575; t3: s=0, v=0.2875
    np.testing.assert_array_equal(spikes[0, :, 0], [0, 0, 1, 0])
    np.testing.assert_allclose(v, [[0.2875]], rtol=1e-6)


@pytest.mark.parametrize("impl", IMPLS)
def test_li_hand_computed(impl):
    x = jnp.array([[[1.0], [2.0], [0.0]]], jnp.float32)
    trace, v = li_scan(x, jnp.full((1, 1), 4.0), 0.5, impl=impl)
    np.testing.assert_allclose(trace[0, :, 0], [3.0, 3.5, 1.75])
    np.testing.assert_allclose(v, [[1.75]])


# built-ins run the fused adjoint (surrogate inline); custom() the precomputed-array adjoint
SURROGATES = [axn.superspike(), axn.arctan(), axn.boxcar(), axn.triangular(), axn.tanh(),
              axn.sigmoid(), axn.fast_sigmoid(k=7), axn.custom(bwd=lambda u: jnp.exp(-u * u))]


@pytest.mark.parametrize("feat", [(7,), (4, 3, 2)])
@pytest.mark.parametrize("surrogate", SURROGATES)
def test_lif_native_matches_reference_values_and_gradients(feat, surrogate):
    x, v0, beta = _random(feat)
    weights = jnp.asarray(np.random.default_rng(5).normal(size=x.shape), jnp.float32)

    def loss(x, v0, beta, impl):
        s, v = lif_scan(x, v0, beta, 1.0, surrogate, impl=impl)
        return jnp.sum(s * weights) + jnp.sum(jnp.sin(v)), s

    (l_ref, s_ref), g_ref = jax.value_and_grad(loss, (0, 1, 2), has_aux=True)(x, v0, beta, "reference")
    (l_nat, s_nat), g_nat = jax.value_and_grad(loss, (0, 1, 2), has_aux=True)(x, v0, beta, "native")
    np.testing.assert_array_equal(s_ref, s_nat)
    np.testing.assert_allclose(l_nat, l_ref, rtol=1e-6)
    # float32 sums over batch and time in another order (and with or without
    # FMA contraction, depending on -march) differ by a few 1e-5 relative
    for a, b in zip(g_nat, g_ref):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    assert float(jnp.abs(g_ref[2]).sum()) > 0  # beta really gets a gradient
    assert float(jnp.abs(g_ref[0]).sum()) > 0


def test_li_native_matches_reference_values_and_gradients():
    x, v0, beta = _random((5,), steps=40)

    def loss(x, v0, beta, impl):
        out, v = li_scan(x, v0, beta, impl=impl)
        return jnp.sum(jnp.cos(out)) + jnp.sum(v**2)

    vr, gr = jax.value_and_grad(loss, (0, 1, 2))(x, v0, beta, "reference")
    vn, gn = jax.value_and_grad(loss, (0, 1, 2))(x, v0, beta, "native")
    np.testing.assert_allclose(vn, vr, rtol=1e-6)
    for a, b in zip(gn, gr):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("impl", IMPLS)
def test_jit_and_vmap(impl):
    x, v0, beta = _random()
    act = axn.superspike()
    f = lambda x, v0: lif_scan(x, v0, beta, 1.0, act, impl=impl)
    expected = f(x, v0)
    jitted = jax.jit(f)(x, v0)
    np.testing.assert_array_equal(jitted[0], expected[0])
    stacked = jax.vmap(f)(jnp.stack([x, 2 * x]), jnp.stack([v0, v0]))
    np.testing.assert_array_equal(stacked[0][0], expected[0])
    np.testing.assert_array_equal(stacked[0][1], f(2 * x, v0)[0])
    g = jax.vmap(jax.grad(lambda x: jnp.sum(li_scan(x, v0, beta, impl=impl)[0] ** 2)))(jnp.stack([x, x]))
    np.testing.assert_allclose(g[0], g[1])


def test_native_needs_heaviside_forward():
    x, v0, beta = _random()
    soft = axn.custom(bwd=lambda u: jnp.ones_like(u), fwd=jax.nn.sigmoid)
    with pytest.raises(ValueError, match="Heaviside-forward"):
        lif_scan(x, v0, beta, 1.0, soft, impl="native")
    # auto uses the reference for it, with the sigmoid forward
    s, _ = lif_scan(x, v0, beta, 1.0, soft, impl="auto")
    assert 0 < float(s.min()) < 1


def test_errors():
    x, v0, beta = _random()
    act = axn.superspike()
    with pytest.raises(ValueError, match="v0 must have shape"):
        lif_scan(x, v0[:, :3], beta, 1.0, act)
    with pytest.raises(ValueError, match="inputs must be"):
        lif_scan(x[0], v0, beta, 1.0, act)
    with pytest.raises(ValueError, match="beta must broadcast"):
        li_scan(x, v0, jnp.ones(3))
    with pytest.raises(ValueError, match="impl must be one of"):
        li_scan(x, v0, beta, impl="cuda")
