"""Native (C++ XLA FFI) engine for exact event-driven simulation of FC layers.

The kernel is ``ffi/include/spyxlike/evsim.h`` (EvSpikeSim's default neuron,
see :func:`fc_layer_native`); this module binds it with ``jax.ffi.ffi_call``
and validates arguments at the boundary. The pure-JAX reference with the same
signature is ``spyxlike.ops.evsim.fc_layer_reference``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.ops import native
from spyxlike.ops.evsim import fc_layer_backward


def _is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def check_hyperparameters(op: str, tau_s, threshold, buffer_size) -> None:
    """Raises ``ValueError`` naming ``tau_s``, ``threshold`` or ``buffer_size`` when invalid."""
    if not isinstance(buffer_size, (int, np.integer)) or isinstance(buffer_size, bool) or buffer_size < 1:
        raise ValueError(f"{op}: buffer_size must be an integer >= 1, got {buffer_size!r}")
    for name, value in (("tau_s", tau_s), ("threshold", threshold)):
        try:
            v = float(value)
        except (TypeError, jax.errors.ConcretizationTypeError):
            raise ValueError(f"{op}: {name} must be a Python number, got {value!r}") from None
        if not np.isfinite(v) or v <= 0:
            raise ValueError(f"{op}: {name} must be a finite number > 0, got {value!r}")


def check_events(op: str, in_indices, in_times, in_count, n_inputs: int) -> None:
    """Validates a padded event batch: shapes always, values when they are concrete.

    Raises ``ValueError`` naming ``in_indices``, ``in_times`` or ``in_count``
    for wrong shapes, indices outside ``[0, n_inputs)``, negative, non-finite
    or unsorted times among the first ``in_count[b]`` events, or counts
    outside ``[0, E]``. Under ``jit`` the values are checked by the native
    kernel instead (which fails the call with the same messages).
    """
    if in_indices.ndim != 2:
        raise ValueError(f"{op}: in_indices must be (batch, E), got shape {in_indices.shape}")
    if in_times.shape != in_indices.shape:
        raise ValueError(
            f"{op}: in_times must have the shape of in_indices {in_indices.shape}, got {in_times.shape}"
        )
    if in_count.shape != in_indices.shape[:1]:
        raise ValueError(f"{op}: in_count must be (batch,) = {in_indices.shape[:1]}, got {in_count.shape}")
    if not (_is_concrete(in_indices) and _is_concrete(in_times) and _is_concrete(in_count)):
        return
    idx = np.asarray(in_indices)
    t = np.asarray(in_times)
    c = np.asarray(in_count)
    E = idx.shape[1]
    if c.size and (c.min() < 0 or c.max() > E):
        raise ValueError(f"{op}: in_count must lie in [0, {E}], got values in [{c.min()}, {c.max()}]")
    valid = np.arange(E)[None, :] < c[:, None]
    if np.any(valid & ((idx < 0) | (idx >= n_inputs))):
        b, e = np.argwhere(valid & ((idx < 0) | (idx >= n_inputs)))[0]
        raise ValueError(
            f"{op}: in_indices must lie in [0, n_inputs={n_inputs}), got {idx[b, e]} at sample {b}, event {e}"
        )
    if np.any(valid & ~np.isfinite(t)):
        b, e = np.argwhere(valid & ~np.isfinite(t))[0]
        raise ValueError(f"{op}: in_times must be finite, got {t[b, e]} at sample {b}, event {e}")
    if np.any(valid & (t < 0)):
        b, e = np.argwhere(valid & (t < 0))[0]
        raise ValueError(f"{op}: in_times must be >= 0, got {t[b, e]} at sample {b}, event {e}")
    if E > 1:
        drop = valid[:, 1:] & (t[:, 1:] < t[:, :-1])
        if np.any(drop):
            b, e = np.argwhere(drop)[0]
            raise ValueError(
                f"{op}: in_times must be sorted ascending within in_count; sample {b} has "
                f"{t[b, e + 1]} after {t[b, e]} (event {e + 1})"
            )


def _fc_call(in_indices, in_times, in_count, weights, tau_s, threshold, buffer_size):
    batch = in_indices.shape[0]
    n_neurons = weights.shape[1]
    return jax.ffi.ffi_call(
        "spyxlike_evsim_fc",
        (
            jax.ShapeDtypeStruct((batch, n_neurons, buffer_size), jnp.float32),
            jax.ShapeDtypeStruct((batch, n_neurons), jnp.int32),
            jax.ShapeDtypeStruct((batch, n_neurons), jnp.bool_),
        ),
        # Unbatched operands (e.g. shared weights) keep size-1 leading dims;
        # the kernel broadcasts them, so vmap never copies the weights.
        vmap_method="expand_dims",
    )(in_indices, in_times, in_count, weights, tau_s=np.float32(tau_s), threshold=np.float32(threshold))


@functools.partial(jax.custom_vjp, nondiff_argnums=(4, 5, 6))
def _fc_native(in_indices, in_times, in_count, weights, tau_s, threshold, buffer_size):
    return _fc_call(in_indices, in_times, in_count, weights, tau_s, threshold, buffer_size)


def _fc_native_fwd(in_indices, in_times, in_count, weights, tau_s, threshold, buffer_size):
    out = _fc_call(in_indices, in_times, in_count, weights, tau_s, threshold, buffer_size)
    return out, (in_indices, in_times, in_count, weights, out[0], out[1])


def _fc_native_bwd(tau_s, threshold, buffer_size, res, cts):
    # The exact spike-time gradient only needs the inputs and the forward's
    # output times, so the native forward reuses the reference's adjoint.
    in_indices, in_times, in_count, weights, out_times, out_counts = res
    g_w, g_t = fc_layer_backward(in_indices, in_times, in_count, weights, out_times, out_counts, cts[0],
                                 tau_s=tau_s, threshold=threshold)
    return None, g_t.astype(in_times.dtype), None, g_w.astype(weights.dtype)


_fc_native.defvjp(_fc_native_fwd, _fc_native_bwd)


def fc_layer_native(in_indices, in_times, in_count, weights, *, tau_s, threshold, buffer_size):
    r"""Exact event-driven simulation of a fully connected layer (native C++ engine).

    Neuron model: EvSpikeSim's default kernel, a current-based LIF / SRM
    neuron with membrane time constant :math:`\tau = 2\tau_s` and no
    normalisation factor,

    .. math::

        V(t) = \sum_i w_i \left(e^{-(t - t_i)/\tau} - e^{-(t - t_i)/\tau_s}\right)
               - \vartheta \sum_k e^{-(t - t_k)/\tau},

    over input spikes :math:`t_i` and the neuron's own earlier spikes
    :math:`t_k` (reset by subtraction of the threshold, decaying with
    :math:`\tau`). Between events :math:`V = b x - a x^2` with
    :math:`x = e^{-t/\tau}`, so each threshold crossing is solved in closed
    form, :math:`t^* - t_0 = \tau \log\frac{2a}{b + \sqrt{b^2 - 4a\vartheta}}`,
    valid when it falls strictly between the previous spike (or event) and
    the next input event, as in EvSpikeSim. Internally double precision.

    Args:
      in_indices: int32 ``(batch, E)`` input neuron of each event.
      in_times: float32 ``(batch, E)`` event times, ascending over the first
        ``in_count[b]`` entries; the rest is padding (ignored).
      in_count: int32 ``(batch,)`` number of valid events per sample.
      weights: float32 ``(n_inputs, n_neurons)`` (note: EvSpikeSim stores
        ``(n_neurons, n_inputs)``).
      tau_s: synaptic time constant (> 0).
      threshold: firing threshold (> 0).
      buffer_size: spikes kept per neuron (>= 1).

    Returns:
      ``out_times`` float32 ``(batch, n_neurons, buffer_size)`` ascending,
      +inf padded; ``out_counts`` int32 ``(batch, n_neurons)``; ``overflow``
      bool ``(batch, n_neurons)``, True where a neuron would have fired more
      than ``buffer_size`` times (it then stops firing for that sample).
      EvSpikeSim instead re-runs with a fresh staging buffer; here overflow
      is reported and the caller decides (``spyxlike.evsim`` raises).

    Works under ``jit`` and ``vmap`` (weights may be batched or shared).
    Differentiable w.r.t. ``weights`` and ``in_times``: the backward pass is
    the exact implicit-function-theorem adjoint of the reference engine
    (``spyxlike.ops.evsim.fc_layer_backward``) applied to the native
    forward's spike times.
    Invalid event values under ``jit`` fail the call with a runtime error
    naming the argument.
    """
    native.require()
    op = "fc_layer_native"
    check_hyperparameters(op, tau_s, threshold, buffer_size)
    in_indices = jnp.asarray(in_indices)
    in_times = jnp.asarray(in_times)
    in_count = jnp.asarray(in_count)
    weights = jnp.asarray(weights)
    if weights.ndim != 2:
        raise ValueError(f"{op}: weights must be (n_inputs, n_neurons), got shape {weights.shape}")
    for name, x, kinds in (("in_indices", in_indices, "iu"), ("in_count", in_count, "iu"),
                           ("in_times", in_times, "f"), ("weights", weights, "f")):
        if x.dtype.kind not in kinds:
            raise TypeError(f"{op}: {name} must be {'an integer' if kinds == 'iu' else 'a float'} array, "
                            f"got dtype {x.dtype}")
    check_events(op, in_indices, in_times, in_count, weights.shape[0])
    return _fc_native(in_indices.astype(jnp.int32), in_times.astype(jnp.float32), in_count.astype(jnp.int32),
                      weights.astype(jnp.float32), float(tau_s), float(threshold), int(buffer_size))


def layer_output_to_events_native(out_times, out_counts, capacity=None):
    """Native gather of a layer's spike buffers into the next layer's event list.

    Args:
      out_times: float32 ``(batch, n_neurons, K)`` as returned by the engine.
      out_counts: int32 ``(batch, n_neurons)``.
      capacity: events per sample of the result (default ``n_neurons * K``,
        which always suffices); fewer spikes than that are +inf / 0 padded,
        more is an error.

    Returns:
      ``(indices int32 (batch, capacity), times float32 (batch, capacity),
      count int32 (batch,))`` sorted by time, ties by neuron index - the
      contract of ``spyxlike.ops.evsim.layer_output_to_events``.
    """
    native.require()
    out_times = jnp.asarray(out_times, jnp.float32)
    out_counts = jnp.asarray(out_counts, jnp.int32)
    if out_times.ndim != 3 or out_counts.shape != out_times.shape[:2]:
        raise ValueError(
            "layer_output_to_events_native: out_times must be (batch, N, K) and out_counts (batch, N); "
            f"got {out_times.shape} and {out_counts.shape}"
        )
    b, n, k = out_times.shape
    cap = n * k if capacity is None else int(capacity)
    if cap < 0:
        raise ValueError(f"layer_output_to_events_native: capacity must be >= 0, got {capacity!r}")
    return jax.ffi.ffi_call(
        "spyxlike_evsim_to_events",
        (
            jax.ShapeDtypeStruct((b, cap), jnp.int32),
            jax.ShapeDtypeStruct((b, cap), jnp.float32),
            jax.ShapeDtypeStruct((b,), jnp.int32),
        ),
        vmap_method="broadcast_all",
    )(out_times, out_counts)


def network_native(in_indices, in_times, in_count, weights, *, tau_s, threshold, buffer_size, max_events=None):
    """A whole feed-forward network of default-neuron FC layers in one native call.

    Each layer is :func:`fc_layer_native`; a layer's spikes, sorted by time
    (ties by neuron index, as :func:`layer_output_to_events_native`), are the
    next layer's input events inside the engine, without per-neuron spike
    buffers and without a round trip through XLA between layers. Results
    equal chaining :func:`fc_layer_native` and
    :func:`layer_output_to_events_native` layer by layer.

    Args:
      in_indices: int32 ``(batch, E)`` input neuron of each event.
      in_times: float32 ``(batch, E)`` event times, ascending over the first
        ``in_count[b]`` entries; the rest is padding (ignored).
      in_count: int32 ``(batch,)`` number of valid events per sample.
      weights: sequence of float32 ``(n_inputs_l, n_neurons_l)`` arrays, one
        per layer; ``n_inputs_l`` equals the previous layer's ``n_neurons``.
      tau_s: per layer synaptic time constant (> 0).
      threshold: per layer firing threshold (> 0).
      buffer_size: per layer spikes kept per neuron (>= 1).
      max_events: events per sample passed between layers (``None``:
        unbounded); a sample whose hidden layer fires more fails the call
        with a runtime error naming the event capacity.

    Returns:
      ``(indices, times, count, layer_counts, overflow)``: the output layer's
      spikes as int32 / float32 ``(batch, C)`` sorted by time, 0 / +inf
      padded (``C = n_neurons * buffer_size`` of the output layer), int32
      ``count (batch,)``, and per layer int32 spike counts and bool overflow
      flags ``(batch, n_neurons_l)`` (tuples).

    Raises:
      ValueError: invalid hyperparameters, shapes or (when concrete) events.
      TypeError: non-integer indices / counts or non-float times / weights.

    Works under ``jit`` and ``vmap`` (weights may be batched or shared); not
    differentiable (use :func:`fc_layer_native` per layer for gradients).
    """
    native.require()
    op = "network_native"
    weights = [jnp.asarray(w) for w in weights]
    n_layers = len(weights)
    if n_layers < 1:
        raise ValueError(f"{op}: weights must hold at least one (n_inputs, n_neurons) array")
    per_layer = {}
    for name, value in (("tau_s", tau_s), ("threshold", threshold), ("buffer_size", buffer_size)):
        value = list(value) if isinstance(value, (list, tuple)) else [value] * n_layers
        if len(value) != n_layers:
            raise ValueError(f"{op}: {name} must have one entry per layer ({n_layers}), got {len(value)}")
        per_layer[name] = value
    for l in range(n_layers):
        check_hyperparameters(op, per_layer["tau_s"][l], per_layer["threshold"][l], per_layer["buffer_size"][l])
    if max_events is not None and (not isinstance(max_events, (int, np.integer)) or isinstance(max_events, bool)
                                   or max_events < 1):
        raise ValueError(f"{op}: max_events must be None or an integer >= 1, got {max_events!r}")
    for l, w in enumerate(weights):
        if w.ndim != 2:
            raise ValueError(f"{op}: weights[{l}] must be (n_inputs, n_neurons), got shape {w.shape}")
        if w.dtype.kind != "f":
            raise TypeError(f"{op}: weights[{l}] must be a float array, got dtype {w.dtype}")
        if l and w.shape[0] != weights[l - 1].shape[1]:
            raise ValueError(f"{op}: weights[{l}] has n_inputs={w.shape[0]}, the previous layer has "
                             f"n_neurons={weights[l - 1].shape[1]}")
    in_indices = jnp.asarray(in_indices)
    in_times = jnp.asarray(in_times)
    in_count = jnp.asarray(in_count)
    for name, x, kinds in (("in_indices", in_indices, "iu"), ("in_count", in_count, "iu"),
                           ("in_times", in_times, "f")):
        if x.dtype.kind not in kinds:
            raise TypeError(f"{op}: {name} must be {'an integer' if kinds == 'iu' else 'a float'} array, "
                            f"got dtype {x.dtype}")
    check_events(op, in_indices, in_times, in_count, weights[0].shape[0])
    batch = in_indices.shape[0]
    n_out, k_out = weights[-1].shape[1], int(per_layer["buffer_size"][-1])
    results = [
        jax.ShapeDtypeStruct((batch, n_out * k_out), jnp.int32),
        jax.ShapeDtypeStruct((batch, n_out * k_out), jnp.float32),
        jax.ShapeDtypeStruct((batch,), jnp.int32),
    ]
    results += [jax.ShapeDtypeStruct((batch, w.shape[1]), jnp.int32) for w in weights]
    results += [jax.ShapeDtypeStruct((batch, w.shape[1]), jnp.bool_) for w in weights]
    out = jax.ffi.ffi_call("spyxlike_evsim_network", tuple(results), vmap_method="expand_dims")(
        in_indices.astype(jnp.int32), in_times.astype(jnp.float32), in_count.astype(jnp.int32),
        *[w.astype(jnp.float32) for w in weights],
        tau_s=np.array([float(v) for v in per_layer["tau_s"]], np.float32),
        threshold=np.array([float(v) for v in per_layer["threshold"]], np.float32),
        buffer_size=np.array([int(v) for v in per_layer["buffer_size"]], np.int64),
        max_events=np.int64(0 if max_events is None else int(max_events)),
    )
    return out[0], out[1], out[2], tuple(out[3:3 + n_layers]), tuple(out[3 + n_layers:])
