"""Point-wise inhibition between feature maps: the pure-JAX reference and the native call.

Both map ``x`` float32 ``(batch, T, H, W, C)`` to the same shape, keeping at
each position ``(h, w)`` at most one feature. With ``m_t = max_c x[t, h, w, c]``
and ``a_t`` its first argmax:

* ``spyker=False`` (SpykeTorch ``pointwise_inhibition``): ``s = max_t sign(m_t)``,
  ``t*`` the first step with ``sign(m_t) = s``; feature ``a_{t*}`` is
  multiplied by ``s`` (1 if some step is positive, 0 if none is, -1 if every
  step is negative - SpykeTorch's formula, meant for thresholded, i.e.
  non-negative, potentials);
* ``spyker=True`` (Spyker ``inhibit``): ``n = #{t : m_t > threshold}``,
  ``t* = T - max(n, 1)``; feature ``a_{t*}`` is kept as is.

Every other feature is multiplied by 0 at every step.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np


def pointwise_keep(x, spyker: bool, threshold: float):
    """Per position, the kept feature and its factor: ``(keep (B,H,W) int32, coef (B,H,W))``."""
    steps = x.shape[1]
    maximum = jnp.max(x, axis=-1)                      # (B, T, H, W)
    argmax = jnp.argmax(x, axis=-1).astype(jnp.int32)  # first maximum
    if spyker:
        n = jnp.sum(maximum > threshold, axis=1, dtype=jnp.int32)
        tstar = steps - jnp.maximum(n, 1)
        coef = jnp.ones(tstar.shape, x.dtype)
    else:
        sign = jnp.sign(maximum)
        coef = jnp.max(sign, axis=1)
        tstar = jnp.argmax(sign == coef[:, None], axis=1).astype(jnp.int32)
    keep = jnp.take_along_axis(argmax, tstar[:, None], axis=1)[:, 0]
    return keep, coef


def pointwise_inhibition_reference(x, spyker: bool, threshold: float):
    """Pure-JAX reference (see the module docstring); compiled once per shape and rule."""
    return _pointwise_inhibition_reference(x, bool(spyker), np.float32(threshold))


@functools.partial(jax.jit, static_argnums=(1,))
def _pointwise_inhibition_reference(x, spyker: bool, threshold):
    if x.shape[1] == 0 or x.shape[-1] == 0 or x.size == 0:
        return x
    keep, coef = pointwise_keep(x, spyker, threshold)
    channels = jnp.arange(x.shape[-1], dtype=jnp.int32)
    factor = jnp.where(channels == keep[..., None], coef[..., None], jnp.zeros((), x.dtype))
    return x * factor[:, None]


@functools.partial(jax.jit, static_argnums=(1, 2))
def pointwise_inhibition_native(x, spyker: bool, threshold: float):
    """The C++ kernel ``spyxlike_pointwise_inhibit`` (one pass per position)."""
    call = jax.ffi.ffi_call(
        "spyxlike_pointwise_inhibit",
        jax.ShapeDtypeStruct(x.shape, jnp.float32),
        vmap_method="broadcast_all",
    )
    return call(x, spyker=np.int64(bool(spyker)), threshold=np.float32(threshold))
