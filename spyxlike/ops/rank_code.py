"""Rank-order coding: the pure-JAX reference and the native XLA FFI call.

Both map ``x`` of shape ``(batch..., features...)`` (float32, the trailing
``feature_ndim`` axes form one sample) to int32 spike times of the same shape.
See :func:`spyxlike.coding.rank_code` for the definition.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def rank_code_times_reference(x: jax.Array, time_steps: int, feature_ndim: int) -> jax.Array:
    """Pure-JAX reference: ``t_i = floor(r_i * T / n)`` for ``x_i > 0``, else ``T``.

    ``r_i`` is the number of inputs of the sample strictly greater than
    ``x_i`` and ``n`` the number of positive inputs; O(F log F) per sample.
    """
    shape = x.shape
    batch_shape = shape[: x.ndim - feature_ndim]
    features = int(np.prod(shape[x.ndim - feature_ndim :], dtype=np.int64))
    flat = x.reshape((-1, features))

    def one(sample):
        ascending = jnp.sort(sample)
        greater = features - jnp.searchsorted(ascending, sample, side="right")
        n = jnp.sum(sample > 0)
        t = (greater.astype(jnp.int32) * time_steps) // jnp.maximum(n, 1).astype(jnp.int32)
        return jnp.where(sample > 0, t, time_steps).astype(jnp.int32)

    times = jax.vmap(one)(flat) if flat.shape[0] else flat.astype(jnp.int32)
    return times.reshape(batch_shape + shape[x.ndim - feature_ndim :])


def rank_code_times_native(x: jax.Array, time_steps: int, feature_ndim: int) -> jax.Array:
    """The C++ kernel ``spyxlike_rank_code`` (bucket ranking per sample, both cores)."""
    call = jax.ffi.ffi_call(
        "spyxlike_rank_code",
        jax.ShapeDtypeStruct(x.shape, jnp.int32),
        vmap_method="broadcast_all",
    )
    return call(x, time_steps=np.int64(time_steps), feature_ndim=np.int64(feature_ndim))
