"""Spike-driven projection ``y = x @ w`` for sparse (spike) inputs.

The reference is a dense matmul. The native path gathers only the weight rows
of non-zero inputs (forward) and accumulates the weight gradient as a sparse
outer product ``dW[k] += x[r, k] * g[r]`` (backward); the input gradient
``g @ w.T`` stays a dense XLA matmul, which XLA drops when the input is data
that is not differentiated. Cost scales with the number of spikes, not with
``rows * K``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.ops.dispatch import check_impl, use_native

_NATIVE_DTYPES = (jnp.float32, jnp.uint8, jnp.bool_)


def spike_matmul_reference(x, w):
    """Dense reference: ``x.astype(float32) @ w``."""
    return jnp.matmul(x.astype(jnp.float32), w)


def _native_forward(x, w):
    return jax.ffi.ffi_call(
        "spyxlike_spike_matmul",
        jax.ShapeDtypeStruct(x.shape[:-1] + (w.shape[1],), jnp.float32),
        vmap_method="sequential",
    )(x, w)


@jax.custom_vjp
def _spike_matmul_native(x, w):
    return _native_forward(x, w)


def _fwd(x, w):
    return _native_forward(x, w), (x, w)


def _bwd(residuals, g):
    x, w = residuals
    dw = jax.ffi.ffi_call(
        "spyxlike_spike_matmul_grad_w",
        jax.ShapeDtypeStruct(w.shape, jnp.float32),
        vmap_method="sequential",
    )(x, g)
    if jnp.issubdtype(x.dtype, jnp.floating):
        dx = jnp.matmul(g, w.T).astype(x.dtype)
    else:
        dx = np.zeros(x.shape, dtype=jax.dtypes.float0)
    return dx, dw


_spike_matmul_native.defvjp(_fwd, _bwd)


def spike_matmul(x, w, *, impl: str = "auto"):
    """Projects spikes through a weight matrix: ``y[..., n] = sum_k x[..., k] w[k, n]``.

    Args:
      x: ``(..., K)`` spikes (float32, uint8 or bool; any values are used
        as weights of the rows they select, so graded spikes work too).
      w: ``(K, N)`` float32 weights.
      impl: ``"auto" | "reference" | "native"``. ``auto`` takes the native
        kernel on CPU; it pays off for sparse ``x`` (a few % active).

    Returns:
      ``(..., N)`` float32.
    """
    impl = check_impl(impl, "spike_matmul")
    x = jnp.asarray(x)
    w = jnp.asarray(w)
    if w.ndim != 2:
        raise ValueError(f"spike_matmul: w must be (K, N), got shape {w.shape}")
    if x.ndim < 1 or x.shape[-1] != w.shape[0]:
        raise ValueError(
            f"spike_matmul: x.shape[-1] must equal w.shape[0] = {w.shape[0]}, got x shape {x.shape}"
        )
    if w.dtype != jnp.float32:
        raise TypeError(f"spike_matmul: w must be float32, got {w.dtype}")
    dtype_ok = any(x.dtype == d for d in _NATIVE_DTYPES)
    if impl == "native" and not dtype_ok:
        raise TypeError(f"spike_matmul: impl='native' needs x of float32, uint8 or bool, got {x.dtype}")
    if not use_native(impl, "spike_matmul", supported=dtype_ok):
        return spike_matmul_reference(x, w)
    return _spike_matmul_native(x, w)
