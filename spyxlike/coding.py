"""Spike coding of intensities: rank-order (intensity-to-latency) coding.

Follows SpykeTorch's ``Intensity2Latency`` and Spyker's ``code(..., code="rank")``
(see ``spyxlike.compat`` for their spellings), batched and batch-first.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.ops.dispatch import use_native
from spyxlike.ops.rank_code import rank_code_times_native, rank_code_times_reference

_OUTPUTS = ("times", "spikes", "intensities")


def rank_code(x, time_steps: int, *, output: str = "times", impl: str = "auto", dtype=jnp.float32):
    r"""Rank-order (intensity-to-latency) coding, one spike at most per input.

    Within each sample (everything but the leading batch axis), the strongest
    input spikes first and the spikes are spread over ``time_steps`` bins with,
    as far as ties allow, equal numbers of spikes per bin. With ``n`` positive
    inputs in the sample and ``r_i`` the number of inputs strictly greater
    than ``x_i``:

    .. math::

        t_i = \left\lfloor \frac{r_i\,T}{n} \right\rfloor \text{ if } x_i > 0,
        \qquad t_i = T \text{ (no spike) otherwise.}

    Equal inputs share a rank and so a bin; bin ``k`` holds the ranks in
    ``[ceil(kn/T), ceil((k+1)n/T))``, i.e. ``floor(n/T)`` or ``ceil(n/T)``
    spikes when there are no ties. Zero and negative inputs never spike.
    SpykeTorch's ``Intensity2Latency`` uses the same descending order and bin
    sizes but drops the last ``n mod T`` inputs and fails when ``n < T``;
    spyxlike gives every positive input a spike.

    Args:
      x: intensities, shape ``(batch, ...)`` (e.g. ``(B, H, W, C)`` or
        ``(B, F)``), any real dtype (computed in float32). Must hold no NaN.
      time_steps: number of time bins ``T >= 1``.
      output: ``"times"`` - int32 spike times, shape of ``x``, in ``[0, T]``
        with ``T`` meaning no spike; ``"spikes"`` - cumulative spike-waves of
        shape ``(batch, T, ...)`` (1 from the spike time on, SpykeTorch's
        spike-wave convention, batch-first); ``"intensities"`` - the same
        waves holding the input value instead of 1 (SpykeTorch's
        ``to_spike=False``).
      impl: ``"auto"``, ``"reference"`` or ``"native"`` (see
        :mod:`spyxlike.ops.dispatch`).
      dtype: dtype of ``"spikes"``/``"intensities"`` outputs.

    Returns:
      Spike times or waves as described under ``output``.

    Raises:
      ValueError: bad ``time_steps``, ``output``, ``impl``, a 0-d ``x``, or a
        NaN in ``x`` (checked at the call for concrete inputs; inside ``jit``
        the native kernel and the reference raise a runtime error instead).
      TypeError: non-numeric ``x`` or non-integer ``time_steps``.
    """
    if isinstance(time_steps, bool) or not isinstance(time_steps, (int, np.integer)):
        raise TypeError(f"rank_code: time_steps must be an int, got {type(time_steps).__name__}")
    if time_steps < 1:
        raise ValueError(f"rank_code: time_steps must be >= 1, got {time_steps}")
    if time_steps > 2**20:
        raise ValueError(f"rank_code: time_steps must be <= 2**20, got {time_steps}")
    if output not in _OUTPUTS:
        raise ValueError(f"rank_code: output must be one of {_OUTPUTS}, got {output!r}")
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        x = np.asarray(x)
    if not (jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.integer)
            or x.dtype == jnp.bool_):
        raise TypeError(f"rank_code: x must be a real array, got dtype {x.dtype}")
    if x.ndim < 1:
        raise ValueError(f"rank_code: x must have a batch axis, shape (batch, ...); got shape {x.shape}")
    features = int(np.prod(x.shape[1:], dtype=np.int64))
    if features * time_steps >= 2**31:
        raise ValueError(
            f"rank_code: features * time_steps must be < 2**31 for int32 times, got "
            f"{features} * {time_steps}"
        )
    if not isinstance(x, jax.core.Tracer) and bool(np.isnan(np.asarray(x, dtype=np.float32)).any()):
        raise ValueError("rank_code: x contains NaN; rank coding needs ordered intensities")
    x32 = jnp.asarray(x, jnp.float32)
    feature_ndim = x32.ndim - 1
    if use_native(impl, "rank_code"):
        times = rank_code_times_native(x32, time_steps, feature_ndim)
    else:
        times = _reference_checked(x32, time_steps, feature_ndim)
    if output == "times":
        return times
    waves = times_to_waves(times, time_steps, dtype=dtype)
    if output == "spikes":
        return waves
    return waves * jnp.expand_dims(x32, 1).astype(dtype)


def _reference_checked(x, time_steps, feature_ndim):
    """The reference, plus the NaN check the native kernel does, for traced inputs."""
    if isinstance(x, jax.core.Tracer):
        jax.debug.callback(_raise_if_nan, jnp.isnan(x).any())
    return rank_code_times_reference(x, time_steps, feature_ndim)


def _raise_if_nan(has_nan):
    if bool(has_nan):
        raise ValueError("rank_code: x contains NaN; rank coding needs ordered intensities")


def times_to_waves(times, time_steps: int, dtype=jnp.float32):
    """Spike times ``(batch, ...)`` -> cumulative spike-waves ``(batch, T, ...)``.

    ``wave[b, t, ...] = 1`` iff ``times[b, ...] <= t`` (SpykeTorch's
    accumulated spike-wave convention; time ``T`` never appears).
    """
    times = jnp.asarray(times)
    if times.ndim < 1:
        raise ValueError(f"times_to_waves: times must have a batch axis, got shape {times.shape}")
    steps = jnp.arange(time_steps, dtype=times.dtype).reshape((1, time_steps) + (1,) * (times.ndim - 1))
    return (jnp.expand_dims(times, 1) <= steps).astype(dtype)


def waves_to_times(waves):
    """Cumulative spike-waves ``(batch, T, ...)`` -> int32 spike times ``(batch, ...)``.

    The time of the first non-zero entry along axis 1, ``T`` where there is none.
    """
    waves = jnp.asarray(waves)
    if waves.ndim < 2:
        raise ValueError(f"waves_to_times: waves must be (batch, T, ...), got shape {waves.shape}")
    time_steps = waves.shape[1]
    fired = waves != 0
    first = jnp.argmax(fired, axis=1).astype(jnp.int32)
    return jnp.where(fired.any(axis=1), first, time_steps)
