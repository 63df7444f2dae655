"""SpykeTorch's fire: the pure-JAX reference and the native XLA FFI call.

Both map float32 potentials ``(batch..., T, features...)`` (the trailing
``feature_ndim`` axes are one time step of one sample) to
``(spikes, thresholded)`` of the same shape and dtype; see
:func:`spyxlike.spikewave.fire` for the definition. ``threshold=None`` is
SpykeTorch's rule: only the last time step fires, with threshold 0.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def fire_reference(potentials: jax.Array, threshold, feature_ndim: int):
    """Pure-JAX reference: ``spikes = p > th``, ``thresholded = where(spikes, p, 0)``.

    ``threshold`` is a scalar (Python number or 0-d array) or ``None``.
    """
    p = potentials
    if threshold is None:
        time_axis = p.ndim - feature_ndim - 1
        steps = p.shape[time_axis]
        is_last = (jnp.arange(steps) == steps - 1).reshape((steps,) + (1,) * feature_ndim)
        fired = (p > 0) & is_last
    else:
        fired = p > jnp.asarray(threshold, p.dtype)
    zero = jnp.zeros((), p.dtype)
    return fired.astype(p.dtype), jnp.where(fired, p, zero)


def fire_native(potentials: jax.Array, threshold, feature_ndim: int, *,
                with_thresholded: bool = True):
    """The C++ kernel ``spyxlike_fire`` (one pass, all cores).

    ``potentials`` must be float32 and ``threshold`` a Python number or ``None``.
    Returns ``(spikes, thresholded)``, or ``(spikes, None)`` without
    ``with_thresholded`` (the kernel then leaves that output unwritten).
    """
    out = jax.ShapeDtypeStruct(potentials.shape, jnp.float32)
    call = jax.ffi.ffi_call("spyxlike_fire", (out, out), vmap_method="broadcast_all")
    res = call(
        potentials,
        threshold=np.float32(0.0 if threshold is None else threshold),
        last_step_only=np.int64(threshold is None),
        feature_ndim=np.int64(feature_ndim),
        write_thresholded=np.int64(with_thresholded),
    )
    return (res[0], res[1]) if with_thresholded else (res[0], None)
