"""Fused time loops of leaky neurons: LIF (spiking) and LI (non-spiking).

Each op has one pure-JAX reference (``lax.scan`` over the step equation,
differentiated by autodiff) and a native path: C++ forward and adjoint
kernels bound with ``jax.custom_vjp`` that run the whole ``(batch, T, N)``
recurrence in one call instead of T small XLA steps. Layout is batch-first,
time-second; trailing feature axes of any shape (vectors or conv maps).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.ops.dispatch import use_native


def _check_sequence(op, inputs, v0):
    if inputs.ndim < 3:
        raise ValueError(f"{op}: inputs must be (batch, time, ...features), got shape {inputs.shape}")
    if v0.shape != (inputs.shape[0],) + inputs.shape[2:]:
        raise ValueError(
            f"{op}: v0 must have shape (batch, ...features) = "
            f"{(inputs.shape[0],) + inputs.shape[2:]}, got {v0.shape}"
        )


def _beta_per_neuron(op, beta, feature_shape):
    beta = jnp.asarray(beta, jnp.float32)
    try:
        return jnp.broadcast_to(beta, feature_shape)
    except ValueError:
        raise ValueError(
            f"{op}: beta must broadcast to the feature shape {feature_shape}, got shape {beta.shape}"
        ) from None


def _sum_to_shape(x, shape):
    """Sums ``x`` over broadcast axes so it has ``shape`` (the inverse of broadcast_to)."""
    lead = x.ndim - len(shape)
    x = x.sum(axis=tuple(range(lead))) if lead else x
    axes = tuple(i for i, d in enumerate(shape) if d == 1 and x.shape[i] != 1)
    return x.sum(axis=axes, keepdims=True) if axes else x


# ---------------------------------------------------------------- LIF


def lif_scan_reference(inputs, v0, beta, threshold, activation):
    r"""Reference LIF loop (Spyx order): ``s_t = act(v_{t-1} - theta)``,
    ``v_t = beta v_{t-1} + x_t - theta s_t``. Returns ``(spikes, v_final)``."""

    def step(v, x):
        s = activation(v - threshold)
        return beta * v + x - s * threshold, s

    v_final, spikes = jax.lax.scan(step, v0, jnp.swapaxes(inputs, 0, 1))
    return jnp.swapaxes(spikes, 0, 1), v_final


def _flat(inputs, v0, beta_full):
    b, t = inputs.shape[:2]
    n = int(np.prod(inputs.shape[2:], dtype=np.int64))
    return (
        inputs.reshape(b, t, n),
        v0.reshape(b, n),
        jnp.broadcast_to(beta_full.reshape(1, n), (b, n)),
    )


def _lif_native_fwd_call(x, v0, beta_b, threshold):
    b, t, n = x.shape
    seq = jax.ShapeDtypeStruct((b, t, n), jnp.float32)
    state = jax.ShapeDtypeStruct((b, n), jnp.float32)
    return jax.ffi.ffi_call(
        "spyxlike_lif_scan_fwd", (seq, seq, state), vmap_method="broadcast_all"
    )(x, v0, beta_b, theta=np.float32(threshold))


def _lif_native_bwd_call(g_s, g_v, v_prev, surr, beta_b, threshold):
    b, t, n = g_s.shape
    seq = jax.ShapeDtypeStruct((b, t, n), jnp.float32)
    state = jax.ShapeDtypeStruct((b, n), jnp.float32)
    return jax.ffi.ffi_call(
        "spyxlike_lif_scan_bwd", (seq, state, state), vmap_method="broadcast_all"
    )(g_s, g_v, v_prev, surr, beta_b, theta=np.float32(threshold))


def surrogate_derivative(activation, u):
    """Elementwise surrogate derivative ``act'(u)`` as the activation's backward defines it."""
    bwd = getattr(activation, "bwd", None)
    if bwd is not None:
        return jnp.broadcast_to(jnp.asarray(bwd(u), u.dtype), u.shape)
    _, pullback = jax.vjp(activation, u)
    return pullback(jnp.ones_like(u))[0]


# Built-in surrogates the native adjoint evaluates inline (ids of
# ffi/include/spyxlike/leaky_scan.h); others are precomputed in JAX.
_FUSED_SURROGATES = {
    "superspike": 1, "arctan": 2, "boxcar": 3, "tanh": 4,
    "triangular": 5, "sigmoid": 6, "fast_sigmoid": 7,
}


def _fused_surrogate(activation):
    spec = getattr(activation, "surrogate", None)
    if not spec or spec[0] not in _FUSED_SURROGATES:
        return None
    name, params = spec
    params = tuple(params) + (0.0,) * (2 - len(params))
    return _FUSED_SURROGATES[name], np.float32(params[0]), np.float32(params[1])


@functools.partial(jax.custom_vjp, nondiff_argnums=(3, 4))
def _lif_native(x, v0, beta_b, threshold, activation):
    spikes, _, v_final = _lif_native_fwd_call(x, v0, beta_b, threshold)
    return spikes, v_final


def _lif_native_fwd(x, v0, beta_b, threshold, activation):
    spikes, v_prev, v_final = _lif_native_fwd_call(x, v0, beta_b, threshold)
    return (spikes, v_final), (v_prev, beta_b)


def _lif_native_bwd(threshold, activation, residuals, cotangents):
    v_prev, beta_b = residuals
    g_s, g_v = cotangents
    fused = _fused_surrogate(activation)
    if fused is not None:
        b, t, n = g_s.shape
        seq = jax.ShapeDtypeStruct((b, t, n), jnp.float32)
        state = jax.ShapeDtypeStruct((b, n), jnp.float32)
        return jax.ffi.ffi_call(
            "spyxlike_lif_scan_bwd_fused", (seq, state, state), vmap_method="broadcast_all"
        )(g_s, g_v, v_prev, beta_b, theta=np.float32(threshold), surrogate=np.int64(fused[0]),
          p0=fused[1], p1=fused[2])
    surr = surrogate_derivative(activation, v_prev - threshold)
    return _lif_native_bwd_call(g_s, g_v, v_prev, surr, beta_b, threshold)


_lif_native.defvjp(_lif_native_fwd, _lif_native_bwd)


def native_supports(activation, threshold) -> bool:
    """The native loops hard-code a Heaviside forward and a fixed float threshold."""
    return bool(getattr(activation, "heaviside_forward", False)) and isinstance(
        threshold, (int, float, np.floating, np.integer)
    )


def lif_scan(inputs, v0, beta, threshold, activation, *, impl: str = "auto"):
    r"""Runs a LIF layer over a whole sequence in one op.

    .. math::

        s_t = \mathrm{act}(v_{t-1} - \theta), \qquad
        v_t = \beta\, v_{t-1} + x_t - \theta\, s_t

    (Spyx's ``LIF`` update order: the spike is read from the potential before
    the update; the reset is subtractive and its gradient flows through
    ``s_t``.) Gradients w.r.t. ``inputs``, ``v0`` and ``beta`` use the
    activation's surrogate derivative.

    Args:
      inputs: ``(batch, T, ...features)`` input currents.
      v0: ``(batch, ...features)`` initial potentials.
      beta: decay, broadcastable to ``features`` (already clipped to [0, 1]
        by the caller when learnable).
      threshold: firing threshold ``theta`` (a Python number for the native
        path).
      activation: a spyxlike.axn activation (Heaviside forward, surrogate
        backward).
      impl: ``"auto" | "reference" | "native"``; the native path needs a
        Heaviside-forward activation and a static threshold, ``auto`` uses
        the reference otherwise.

    Returns:
      ``(spikes (batch, T, ...features), v_final (batch, ...features))``.
    """
    inputs = jnp.asarray(inputs, jnp.float32)
    v0 = jnp.asarray(v0, jnp.float32)
    _check_sequence("lif_scan", inputs, v0)
    beta_full = _beta_per_neuron("lif_scan", beta, inputs.shape[2:])
    native_path = use_native(
        impl, "lif_scan", supported=native_supports(activation, threshold),
        why_not="needs a Heaviside-forward spyxlike.axn activation and a static numeric "
                f"threshold; got activation={activation!r}, threshold={threshold!r}",
    )
    if not native_path:
        return lif_scan_reference(inputs, v0, jnp.asarray(beta, jnp.float32), threshold, activation)
    x, v, beta_b = _flat(inputs, v0, beta_full)
    spikes, v_final = _lif_native(x, v, beta_b, float(threshold), activation)
    return spikes.reshape(inputs.shape), v_final.reshape(v0.shape)


# ---------------------------------------------------------------- LI


def li_scan_reference(inputs, v0, beta):
    r"""Reference LI loop: ``v_t = beta v_{t-1} + x_t``, output ``v_t``. Returns ``(trace, v_final)``."""

    def step(v, x):
        v = beta * v + x
        return v, v

    v_final, trace = jax.lax.scan(step, v0, jnp.swapaxes(inputs, 0, 1))
    return jnp.swapaxes(trace, 0, 1), v_final


@jax.custom_vjp
def _li_native(x, v0, beta_b):
    b, t, n = x.shape
    return jax.ffi.ffi_call(
        "spyxlike_li_scan_fwd",
        (jax.ShapeDtypeStruct((b, t, n), jnp.float32), jax.ShapeDtypeStruct((b, n), jnp.float32)),
        vmap_method="broadcast_all",
    )(x, v0, beta_b)


def _li_native_fwd(x, v0, beta_b):
    out, v_final = _li_native(x, v0, beta_b)
    return (out, v_final), (out, v0, beta_b)


def _li_native_bwd(residuals, cotangents):
    out, v0, beta_b = residuals
    g_out, g_v = cotangents
    b, t, n = out.shape
    seq = jax.ShapeDtypeStruct((b, t, n), jnp.float32)
    state = jax.ShapeDtypeStruct((b, n), jnp.float32)
    return jax.ffi.ffi_call(
        "spyxlike_li_scan_bwd", (seq, state, state), vmap_method="broadcast_all"
    )(g_out, g_v, out, v0, beta_b)


_li_native.defvjp(_li_native_fwd, _li_native_bwd)


def li_scan(inputs, v0, beta, *, impl: str = "auto"):
    r"""Runs a leaky-integrator (Spyx ``LI``) layer over a whole sequence.

    .. math:: v_t = \beta\, v_{t-1} + x_t, \qquad \text{out}_t = v_t

    Args:
      inputs: ``(batch, T, ...features)``.
      v0: ``(batch, ...features)``.
      beta: decay broadcastable to ``features``.
      impl: ``"auto" | "reference" | "native"``.

    Returns:
      ``(trace (batch, T, ...features), v_final (batch, ...features))``.
    """
    inputs = jnp.asarray(inputs, jnp.float32)
    v0 = jnp.asarray(v0, jnp.float32)
    _check_sequence("li_scan", inputs, v0)
    beta_full = _beta_per_neuron("li_scan", beta, inputs.shape[2:])
    if not use_native(impl, "li_scan"):
        return li_scan_reference(inputs, v0, jnp.asarray(beta, jnp.float32))
    x, v, beta_b = _flat(inputs, v0, beta_full)
    out, v_final = _li_native(x, v, beta_b)
    return out.reshape(inputs.shape), v_final.reshape(v0.shape)
