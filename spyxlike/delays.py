r"""Axonal delays along the time axis (SLAYER's ``delayShift`` and ``delay`` layer).

SLAYER (``slayerCuda.shift``) shifts each neuron's signal by
``k = int(delay / Ts)`` samples, the C cast truncating toward zero (for the
non-negative delays a causal network uses this is the floor the SLAYER docs
mention): ``y[t] = x[t - k]`` with zeros shifted in. The delay is stored as a
float and learnt through a finite-difference gradient (SLAYER's
``_delayFunction.backward``)::

    dL/dx     = shift(g, -delay)                        (the exact adjoint)
    dL/ddelay = -sum_{batch, t} g[t] * (y[t] - y[t-1]) / Ts       (y[-1] = 0)

i.e. the derivative of ``x(t - d)`` w.r.t. ``d`` with the backward
difference of the output as ``x'``.  spyxlike divides by ``Ts`` so the
gradient is per ms of delay; SLAYER's code multiplies its ``1/Ts``-scaled
difference back by ``Ts`` (a gradient per time step).  The two agree for
``Ts = 1``.

``mode="linear"`` is a spyxlike extension: fractional delays interpolate
linearly between the two neighbouring samples,
``y[t] = (1 - f) x[t - k] + f x[t - k - 1]`` with ``k = floor(d / Ts)``,
``f = d / Ts - k``; its gradient w.r.t. the delay is the exact derivative of
that interpolation (plain autodiff).

Layout: batch-first, time-second, ``(batch, T, *features)``; a delay is a
scalar or an array broadcastable to ``features`` (per neuron, or per channel
``(C,)`` for channels-last ``(H, W, C)`` maps). SLAYER puts time last.
"""

from __future__ import annotations

import functools

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.axn import _check_real

__all__ = ["delay_shift", "Delay", "clamp_delays", "DELAY_MODES"]

DELAY_MODES = ("slayer", "linear")


def _sum_to_shape(x, shape):
    lead = x.ndim - len(shape)
    x = x.sum(axis=tuple(range(lead))) if lead else x
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and x.shape[i] != 1)
    return x.sum(axis=axes, keepdims=True) if axes else x


def _gather_shift(x, k):
    """``y[b, t, n] = x[b, t - k[n], n]`` (0 outside ``[0, T)``); ``k`` int32 of shape ``features``."""
    T = x.shape[1]
    t = jnp.arange(T, dtype=jnp.int32).reshape((T,) + (1,) * (x.ndim - 2))
    src = t - k[None]  # (T, *features)
    valid = (src >= 0) & (src < T)
    idx = jnp.clip(src, 0, T - 1)
    idx = jnp.broadcast_to(idx[None], x.shape)
    y = jnp.take_along_axis(x, idx, axis=1)
    return jnp.where(valid[None], y, jnp.zeros((), x.dtype))


def _slayer_steps(delay, Ts):
    # SLAYER: static_cast<int>(delay / Ts) in float32 -> truncation toward zero.
    return jnp.trunc(delay / jnp.float32(Ts)).astype(jnp.int32)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _shift_slayer(x, delay_full, Ts):
    return _gather_shift(x, _slayer_steps(delay_full, Ts))


def _shift_slayer_fwd(x, delay_full, Ts):
    y = _shift_slayer(x, delay_full, Ts)
    return y, (y, delay_full)


def _shift_slayer_bwd(Ts, res, g):
    y, delay_full = res
    gx = _gather_shift(g, -_slayer_steps(delay_full, Ts))
    prev = jnp.concatenate([jnp.zeros_like(y[:, :1]), y[:, :-1]], axis=1)
    gd = -(g * (y - prev)).sum(axis=(0, 1)) / jnp.float32(Ts)
    return gx, gd


_shift_slayer.defvjp(_shift_slayer_fwd, _shift_slayer_bwd)


def _shift_linear(x, delay_full, Ts):
    steps = delay_full / jnp.float32(Ts)
    k = jnp.floor(steps)
    f = steps - k
    k = k.astype(jnp.int32)
    return (1 - f)[None, None] * _gather_shift(x, k) + f[None, None] * _gather_shift(x, k + 1)


def delay_shift(x, delay, Ts=1.0, *, mode: str = "slayer"):
    r"""Delays ``x`` along time by ``delay`` (ms) per neuron (SLAYER's ``delayShift``).

    Args:
      x: ``(batch, T, *features)``.
      delay: scalar, or array broadcastable to ``features`` (delays in the
        unit of ``Ts``, i.e. ms). May be traced / learnt.
      Ts: sampling time.
      mode: ``"slayer"`` (default): shift by ``int(delay / Ts)`` samples
        (truncated toward zero, SLAYER's kernel), gradient as SLAYER's
        ``_delayFunction`` (module docstring); ``"linear"``: linear
        interpolation between neighbouring samples for fractional delays,
        exact autodiff gradient.

    Returns:
      ``(batch, T, *features)``, ``y[t] = x[t - delay/Ts]`` with zeros
      shifted in (a negative delay shifts towards earlier times).

    Differentiable w.r.t. ``x`` and ``delay``; works under jit/vmap/grad.
    SLAYER's ``delayShift`` itself passes no gradient to the delay (only its
    ``delay`` layer does); spyxlike always does.
    """
    x = jnp.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"delay_shift: x must be (batch, T, *features); got shape {x.shape}")
    x = x.astype(jnp.float32)
    Ts = _check_real("Ts", Ts, lo=0, lo_open=True)
    if mode not in DELAY_MODES:
        raise ValueError(f"delay_shift: mode must be one of {DELAY_MODES}; got {mode!r}")
    d = jnp.asarray(delay, jnp.float32)
    feat = x.shape[2:]
    try:
        d_full = jnp.broadcast_to(d, feat)
    except ValueError:
        raise ValueError(
            f"delay_shift: delay must broadcast to the feature shape {feat}; got shape {d.shape}"
        ) from None
    if d.ndim > len(feat):
        raise ValueError(
            f"delay_shift: delay must broadcast to the feature shape {feat}; got shape {d.shape}")
    if mode == "linear":
        return _shift_linear(x, d_full, Ts)
    return _shift_slayer(x, d_full, Ts)


class Delay(hk.Module):
    r"""Learnable per-neuron (or per-channel) axonal delay (SLAYER's ``spikeLayer.delay``).

    Parameter ``delay`` (ms) of shape ``input_size`` (or the input's feature
    shape when ``input_size`` is None), initialised uniformly in ``[0, 1)``
    like SLAYER's ``torch.rand``; applied with :func:`delay_shift`. A
    ``(C,)`` delay on ``(H, W, C)`` inputs is one delay per channel (SLAYER's
    per-channel case).

    Delays are not clamped inside the module (neither does SLAYER): a negative
    delay is acausal. Clamp after every optimiser step, e.g.
    ``params = clamp_delays(params)`` (SLAYER: ``delay.delay.data.clamp_(0)``).

    Args:
      input_size: int, tuple, or None (infer from the input).
      Ts: sampling time (ms).
      mode: see :func:`delay_shift`.
    """

    def __init__(self, input_size=None, Ts=1.0, mode: str = "slayer", name=None):
        if input_size is not None:
            size = (input_size,) if isinstance(input_size, (int, np.integer)) else tuple(input_size)
            if not size or any(not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 1
                               for s in size):
                raise ValueError(f"Delay: input_size must be a positive int or tuple of positive "
                                 f"ints; got {input_size!r}")
            input_size = tuple(int(s) for s in size)
        Ts = _check_real("Ts", Ts, lo=0, lo_open=True)
        if mode not in DELAY_MODES:
            raise ValueError(f"Delay: mode must be one of {DELAY_MODES}; got {mode!r}")
        super().__init__(name=name)
        self.input_size = input_size
        self.Ts = Ts
        self.mode = mode

    def __call__(self, x):
        x = jnp.asarray(x)
        if x.ndim < 3:
            raise ValueError(f"Delay: x must be (batch, T, *features); got shape {x.shape}")
        shape = self.input_size if self.input_size is not None else x.shape[2:]
        d = hk.get_parameter("delay", shape, jnp.float32,
                             init=hk.initializers.RandomUniform(0.0, 1.0))
        return delay_shift(x, d, self.Ts, mode=self.mode)


def clamp_delays(params, min_delay=0.0, max_delay=None, key="delay"):
    """Clamps every Haiku parameter named ``key`` to ``[min_delay, max_delay]``.

    The functional counterpart of SLAYER's ``delay.delay.data.clamp_(0)``;
    call it after each optimiser update. Other parameters pass through.
    """
    lo = _check_real("min_delay", min_delay)
    hi = None if max_delay is None else _check_real("max_delay", max_delay, lo=lo)

    def clamp(path, leaf):
        last = path[-1]
        name = getattr(last, "key", getattr(last, "name", None))
        if name == key:
            return jnp.clip(leaf, lo, hi)
        return leaf

    return jax.tree_util.tree_map_with_path(clamp, params)
