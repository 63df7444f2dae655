"""SpykeTorch's fire as a Pallas kernel (one grid step per sample).

Same contract as :func:`spyxlike.ops.fire.fire_reference`. Each program
handles one ``(T, N)`` block; the threshold is a one-element operand (so it
may be traced); ``threshold=None`` zeroes every step but the last
(threshold 0 there). Runs compiled on GPU and with ``interpret=True``
elsewhere.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import pallas as pl


def _kernel(th_ref, p_ref, s_ref, t_ref, *, last_step_only, steps):
    p = p_ref[...]
    if last_step_only:
        step = jax.lax.broadcasted_iota(jnp.int32, p.shape, 1)
        fired = (p > 0) & (step == steps - 1)
    else:
        fired = p > th_ref[0]
    s_ref[...] = fired.astype(p.dtype)
    t_ref[...] = jnp.where(fired, p, jnp.zeros((), p.dtype))


def fire_pallas(potentials: jax.Array, threshold, feature_ndim: int, *, interpret=None):
    """Pallas fire on float potentials ``(batch..., T, features...)``.

    Args:
      potentials: float array, at least ``feature_ndim + 1`` dims.
      threshold: a real scalar (may be traced), or ``None`` for SpykeTorch's
        last-step rule.
      feature_ndim: number of trailing feature axes.
      interpret: run the kernel in interpret mode; default: when the backend
        is not a GPU.

    Returns:
      ``(spikes, thresholded)`` shaped and typed like ``potentials``.
    """
    if interpret is None:
        interpret = jax.default_backend() != "gpu"
    shape = potentials.shape
    time_axis = len(shape) - feature_ndim - 1
    steps = shape[time_axis]
    n = int(np.prod(shape[time_axis + 1 :], dtype=np.int64))
    batch = int(np.prod(shape[:time_axis], dtype=np.int64))
    x = potentials.reshape((batch, steps, n))
    kernel = functools.partial(_kernel, last_step_only=threshold is None, steps=steps)
    th = jnp.reshape(jnp.asarray(0 if threshold is None else threshold, x.dtype), (1,))
    spec = pl.BlockSpec((1, steps, n), lambda b: (b, 0, 0))
    out = jax.ShapeDtypeStruct(x.shape, x.dtype)
    spikes, thresholded = pl.pallas_call(
        kernel,
        out_shape=(out, out),
        grid=(batch,),
        in_specs=[pl.BlockSpec((1,), lambda b: (0,)), spec],
        out_specs=(spec, spec),
        interpret=interpret,
    )(th, x)
    return spikes.reshape(shape), thresholded.reshape(shape)
