"""Fast unrolling of feed-forward SNN stacks: layer by layer over whole sequences.

``hk.dynamic_unroll(hk.DeepRNN(layers), x)`` runs every layer inside one
``lax.scan`` step, so each projection is T small matmuls. In a feed-forward
stack, layer ``l`` at time ``t`` depends only on layer ``l-1`` at time ``t``
and on its own state, so the same result is obtained layer by layer:

* a feed-forward layer (``hk.Linear``, ``hk.Conv2D``, ``SpikeLinear``, any
  stateless callable) is applied once to all ``batch * T`` frames - one large
  matmul or conv outside any loop;
* ``nn.ActivityRegularization`` gets the spikes summed over time, so its
  ``"spike_count"`` state is the same ``(batch, ...)`` count that per-step
  calls accumulate;
* a neuron core runs its recurrence over the whole sequence: cores with an
  ``unroll(x_seq, state)`` method (spyxlike's ``IF``, ``LIF`` and ``LI``) use
  their fused native time loop, other ``hk.RNNCore``\\ s go through
  ``hk.dynamic_unroll``.

Values and gradients equal ``hk.dynamic_unroll`` of the same ``hk.DeepRNN`` to
float tolerance and the parameters (names, shapes, initial values) are the
same, so the two are interchangeable on the same ``params``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import haiku as hk
import jax
import jax.numpy as jnp

from spyxlike.nn import ActivityRegularization


def _is_core(layer) -> bool:
    return isinstance(layer, hk.RNNCore)


def layered_unroll(
    layers: Sequence[Callable],
    inputs: jax.Array,
    initial_states: Sequence | None = None,
    *,
    unroll: int = 1,
    collect: bool = False,
):
    """Runs a feed-forward stack of layers and neuron cores over time, layer by layer.

    Must be called inside ``hk.transform`` (like ``hk.dynamic_unroll``).

    Args:
      layers: the stack, in order, as it would be given to ``hk.DeepRNN``:
        ``hk.RNNCore`` instances (neuron cores) and stateless callables
        (``hk.Linear``, ``hk.Conv2D``, ``SpikeLinear``, ``jax.nn.relu`` ...).
      inputs: ``(batch, T, ...)`` batch-first sequence.
      initial_states: one state per core (in order), or ``None`` for each
        core's ``initial_state(batch)``.
      unroll: ``lax.scan`` unroll factor for cores without a fused loop.
      collect: also return every layer's output sequence (e.g. hidden
        spikes for rasters or spike-count regularisers).

    Returns:
      ``(outputs, final_states)``: the last layer's ``(batch, T, ...)`` output
      (with ``collect=True``: a list with every layer's output, in order) and
      a tuple with each core's final state (the state ``hk.DeepRNN`` would
      return, in the same order).
    """
    if inputs.ndim < 2:
        raise ValueError(f"layered_unroll: inputs must be (batch, time, ...), got shape {inputs.shape}")
    if not layers:
        raise ValueError("layered_unroll: layers must not be empty")
    cores = [layer for layer in layers if _is_core(layer)]
    if initial_states is None:
        initial_states = [core.initial_state(inputs.shape[0]) for core in cores]
    initial_states = list(initial_states)
    if len(initial_states) != len(cores):
        raise ValueError(
            f"layered_unroll: initial_states must hold one state per core ({len(cores)}), "
            f"got {len(initial_states)}"
        )
    x = inputs
    finals = []
    outputs = []
    for layer in layers:
        if not callable(layer):
            raise TypeError(f"layered_unroll: every layer must be callable, got {layer!r}")
        if _is_core(layer):
            state = initial_states[len(finals)]
            if hasattr(layer, "unroll"):
                x, state = layer.unroll(x, state)
            else:
                x, state = hk.dynamic_unroll(layer, x, state, time_major=False, unroll=unroll)
            finals.append(state)
        elif isinstance(layer, ActivityRegularization):
            # Per-step calls add each frame's spikes to "spike_count"; one call
            # with the sum over time leaves the same (batch, ...) count.
            layer(jnp.sum(x, axis=1))
        else:
            x = hk.BatchApply(layer)(x)
        outputs.append(x)
    return (outputs if collect else x), tuple(finals)
