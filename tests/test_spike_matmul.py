"""Spike-driven projection: native vs dense reference, gradients, dtypes, errors."""

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike.ops.spike_matmul import spike_matmul
from spyxlike.spike_linear import SpikeLinear


@pytest.mark.parametrize("dtype", [np.uint8, np.bool_, np.float32])
@pytest.mark.parametrize("shape", [(5, 70), (3, 9, 33), (2, 4, 6, 130)])
def test_native_matches_dense(dtype, shape):
    rng = np.random.default_rng(0)
    x = (rng.random(shape) < 0.05).astype(dtype)
    w = jnp.asarray(rng.normal(size=(shape[-1], 11)), jnp.float32)
    ref = spike_matmul(x, w, impl="reference")
    nat = spike_matmul(x, w, impl="native")
    np.testing.assert_allclose(nat, ref, rtol=1e-5, atol=1e-5)
    f = lambda w, impl: jnp.sum(jnp.sin(spike_matmul(x, w, impl=impl)))
    np.testing.assert_allclose(jax.grad(f)(w, "native"), jax.grad(f)(w, "reference"), rtol=1e-5, atol=1e-5)


def test_graded_float_spikes_and_input_gradient():
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.normal(size=(40, 50)) * (rng.random((40, 50)) < 0.1), jnp.float32)
    w = jnp.asarray(rng.normal(size=(50, 8)), jnp.float32)
    f = lambda x, w, impl: jnp.sum(spike_matmul(x, w, impl=impl) ** 2)
    gn = jax.grad(f, (0, 1))(x, w, "native")
    gr = jax.grad(f, (0, 1))(x, w, "reference")
    for a, b in zip(gn, gr):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_hand_computed():
    x = np.array([[0, 1, 0, 1], [0, 0, 0, 0]], np.uint8)
    w = jnp.arange(8, dtype=jnp.float32).reshape(4, 2)
    np.testing.assert_array_equal(spike_matmul(x, w, impl="native"), [[2 + 6, 3 + 7], [0, 0]])


def test_jit_and_vmap():
    rng = np.random.default_rng(2)
    x = (rng.random((3, 6, 40)) < 0.1).astype(np.uint8)
    w = jnp.asarray(rng.normal(size=(40, 5)), jnp.float32)
    ref = spike_matmul(x, w, impl="reference")
    np.testing.assert_allclose(jax.jit(lambda x: spike_matmul(x, w, impl="native"))(x), ref, rtol=1e-5)
    out = jax.vmap(lambda x: spike_matmul(x, w, impl="native"))(x)
    np.testing.assert_allclose(out, ref, rtol=1e-5)


def test_spike_linear_equals_hk_linear():
    x = (np.random.default_rng(3).random((4, 10, 30)) < 0.1).astype(np.float32)

    def ours(x):
        return SpikeLinear(7, name="linear")(x)

    def theirs(x):
        return hk.Linear(7)(x)

    a, b = hk.without_apply_rng(hk.transform(ours)), hk.without_apply_rng(hk.transform(theirs))
    pa, pb = a.init(jax.random.PRNGKey(0), x), b.init(jax.random.PRNGKey(0), x)
    for u, v in zip(jax.tree.leaves(pa), jax.tree.leaves(pb)):
        np.testing.assert_array_equal(u, v)
    assert jax.tree.structure(pa) == jax.tree.structure(pb)
    np.testing.assert_allclose(a.apply(pa, x), b.apply(pb, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.apply(pa, x.astype(np.uint8)), b.apply(pb, x), rtol=1e-5, atol=1e-6)


def test_errors():
    w = jnp.ones((4, 2))
    with pytest.raises(ValueError, match=r"x.shape\[-1\] must equal w.shape\[0\] = 4"):
        spike_matmul(np.ones((3, 5), np.uint8), w)
    with pytest.raises(ValueError, match="w must be"):
        spike_matmul(np.ones((3, 4), np.uint8), jnp.ones(4))
    with pytest.raises(TypeError, match="impl='native' needs x of"):
        spike_matmul(np.ones((3, 4), np.int32), w, impl="native")
    # auto falls back to the dense reference for other dtypes
    np.testing.assert_allclose(spike_matmul(np.ones((1, 4), np.int32), w), [[4.0, 4.0]])
