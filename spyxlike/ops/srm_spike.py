r"""SLAYER's SRM spike function with refractory response: reference and native kernel.

Forward (SLAYER's ``slayerCuda.getSpikes``), per neuron, walking time::

    u~ = u
    for t in 0..T-1:
        if u~[t] >= theta:
            s[t] = 1/Ts
            u~[t + j] += ref[j]   for 0 <= j < K, t + j < T
        else:
            s[t] = 0

Backward (SLAYER's ``_spikeFunction.backward``): the refractory feedback is
ignored; ``du = g_s * pdf(u~) + g_u~`` with the spike-function pdf
``scale_rho / (tau_rho * theta) * exp(-|u~ - theta| / (tau_rho * theta))``.

* Reference: ``lax.scan`` over time carrying the window ``u~[t : t + K]`` of
  pending potentials (each future sample already holds ``u`` plus the
  refractory contributions of earlier spikes, added in time order exactly
  like SLAYER's in-place update), so the reference and the native kernel
  perform the same float additions in the same order and agree bit for bit.
* Native: ``ffi/include/spyxlike/srm_spike.h`` on ``(batch, T, N)`` buffers,
  time outside and neurons inside, the refractory kernel added only for
  neurons that fired (cost ``O(T N + spikes * K)``).

Layout: batch-first, time-second, trailing feature axes of any shape.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.axn import _check_real
from spyxlike.ops.dispatch import use_native

__all__ = ["srm_spike", "srm_spike_reference", "spike_pdf"]


def spike_pdf(u, theta, tau_rho, scale_rho):
    r"""SLAYER's spike-function pdf (surrogate derivative) at potential ``u``.

    ``scale_rho / (tau_rho * |theta|) * exp(-|u - theta| / (tau_rho * |theta|))``.
    """
    tau = tau_rho * abs(theta)
    return (scale_rho / tau) * jnp.exp(-jnp.abs(u - theta) / tau)


def srm_spike_reference(u, ref, theta, spike_value):
    """Pure-JAX forward: ``(spikes, u~)`` for ``u`` of shape ``(batch, T, N)``.

    ``ref`` is the ``(K,)`` refractory kernel, ``spike_value`` the float32
    spike height. The scan carries the ``(batch, K, N)`` window of pending
    potentials ``u~[t : t + K]``.
    """
    B, T, N = u.shape
    ref = jnp.asarray(ref, jnp.float32)
    K = ref.shape[0]
    # Window w_t = u~[t : t + K] (zeros beyond T); the sample entering at step t is u[t + K].
    padded = jnp.concatenate([u, jnp.zeros((B, K, N), u.dtype)], axis=1)
    w0 = padded[:, :K]
    incoming = jnp.swapaxes(padded[:, K:K + T], 0, 1)  # (T, B, N)
    ref_b = ref.reshape(1, K, 1)
    sv = jnp.float32(spike_value)

    def step(w, nxt):
        v = w[:, 0]
        fired = v >= theta
        s = jnp.where(fired, sv, jnp.float32(0))
        add = jnp.where(fired[:, None, :], ref_b, jnp.float32(0))
        w = w + add
        v_out = w[:, 0]
        w = jnp.concatenate([w[:, 1:], nxt[:, None, :]], axis=1)
        return w, (s, v_out)

    _, (s, v) = jax.lax.scan(step, w0, incoming)
    return jnp.swapaxes(s, 0, 1), jnp.swapaxes(v, 0, 1)


def _native_forward(u, ref, theta, spike_value):
    B, T, N = u.shape
    out = jax.ShapeDtypeStruct((B, T, N), jnp.float32)
    return jax.ffi.ffi_call("spyxlike_srm_spike_fwd", (out, out), vmap_method="broadcast_all")(
        u, ref=np.asarray(ref, np.float32), theta=np.float32(theta),
        spike_value=np.float32(spike_value))


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3, 4, 5, 6))
def _srm_spike(u, ref, theta, spike_value, tau_rho, scale_rho, native):
    fwd = _native_forward if native else srm_spike_reference
    return fwd(u, np.asarray(ref, np.float32), theta, spike_value)


def _srm_spike_fwd(u, ref, theta, spike_value, tau_rho, scale_rho, native):
    s, v = _srm_spike(u, ref, theta, spike_value, tau_rho, scale_rho, native)
    return (s, v), v


def _srm_spike_bwd(ref, theta, spike_value, tau_rho, scale_rho, native, v, cts):
    g_s, g_v = cts
    return (g_s * spike_pdf(v, theta, tau_rho, scale_rho) + g_v,)


_srm_spike.defvjp(_srm_spike_fwd, _srm_spike_bwd)


class _StaticKernel(tuple):
    """A hashable refractory kernel (nondiff custom_vjp argument)."""


def srm_spike(membrane_potential, ref_kernel, *, theta, Ts=1.0, tau_rho=1.0, scale_rho=1.0,
              impl: str = "auto"):
    r"""Spike function with refractory response over whole sequences (see module docstring).

    Args:
      membrane_potential: ``(batch, T, *features)`` float potential.
      ref_kernel: ``(K,)`` refractory kernel (a static NumPy/array-like; it
        is baked into the compiled op), e.g.
        :func:`spyxlike.srm.refractory_kernel`.
      theta: threshold (> 0).
      Ts: sampling time; spikes have height ``1/Ts``.
      tau_rho: SLAYER's surrogate-pdf width ``tauRho`` (relative to theta).
      scale_rho: SLAYER's surrogate-pdf height ``scaleRho``.
      impl: ``"auto" | "reference" | "native"``.

    Returns:
      ``(spikes, potential)``: spikes ``0`` or ``1/Ts`` and the
      refractory-modified potential, both ``(batch, T, *features)`` float32.
      Gradients: ``d spikes / d u = pdf(potential)`` (elementwise), ``d
      potential / d u = 1`` (refractory feedback ignored, as SLAYER).
    """
    u = jnp.asarray(membrane_potential)
    if u.ndim < 2:
        raise ValueError(
            f"srm_spike: membrane_potential must be (batch, T, *features); got shape {u.shape}")
    u = u.astype(jnp.float32)
    if isinstance(ref_kernel, jax.core.Tracer):
        raise TypeError("srm_spike: ref_kernel must be a static array, not a traced value")
    ref = np.asarray(ref_kernel, np.float32)
    if ref.ndim != 1 or ref.shape[0] < 1 or not np.all(np.isfinite(ref)):
        raise ValueError(
            f"srm_spike: ref_kernel must be a non-empty finite 1-D array; got shape {ref.shape}")
    theta = _check_real("theta", theta, lo=0, lo_open=True)
    Ts = _check_real("Ts", Ts, lo=0, lo_open=True)
    tau_rho = _check_real("tau_rho", tau_rho, lo=0, lo_open=True)
    scale_rho = _check_real("scale_rho", scale_rho, lo=0)
    native = use_native(impl, "srm_spike")
    spike_value = float(np.float32(1.0 / Ts))
    B, T = u.shape[:2]
    flat = u.reshape(B, T, -1)
    s, v = _srm_spike(flat, _StaticKernel(ref.tolist()), theta, spike_value, tau_rho, scale_rho,
                      native)
    return s.reshape(u.shape), v.reshape(u.shape)
