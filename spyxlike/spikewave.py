"""Spike-wave coding and firing: Spyker's ``code``/``fire``/``threshold``/``infinite``/
``quantize``/``pad`` and SpykeTorch's ``fire``/``threshold``/``pad``, batched.

Layouts are batch-first, time-second, channels-last: intensities ``(B, ...)``,
potentials and spike-waves ``(B, T, ...)`` (``(B, T, H, W, C)`` for maps,
``(B, T, F)`` for vectors). Spike-waves are cumulative, SpykeTorch's and
Spyker's convention: an input that spikes at time ``t`` is 1 at every step
``>= t``. Time and count conversions live in :mod:`spyxlike.spiketime`,
convolution and pooling in :mod:`spyxlike.spikeconv`.

SpykeTorch-named behaviour (``fire``, ``threshold`` with ``None``) follows
SpykeTorch; Spyker-named behaviour (``code``, ``spyker_fire``, ``infinite``,
``quantize_levels``, ``threshold``'s ``value``) follows Spyker 0.1.0, checked
against it (tests/fixtures/spyker_spikewave.npz).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike._spikewave_checks import (
    as_real_array,
    check_choice,
    check_dtype,
    check_int,
    check_no_nan,
    check_scalar,
    is_concrete,
)
from spyxlike.coding import times_to_waves
from spyxlike.expand import expand4
from spyxlike.ops.dispatch import check_impl, use_native
from spyxlike.ops.fire import fire_native, fire_reference
from spyxlike.ops.pallas.fire import fire_pallas

__all__ = [
    "code",
    "code_times",
    "fire",
    "spyker_fire",
    "threshold",
    "infinite",
    "quantize",
    "quantize_levels",
    "pad",
]

_CODES = ("rank", "rate")


def code_times(x, time, *, sort: bool = True):
    r"""Spike times of Spyker's rank code, int32 ``(B, ...)`` in ``[0, time]``.

    Per sample (all axes but the batch axis), with ``max``/``min`` its largest
    and smallest value:

    * ``sort=False`` (value-linear latency, float32 arithmetic):
      :math:`t_i = \lfloor (\max - x_i) / (\max - \min) \cdot T \rfloor`, so the
      largest values spike at 0 and the smallest value gets ``T`` (no spike).
    * ``sort=True`` (rank latency): order the values that are greater than
      ``min`` descending (ties by index), let ``p_i`` be the position and
      ``M`` their count; :math:`t_i = \lfloor p_i T / M \rfloor` and every
      element equal to ``min`` gets ``T``. Equally many spikes per bin.

    A sample whose values are all equal spikes entirely at ``t = 0``. This is
    Spyker's ``code(..., code="rank")``, not :func:`spyxlike.coding.rank_code`
    (SpykeTorch's ``Intensity2Latency``: zero and negative inputs never spike,
    ties share a bin). Spyker breaks ties between equal values with an
    unstable sort once a sample has more than 16 elements; spyxlike always
    breaks them by index.

    Args:
      x: intensities ``(B, ...)``, at least 2-D, real, no NaN.
      time: number of time steps ``T >= 1``.
      sort: rank latency (True) or value-linear latency (False).

    Returns:
      int32 spike times shaped like ``x``.

    Raises:
      ValueError: ``x`` of rank < 2, a NaN in ``x``, ``time < 1`` or
        ``features * time >= 2**31``.
      TypeError: non-real ``x``, non-int ``time`` or non-bool ``sort``.
    """
    x = as_real_array(x, "code", "x", min_ndim=2, what="(batch, features...)")
    time = check_int(time, "code", "time", 1)
    if not isinstance(sort, (bool, np.bool_)):
        raise TypeError(f"code: sort must be a bool, got {type(sort).__name__}")
    features = int(np.prod(x.shape[1:], dtype=np.int64))
    if features * time >= 2**31:
        raise ValueError(f"code: features * time must be < 2**31, got {features} * {time}")
    check_no_nan(x, "code", "x")
    if features == 0 or x.shape[0] == 0:
        return jnp.zeros(x.shape, jnp.int32)
    flat = jnp.asarray(x, jnp.float32).reshape((x.shape[0], features))
    return _code_times(flat, time, bool(sort)).reshape(x.shape)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _code_times(flat, time, sort):
    """Spyker's rank-code times of float32 ``(B, F)`` samples (see :func:`code_times`)."""
    hi = flat.max(axis=1, keepdims=True)
    lo = flat.min(axis=1, keepdims=True)
    if sort:
        order = jnp.argsort(-flat, axis=1, stable=True)
        pos = jnp.argsort(order, axis=1, stable=True).astype(jnp.int32)
        above = flat > lo
        m = jnp.sum(above, axis=1, keepdims=True).astype(jnp.int32)
        t = jnp.where(above, (pos * time) // jnp.maximum(m, 1), time)
        t = jnp.where(m == 0, 0, t)
    else:
        span = hi - lo
        safe = jnp.where(span > 0, span, 1.0)
        tf = jnp.floor((hi - flat) / safe * jnp.float32(time))
        t = jnp.where(span > 0, jnp.minimum(tf, time), 0.0)
    return t.astype(jnp.int32)


def code(x, time, *, sort: bool = True, code: str = "rank", dtype=jnp.float32, key=None):
    r"""Spyker's ``code``: intensities ``(B, ...)`` -> spike-waves ``(B, T, ...)``.

    ``code="rank"``: cumulative single-spike waves,
    ``wave[b, t, ...] = 1`` iff ``t >= t_i`` with ``t_i`` from
    :func:`code_times` (checked against Spyker 0.1.0: its output is cumulative,
    ``sort`` switches between rank latency and value-linear latency).

    ``code="rate"``: cumulative spike counts. Each element fires at each step
    independently with probability
    :math:`p_i = (x_i - \min) / (\max - \min)` (1 for a constant sample) and
    the wave holds the running count, so it grows by 0 or 1 per step. Spyker's
    rate code is also random, cumulative and grows by at most 1 per step, but
    draws from its own generator with a time-dependent rate that is not
    documented; spyxlike uses this stationary Bernoulli rule with a JAX key
    instead (``sort`` does not apply to rate coding).

    Args:
      x: intensities ``(B, ...)``, at least 2-D (batch first), real, no NaN.
      time: number of time steps ``T >= 1``.
      sort: see :func:`code_times` (rank code only).
      code: ``"rank"`` or ``"rate"``.
      dtype: output dtype (Spyker's default is uint8; spyxlike's float32).
      key: ``jax.random`` key, required for ``code="rate"``.

    Returns:
      ``(B, T, ...)`` waves of dtype ``dtype``.

    Raises:
      ValueError: bad ``code``, ``time`` or ``x`` (see :func:`code_times`), or
        ``code="rate"`` without ``key``.
      TypeError: non-real ``x``, bad ``dtype``.
    """
    check_choice(code, "code", "code", _CODES)
    dt = check_dtype(dtype, "code")
    if code == "rank":
        return times_to_waves(code_times(x, time, sort=sort), time, dtype=dt)
    x = as_real_array(x, "code", "x", min_ndim=2, what="(batch, features...)")
    time = check_int(time, "code", "time", 1)
    if key is None:
        raise ValueError("code: code='rate' needs a jax.random key (key=...)")
    check_no_nan(x, "code", "x")
    xf = jnp.asarray(x, jnp.float32)
    axes = tuple(range(1, x.ndim))
    hi = xf.max(axis=axes, keepdims=True) if x.size else xf
    lo = xf.min(axis=axes, keepdims=True) if x.size else xf
    span = hi - lo
    p = jnp.where(span > 0, (xf - lo) / jnp.where(span > 0, span, 1.0), 1.0)
    draws = jax.random.uniform(key, (x.shape[0], time) + x.shape[1:]) < jnp.expand_dims(p, 1)
    return jnp.cumsum(draws.astype(jnp.int32), axis=1).astype(dt)


def _check_potentials(potentials, fn: str):
    p = as_real_array(potentials, fn, "potentials", min_ndim=2, what="(batch, T, ...)")
    if not jnp.issubdtype(p.dtype, jnp.floating):
        p = jnp.asarray(p, jnp.float32)
    return p


def fire(potentials, threshold=None, return_thresholded_potentials: bool = False, *,
         impl: str = "auto"):
    r"""SpykeTorch's ``fire``: potentials ``(B, T, ...)`` -> spike-wave (SpykeTorch semantics).

    .. math::

        s_{b,t,i} = [p_{b,t,i} > \theta], \qquad
        \tilde p_{b,t,i} = p_{b,t,i}\, s_{b,t,i}

    With ``threshold=None`` (SpykeTorch's rule) only the last time step can
    fire: every neuron with a positive potential at ``t = T - 1`` spikes there,
    all earlier steps are 0. The spike-wave is cumulative when the potentials
    are non-decreasing in time (the usual case: potentials of a convolution over
    cumulative input waves). SpykeTorch computes the spikes as the sign of the
    thresholded potentials, so with a negative threshold its "spikes" can be -1;
    spyxlike's are always 0/1.

    For Spyker's ``fire`` (per-step threshold crossing, or rate counting) see
    :func:`spyker_fire`.

    Args:
      potentials: potentials ``(B, T, ...)``, at least 2-D; integer inputs are
        computed in float32.
      threshold: a real scalar, or ``None`` for the last-step rule. A traced
        threshold runs the reference.
      return_thresholded_potentials: also return :math:`\tilde p`.
      impl: ``"auto"``, ``"reference"``, ``"native"`` (C++, float32 and a
        static threshold) or ``"pallas"`` (any threshold; see
        :mod:`spyxlike.ops.dispatch`).

    Returns:
      The spike-wave (dtype of ``potentials``), and the thresholded potentials
      if ``return_thresholded_potentials``.

    Raises:
      ValueError: ``potentials`` of rank < 2, non-scalar ``threshold``, bad
        ``impl``, or ``impl="native"``/``"pallas"`` with unsupported arguments.
      TypeError: non-real ``potentials`` or ``threshold``.
    """
    p = _check_potentials(potentials, "fire")
    if threshold is not None:
        threshold = check_scalar(threshold, "fire", "threshold")
    if not isinstance(return_thresholded_potentials, (bool, np.bool_)):
        raise TypeError("fire: return_thresholded_potentials must be a bool")
    impl = check_impl(impl, "fire", has_pallas=True)
    feature_ndim = p.ndim - 2
    static_threshold = threshold is None or is_concrete(threshold)
    if threshold is not None and static_threshold:
        threshold = float(threshold)
    if impl == "pallas":
        if p.size == 0:
            spikes, thr = fire_reference(p, threshold, feature_ndim)
        else:
            spikes, thr = fire_pallas(p, threshold, feature_ndim)
    elif use_native(impl, "fire", supported=static_threshold and p.dtype == jnp.float32,
                    why_not="needs float32 potentials and a static (Python number) threshold"):
        spikes, thr = fire_native(p, threshold, feature_ndim,
                                  with_thresholded=bool(return_thresholded_potentials))
    else:
        spikes, thr = fire_reference(p, threshold, feature_ndim)
    if return_thresholded_potentials:
        return spikes, thr
    return spikes


def spyker_fire(potentials, threshold=0.0, *, code: str = "rank", dtype=jnp.float32):
    r"""Spyker's ``fire``: potentials ``(B, T, ...)`` -> spikes (Spyker semantics).

    ``code="rank"``: elementwise crossing at every step,
    :math:`s_{b,t,i} = [p_{b,t,i} > \theta]` (no cumulation, no last-step
    rule: ``spyker_fire(p, th)`` equals ``fire(p, th)`` for any threshold).

    ``code="rate"``: a running spike count. A neuron spikes at step ``t`` when
    its potential exceeds the potential at its previous spike (0 before the
    first) by more than the threshold:

    .. math::

        s_t = [p_t - r_{t-1} > \theta],\quad r_t = s_t\,p_t + (1 - s_t)\,r_{t-1},
        \quad r_{-1} = 0,\qquad \text{out}_t = \sum_{u \le t} s_u.

    Both rules were read off Spyker 0.1.0 on random inputs.

    Args:
      potentials: potentials ``(B, T, ...)``, at least 2-D.
      threshold: a real scalar (Spyker's default 0).
      code: ``"rank"`` or ``"rate"``.
      dtype: output dtype (Spyker's default uint8; spyxlike's float32).

    Returns:
      ``(B, T, ...)`` spikes (rank) or cumulative counts (rate) of dtype ``dtype``.

    Raises:
      ValueError: ``potentials`` of rank < 2, bad ``code``.
      TypeError: non-real ``potentials``/``threshold``, bad ``dtype``.
    """
    p = _check_potentials(potentials, "spyker_fire")
    threshold = check_scalar(threshold, "spyker_fire", "threshold")
    check_choice(code, "spyker_fire", "code", _CODES)
    dt = check_dtype(dtype, "spyker_fire")
    th = jnp.asarray(threshold, p.dtype)
    if code == "rank":
        return (p > th).astype(dt)
    return _rate_fire(p, th).astype(dt)


@jax.jit
def _rate_fire(p, th):
    """Spyker's rate fire (see :func:`spyker_fire`): int32 running counts."""

    def step(carry, pt):
        ref, count = carry
        s = (pt - ref) > th
        ref = jnp.where(s, pt, ref)
        count = count + s.astype(jnp.int32)
        return (ref, count), count

    init = (jnp.zeros(p.shape[:1] + p.shape[2:], p.dtype),
            jnp.zeros(p.shape[:1] + p.shape[2:], jnp.int32))
    _, counts = jax.lax.scan(step, init, jnp.moveaxis(p, 1, 0))
    return jnp.moveaxis(counts, 0, 1)


def threshold(potentials, threshold=None, value=0.0):
    r"""Thresholds potentials ``(B, T, ...)``: values ``<= threshold`` become ``value``.

    :math:`y = p` where :math:`p > \theta`, else ``value`` (SpykeTorch's
    ``threshold`` sets them to 0; Spyker's adds the replacement ``value``).
    ``threshold=None`` is SpykeTorch's rule: every time step but the last is
    set to ``value`` and the last step is kept unchanged (the same as
    :func:`infinite`).

    Args:
      potentials: ``(B, T, ...)`` array, at least 2-D (any rank >= 1 when
        ``threshold`` is given).
      threshold: real scalar or ``None``.
      value: the replacement, a real scalar.

    Returns:
      An array shaped and typed like ``potentials``.

    Raises:
      ValueError: bad rank or non-scalar ``threshold``/``value``.
      TypeError: non-real arguments.
    """
    p = as_real_array(potentials, "threshold", "potentials",
                      min_ndim=2 if threshold is None else 1, what="(batch, T, ...)")
    value = check_scalar(value, "threshold", "value")
    if threshold is None:
        return infinite(p, value)
    threshold = check_scalar(threshold, "threshold", "threshold")
    p = jnp.asarray(p)
    return jnp.where(p > jnp.asarray(threshold, p.dtype), p, jnp.asarray(value, p.dtype))


def infinite(x, value=0.0):
    """Spyker's ``infinite``: every time step but the last is set to ``value``.

    ``y[:, :T-1] = value``, ``y[:, T-1] = x[:, T-1]`` for ``x`` of shape
    ``(B, T, ...)``: an infinite threshold at every step except the last
    (checked against Spyker 0.1.0, which does the same on (B, T, ...) input and
    does not touch inf/NaN values).

    Args:
      x: ``(B, T, ...)`` array, at least 2-D.
      value: the replacement, a real scalar.

    Returns:
      An array shaped and typed like ``x``.

    Raises:
      ValueError: ``x`` of rank < 2, non-scalar ``value``.
      TypeError: non-real arguments.
    """
    x = as_real_array(x, "infinite", "x", min_ndim=2, what="(batch, T, ...)")
    value = check_scalar(value, "infinite", "value")
    x = jnp.asarray(x)
    steps = x.shape[1]
    last = (jnp.arange(steps) == steps - 1).reshape((1, steps) + (1,) * (x.ndim - 2))
    return jnp.where(last, x, jnp.asarray(value, x.dtype))


def quantize(x, dtype, scale=1, shift=0):
    r"""Affine quantisation to ``dtype``: :math:`y = \mathrm{cast}(x \cdot s + c)`.

    Follows the signature of Spyker's C++ ``quantize(input, type, scale, shift)``
    (the seed does not give its formula; Spyker 0.1.0's Python ``quantize`` is
    the two-level :func:`quantize_levels`). For integer ``dtype`` the value is
    rounded to nearest (ties to even) and saturated to the dtype's range; for a
    float ``dtype`` it is cast. NaN becomes 0 for integer outputs.

    Args:
      x: real array of any shape.
      dtype: output dtype (integer or floating).
      scale: real scalar :math:`s`.
      shift: real scalar :math:`c`.

    Returns:
      ``x * scale + shift`` converted to ``dtype``.

    Raises:
      TypeError: non-real ``x``/``scale``/``shift``, or a non-numeric ``dtype``.
    """
    x = as_real_array(x, "quantize", "x")
    dt = check_dtype(dtype, "quantize")
    scale = check_scalar(scale, "quantize", "scale")
    shift = check_scalar(shift, "quantize", "shift")
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.float32)
    y = x * jnp.asarray(scale, x.dtype) + jnp.asarray(shift, x.dtype)
    if jnp.issubdtype(dt, jnp.integer):
        info = jnp.iinfo(dt)
        y = jnp.round(y)
        y = jnp.where(jnp.isnan(y), 0, jnp.clip(y, float(info.min), float(info.max)))
    elif dt == jnp.bool_:
        y = y != 0
    return y.astype(dt)


def quantize_levels(x, lower, middle, upper):
    """Spyker 0.1.0's Python ``quantize``: two levels split at ``middle``.

    ``y = lower`` where ``x < middle``, ``upper`` elsewhere (``x == middle``
    gives ``upper``); dtype of ``x``.

    Args:
      x: real array of any shape.
      lower: value below ``middle``.
      middle: the split point.
      upper: value at or above ``middle``.

    Returns:
      An array shaped and typed like ``x``.

    Raises:
      TypeError: non-real arguments.
    """
    x = jnp.asarray(as_real_array(x, "quantize_levels", "x"))
    lower = check_scalar(lower, "quantize_levels", "lower")
    middle = check_scalar(middle, "quantize_levels", "middle")
    upper = check_scalar(upper, "quantize_levels", "upper")
    return jnp.where(x < jnp.asarray(middle, x.dtype), jnp.asarray(lower, x.dtype),
                     jnp.asarray(upper, x.dtype))


def pad(x, pad, value=0):
    """Constant padding of the spatial axes of channels-last ``(..., H, W, C)`` arrays.

    ``pad`` follows Spyker's Expand4 (:func:`spyxlike.expand.expand4`): an int,
    ``(vertical, horizontal)`` or ``(top, left, bottom, right)``. SpykeTorch's
    ``pad`` takes ``(left, right, top, bottom)`` (PyTorch order); its compat
    spelling converts.

    Args:
      x: array of rank >= 3 whose axes ``-3`` and ``-2`` are height and width
        (e.g. ``(B, T, H, W, C)`` or ``(B, H, W, C)``).
      pad: padding (non-negative ints), Expand4 spellings.
      value: fill value, a real scalar.

    Returns:
      ``(..., H + top + bottom, W + left + right, C)`` array of ``x``'s dtype.

    Raises:
      ValueError: rank < 3, negative or wrongly sized ``pad``.
      TypeError: non-real ``x``/``value`` or non-int ``pad``.
    """
    x = jnp.asarray(as_real_array(x, "pad", "x", min_ndim=3, what="(..., H, W, C)"))
    top, left, bottom, right = expand4(pad, "pad: pad")
    value = check_scalar(value, "pad", "value")
    widths = [(0, 0)] * (x.ndim - 3) + [(top, bottom), (left, right), (0, 0)]
    return jnp.pad(x, widths, constant_values=jnp.asarray(value, x.dtype))
