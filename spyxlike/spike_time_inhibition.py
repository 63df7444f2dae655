"""Point-wise inhibition on the single-spike form of a layer (spike times + values).

The event-driven layers (:func:`spyxlike.event_conv.conv_fire`) give each
neuron a spike time ``t`` in ``[0, T]`` (``T`` = no spike) and the potential
``v`` at that time. :func:`pointwise_inhibition_times` is SpykeTorch's
``pointwise_inhibition`` read in that form (equal to
:func:`spyxlike.inhibition.pointwise_inhibition` on the thresholded
potentials, tested): at each position ``(b, h, w)`` the surviving feature is
the earliest spike, ties broken by the larger ``v``, then by the lower
feature index; every other feature at that position loses its spike.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def pointwise_inhibition_times(times, values, time_steps: int):
    """Keeps at most one spiking feature per position (SpykeTorch's rule, on spike times).

    Args:
      times: int ``(B, H, W, C)`` spike times in ``[0, T]`` (``T`` = no spike).
      values: float ``(B, H, W, C)``, the potential at the spike time.
      time_steps: ``T``.

    Returns:
      ``(times, values)`` of the same shapes: inhibited neurons get time
      ``T`` and value 0.

    Raises:
      ValueError: ranks other than 4, mismatched shapes, ``time_steps < 1``.
    """
    times = jnp.asarray(times)
    values = jnp.asarray(values)
    if times.ndim != 4:
        raise ValueError(
            f"pointwise_inhibition_times: times must be (B, H, W, C), got shape {times.shape}"
        )
    if values.shape != times.shape:
        raise ValueError(
            f"pointwise_inhibition_times: values must have the shape of times {times.shape}, "
            f"got {values.shape}"
        )
    if isinstance(time_steps, bool) or not isinstance(time_steps, (int, np.integer)) or time_steps < 1:
        raise ValueError(f"pointwise_inhibition_times: time_steps must be an int >= 1, got {time_steps!r}")
    spiking = times < time_steps
    first = jnp.min(jnp.where(spiking, times, time_steps), axis=-1, keepdims=True)
    at_first = spiking & (times == first)
    best_v = jnp.max(jnp.where(at_first, values, -jnp.inf), axis=-1, keepdims=True)
    candidates = at_first & (values == best_v)
    winner = jnp.argmax(candidates, axis=-1)
    keep = jax.nn.one_hot(winner, times.shape[-1], dtype=jnp.bool_) & candidates
    return (jnp.where(keep, times, time_steps).astype(times.dtype),
            jnp.where(keep, values, jnp.zeros_like(values)))
