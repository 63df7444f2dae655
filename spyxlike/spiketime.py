"""Between spike-waves and spike times or counts: Spyker's ``gather``/``scatter``,
``labelize`` and the temporal backprop helper ``backward``, batched.

Spike-waves are ``(B, T, ...)`` (cumulative), times and counts ``(B, ...)``.
All behaviour follows Spyker 0.1.0 and was checked against it
(tests/fixtures/spyker_spikewave.npz).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from spyxlike._spikewave_checks import (
    as_real_array,
    check_choice,
    check_dtype,
    check_int,
    check_scalar,
)

__all__ = ["gather", "scatter", "labelize", "backward"]

_CODES = ("rank", "rate")


def gather(waves, threshold=0.0, code: str = "rank", dtype=jnp.int32):
    """Spyker's ``gather``: collapses the time axis of ``(B, T, ...)`` waves.

    ``code="rank"``: the spike time, i.e. the first step whose value exceeds
    ``threshold`` (strictly), ``T`` where none does:
    ``t_i = min{t : waves[b, t, i] > threshold}``. Works on spike-waves
    (threshold 0) and on potentials.

    ``code="rate"``: the value at the last step, ``waves[:, T-1]`` (the spike
    count of cumulative rate waves); ``threshold`` is ignored, as in Spyker.
    Converting floats to an integer ``dtype`` truncates toward zero.

    Args:
      waves: ``(B, T, ...)`` array, at least 2-D.
      threshold: real scalar (rank code only).
      code: ``"rank"`` or ``"rate"``.
      dtype: output dtype (Spyker's default uint8, spyxlike's int32 like
        :func:`spyxlike.coding.waves_to_times`).

    Returns:
      ``(B, ...)`` times or counts of dtype ``dtype``.

    Raises:
      ValueError: rank < 2 or bad ``code``.
      TypeError: non-real ``waves``/``threshold`` or bad ``dtype``.
    """
    w = jnp.asarray(as_real_array(waves, "gather", "waves", min_ndim=2, what="(batch, T, ...)"))
    threshold = check_scalar(threshold, "gather", "threshold")
    check_choice(code, "gather", "code", _CODES)
    dt = check_dtype(dtype, "gather")
    if code == "rate":
        return w[:, -1].astype(dt)
    steps = w.shape[1]
    th = jnp.asarray(threshold, jnp.result_type(w.dtype, jnp.float32))
    fired = w.astype(th.dtype) > th
    first = jnp.argmax(fired, axis=1)
    return jnp.where(fired.any(axis=1), first, steps).astype(dt)


def scatter(x, time, dtype=jnp.float32):
    """Spyker's ``scatter``: spike times ``(B, ...)`` -> cumulative waves ``(B, T, ...)``.

    ``wave[b, t, ...] = 1`` iff ``x[b, ...] <= t``: integer times give
    :func:`spyxlike.coding.times_to_waves`, fractional times spike at the next
    whole step, negative times at step 0, times ``>= T`` never.

    Args:
      x: times ``(B, ...)``, at least 1-D, real.
      time: number of steps ``T >= 1``.
      dtype: output dtype (Spyker's default uint8, spyxlike's float32).

    Returns:
      ``(B, T, ...)`` waves of dtype ``dtype``.

    Raises:
      ValueError: ``x`` of rank 0 or ``time < 1``.
      TypeError: non-real ``x``, non-int ``time`` or bad ``dtype``.
    """
    x = jnp.asarray(as_real_array(x, "scatter", "x", min_ndim=1, what="(batch, ...)"))
    time = check_int(time, "scatter", "time", 1)
    dt = check_dtype(dtype, "scatter")
    ct = jnp.result_type(x.dtype, jnp.int32)
    steps = jnp.arange(time, dtype=ct).reshape((1, time) + (1,) * (x.ndim - 1))
    return (jnp.expand_dims(x.astype(ct), 1) <= steps).astype(dt)


def labelize(x, threshold):
    """Spyker's ``labelize``: the label of the earliest firing output, ``(B, T, F)`` -> ``(B,)``.

    Finds the first step ``t*`` at which some output exceeds ``threshold``
    (strictly) and returns the lowest index among the outputs above threshold
    at ``t*`` (not the one with the largest potential). When no output ever
    exceeds it, returns ``argmax`` of the last step (lowest index on ties).
    Read off Spyker 0.1.0, which also requires 3-D input.

    Args:
      x: potentials or spike-waves ``(B, T, F)``.
      threshold: real scalar.

    Returns:
      int32 labels ``(B,)`` (Spyker returns int64).

    Raises:
      ValueError: ``x`` not 3-D or with ``F == 0`` or ``T == 0``.
      TypeError: non-real ``x``/``threshold``.
    """
    x = jnp.asarray(as_real_array(x, "labelize", "x", ndim=3, what="(batch, T, F)"))
    threshold = check_scalar(threshold, "labelize", "threshold")
    if x.shape[1] == 0 or x.shape[2] == 0:
        raise ValueError(f"labelize: x needs T >= 1 and F >= 1, got shape {tuple(x.shape)}")
    return _labelize(x, jnp.asarray(threshold, jnp.result_type(x.dtype, jnp.float32)))


@jax.jit
def _labelize(x, th):
    above = x.astype(th.dtype) > th                        # (B, T, F)
    any_t = above.any(axis=2)                              # (B, T)
    t_star = jnp.argmax(any_t, axis=1)                     # (B,)
    at = jnp.take_along_axis(above, t_star[:, None, None], axis=1)[:, 0]  # (B, F)
    first = jnp.argmax(at, axis=1)
    fallback = jnp.argmax(x[:, -1], axis=1)
    return jnp.where(any_t.any(axis=1), first, fallback).astype(jnp.int32)


def backward(input, target, time, gamma):
    r"""Spyker's ``backward``: S4NN-style temporal error of output spike times.

    For spike times ``t`` of shape ``(B, F)`` (float, ``time`` = no spike),
    labels ``y`` of shape ``(B,)``, :math:`\tau_b = \min_j t_{b,j}` and
    :math:`\gamma` = ``gamma``, the target times are

    .. math::

        T_{b,y_b} = \tau_b, \qquad
        T_{b,j} = \begin{cases} \min(\tau_b + \gamma, \text{time}) & t_{b,j} < \tau_b + \gamma \\
                                t_{b,j} & \text{otherwise} \end{cases}\quad (j \ne y_b)

    and the result is :math:`e_{b,j} = (T_{b,j} - t_{b,j}) / \text{time}`: the
    correct output is pulled to the earliest time, the others pushed to at
    least :math:`\gamma` later (but not past ``time``). A label outside
    ``[0, F)`` marks no output as correct (all are treated as wrong), as in
    Spyker. Read off Spyker 0.1.0 on small inputs. Spyker computes in the
    input's dtype (an integer input gives truncated integer errors); spyxlike
    computes in float32 for non-float inputs.

    Args:
      input: spike times ``(B, F)``, real.
      target: integer labels ``(B,)``.
      time: number of time steps (the normaliser and the cap), an int >= 1.
      gamma: the margin :math:`\gamma`, a real scalar.

    Returns:
      ``(B, F)`` errors, float.

    Raises:
      ValueError: ``input`` not 2-D, ``target`` not ``(B,)``, ``time < 1``.
      TypeError: non-real ``input``/``gamma``, non-integer ``target`` or ``time``.
    """
    t = jnp.asarray(as_real_array(input, "backward", "input", ndim=2, what="(batch, F)"))
    y = as_real_array(target, "backward", "target", ndim=1, what="(batch,)")
    if not jnp.issubdtype(y.dtype, jnp.integer):
        raise TypeError(f"backward: target must hold integer labels, got dtype {y.dtype}")
    if y.shape[0] != t.shape[0]:
        raise ValueError(
            f"backward: target must have shape ({t.shape[0]},) to match input {tuple(t.shape)}, "
            f"got {tuple(y.shape)}"
        )
    time = check_int(time, "backward", "time", 1)
    gamma = check_scalar(gamma, "backward", "gamma")
    if not jnp.issubdtype(t.dtype, jnp.floating):
        t = t.astype(jnp.float32)
    if t.shape[1] == 0:
        return t
    return _backward(t, jnp.asarray(y), time, jnp.asarray(gamma, t.dtype))


@functools.partial(jax.jit, static_argnums=(2,))
def _backward(t, y, time, gamma):
    tau = t.min(axis=1, keepdims=True)
    limit = tau + gamma
    tmax = jnp.asarray(time, t.dtype)
    wrong = jnp.where(t < limit, jnp.minimum(limit, tmax), t)
    is_target = jnp.arange(t.shape[1])[None, :] == y[:, None]
    goal = jnp.where(is_target, tau, wrong)
    return (goal - t) / tmax
