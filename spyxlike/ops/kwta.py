"""k-winners-take-all on spike times: the pure-JAX reference and the native XLA FFI call.

All implementations map ``times`` (int32) and ``values`` (float32), both of
shape ``(batch, H, W, C)``, to winners ``(batch, kwta, 3)`` int32 rows
``(feature, row, col)``, ``-1`` in empty slots. See
:func:`spyxlike.competition.k_winners_from_times` for the rule; in short:

* candidates: ``0 <= t < T`` and ``value`` not NaN; under the SpykeTorch rule
  also ``value >= 0``, and none at all unless some candidate has ``value > 0``;
* order: smallest ``t``, then largest ``value``, then smallest SpykeTorch
  flat index ``c*H*W + h*W + w``;
* a winner removes its feature map (``exclude_feature``) and the square
  ``|h' - h| <= radius_y``, ``|w' - w| <= radius_x`` in all maps (no square
  when a radius is -1, which is how SpykeTorch's ``inhibition_radius=0`` is
  passed: SpykeTorch skips the spatial inhibition for radius 0, Spyker's
  radius 0 still removes the winner's position in all maps).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np


@functools.partial(jax.jit, static_argnames=("time_axis",))
def first_crossing(fired: jax.Array, potentials: jax.Array, time_axis: int = 1):
    """Spike time and potential at that time from a boolean ``fired`` mask over time.

    Args:
      fired: bool ``(batch, T, ...)``, True where the neuron counts as spiking.
      potentials: float32, same shape.
      time_axis: the time axis.

    Returns:
      ``(times, values)``: int32 first step with ``fired`` (``T`` if none) and
      the potential there (0 if none), both without the time axis.
    """
    steps = fired.shape[time_axis]
    shape = [1] * fired.ndim
    shape[time_axis] = steps
    t = jnp.arange(steps, dtype=jnp.int32).reshape(shape)
    times = jnp.min(jnp.where(fired, t, steps), axis=time_axis)
    values = jnp.sum(
        jnp.where(t == jnp.expand_dims(times, time_axis), potentials, 0.0), axis=time_axis
    ).astype(jnp.float32)
    return times.astype(jnp.int32), values


@functools.partial(jax.jit, static_argnums=(2,))
def first_crossing_native(signal, potentials, threshold: float):
    """The C++ kernel ``spyxlike_first_crossing``: ``first_crossing(signal > threshold, potentials)``.

    Args:
      signal: float32 ``(B, T, ...)``: spikes or the potentials themselves.
      potentials: float32, same shape.
      threshold: a step fires where ``signal > threshold``.

    Returns:
      ``(times, values)`` as :func:`first_crossing`, in one pass over the data.
    """
    shape = signal.shape
    flat = (shape[0], shape[1], int(np.prod(shape[2:], dtype=np.int64)))
    call = jax.ffi.ffi_call(
        "spyxlike_first_crossing",
        (jax.ShapeDtypeStruct((flat[0], flat[2]), jnp.int32),
         jax.ShapeDtypeStruct((flat[0], flat[2]), jnp.float32)),
        vmap_method="broadcast_all",
    )
    times, values = call(signal.reshape(flat), potentials.reshape(flat),
                         threshold=np.float32(threshold))
    out = (shape[0],) + shape[2:]
    return times.reshape(out), values.reshape(out)


def candidates(times, values, time_steps: int, spyketorch_rule: bool):
    """Boolean mask of the neurons that may win (per sample over the trailing 3 axes)."""
    spiking = (times >= 0) & (times < time_steps) & ~jnp.isnan(values)
    if not spyketorch_rule:
        return spiking
    any_positive = jnp.any(spiking & (values > 0), axis=(-3, -2, -1), keepdims=True)
    return spiking & (values >= 0) & any_positive


def k_winners_reference(times, values, kwta: int, radius_y: int, radius_x: int,
                        time_steps: int, exclude_feature: bool, spyketorch_rule: bool):
    """Pure-JAX reference: ``kwta`` sequential masked selections per sample.

    Compiled once per shape, ``kwta`` and rule: the radii and ``T`` are traced.
    """
    return _k_winners_reference(times, values, kwta, np.int32(radius_y), np.int32(radius_x),
                                np.int32(time_steps), bool(exclude_feature),
                                bool(spyketorch_rule))


@functools.partial(jax.jit, static_argnums=(2, 6, 7))
def _k_winners_reference(times, values, kwta: int, radius_y: int, radius_x: int,
                         time_steps, exclude_feature: bool, spyketorch_rule: bool):
    _, H, W, C = times.shape
    hh = jnp.arange(H, dtype=jnp.int32)[:, None, None]
    ww = jnp.arange(W, dtype=jnp.int32)[None, :, None]
    cc = jnp.arange(C, dtype=jnp.int32)[None, None, :]
    order = cc * (H * W) + hh * W + ww
    big = jnp.iinfo(jnp.int32).max

    def one(t, v):
        alive0 = candidates(t, v, time_steps, spyketorch_rule)

        def pick(alive, _):
            found = jnp.any(alive)
            tmin = jnp.min(jnp.where(alive, t, time_steps))
            group = alive & (t == tmin)
            vmax = jnp.max(jnp.where(group, v, -jnp.inf))
            group = group & (v == vmax)
            best = jnp.min(jnp.where(group, order, big))
            wc = best // (H * W)
            wh = (best % (H * W)) // W
            wx = best % W
            removed = (jnp.abs(hh - wh) <= radius_y) & (jnp.abs(ww - wx) <= radius_x)
            if exclude_feature:
                removed = removed | (cc == wc)
            alive = alive & ~(removed & found)
            row = jnp.where(found, jnp.stack([wc, wh, wx]), -1).astype(jnp.int32)
            return alive, row

        _, rows = jax.lax.scan(pick, alive0, None, length=kwta)
        return rows

    if times.shape[0] == 0:
        return jnp.zeros((0, kwta, 3), jnp.int32)
    return jax.vmap(one)(times, values)


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5, 6, 7))
def k_winners_native(times, values, kwta: int, radius_y: int, radius_x: int,
                     time_steps: int, exclude_feature: bool, spyketorch_rule: bool):
    """The C++ kernel ``spyxlike_k_winners`` (one candidate pass + kwta scans per sample)."""
    batch = times.shape[:-3]
    call = jax.ffi.ffi_call(
        "spyxlike_k_winners",
        jax.ShapeDtypeStruct(batch + (kwta, 3), jnp.int32),
        vmap_method="broadcast_all",
    )
    return call(
        times, values,
        time_steps=np.int64(time_steps), kwta=np.int64(kwta),
        radius_y=np.int64(radius_y), radius_x=np.int64(radius_x),
        exclude_feature=np.int64(bool(exclude_feature)),
        spyketorch_rule=np.int64(bool(spyketorch_rule)),
    )
