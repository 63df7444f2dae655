"""Sparse spike ops on raw event arrays: pure-JAX references and native XLA FFI calls.

Every function takes the padded event array ``events`` (int32
``(capacity, 5)`` rows ``(batch, time, row, col, channel)``, or
``(capacity, 3)`` rows ``(batch, time, index)`` for gather), the number of
valid rows ``count`` and the static dense ``shape``; ops that emit events
return ``(events, count, overflow)`` in canonical order (batch, time, row,
col, channel) with at most one event per output neuron. The references are
event-driven too (cost grows with the number of events, not with T*H*W),
except for one pass over per-neuron buffers of the output size. See
:mod:`spyxlike.sparse` for the definitions.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def conv_output_hw(height, width, kernel_hw, stride, padding):
    """``(Ho, Wo)`` of a convolution/pooling window of ``kernel_hw`` with Expand4 padding."""
    kh, kw = kernel_hw
    sh, sw = stride
    top, left, bottom, right = padding
    return (height + top + bottom - kh) // sh + 1, (width + left + right - kw) // sw + 1


def compact_times(times, time_steps: int, capacity: int):
    """Spike times ``(B, *spatial)`` (``T`` = none) -> canonical ``(events, count, overflow)``.

    A stable sort of the neurons by ``(batch, time)``: ties stay in row-major
    spatial order. ``O(N log N)`` in the number of neurons, no ``T`` factor.
    """
    return _compact_times(times, int(time_steps), int(capacity))


@functools.partial(jax.jit, static_argnums=(1, 2))
def _compact_times(times, time_steps, capacity):
    batch = times.shape[0]
    spatial = tuple(times.shape[1:])
    per_sample = max(math.prod(spatial), 1)
    flat = times.reshape(-1).astype(jnp.int32)
    b_of = jnp.arange(flat.shape[0], dtype=jnp.int32) // per_sample
    fired = flat < time_steps
    key = jnp.where(fired, b_of * time_steps + flat, batch * time_steps)
    take = min(capacity, flat.shape[0])
    order = jnp.argsort(key, stable=True)[:take].astype(jnp.int32)
    total = jnp.sum(fired, dtype=jnp.int32)
    count = jnp.minimum(total, capacity).astype(jnp.int32)
    valid = jnp.arange(take, dtype=jnp.int32) < count
    cols = [order // per_sample, flat[order]]
    cols += [c.astype(jnp.int32) for c in jnp.unravel_index(order % per_sample, spatial)]
    ev = jnp.where(valid[:, None], jnp.stack(cols, axis=-1).astype(jnp.int32), -1)
    if take < capacity:
        ev = jnp.concatenate([ev, jnp.full((capacity - take, ev.shape[1]), -1, jnp.int32)], 0)
    overflow = jnp.maximum(total - capacity, 0).astype(jnp.int32)
    return ev, count, overflow


def _valid(events, count):
    return jnp.arange(events.shape[0], dtype=jnp.int32) < count


# ----------------------------------------------------------------- gather
def sparse_gather_reference(events, count, shape):
    """Earliest event time per neuron, int32 ``(B, *spatial)``; ``T`` where none."""
    return _gather_reference(events, count, tuple(shape))


@functools.partial(jax.jit, static_argnums=(2,))
def _gather_reference(events, count, shape):
    batch, time_steps = shape[0], shape[1]
    valid = _valid(events, count)
    # Out-of-range (not negative: negative indices wrap) positions drop padding rows.
    idx = tuple(jnp.where(valid, events[:, i], shape[i]) for i in [0] + list(range(2, len(shape))))
    out = jnp.full((batch,) + tuple(shape[2:]), time_steps, jnp.int32)
    return out.at[idx].min(jnp.where(valid, events[:, 1], time_steps), mode="drop")


def sparse_gather_native(events, count, shape):
    """The C++ kernel ``spyxlike_sparse_gather``."""
    if len(shape) == 5:
        h, w, c = shape[2:]
    else:
        h, w, c = 1, 1, shape[2]
    call = jax.ffi.ffi_call(
        "spyxlike_sparse_gather",
        jax.ShapeDtypeStruct((shape[0],) + tuple(shape[2:]), jnp.int32),
        vmap_method="broadcast_all",
    )
    return call(events, count, batch=np.int64(shape[0]), time_steps=np.int64(shape[1]),
                height=np.int64(h), width=np.int64(w), channels=np.int64(c))


# ------------------------------------------------------------------- conv
def sparse_conv_reference(events, count, shape, kernel, threshold, stride, padding, capacity):
    """Pure JAX: one ``lax.scan`` step per event (add the kernel's taps), flush per time step.

    A neuron fires at the first time step ``t`` at which its sample has input
    events at or before ``t`` and its potential is ``> threshold``.
    """
    return _conv_reference(events, count, kernel, jnp.float32(threshold), tuple(shape),
                           tuple(stride), tuple(padding), int(capacity))


@functools.partial(jax.jit, static_argnums=(4, 5, 6, 7))
def _conv_reference(events, count, kernel, threshold, shape, stride, padding, capacity):
    batch, time_steps, height, width, _ = shape
    kh, kw, _, cout = kernel.shape
    sh, sw = stride
    top, left, bottom, right = padding
    hp, wp = height + top + bottom, width + left + right
    ho, wo = conv_output_hw(height, width, (kh, kw), stride, padding)
    hf, wf = hp - kh + 1, wp - kw + 1
    valid = _valid(events, count)
    key = jnp.where(valid, events[:, 0] * time_steps + events[:, 1], batch * time_steps)
    order = jnp.argsort(key, stable=True)
    ev = events[order]
    key = key[order]
    ok = key < batch * time_steps
    last = jnp.concatenate([key[1:] != key[:-1], jnp.array([True])]) & ok
    flipped = kernel[::-1, ::-1].astype(jnp.float32)
    buf = jnp.zeros((batch, hp + kh - 1, wp + kw - 1, cout), jnp.float32)
    times = jnp.full((batch, ho, wo, cout), time_steps, jnp.int32)

    def step(carry, x):
        buf, times = carry
        e, v, flush = x
        b = jnp.where(v, e[0], 0)
        r = jnp.where(v, e[2] + top, 0)
        c = jnp.where(v, e[3] + left, 0)
        ch = jnp.where(v, e[4], 0)
        patch = jnp.where(v, lax.dynamic_index_in_dim(flipped, ch, 2, keepdims=False), 0.0)
        cur = lax.dynamic_slice(buf, (b, r, c, 0), (1, kh, kw, cout))
        buf = lax.dynamic_update_slice(buf, cur + patch[None], (b, r, c, 0))

        def do_flush(times):
            full = lax.dynamic_index_in_dim(buf, b, 0, keepdims=False)
            pot = full[kh - 1 : kh - 1 + hf : sh, kw - 1 : kw - 1 + wf : sw]
            tb = lax.dynamic_index_in_dim(times, b, 0, keepdims=False)
            tb = jnp.where((tb == time_steps) & (pot > threshold), e[1], tb)
            return lax.dynamic_update_index_in_dim(times, tb, b, 0)

        times = lax.cond(flush, do_flush, lambda t: t, times)
        return (buf, times), None

    (_, times), _ = lax.scan(step, (buf, times), (ev, ok, last))
    return compact_times(times, time_steps, capacity)


def sparse_conv_native(events, count, shape, kernel, threshold, stride, padding, capacity):
    """The C++ kernel ``spyxlike_sparse_conv`` (samples in parallel)."""
    batch, time_steps, height, width, channels = shape
    call = jax.ffi.ffi_call(
        "spyxlike_sparse_conv",
        (
            jax.ShapeDtypeStruct((capacity, 5), jnp.int32),
            jax.ShapeDtypeStruct((), jnp.int32),
            jax.ShapeDtypeStruct((), jnp.int32),
        ),
        vmap_method="broadcast_all",
    )
    return call(
        events, count, kernel.astype(jnp.float32),
        batch=np.int64(batch), time_steps=np.int64(time_steps), height=np.int64(height),
        width=np.int64(width), channels=np.int64(channels),
        stride_h=np.int64(stride[0]), stride_w=np.int64(stride[1]),
        pad_top=np.int64(padding[0]), pad_left=np.int64(padding[1]),
        pad_bottom=np.int64(padding[2]), pad_right=np.int64(padding[3]),
        threshold=np.float32(threshold),
    )


# ------------------------------------------------------------------- pool
def sparse_pool_reference(events, count, shape, kernel_size, stride, padding, capacity):
    """Pure JAX: each event lowers (scatter-min) the time of every window containing it."""
    return _pool_reference(events, count, tuple(shape), tuple(kernel_size), tuple(stride),
                           tuple(padding), int(capacity))


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5, 6))
def _pool_reference(events, count, shape, kernel_size, stride, padding, capacity):
    batch, time_steps, height, width, channels = shape
    kh, kw = kernel_size
    sh, sw = stride
    top, left, _, _ = padding
    ho, wo = conv_output_hw(height, width, kernel_size, stride, padding)
    valid = _valid(events, count)
    rp = events[:, 2] + top
    cp = events[:, 3] + left
    out = jnp.full((batch, ho, wo, channels), time_steps, jnp.int32)
    for di in range(-(-kh // sh)):
        ro = rp // sh - di
        row_ok = (ro >= 0) & (ro < ho) & (rp - ro * sh < kh)
        for dj in range(-(-kw // sw)):
            co = cp // sw - dj
            ok = valid & row_ok & (co >= 0) & (co < wo) & (cp - co * sw < kw)
            b = jnp.where(ok, events[:, 0], batch)
            out = out.at[b, jnp.where(ok, ro, 0), jnp.where(ok, co, 0), events[:, 4]].min(
                jnp.where(ok, events[:, 1], time_steps), mode="drop")
    return compact_times(out, time_steps, capacity)


def sparse_pool_native(events, count, shape, kernel_size, stride, padding, capacity):
    """The C++ kernel ``spyxlike_sparse_pool`` (samples in parallel)."""
    batch, time_steps, height, width, channels = shape
    call = jax.ffi.ffi_call(
        "spyxlike_sparse_pool",
        (
            jax.ShapeDtypeStruct((capacity, 5), jnp.int32),
            jax.ShapeDtypeStruct((), jnp.int32),
            jax.ShapeDtypeStruct((), jnp.int32),
        ),
        vmap_method="broadcast_all",
    )
    return call(
        events, count,
        batch=np.int64(batch), time_steps=np.int64(time_steps), height=np.int64(height),
        width=np.int64(width), channels=np.int64(channels),
        kernel_h=np.int64(kernel_size[0]), kernel_w=np.int64(kernel_size[1]),
        stride_h=np.int64(stride[0]), stride_w=np.int64(stride[1]),
        pad_top=np.int64(padding[0]), pad_left=np.int64(padding[1]),
        pad_bottom=np.int64(padding[2]), pad_right=np.int64(padding[3]),
    )
