"""Haiku networks from SLAYER's YAML ``layer`` list.

A SLAYER network description (:class:`spyxlike.netconfig.NetParams`) lists
its layers as strings - ``34x34x2`` (input), ``16c5z`` (conv), ``2a``
(pooling), ``512`` (dense). :func:`build_network` turns the list into a
function for ``hk.transform`` that runs SLAYER's standard SRM layer,
``spike(layer(psp(x)))``, for every entry after the input, batch-first and
channels-last: spikes ``(batch, T, H, W, C)`` or ``(batch, T, N)``.
"""

from __future__ import annotations

import jax.numpy as jnp

from spyxlike.netconfig import ConvSpec, DenseSpec, InputSpec, NetParams, PoolSpec
from spyxlike.slayer_layers import SpikeLayer

# SLAYER's default weightScale per layer kind when the entry gives no wScale.
DEFAULT_WEIGHT_SCALE = {"conv": 100.0, "dense": 10.0}


def _as_params(net_params):
    return net_params if isinstance(net_params, NetParams) else NetParams(net_params)


def build_network(net_params, *, impl: str = "auto", collect: bool = False):
    """Builds ``forward(spikes)`` for the description's ``layer`` list.

    Each layer after the input is ``spike(layer(psp(x)))`` with SLAYER's
    SRM neuron of the ``neuron`` section (``type: SRMALPHA``) and the
    ``simulation`` section's ``Ts``/``tSample``; ``wScale`` of an entry sets
    the layer's ``weight_scale`` (default: SLAYER's 100 for conv, 10 for
    dense; pooling has the fixed weight ``1.1 * theta``). ``Nc Kz`` pads
    with zeros to keep the spatial size.

    Args:
      net_params: a :class:`NetParams` or a mapping with the same sections.
      impl: implementation of the spike op (``"auto" | "reference" | "native"``).
      collect: make ``forward`` return every layer's spikes (a list) instead
        of the last layer's.

    Returns:
      ``forward(spikes)`` to call inside ``hk.transform``: input spikes
      ``(batch, T, *input_shape)`` with ``T = tSample / Ts`` -> output spikes
      ``(batch, T, *out_shape)`` of the last layer. As in SLAYER, spikes
      have height ``1/Ts`` (what ``spike`` emits and SLAYER's
      ``toSpikeTensor`` writes); scale 0/1 event tensors by ``1/Ts`` first.

    Raises:
      ValueError: a neuron type other than ``SRMALPHA``, a layer list that
        does not start with an input entry, or input of the wrong shape.
    """
    params = _as_params(net_params)
    if params.neuron_type != "SRMALPHA":
        raise ValueError(
            f"build_network: neuron.type must be 'SRMALPHA' for the SRM layer stack, got "
            f"{params.neuron_type!r} (Loihi networks: use spyxlike.loihi.spike_loihi per layer)"
        )
    specs = params.layers
    if not specs or not isinstance(specs[0], InputSpec):
        raise ValueError("build_network: the layer list must start with an input entry, e.g. 34x34x2")
    input_shape = tuple(specs[0].shape)
    num_steps = params.num_steps

    def forward(spikes):
        spikes = jnp.asarray(spikes)
        expected = (num_steps,) + input_shape
        if spikes.ndim != len(expected) + 1 or tuple(spikes.shape[1:]) != expected:
            raise ValueError(
                f"build_network: input spikes must be (batch, {', '.join(map(str, expected))}) "
                f"(T = tSample/Ts, then layer[0] = {specs[0].dim}); got shape {spikes.shape}"
            )
        sl = SpikeLayer(params["neuron"], params["simulation"], impl=impl)
        x = spikes.astype(jnp.float32)
        outputs = []
        for index, spec in enumerate(specs[1:], start=1):
            name = f"layer_{index}"
            if isinstance(spec, ConvSpec):
                (top, bottom), (left, right) = spec.padding
                if top != bottom or left != right:
                    x = jnp.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right), (0, 0)))
                    pad = 0
                else:
                    pad = (top, left)
                layer = sl.conv(x.shape[-1], spec.features, spec.kernel_size, padding=pad,
                                weight_scale=spec.w_scale or DEFAULT_WEIGHT_SCALE["conv"], name=name)
            elif isinstance(spec, PoolSpec):
                layer = sl.pool(spec.kernel_size, name=name)
            elif isinstance(spec, DenseSpec):
                layer = sl.dense(x.shape[2:], spec.features,
                                 weight_scale=spec.w_scale or DEFAULT_WEIGHT_SCALE["dense"], name=name)
            else:
                raise ValueError(f"build_network: layer[{index}] ({spec.dim!r}) must be conv, pool "
                                 "or dense; an input entry may only come first")
            x = sl.spike(layer(sl.psp(x)))
            outputs.append(x)
        return outputs if collect else x

    return forward
