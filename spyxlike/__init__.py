"""spyxlike: one functional JAX/Haiku library for spiking neural networks.

Submodules: ``axn`` (surrogate spikes), ``neurons`` (pure steps), ``nn``
(Haiku cores), ``fn`` (losses), ``data`` / ``datasets`` (coding, data),
``coding`` (rank-order coding), ``unroll`` (fast unrolling), ``train`` /
``parallel`` (training), ``viz`` (plots), ``ops`` (references and native
kernels).
"""

__version__ = "0.1.0"

from spyxlike import axn, coding, data, datasets, fn, neurons, nn, ops, parallel, train, viz
from spyxlike.coding import rank_code
from spyxlike.spike_linear import SpikeLinear
from spyxlike.unroll import layered_unroll

__all__ = [
    "axn", "coding", "data", "datasets", "fn", "neurons", "nn", "ops", "parallel", "train", "viz",
    "rank_code", "SpikeLinear", "layered_unroll", "__version__",
]
