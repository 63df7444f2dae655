"""``SpikeLinear``: ``hk.Linear`` whose matmul is driven by input spikes."""

from __future__ import annotations

import haiku as hk
import jax.numpy as jnp

from spyxlike.ops.spike_matmul import spike_matmul


class SpikeLinear(hk.Linear):
    """A drop-in ``hk.Linear`` for spike inputs: ``y = x W (+ b)``.

    Same parameters as ``hk.Linear`` (``w`` of shape ``(K, N)`` initialised
    with ``TruncatedNormal(1/sqrt(K))``, optional ``b``), so parameters move
    freely between the two (pass ``name="linear"`` for identical names). The
    product goes through :func:`spyxlike.ops.spike_matmul.spike_matmul`: on
    CPU only the weight rows of non-zero inputs are read, and the weight
    gradient is a sparse outer product, so cost scales with the number of
    spikes. Inputs: ``(..., K)`` float32, uint8 or bool spikes; output
    ``(..., N)`` float32.
    """

    def __init__(self, output_size, with_bias=True, w_init=None, b_init=None, name=None,
                 impl: str = "auto"):
        super().__init__(output_size, with_bias=with_bias, w_init=w_init, b_init=b_init, name=name)
        self.impl = impl

    def __call__(self, inputs, *, precision=None):
        if inputs.ndim < 1:
            raise ValueError("SpikeLinear: inputs must have at least one dimension")
        input_size = inputs.shape[-1]
        w_init = self.w_init
        if w_init is None:
            w_init = hk.initializers.TruncatedNormal(1.0 / jnp.sqrt(input_size))
        w = hk.get_parameter("w", [input_size, self.output_size], jnp.float32, init=w_init)
        out = spike_matmul(inputs, w, impl=self.impl)
        if self.with_bias:
            b = hk.get_parameter("b", [self.output_size], jnp.float32, init=self.b_init)
            out = out + b
        return out
