"""Pallas kernel of k-winners-take-all on spike times.

One program per sample: the sample's ``(H, W, C)`` neurons are flattened and
padded to a power of two (padding never spikes), then ``kwta`` masked
selections run inside the kernel exactly as in
:func:`spyxlike.ops.kwta.k_winners_reference` (earliest time, then largest
value, then lowest SpykeTorch index ``c*H*W + h*W + w``; the winner removes
its feature map and a square in all maps). Bit-exact with the reference.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax
from jax.experimental import pallas as pl


def _next_pow2(n: int) -> int:
    return 1 << max(0, (int(n) - 1).bit_length())


def _kwta_kernel(t_ref, v_ref, f_ref, r_ref, c_ref, *, H, W, C, time_steps, kwta, radius_y,
                 radius_x, exclude_feature, spyketorch_rule):
    t = t_ref[...]
    v = v_ref[...]
    i = lax.broadcasted_iota(jnp.int32, t.shape, 1)
    inside = i < H * W * C
    c = i % C
    w = (i // C) % W
    h = i // (W * C)
    order = c * (H * W) + h * W + w
    big = jnp.iinfo(jnp.int32).max
    spiking = inside & (t >= 0) & (t < time_steps) & (v == v)
    if spyketorch_rule:
        any_positive = jnp.max(jnp.where(spiking & (v > 0), 1, 0)) > 0
        alive0 = spiking & (v >= 0) & any_positive
    else:
        alive0 = spiking
    slots = lax.broadcasted_iota(jnp.int32, f_ref.shape, 1)
    empty = jnp.full(f_ref.shape, -1, jnp.int32)

    def body(k, carry):
        alive, fo, ro, co = carry
        live = alive > 0
        found = jnp.max(alive) > 0
        tmin = jnp.min(jnp.where(live, t, time_steps))
        group = live & (t == tmin)
        vmax = jnp.max(jnp.where(group, v, -jnp.inf))
        group = group & (v == vmax)
        best = jnp.min(jnp.where(group, order, big))
        wc = best // (H * W)
        wh = (best % (H * W)) // W
        wx = best % W
        removed = (jnp.abs(h - wh) <= radius_y) & (jnp.abs(w - wx) <= radius_x)
        if exclude_feature:
            removed = removed | (c == wc)
        alive = jnp.where(removed & found, 0, alive)
        here = slots == k
        fo = jnp.where(here, jnp.where(found, wc, -1), fo)
        ro = jnp.where(here, jnp.where(found, wh, -1), ro)
        co = jnp.where(here, jnp.where(found, wx, -1), co)
        return alive, fo, ro, co

    init = (alive0.astype(jnp.int32), empty, empty, empty)
    _, fo, ro, co = lax.fori_loop(0, kwta, body, init)
    f_ref[...] = fo
    r_ref[...] = ro
    c_ref[...] = co


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5, 6, 7), static_argnames=("interpret",))
def k_winners_pallas(times, values, kwta: int, radius_y: int, radius_x: int, time_steps: int,
                     exclude_feature: bool, spyketorch_rule: bool, *, interpret=None):
    """Pallas k-WTA; arguments and result as :func:`spyxlike.ops.kwta.k_winners_reference`.

    Args:
      times: int32 ``(B, H, W, C)``.
      values: float32 ``(B, H, W, C)``.
      kwta: number of winner slots.
      radius_y: vertical inhibition radius.
      radius_x: horizontal inhibition radius.
      time_steps: ``T`` (the no-spike time).
      exclude_feature: a winner removes its whole feature map.
      spyketorch_rule: SpykeTorch's candidate rule (non-negative values, some positive).
      interpret: run the Pallas interpreter; default: unless the backend is a GPU.

    Returns:
      int32 ``(B, kwta, 3)`` rows ``(feature, row, col)``, ``-1`` in empty slots.
    """
    if interpret is None:
        interpret = jax.default_backend() != "gpu"
    batch, H, W, C = times.shape
    n = H * W * C
    npad = _next_pow2(n)
    kpad = _next_pow2(kwta)
    t = jnp.pad(times.reshape(batch, n), ((0, 0), (0, npad - n)), constant_values=time_steps)
    v = jnp.pad(values.reshape(batch, n), ((0, 0), (0, npad - n)))
    kernel = functools.partial(
        _kwta_kernel, H=H, W=W, C=C, time_steps=time_steps, kwta=kwta, radius_y=radius_y,
        radius_x=radius_x, exclude_feature=bool(exclude_feature),
        spyketorch_rule=bool(spyketorch_rule))
    out = jax.ShapeDtypeStruct((batch, kpad), jnp.int32)
    spec_in = pl.BlockSpec((1, npad), lambda b: (b, 0))
    spec_out = pl.BlockSpec((1, kpad), lambda b: (b, 0))
    f, r, c = pl.pallas_call(
        kernel, out_shape=(out, out, out), grid=(batch,),
        in_specs=[spec_in, spec_in], out_specs=(spec_out, spec_out, spec_out),
        interpret=interpret,
    )(t, v)
    return jnp.stack([f[:, :kwta], r[:, :kwta], c[:, :kwta]], axis=-1)
