r"""Exact event-driven simulation of a fully connected spiking layer (EvSpikeSim's model).

This module holds the pure-JAX *reference* engine of ``spyxlike.evsim`` and
the exact gradient of output spike times. The native C++ engine implements
the same contract (``fc_layer_native`` in ``spyxlike.ops.evsim_native``) and
is dispatched by ``spyxlike.evsim``.

Neuron model (EvSpikeSim's default kernel)
------------------------------------------
Current-based LIF / SRM neuron with synaptic time constant ``tau_s`` and
membrane time constant ``tau = 2 tau_s``. With input spikes ``(w_j, t_j)``
(``w_j`` the weight of the synapse the spike arrives on) and the neuron's own
earlier output spikes ``t_k``, the membrane potential is, with no
normalisation factor (EvSpikeSim adds the raw weight to both traces)::

    V(t) = sum_{t_j < t} w_j (exp(-(t - t_j)/tau) - exp(-(t - t_j)/tau_s))
           - theta * sum_{t_k < t} exp(-(t - t_k)/tau)

Because ``tau = 2 tau_s``, relative to a reference time ``r`` and with
``y = exp(-(t - r)/tau)`` the potential is the quadratic
``V = b y - a y^2`` with two per-neuron traces: ``a`` (the synaptic trace,
decays like ``y^2``) and ``b`` (the membrane trace, decays like ``y``). An
input spike adds ``w`` to both (so ``V`` is continuous); an output spike
subtracts ``theta`` from ``b`` (reset by subtraction, decaying with
``tau``). The next threshold crossing after ``r`` is the largest root of
``a y^2 - b y + theta = 0``::

    D = b^2 - 4 a theta,     t* = r + tau * log(2 a / (b + sqrt(D)))

It exists iff ``D >= 0`` and ``2a / (b + sqrt(D)) > 0``; a tangential touch
(``D = 0``) counts as a spike, like in EvSpikeSim. It is kept iff
``r < t* < t_next`` (strict, EvSpikeSim's test), with ``t_next`` the next
input spike time (``+inf`` after the last). After a spike the reference
moves to ``t*`` (both traces decay to it) and ``theta`` is subtracted from
``b``; the search repeats, so a neuron may fire several times between two
input spikes.

Differences from EvSpikeSim
---------------------------
* EvSpikeSim's ``buffer_size`` is the size of a chunk buffer that is flushed
  and refilled until the simulation ends, so it never loses spikes.
  Here (fixed shapes under ``jit``) ``buffer_size`` caps the number of output
  spikes *kept* per neuron; a neuron that would emit one more spike sets its
  ``overflow`` flag (and is not simulated further). Nothing is dropped
  silently: callers turn the flag into an error or a larger buffer.
* Batched: every array has a leading batch axis, events are padded arrays.
* Spike times may be float64 when ``jax_enable_x64`` is on and float64 arrays
  are passed (used by the tests); float32 otherwise, like EvSpikeSim.

Gradients
---------
:func:`fc_layer_reference` is a ``jax.custom_vjp``; the backward pass is
:func:`fc_layer_backward`, which only needs the inputs and the forward's
output times, so any engine with the same forward (the native one) can reuse
it. It applies the implicit-function theorem at every kept output spike
``t_k`` of a neuron: ``F_k = V(t_k) - theta = 0`` with ``V`` as above, the
set of causal input spikes (``t_j < t_k``) and earlier output spikes held
fixed (they are locally constant), so

    dt_k = -(dF_k/dp + sum_{k' < k} dF_k/dt_{k'} dt_{k'}) / V'(t_k)

for ``p`` a weight or an input time, with ``dF_k/dw_{in} = sum_{j: input
in, t_j<t_k} K(t_k - t_j)`` (``K(s) = exp(-s/tau) - exp(-s/tau_s)``),
``dF_k/dt_j = -w_j K'(t_k - t_j)``,
``dF_k/dt_{k'} = -(theta/tau) exp(-(t_k - t_{k'})/tau)`` and
``V'(t_k) = sum_j w_j K'(t_k - t_j) + (theta/tau) sum_{k'<k}
exp(-(t_k - t_{k'})/tau)``. The vector-Jacobian product runs this
recursion backwards over each neuron's spikes (an adjoint over the reset
chain): ``lambda_k = g_k - (theta/tau) sum_{k''>k} mu_{k''}
exp(-(t_{k''} - t_k)/tau)``, ``mu_k = -lambda_k / V'(t_k)``, then
``dL/dw = sum_k mu_k dF_k/dw`` and ``dL/dt_j = sum_k mu_k dF_k/dt_j``.
This is the exact derivative of the piecewise-smooth map (weights, input
times) -> output spike times; spikes that do not exist (padding, silent
neurons) have zero gradient, and spikes appearing/disappearing are not
differentiated (as in EventProp). ``V'`` is floored at
``1e-6 * theta / tau`` so a tangential crossing gives a large, finite
gradient. No gradient flows to ``tau_s``, ``threshold`` or the integer
arguments.

Complexity
----------
Forward, per sample: ``O((E + R) * N)`` work in ``E`` sequential steps
(``lax.scan`` over the input events, vectorised over the ``N`` neurons),
where ``R`` is the number of extra rounds of the inner ``lax.while_loop``
(each round emits at least one spike somewhere in the layer; at most
``N * (buffer_size + 1)`` in total), memory ``O(N * buffer_size)``.
Backward: ``O(E * N * buffer_size)`` work and memory per sample (dense
pairwise kernel between input and output spikes).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.axn import _check_int, _check_real

__all__ = ["fc_layer_reference", "fc_layer_backward", "layer_output_to_events"]

# Floor of dV/dt at an output spike, in units of threshold / tau.
_SLOPE_FLOOR = 1e-6


def _float_dtype(*xs):
    dt = jnp.result_type(*[x.dtype for x in xs])
    return dt if jnp.issubdtype(dt, jnp.floating) else jnp.float32


def _is_concrete(*xs):
    return not any(isinstance(x, jax.core.Tracer) for x in xs)


def _validate(in_indices, in_times, in_count, weights, tau_s, threshold, buffer_size):
    """Checks hyperparameters, shapes and (for concrete arrays) event values."""
    tau_s = _check_real("tau_s", tau_s, lo=0.0, lo_open=True)
    threshold = _check_real("threshold", threshold, lo=0.0, lo_open=True)
    buffer_size = _check_int("buffer_size", buffer_size, lo=1)
    if weights.ndim != 2:
        raise ValueError(f"weights must be (n_inputs, n_neurons), got shape {weights.shape}")
    if not jnp.issubdtype(weights.dtype, jnp.floating):
        raise TypeError(f"weights must be a floating array, got dtype {weights.dtype}")
    if in_indices.ndim != 2:
        raise ValueError(f"in_indices must be (batch, n_events), got shape {in_indices.shape}")
    if not jnp.issubdtype(in_indices.dtype, jnp.integer):
        raise TypeError(f"in_indices must be an integer array, got dtype {in_indices.dtype}")
    if in_times.shape != in_indices.shape:
        raise ValueError(
            f"in_times must have the shape of in_indices {in_indices.shape}, got {in_times.shape}")
    if not jnp.issubdtype(in_times.dtype, jnp.floating):
        raise TypeError(f"in_times must be a floating array, got dtype {in_times.dtype}")
    if in_count.shape != in_indices.shape[:1]:
        raise ValueError(
            f"in_count must have shape (batch,) = {in_indices.shape[:1]}, got {in_count.shape}")
    if not jnp.issubdtype(in_count.dtype, jnp.integer):
        raise TypeError(f"in_count must be an integer array, got dtype {in_count.dtype}")
    if _is_concrete(in_indices, in_times, in_count):
        idx = np.asarray(in_indices)
        t = np.asarray(in_times)
        cnt = np.asarray(in_count)
        n_events = idx.shape[1]
        if np.any(cnt < 0) or np.any(cnt > n_events):
            raise ValueError(f"in_count must be in [0, {n_events}] (the number of event slots); "
                             f"got values in [{cnt.min()}, {cnt.max()}]")
        valid = np.arange(n_events)[None, :] < cnt[:, None]
        if np.any(valid & ((idx < 0) | (idx >= weights.shape[0]))):
            bad = idx[valid & ((idx < 0) | (idx >= weights.shape[0]))]
            raise ValueError(f"in_indices must be in [0, {weights.shape[0]}) (n_inputs); "
                             f"got {int(bad[0])}")
        tv = np.where(valid, t, 0.0)
        if np.any(~np.isfinite(tv)):
            raise ValueError("in_times must be finite for the first in_count events of each "
                             "sample; got a NaN or infinite time")
        if np.any(tv < 0):
            raise ValueError(f"in_times must be >= 0; got {float(tv.min())}")
        later = np.arange(1, n_events)[None, :] < cnt[:, None]
        if np.any(later & (np.diff(tv, axis=1) < 0)):
            b = int(np.nonzero(np.any(later & (np.diff(tv, axis=1) < 0), axis=1))[0][0])
            raise ValueError(f"in_times must be sorted ascending within each sample over the "
                             f"first in_count events; sample {b} is not")
    return tau_s, threshold, buffer_size


def _simulate_sample(idx, times, count, weights, tau, threshold, buffer_size):
    """One sample: ``(out (N, K), counts (N,), overflow (N,))``."""
    n_events = idx.shape[0]
    n = weights.shape[1]
    dtype = weights.dtype
    inf = jnp.asarray(jnp.inf, dtype)
    valid = jnp.arange(n_events) < count
    t = jnp.where(valid, times, inf)
    idx = jnp.where(valid, idx, 0)
    t_next = jnp.concatenate([t[1:], jnp.full((1,), jnp.inf, dtype)])
    slots = jnp.arange(buffer_size)

    def fire_round(c):
        a, b, tref, cnt, ovf, out, _, t_nx, live = c
        disc = b * b - 4.0 * a * threshold
        den = b + jnp.sqrt(jnp.maximum(disc, 0.0))
        can = live & ~ovf & (disc >= 0) & (a > 0) & (den > 0)
        inside = jnp.where(can, 2.0 * a / jnp.where(can, den, 1.0), 1.0)
        ts = tref + tau * jnp.log(inside)
        fire = can & (tref < ts) & (ts < t_nx)
        room = cnt < buffer_size
        keep = fire & room
        ovf = ovf | (fire & ~room)
        out = jnp.where(keep[:, None] & (slots[None, :] == cnt[:, None]), ts[:, None], out)
        y = jnp.exp((tref - jnp.where(keep, ts, tref)) / tau)
        a = jnp.where(keep, a * y * y, a)
        b = jnp.where(keep, b * y - threshold, b)
        tref = jnp.where(keep, ts, tref)
        cnt = cnt + keep.astype(cnt.dtype)
        return a, b, tref, cnt, ovf, out, jnp.any(keep), t_nx, live

    def step(carry, x):
        a, b, tref, cnt, ovf, out = carry
        i, tj, v, tn = x
        w = weights[i]
        y = jnp.exp(-jnp.where(v, tj - tref, 0.0) / tau)
        a = jnp.where(v, a * y * y + w, a)
        b = jnp.where(v, b * y + w, b)
        tref = jnp.where(v, tj, tref)
        c = (a, b, tref, cnt, ovf, out, v, tn, v)
        a, b, tref, cnt, ovf, out, *_ = jax.lax.while_loop(lambda c: c[6], fire_round, c)
        return (a, b, tref, cnt, ovf, out), None

    zeros = jnp.zeros((n,), dtype)
    init = (zeros, zeros, zeros, jnp.zeros((n,), jnp.int32), jnp.zeros((n,), bool),
            jnp.full((n, buffer_size), jnp.inf, dtype))
    (_, _, _, cnt, ovf, out), _ = jax.lax.scan(step, init, (idx, t, valid, t_next))
    return out, cnt, ovf


def _forward(in_indices, in_times, in_count, weights, tau_s, threshold, buffer_size):
    sim = functools.partial(_simulate_sample, weights=weights, tau=2.0 * tau_s,
                            threshold=threshold, buffer_size=buffer_size)
    return jax.vmap(sim)(in_indices, in_times, in_count)


def fc_layer_backward(in_indices, in_times, in_count, weights, out_times, out_counts, g_times,
                      *, tau_s, threshold):
    r"""Vector-Jacobian product of output spike times (implicit-function theorem).

    Given the inputs of a layer, its output spike times and a cotangent
    ``g_times`` on them, returns ``(g_weights, g_in_times)``, the exact
    gradient of ``sum(g_times * out_times)`` (over kept spikes) w.r.t. the
    weights and the input spike times. See the module docstring for the
    equations. Entries of ``g_times`` at padded positions
    (``k >= out_counts``) are ignored; padded input events get zero gradient.

    Args:
      in_indices: ``(batch, E)`` input neuron indices, as in
        :func:`fc_layer_reference`.
      in_times: ``(batch, E)`` sorted input spike times.
      in_count: ``(batch,)`` number of valid input events.
      weights: ``(n_inputs, n_neurons)`` layer weights.
      out_times: ``(batch, n_neurons, buffer_size)`` output spike times of
        the forward pass.
      out_counts: ``(batch, n_neurons)`` number of kept spikes.
      g_times: cotangent of ``out_times``, same shape.
      tau_s: the layer's synaptic time constant.
      threshold: the layer's firing threshold.

    Returns:
      ``g_weights`` of shape ``(n_inputs, n_neurons)`` (summed over the
      batch) and ``g_in_times`` of shape ``(batch, n_events)``.

    Cost: ``O(batch * n_events * n_neurons * buffer_size)`` time and memory.
    """
    return _backward_jit(jnp.asarray(in_indices), jnp.asarray(in_times), jnp.asarray(in_count),
                         jnp.asarray(weights), jnp.asarray(out_times), jnp.asarray(out_counts),
                         jnp.asarray(g_times), float(tau_s), float(threshold))


def _backward(in_indices, in_times, in_count, weights, out_times, out_counts, g_times, tau_s,
              threshold):
    tau = 2.0 * tau_s
    dtype = _float_dtype(in_times, weights)
    n_events = in_indices.shape[1]
    k_slots = out_times.shape[2]
    valid_in = jnp.arange(n_events)[None, :] < in_count[:, None]                  # (B, E)
    valid_out = (jnp.arange(k_slots)[None, None, :] < out_counts[..., None]) & jnp.isfinite(
        out_times)                                                                  # (B, N, K)
    t_in = jnp.where(valid_in, in_times, 0.0).astype(dtype)
    t_out = jnp.where(valid_out, out_times, 0.0).astype(dtype)
    g = jnp.where(valid_out, g_times, 0.0).astype(dtype)
    idx = jnp.where(valid_in, in_indices, 0)
    w = weights.astype(dtype)[idx]                                                  # (B, E, N)

    # Pairwise output-input terms, (B, N, K, E).
    causal = (valid_out[..., None] & valid_in[:, None, None, :]
              & (t_in[:, None, None, :] < t_out[..., None]))
    s = jnp.where(causal, t_out[..., None] - t_in[:, None, None, :], 0.0)
    e_m = jnp.exp(-s / tau)
    e_s = e_m * e_m
    kval = jnp.where(causal, e_m - e_s, 0.0)
    kder = jnp.where(causal, -e_m / tau + e_s / tau_s, 0.0)

    # Reset terms between output spikes of one neuron, (B, N, K, K'): k' < k.
    earlier = (valid_out[..., :, None] & valid_out[..., None, :]
               & (jnp.arange(k_slots)[:, None] > jnp.arange(k_slots)[None, :]))
    r = jnp.exp(-jnp.where(earlier, t_out[..., :, None] - t_out[..., None, :], 0.0) / tau)
    r = jnp.where(earlier, r, 0.0)
    slope = (jnp.einsum("ben,bnke->bnk", w, kder) + (threshold / tau) * r.sum(-1))
    slope = jnp.maximum(slope, _SLOPE_FLOOR * threshold / tau)

    # Adjoint over each neuron's reset chain, from the last spike to the first.
    def back(carry, xs):
        acc, t_nx, v_nx = carry
        g_k, t_k, v_k, sl_k = xs
        decay = jnp.where(v_nx, jnp.exp(-jnp.where(v_nx, t_nx - t_k, 0.0) / tau), 0.0)
        s_k = acc * decay
        lam = g_k - (threshold / tau) * s_k
        mu = jnp.where(v_k, -lam / sl_k, 0.0)
        return (s_k + mu, t_k, v_k), mu

    mv = lambda x: jnp.moveaxis(x, -1, 0)
    zero = jnp.zeros(out_counts.shape, dtype)
    _, mu = jax.lax.scan(back, (zero, zero, jnp.zeros(out_counts.shape, bool)),
                         (mv(g), mv(t_out), mv(valid_out), mv(slope)), reverse=True)
    mu = jnp.moveaxis(mu, 0, -1)                                                    # (B, N, K)

    a_w = jnp.einsum("bnk,bnke->ben", mu, kval)                                     # (B, E, N)
    g_w = jnp.zeros(weights.shape, dtype).at[idx.reshape(-1)].add(
        a_w.reshape(-1, weights.shape[1]))
    g_t = -jnp.einsum("ben,bnk,bnke->be", w, mu, kder)
    g_t = jnp.where(valid_in, g_t, 0.0)
    return g_w.astype(weights.dtype), g_t.astype(in_times.dtype)


_backward_jit = jax.jit(_backward, static_argnums=(7, 8))


@functools.partial(jax.custom_vjp, nondiff_argnums=(4, 5, 6))
def _fc_layer(in_indices, in_times, in_count, weights, tau_s, threshold, buffer_size):
    return _forward(in_indices, in_times, in_count, weights, tau_s, threshold, buffer_size)


def _fc_layer_fwd(in_indices, in_times, in_count, weights, tau_s, threshold, buffer_size):
    out = _forward(in_indices, in_times, in_count, weights, tau_s, threshold, buffer_size)
    return out, (in_indices, in_times, in_count, weights, out[0], out[1])


def _fc_layer_bwd(tau_s, threshold, buffer_size, res, cts):
    in_indices, in_times, in_count, weights, out_times, out_counts = res
    g_w, g_t = _backward(in_indices, in_times, in_count, weights, out_times, out_counts, cts[0],
                         tau_s, threshold)
    return None, g_t, None, g_w


_fc_layer.defvjp(_fc_layer_fwd, _fc_layer_bwd)

# Module-level jits: eager calls reuse the compiled scan instead of retracing it.
_fc_layer_jit = jax.jit(_fc_layer, static_argnums=(4, 5, 6))


def fc_layer_reference(in_indices, in_times, in_count, weights, *, tau_s, threshold,
                       buffer_size):
    r"""Exact event-driven simulation of one fully connected layer (pure JAX).

    Follows EvSpikeSim's default FC kernel (``add_fc_layer``): current-based
    LIF neurons, membrane time constant ``2 * tau_s``, spike times solved in
    closed form between input events, reset by subtracting ``threshold``
    (see the module docstring for the equations). Differentiable w.r.t.
    ``weights`` and ``in_times`` through an exact implicit-function-theorem
    gradient (:func:`fc_layer_backward`). Jittable and vmappable.

    Args:
      in_indices: int32 ``(batch, E)`` input neuron of each event.
      in_times: float32 ``(batch, E)`` event times, ``>= 0``, ascending over
        the first ``in_count[b]`` entries of each sample; later entries are
        padding (conventionally time ``+inf``, index 0) and are ignored.
      in_count: int32 ``(batch,)`` number of valid events per sample.
      weights: float32 ``(n_inputs, n_neurons)``.
      tau_s: synaptic time constant ``> 0`` (membrane: ``2 * tau_s``).
      threshold: firing threshold ``> 0``.
      buffer_size: int ``>= 1``, spikes kept per neuron.

    Returns:
      ``(out_times, out_counts, overflow)``: ``out_times`` float32
      ``(batch, n_neurons, buffer_size)`` ascending per neuron with ``+inf``
      padding; ``out_counts`` int32 ``(batch, n_neurons)`` spikes kept;
      ``overflow`` bool ``(batch, n_neurons)``, true where the neuron would
      have emitted a spike beyond the buffer (unlike EvSpikeSim, whose
      buffer is a flushed chunk, spyxlike's buffer is a cap).

    Raises:
      ValueError: ``tau_s <= 0``, ``threshold <= 0``, ``buffer_size < 1``,
        bad shapes; for concrete (untraced) inputs also ``in_count`` out of
        ``[0, E]``, unsorted, negative or non-finite valid ``in_times``,
        valid ``in_indices`` outside ``[0, n_inputs)``.
      TypeError: non-integer indices/counts/buffer_size or non-float times
        or weights.
    """
    in_indices = jnp.asarray(in_indices)
    in_times = jnp.asarray(in_times)
    in_count = jnp.asarray(in_count)
    weights = jnp.asarray(weights)
    tau_s, threshold, buffer_size = _validate(in_indices, in_times, in_count, weights,
                                              tau_s, threshold, buffer_size)
    dtype = _float_dtype(in_times, weights)
    return _fc_layer_jit(in_indices.astype(jnp.int32), in_times.astype(dtype),
                     in_count.astype(jnp.int32), weights.astype(dtype),
                     tau_s, threshold, buffer_size)


def layer_output_to_events(out_times, out_counts):
    """Turns a layer's per-neuron spike buffers into the next layer's event list.

    Args:
      out_times: ``(batch, n_neurons, buffer_size)`` spike times
        (``+inf`` padding), as returned by :func:`fc_layer_reference`.
      out_counts: int ``(batch, n_neurons)`` kept spikes per neuron; slots
        ``k >= out_counts`` are ignored whatever they hold.

    Returns:
      ``(indices, times, count)``: int32 ``(batch, n_neurons * buffer_size)``
      neuron of each event, ``(batch, n_neurons * buffer_size)`` times sorted
      ascending (ties by neuron index, then slot) with padding ``+inf`` /
      index 0, and int32 ``(batch,)`` the number of events. Differentiable
      w.r.t. ``out_times`` (a permutation), so gradients of a later layer's
      input times reach this layer's spike times.
    """
    out_times = jnp.asarray(out_times)
    out_counts = jnp.asarray(out_counts)
    if out_times.ndim != 3:
        raise ValueError(f"out_times must be (batch, n_neurons, buffer_size), got shape "
                         f"{out_times.shape}")
    if out_counts.shape != out_times.shape[:2]:
        raise ValueError(f"out_counts must have shape {out_times.shape[:2]}, got "
                         f"{out_counts.shape}")
    b, n, k = out_times.shape
    valid = jnp.arange(k)[None, None, :] < out_counts[..., None]
    t = jnp.where(valid, out_times, jnp.inf).reshape(b, n * k)
    neuron = jnp.broadcast_to(jnp.arange(n, dtype=jnp.int32)[:, None], (n, k)).reshape(n * k)
    order = jnp.argsort(t, axis=1, stable=True)
    times = jnp.take_along_axis(t, order, axis=1)
    count = valid.sum(axis=(1, 2)).astype(jnp.int32)
    indices = jnp.where(jnp.arange(n * k)[None, :] < count[:, None], neuron[order], 0)
    return indices.astype(jnp.int32), times, count
