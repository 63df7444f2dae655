"""Conv + fire of single-spike inputs: the dense pure-JAX reference and the native call.

Both take validated arguments: ``pre_times`` int32 ``(B, H, W, Cin)`` in
``[0, T]``, ``kernel`` float32 HWIO ``(kh, kw, Cin, Cout)``, ``threshold`` a
float32 scalar array, ``stride = (sh, sw)``, ``padding = (top, left, bottom,
right)``, and return ``(post_times, fire_potentials, final_potentials)`` with
``final_potentials`` ``None`` unless ``with_final``. See
:func:`spyxlike.event_conv.conv_fire` for the definition.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def conv_output_size(size: int, kernel: int, stride: int, before: int, after: int) -> int:
    """``floor((size + before + after - kernel) / stride) + 1`` (no dilation)."""
    return (size + before + after - kernel) // stride + 1


def conv_potentials_reference(pre_times, kernel, time_steps: int, stride, padding):
    """Potentials over time ``(B, T, Ho, Wo, Cout)`` of the dense formulation.

    ``pot[b, t] = conv(wave[b, t], kernel)`` with ``wave[b, t] = (pre_times[b] <= t)``
    (SpykeTorch's cumulative spike-wave), one ``lax.conv_general_dilated`` over
    the ``B * T`` waves; padding adds zeros (never-spiking inputs).
    """
    batch, height, width, cin = pre_times.shape
    steps = jnp.arange(time_steps, dtype=pre_times.dtype).reshape(1, time_steps, 1, 1, 1)
    waves = (pre_times[:, None] <= steps).astype(jnp.float32)
    top, left, bottom, right = padding
    pot = lax.conv_general_dilated(
        waves.reshape(batch * time_steps, height, width, cin),
        kernel,
        window_strides=tuple(stride),
        padding=((top, bottom), (left, right)),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        precision=lax.Precision.HIGHEST,
    )
    return pot.reshape((batch, time_steps) + pot.shape[1:])


def fire_reference(potentials, threshold):
    """First crossing along axis 1 of ``(B, T, ...)`` potentials.

    Returns ``(post_times, fire_potentials, final_potentials)``: the first
    ``t`` with ``pot > threshold`` (``T`` if none), the potential there (0 if
    none) and ``pot[:, T - 1]``.
    """
    time_steps = potentials.shape[1]
    above = potentials > threshold
    fired = above.any(axis=1)
    first = jnp.argmax(above, axis=1).astype(jnp.int32)
    at_first = jnp.take_along_axis(potentials, first[:, None], axis=1)[:, 0]
    post = jnp.where(fired, first, jnp.int32(time_steps))
    fire = jnp.where(fired, at_first, jnp.float32(0))
    return post, fire, potentials[:, time_steps - 1]


_STATIC = ("time_steps", "stride", "padding", "with_final")


def conv_geometry_attrs(time_steps: int, stride, padding) -> dict:
    """The XLA FFI attributes every event-conv handler reads (see PrepareEventConv)."""
    top, left, bottom, right = padding
    return dict(time_steps=np.int64(time_steps), stride_h=np.int64(stride[0]),
                stride_w=np.int64(stride[1]), pad_top=np.int64(top), pad_left=np.int64(left),
                pad_bottom=np.int64(bottom), pad_right=np.int64(right))


@functools.partial(jax.jit, static_argnames=_STATIC)
def conv_fire_reference(pre_times, kernel, threshold, time_steps: int, stride, padding,
                        with_final: bool):
    """The dense composition: :func:`conv_potentials_reference` then :func:`fire_reference`.

    Jitted (static ``time_steps``, ``stride``, ``padding``, ``with_final``), so
    eager calls compile once per shape.
    """
    pot = conv_potentials_reference(pre_times, kernel, time_steps, stride, padding)
    post, fire, final = fire_reference(pot, threshold)
    return post, fire, (final if with_final else None)


@functools.partial(jax.jit, static_argnames=_STATIC + ("pointwise", "with_fire", "pool"))
def conv_fire_native(pre_times, kernel, threshold, time_steps: int, stride, padding,
                     with_final: bool, pointwise: bool = False, with_fire: bool = True,
                     pool=None):
    """The C++ kernel ``spyxlike_event_conv_fire`` (event-driven, both cores).

    ``pointwise=True`` applies SpykeTorch's point-wise inhibition to the
    result inside the kernel (positions stop accumulating once one channel
    fired; no final potentials then), equal to
    :func:`spyxlike.spike_time_inhibition.pointwise_inhibition_times` of the
    plain result. ``with_fire=False`` skips the potentials at the spikes (the
    kernel then neither fills nor writes them; ``None`` is returned for them).
    ``pool=(kh, kw, sh, sw, top, left, bottom, right)`` (point-wise only,
    without fire or final potentials) returns the inhibited times already
    max-pooled, as :func:`spyxlike.event_conv.pool_times` would.

    Under ``vmap`` every operand gets the mapped axes in front
    (``vmap_method="broadcast_all"``); the kernel takes the threshold's rank
    as the number of such axes and uses one kernel and threshold per group.
    """
    _, height, width, _ = pre_times.shape
    kh, kw, _, cout = kernel.shape
    if pointwise and with_final:
        raise ValueError("conv_fire_native: no final potentials with point-wise inhibition")
    if pool is not None and not (pointwise and not with_fire and not with_final):
        raise ValueError("conv_fire_native: fused pooling needs pointwise=True, "
                         "with_fire=False and with_final=False")
    top, left, bottom, right = padding
    out_h = conv_output_size(height, kh, stride[0], top, bottom)
    out_w = conv_output_size(width, kw, stride[1], left, right)
    out_shape = pre_times.shape[:1] + (out_h, out_w, cout)
    pool_attrs = (0, 0, 0, 0, 0, 0, 0, 0) if pool is None else tuple(pool)
    post_shape = out_shape
    if pool is not None:
        pkh, pkw, psh, psw, ptop, pleft, pbottom, pright = pool
        post_shape = out_shape[:1] + (
            conv_output_size(out_h, pkh, psh, ptop, pbottom),
            conv_output_size(out_w, pkw, psw, pleft, pright), cout)
    call = jax.ffi.ffi_call(
        "spyxlike_event_conv_fire",
        (
            jax.ShapeDtypeStruct(post_shape, jnp.int32),
            jax.ShapeDtypeStruct(out_shape if with_fire else (0,), jnp.float32),
            jax.ShapeDtypeStruct(out_shape if with_final else (0,), jnp.float32),
        ),
        vmap_method="broadcast_all",
    )
    post, fire, final = call(
        pre_times,
        kernel,
        threshold,
        **conv_geometry_attrs(time_steps, stride, padding),
        pointwise=np.int64(bool(pointwise)),
        **{name: np.int64(v) for name, v in zip(
            ("pool_kh", "pool_kw", "pool_sh", "pool_sw", "pool_top", "pool_left", "pool_bottom",
             "pool_right"), pool_attrs)},
    )
    return post, (fire if with_fire else None), (final if with_final else None)
