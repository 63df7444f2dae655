"""Pallas kernel of point-wise inhibition between feature maps.

One program per sample on a ``(T, H*W, C)`` block padded to powers of two
(padded steps and features hold ``-inf``, which never wins a maximum or
crosses a threshold). Same rules and results as
:func:`spyxlike.ops.pointwise_inhibition.pointwise_inhibition_reference`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax
from jax.experimental import pallas as pl


def _next_pow2(n: int) -> int:
    return 1 << max(0, (int(n) - 1).bit_length())


def _pointwise_kernel(x_ref, y_ref, *, time_steps, spyker, threshold):
    x = x_ref[0]                                   # (Tp, Pp, Cp)
    tp, pp, cp = x.shape
    maximum = jnp.max(x, axis=-1)                  # (Tp, Pp)
    ch = lax.broadcasted_iota(jnp.int32, x.shape, 2)
    argmax = jnp.min(jnp.where(x == maximum[..., None], ch, cp), axis=-1)
    steps = lax.broadcasted_iota(jnp.int32, maximum.shape, 0)
    if spyker:
        n = jnp.sum(jnp.where(maximum > threshold, 1, 0), axis=0)
        tstar = time_steps - jnp.maximum(n, 1)
        coef = jnp.ones(tstar.shape, jnp.float32)
    else:
        sign = jnp.where(maximum > 0, 1.0, jnp.where(maximum < 0, -1.0, 0.0))
        coef = jnp.max(sign, axis=0)
        tstar = jnp.min(jnp.where(sign == coef[None], steps, tp), axis=0)
    keep = jnp.min(jnp.where(steps == tstar[None], argmax, cp), axis=0)   # (Pp,)
    factor = jnp.where(ch == keep[None, :, None], coef[None, :, None], 0.0)
    y_ref[0] = x * factor


@functools.partial(jax.jit, static_argnums=(1, 2), static_argnames=("interpret",))
def pointwise_inhibition_pallas(x, spyker: bool, threshold: float, *, interpret=None):
    """Pallas point-wise inhibition; arguments as the reference.

    Args:
      x: float32 ``(B, T, H, W, C)``.
      spyker: Spyker's ``inhibit`` rule instead of SpykeTorch's ``pointwise_inhibition``.
      threshold: Spyker's threshold (unused by the SpykeTorch rule).
      interpret: run the Pallas interpreter; default: unless the backend is a GPU.

    Returns:
      float32 ``(B, T, H, W, C)``.
    """
    if interpret is None:
        interpret = jax.default_backend() != "gpu"
    batch, steps, height, width, chans = x.shape
    if x.size == 0:
        return x
    p = height * width
    tp, pp, cp = _next_pow2(steps), _next_pow2(p), _next_pow2(chans)
    xp = jnp.pad(x.reshape(batch, steps, p, chans),
                 ((0, 0), (0, tp - steps), (0, pp - p), (0, cp - chans)),
                 constant_values=-jnp.inf)
    kernel = functools.partial(_pointwise_kernel, time_steps=steps, spyker=bool(spyker),
                               threshold=float(threshold))
    spec = pl.BlockSpec((1, tp, pp, cp), lambda b: (b, 0, 0, 0))
    y = pl.pallas_call(
        kernel, out_shape=jax.ShapeDtypeStruct(xp.shape, jnp.float32), grid=(batch,),
        in_specs=[spec], out_specs=spec, interpret=interpret,
    )(xp)
    return y[:, :steps, :p, :chans].reshape(x.shape)
