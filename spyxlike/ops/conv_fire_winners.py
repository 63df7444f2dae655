"""Conv + fire fused with k-WTA: the reference composition and the native call.

All take validated arguments (see :mod:`spyxlike.ops.event_conv`) plus
``kwta >= 1`` and the radii (``-1`` = no spatial inhibition, SpykeTorch's
radius 0), and return ``(rows, win_time, win_value)``: int32
``(B, kwta, 3)`` winner rows ``(feature, row, col)`` (``-1`` in empty
slots), int32 ``(B, kwta)`` winner spike times (``T`` in empty slots) and
float32 ``(B, kwta)`` potentials at the spike (0 in empty slots). See
:func:`spyxlike.event_conv.conv_fire_winners`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.ops.event_conv import conv_geometry_attrs


_STATIC = ("time_steps", "stride", "padding", "kwta", "radius_y", "radius_x")


def gather_winners(rows, post, fire, time_steps: int):
    """``(win_time, win_value)`` of winner rows from full ``(B, Ho, Wo, Cout)`` outputs."""
    valid = rows[..., 0] >= 0
    b = jnp.arange(rows.shape[0])[:, None]
    f = jnp.maximum(rows[..., 0], 0)
    r = jnp.maximum(rows[..., 1], 0)
    c = jnp.maximum(rows[..., 2], 0)
    win_time = jnp.where(valid, post[b, r, c, f], jnp.int32(time_steps))
    win_value = jnp.where(valid, fire[b, r, c, f], jnp.float32(0))
    return rows, win_time.astype(jnp.int32), win_value.astype(jnp.float32)


def conv_fire_winners_composed(conv, select, pre_times, kernel, threshold, time_steps: int,
                               stride, padding, kwta: int, radius_y: int, radius_x: int):
    """The unfused definition: ``conv`` (conv + fire) then ``select`` (k-WTA rows) then a gather."""
    post, fire, _ = conv(pre_times, kernel, threshold, time_steps, stride, padding, False)
    rows = select(post, fire, kwta, radius_y, radius_x, time_steps, True, True)
    return gather_winners(rows, post, fire, time_steps)


@functools.partial(jax.jit, static_argnames=_STATIC)
def conv_fire_winners_native(pre_times, kernel, threshold, time_steps: int, stride, padding,
                             kwta: int, radius_y: int, radius_x: int):
    """The C++ kernel ``spyxlike_conv_fire_winners`` (event-driven, stops after the winners).

    Under ``vmap`` every operand gets the mapped axes in front
    (``vmap_method="broadcast_all"``), as for ``spyxlike_event_conv_fire``.
    """
    batch = pre_times.shape[:1]
    call = jax.ffi.ffi_call(
        "spyxlike_conv_fire_winners",
        (
            jax.ShapeDtypeStruct(batch + (kwta, 3), jnp.int32),
            jax.ShapeDtypeStruct(batch + (kwta,), jnp.int32),
            jax.ShapeDtypeStruct(batch + (kwta,), jnp.float32),
        ),
        vmap_method="broadcast_all",
    )
    return call(
        pre_times,
        kernel,
        threshold,
        **conv_geometry_attrs(time_steps, stride, padding),
        kwta=np.int64(kwta),
        radius_y=np.int64(radius_y),
        radius_x=np.int64(radius_x),
    )
