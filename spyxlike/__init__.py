"""spyxlike: one functional JAX/Haiku library for spiking neural networks.

Submodules: ``axn`` (surrogate spikes), ``neurons`` (pure steps), ``nn``
(Haiku cores), ``fn`` (losses), ``data`` / ``datasets`` (coding, data),
``coding`` (rank-order coding), ``unroll`` (fast unrolling), ``train`` /
``parallel`` (training), ``viz`` (plots), ``ops`` (references and native
kernels).

Single-spike (rank-order / STDP) networks: ``spikewave`` (code, fire,
threshold, pad), ``spiketime`` (gather, scatter, labelize, backward),
``spikeconv`` (conv, fc, pool on spike-waves), ``event_conv`` (event-driven
conv_fire), ``filters`` / ``filter_kernels`` / ``intensity_inhibition`` /
``zca`` / ``canny`` (pre-processing), ``competition`` / ``inhibition`` /
``spike_time_inhibition`` / ``winners`` (k-WTA and inhibition), ``stdp`` /
``stdp_config`` / ``rstdp`` (plasticity), ``stdp_layers`` (Haiku
Convolution/FC/Pooling modules and functional STDP on their params), ``stdp_features`` /
``rstdp_readout`` (the Kheradpisheh and Mozafari pipelines), ``feature_viz``
(feature reconstruction). Sparse events: ``sparse_spikes`` (SparseSpikes)
and ``sparse``. ``expand`` holds Spyker's Expand2/Expand4 spellings.
``compat`` (not imported here) has the seed systems' spellings, e.g.
``spyxlike.compat.spyketorch`` and ``spyxlike.compat.spyker``.
"""

__version__ = "0.1.0"

from spyxlike import axn, coding, data, datasets, fn, neurons, nn, ops, parallel, train, viz
from spyxlike import (
    canny, competition, event_conv, expand, feature_viz, filter_kernels, filters, inhibition,
    intensity_inhibition, rstdp, rstdp_readout, sparse, sparse_spikes, spike_time_inhibition,
    spikeconv, spiketime, spikewave, stdp, stdp_config, stdp_features, stdp_layers, winners, zca,
)
from spyxlike.coding import rank_code
from spyxlike.sparse_spikes import SparseSpikes
from spyxlike.spike_linear import SpikeLinear
from spyxlike.stdp_config import STDPConfig
from spyxlike.unroll import layered_unroll
from spyxlike.winners import Winners

__all__ = [
    "axn", "coding", "data", "datasets", "fn", "neurons", "nn", "ops", "parallel", "train", "viz",
    "canny", "competition", "event_conv", "expand", "feature_viz", "filter_kernels", "filters",
    "inhibition", "intensity_inhibition", "rstdp", "rstdp_readout", "sparse", "sparse_spikes",
    "spike_time_inhibition", "spikeconv", "spiketime", "spikewave", "stdp", "stdp_config",
    "stdp_features", "stdp_layers", "winners", "zca",
    "rank_code", "SpikeLinear", "layered_unroll", "SparseSpikes", "STDPConfig", "Winners",
    "__version__",
]
