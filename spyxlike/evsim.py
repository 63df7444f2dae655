r"""EvSpikeSim-style exact event-driven simulation of fully connected SNNs.

The API follows EvSpikeSim 0.5 (``SpikingNetwork``, ``add_fc_layer``,
``SpikeArray``, ``infer``, initializers), runs on JAX arrays and adds batched,
jittable inference (:meth:`SpikingNetwork.infer_batch`)::

    import spyxlike.evsim as sim

    net = sim.SpikingNetwork()
    net.add_fc_layer(1000, 1000, tau_s=0.010, threshold=4.0,
                     initializer=sim.UniformInitializer(-1.0, 1.0, seed=0))
    net.add_fc_layer(1000, 10, 0.010, 4.0, sim.UniformInitializer(-1.0, 1.0, seed=1))
    out = net.infer([0, 3, 1], [0.002, 0.001, 0.004])   # a SpikeArray, sorted
    net[0].post_spikes, net[0].n_spikes                 # per-layer outputs

Neuron model (EvSpikeSim's default kernel): current-based LIF / SRM with
membrane time constant ``tau = 2 tau_s`` and no normalisation factor,

.. math::

    V(t) = \sum_i w_i \left(e^{-(t - t_i)/\tau} - e^{-(t - t_i)/\tau_s}\right)
           - \vartheta \sum_k e^{-(t - t_k)/\tau},

solved exactly (closed form, no time grid) between input events, reset by
subtraction after each spike; see
:func:`spyxlike.ops.evsim_native.fc_layer_native`.

Differences from EvSpikeSim (also on the migration page):

* ``FCLayer.weights`` is ``(n_inputs, n_neurons)`` (``x @ W``, like Haiku);
  EvSpikeSim's is ``(n_neurons, n_inputs)``.
* ``buffer_size`` caps the spikes kept per neuron. EvSpikeSim flushes and
  refills its buffer, spyxlike has fixed shapes: a neuron that would fire more
  often raises :class:`BufferOverflowError` in :meth:`SpikingNetwork.infer`
  (and is returned as a flag by the jittable :func:`run_network`); raise
  ``buffer_size`` then.
* Simultaneous spikes are ordered by neuron index (EvSpikeSim leaves ties in
  unspecified order).
* Custom neurons are pure JAX functions (:class:`NeuronModel`) instead of
  C++ callback sources compiled at run time.
* ``impl="auto" | "native" | "reference"`` picks the C++ engine or the
  pure-JAX reference (``spyxlike.ops.evsim``).
* With the native engine, a network of default-neuron layers runs in one
  native call per batch (:func:`spyxlike.ops.evsim_native.network_native`):
  each layer's spikes go to the next layer inside the engine.
  ``SpikingNetwork(max_events=C)`` bounds the events passed between layers
  to ``C`` per sample (the layer-by-layer path of :meth:`SpikingNetwork.infer`
  and of networks with custom neurons then allocates ``C``-wide event lists
  instead of ``n_neurons * buffer_size``); a sample with more spikes raises
  :class:`BufferOverflowError`, never drops any.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.ops.dispatch import check_impl, use_native
from spyxlike.ops.evsim import fc_layer_reference, layer_output_to_events
from spyxlike.ops.evsim_native import check_events, check_hyperparameters

__all__ = [
    "BufferOverflowError", "ConstantInitializer", "FCLayer", "Initializer", "LayerParams",
    "NeuronModel", "NormalInitializer", "SpikeArray", "SpikingNetwork", "UniformInitializer",
    "BatchOutput", "default_neuron_model", "run_network", "set_seed",
]


class BufferOverflowError(RuntimeError):
    """A neuron fired more than its layer's ``buffer_size`` spikes."""


# ---------------------------------------------------------------- spikes


class SpikeArray:
    """A list of spikes ``(index, time)``, sorted by time on construction.

    Like EvSpikeSim's ``SpikeArray(indices, times)``, but always sorted (ties
    by index, so the order is deterministic); ``sort()`` is kept for
    migrated code and is a no-op.

    Attributes:
      indices: int32 ``(n,)`` neuron indices.
      times: float32 ``(n,)`` spike times, ascending.
    """

    def __init__(self, indices=(), times=()):
        idx = np.asarray(indices).reshape(-1)
        t = np.asarray(times, dtype=np.float32).reshape(-1)
        if idx.shape != t.shape:
            raise ValueError(f"SpikeArray: indices and times must have the same length, got "
                             f"{idx.shape[0]} and {t.shape[0]}")
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            if not np.all(np.equal(np.mod(idx, 1), 0)):
                raise TypeError(f"SpikeArray: indices must be integers, got dtype {idx.dtype}")
        idx = idx.astype(np.int64)
        if idx.size and idx.min() < 0:
            raise ValueError(f"SpikeArray: indices must be >= 0, got {idx.min()}")
        if np.any(np.isnan(t)):
            raise ValueError("SpikeArray: times must not be NaN")
        order = np.lexsort((idx, t))
        self.indices = idx[order].astype(np.int32)
        self.times = t[order]

    def sort(self) -> None:
        """No-op: a SpikeArray is always sorted (EvSpikeSim needs this call)."""

    def empty(self) -> bool:
        """True when there is no spike."""
        return self.indices.size == 0

    is_empty = empty

    @property
    def n_spikes(self) -> int:
        return int(self.indices.size)

    def __len__(self) -> int:
        return int(self.indices.size)

    def __iter__(self):
        return iter(zip(self.indices.tolist(), self.times.tolist()))

    def __eq__(self, other) -> bool:
        """Same indices and times equal within 1e-6 relative (EvSpikeSim compares with an epsilon)."""
        if not isinstance(other, SpikeArray):
            return NotImplemented
        return (len(self) == len(other) and np.array_equal(self.indices, other.indices)
                and np.allclose(self.times, other.times, rtol=1e-6, atol=0.0))

    def __repr__(self) -> str:
        body = ", ".join(f"({i}, {t:.7g})" for i, t in zip(self.indices[:8], self.times[:8]))
        more = ", ..." if len(self) > 8 else ""
        return f"SpikeArray([{body}{more}], n_spikes={len(self)})"


# ---------------------------------------------------------------- initializers

_GLOBAL_RNG = np.random.default_rng(0)


def set_seed(seed: int) -> None:
    """Seeds the global generator used by initializers created without a seed
    (EvSpikeSim's ``evspikesim.random.set_seed``)."""
    global _GLOBAL_RNG
    _GLOBAL_RNG = np.random.default_rng(seed)


class Initializer(abc.ABC):
    """Base class: ``init(shape) -> float32 ndarray``. Each call draws new values."""

    @abc.abstractmethod
    def __call__(self, shape) -> np.ndarray:
        """Draws a float32 array of ``shape``."""


class _RandomInitializer(Initializer):
    def __init__(self, seed):
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    @property
    def rng(self):
        return _GLOBAL_RNG if self._rng is None else self._rng


class UniformInitializer(_RandomInitializer):
    """Weights uniform in ``[lower_bound, upper_bound)`` (EvSpikeSim's defaults -1, 1).

    ``seed`` gives a private NumPy generator (reproducible); ``None`` uses the
    global one (:func:`set_seed`).
    """

    def __init__(self, lower_bound: float = -1.0, upper_bound: float = 1.0, seed: int | None = None):
        if not upper_bound >= lower_bound:
            raise ValueError(f"UniformInitializer: upper_bound must be >= lower_bound, got "
                             f"{lower_bound}, {upper_bound}")
        super().__init__(seed)
        self.lower_bound, self.upper_bound = float(lower_bound), float(upper_bound)

    def __call__(self, shape):
        return self.rng.uniform(self.lower_bound, self.upper_bound, size=shape).astype(np.float32)


class NormalInitializer(_RandomInitializer):
    """Weights ``N(mean, stddev^2)`` (EvSpikeSim's defaults 0, 1); ``seed`` as for uniform."""

    def __init__(self, mean: float = 0.0, stddev: float = 1.0, seed: int | None = None):
        if not stddev >= 0:
            raise ValueError(f"NormalInitializer: stddev must be >= 0, got {stddev}")
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape):
        return self.rng.normal(self.mean, self.stddev, size=shape).astype(np.float32)


class ConstantInitializer(Initializer):
    """All weights equal ``value`` (EvSpikeSim's default 0)."""

    def __init__(self, value: float = 0.0):
        self.value = float(value)

    def __call__(self, shape):
        return np.full(shape, self.value, np.float32)


# ---------------------------------------------------------------- custom neurons


class LayerParams(NamedTuple):
    """Hyperparameters handed to :class:`NeuronModel` functions."""

    tau_s: float
    tau: float
    threshold: float


@dataclasses.dataclass(frozen=True)
class NeuronModel:
    """A custom neuron as pure JAX functions: spyxlike's form of EvSpikeSim's
    compiled kernel callbacks (``add_fc_layer_from_source``).

    The state is a pytree of arrays whose leading axis is the neuron axis
    ``(n_neurons, ...)``; every function acts on all neurons of a layer at
    once and must be jittable. ``p`` is the layer's :class:`LayerParams`.

    * ``init(n_neurons, p) -> state``: the resting state.
    * ``advance(state, dt, p) -> state``: free evolution by ``dt`` (float
      ``(n_neurons,)``, ``>= 0``) - the potential kernel.
    * ``on_pre(state, w, p) -> state``: an input spike arrives through
      synapses of weights ``w`` ``(n_neurons,)`` (EvSpikeSim's ``on_pre``,
      which may rescale the weight, plus the integration).
    * ``next_spike(state, p) -> delay``: for each neuron the time until its
      next threshold crossing if no input arrived, ``+inf`` for none - the
      spike-time solve. A spike is kept when ``0 < delay`` and it falls
      strictly before the next input (EvSpikeSim's rule).
    * ``on_post(state, p) -> state``: the reset after a spike (EvSpikeSim's
      ``on_post``), applied to the state advanced to the spike time.

    Layers with a model run in a generic pure-JAX event loop (``lax.scan``
    over events, a ``while_loop`` over the spikes between two events), on
    the CPU or an accelerator, in float32 unless x64 is on.
    :func:`default_neuron_model` is EvSpikeSim's default neuron in this form.
    """

    init: Callable[[int, LayerParams], Any]
    advance: Callable[[Any, jax.Array, LayerParams], Any]
    on_pre: Callable[[Any, jax.Array, LayerParams], Any]
    next_spike: Callable[[Any, LayerParams], jax.Array]
    on_post: Callable[[Any, LayerParams], Any]


def default_neuron_model() -> NeuronModel:
    """EvSpikeSim's default neuron as a :class:`NeuronModel`.

    State ``(a, b)``: ``V(s) = b e^{-s/tau} - a e^{-s/tau_s}`` for ``s``
    after the state's time; an input adds ``w`` to both, a spike subtracts
    ``threshold`` from ``b``; the crossing delay is
    ``tau log(2a / (b + sqrt(b^2 - 4 a threshold)))``.
    """

    def init(n, p):
        return (jnp.zeros((n,)), jnp.zeros((n,)))

    def advance(state, dt, p):
        a, b = state
        x = jnp.exp(-dt / p.tau)
        return (a * x * x, b * x)

    def on_pre(state, w, p):
        a, b = state
        return (a + w, b + w)

    def next_spike(state, p):
        a, b = state
        disc = b * b - 4.0 * a * p.threshold
        ok = (a > 0) & (disc >= 0)
        r = 2.0 * a / (b + jnp.sqrt(jnp.where(ok, disc, 0.0)))
        ok = ok & (r > 0)
        return jnp.where(ok, p.tau * jnp.log(jnp.where(ok, r, 1.0)), jnp.inf)

    def on_post(state, p):
        a, b = state
        return (a, b - p.threshold)

    return NeuronModel(init, advance, on_pre, next_spike, on_post)


def _custom_layer_sample(model, p, buffer_size, idx, times, count, weights):
    """Generic event loop of one sample (pure JAX), returns (out_times (N, K), counts, overflow)."""
    n = weights.shape[1]
    e_cap = idx.shape[0]
    dtype = jnp.result_type(weights.dtype, times.dtype)
    state = jax.tree_util.tree_map(lambda x: jnp.asarray(x, dtype), model.init(n, p))
    inf = jnp.asarray(jnp.inf, dtype)

    def where(mask, new, old):
        return jax.tree_util.tree_map(
            lambda u, v: jnp.where(mask.reshape((n,) + (1,) * (u.ndim - 1)), u, v), new, old)

    def step(carry, e):
        state, t_loc, out, cnt, ovf = carry
        valid = e < count
        t_e = jnp.where(valid, times[e], inf)
        t_next = jnp.where(e + 1 < count, times[jnp.minimum(e + 1, e_cap - 1)], inf)
        dt = jnp.where(valid, t_e - t_loc, 0.0)
        state = where(jnp.broadcast_to(valid, (n,)), model.on_pre(model.advance(state, dt, p),
                                                                  weights[idx[e]], p), state)
        t_loc = jnp.where(valid, t_e, t_loc)

        def firing(state, t_loc, ovf):
            delay = model.next_spike(state, p)
            t_spk = t_loc + delay
            fire = valid & (delay > 0) & (t_spk < t_next) & ~ovf
            return delay, t_spk, fire

        def cond(c):
            return jnp.any(c[-1])

        def body(c):
            state, t_loc, out, cnt, ovf, delay, t_spk, fire = c
            moved = model.on_post(model.advance(state, jnp.where(fire, delay, 0.0), p), p)
            state = where(fire, moved, state)
            t_loc = jnp.where(fire, t_spk, t_loc)
            full = fire & (cnt >= buffer_size)
            keep = fire & ~full
            slot = jnp.minimum(cnt, buffer_size - 1)
            out = out.at[jnp.arange(n), slot].set(jnp.where(keep, t_spk, out[jnp.arange(n), slot]))
            cnt = cnt + keep.astype(jnp.int32)
            ovf = ovf | full
            return (state, t_loc, out, cnt, ovf) + firing(state, t_loc, ovf)

        c = jax.lax.while_loop(cond, body, (state, t_loc, out, cnt, ovf) + firing(state, t_loc, ovf))
        return c[:5], None

    init = (state, jnp.zeros((n,), dtype), jnp.full((n, buffer_size), inf, dtype),
            jnp.zeros((n,), jnp.int32), jnp.zeros((n,), bool))
    (_, _, out, cnt, ovf), _ = jax.lax.scan(step, init, jnp.arange(e_cap))
    return out, cnt, ovf


# ---------------------------------------------------------------- layers and network


class FCLayer:
    """A fully connected layer of spiking neurons (EvSpikeSim's ``FCLayer``).

    Attributes:
      n_inputs, n_neurons, tau_s, threshold, buffer_size: as given to
        :meth:`SpikingNetwork.add_fc_layer`; ``tau = 2 * tau_s``.
      weights: float32 JAX array ``(n_inputs, n_neurons)``; assign any array
        of that shape to replace it.
      model: a :class:`NeuronModel`, or ``None`` for the default neuron
        (native / reference engines).
      post_spikes: :class:`SpikeArray` of the last :meth:`SpikingNetwork.infer`.
      n_spikes: int32 ``(n_neurons,)`` spike counts of the last ``infer``.
    """

    def __init__(self, n_inputs, n_neurons, tau_s, threshold, initializer, buffer_size=64, model=None):
        for name, v in (("n_inputs", n_inputs), ("n_neurons", n_neurons)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"add_fc_layer: {name} must be an integer >= 1, got {v!r}")
        check_hyperparameters("add_fc_layer", tau_s, threshold, buffer_size)
        if not isinstance(initializer, Initializer):
            raise TypeError(f"add_fc_layer: initializer must be a spyxlike.evsim Initializer, "
                            f"got {type(initializer).__name__}")
        if model is not None and not isinstance(model, NeuronModel):
            raise TypeError(f"add_fc_layer: model must be a NeuronModel, got {type(model).__name__}")
        self.n_inputs, self.n_neurons = int(n_inputs), int(n_neurons)
        self.tau_s, self.threshold = float(tau_s), float(threshold)
        self.tau = 2.0 * self.tau_s
        self.buffer_size = int(buffer_size)
        self.model = model
        self._weights = None
        self.weights = initializer((self.n_inputs, self.n_neurons))
        self.post_spikes = SpikeArray()
        self.n_spikes = np.zeros(self.n_neurons, np.int32)

    @property
    def weights(self) -> jax.Array:
        return self._weights

    @weights.setter
    def weights(self, value):
        w = jnp.asarray(value, jnp.float32)
        if w.shape != (self.n_inputs, self.n_neurons):
            raise ValueError(f"FCLayer.weights must have shape (n_inputs, n_neurons) = "
                             f"{(self.n_inputs, self.n_neurons)}, got {w.shape}")
        self._weights = w

    @property
    def params(self) -> LayerParams:
        return LayerParams(self.tau_s, self.tau, self.threshold)

    def config(self) -> "_LayerConfig":
        return _LayerConfig(self.n_inputs, self.n_neurons, self.tau_s, self.threshold,
                            self.buffer_size, self.model)

    def __repr__(self):
        return (f"FCLayer(n_inputs={self.n_inputs}, n_neurons={self.n_neurons}, tau_s={self.tau_s}, "
                f"threshold={self.threshold}, buffer_size={self.buffer_size})")


@dataclasses.dataclass(frozen=True)
class _LayerConfig:
    n_inputs: int
    n_neurons: int
    tau_s: float
    threshold: float
    buffer_size: int
    model: NeuronModel | None


class BatchOutput(NamedTuple):
    """Result of :func:`run_network` / :meth:`SpikingNetwork.infer_batch`.

    Attributes:
      indices: int32 ``(batch, C)`` output-layer neuron of each spike,
        sorted by time (``C = n_neurons * buffer_size`` of the output
        layer), padding 0.
      times: float32 ``(batch, C)`` spike times, padding ``+inf``.
      count: int32 ``(batch,)`` output spikes per sample.
      layer_counts: per layer, int32 ``(batch, n_neurons)`` spike counts.
      overflow: per layer, bool ``(batch, n_neurons)`` buffer overflow flags.
    """

    indices: jax.Array
    times: jax.Array
    count: jax.Array
    layer_counts: tuple
    overflow: tuple


def _run_layer(cfg: _LayerConfig, weights, idx, times, count, native_path: bool):
    if cfg.model is not None:
        p = LayerParams(cfg.tau_s, 2.0 * cfg.tau_s, cfg.threshold)
        fn = functools.partial(_custom_layer_sample, cfg.model, p, cfg.buffer_size)
        return jax.vmap(fn, in_axes=(0, 0, 0, None))(idx, times, count, weights)
    kw = dict(tau_s=cfg.tau_s, threshold=cfg.threshold, buffer_size=cfg.buffer_size)
    if native_path:
        from spyxlike.ops.evsim_native import fc_layer_native
        return fc_layer_native(idx, times, count, weights, **kw)
    return fc_layer_reference(idx, times, count, weights, **kw)


def _to_events(out_times, out_counts, native_path: bool, max_events=None):
    if native_path:
        from spyxlike.ops.evsim_native import layer_output_to_events_native
        cap = None
        if max_events is not None:
            cap = min(out_times.shape[1] * out_times.shape[2], int(max_events))
        return layer_output_to_events_native(out_times, out_counts, cap)
    idx, t, c = layer_output_to_events(out_times, out_counts)
    return idx, t.astype(jnp.float32), c


def run_network(configs: Sequence[_LayerConfig], weights: Sequence[jax.Array], indices, times, count,
                *, impl: str = "auto", max_events: int | None = None) -> BatchOutput:
    """Pure, jittable multi-layer inference on padded event batches.

    Args:
      configs: the layers' static configurations (``[l.config() for l in net]``).
      weights: per layer ``(n_inputs, n_neurons)`` arrays (traced under jit).
      indices: int32 ``(batch, E)``; times: float32 ``(batch, E)`` sorted
        within ``count``; count: int32 ``(batch,)``.
      impl: ``"auto" | "native" | "reference"`` for default-neuron layers;
        layers with a :class:`NeuronModel` always use the generic JAX loop.
      max_events: with the native engine, events per sample passed between
        layers (default ``n_neurons * buffer_size``, which always suffices);
        a sample with more spikes fails the call (a runtime error naming the
        event capacity). The output layer's events are never bounded. When
        every layer has the default neuron, the native engine runs the whole
        network in one call (same results as layer by layer).

    Returns:
      :class:`BatchOutput`; buffer overflow is returned, not raised.
    """
    check_impl(impl, "evsim")
    native_path = use_native(impl, "evsim")
    if native_path and configs and all(cfg.model is None for cfg in configs):
        # The whole network in one native call: each layer's spikes go to the
        # next layer inside the engine (same results as layer by layer).
        from spyxlike.ops.evsim_native import network_native
        oi, ot, oc, counts, flows = network_native(
            indices, times, count, list(weights), tau_s=[cfg.tau_s for cfg in configs],
            threshold=[cfg.threshold for cfg in configs], buffer_size=[cfg.buffer_size for cfg in configs],
            max_events=max_events)
        return BatchOutput(oi, ot, oc, counts, flows)
    counts, flows = [], []
    idx, t, c = indices, times, count
    out_t = out_c = None
    for cfg, w in zip(configs, weights):
        if out_t is not None:
            idx, t, c = _to_events(out_t, out_c, native_path, max_events)
        out_t, out_c, ovf = _run_layer(cfg, w, idx, t, c, native_path)
        counts.append(out_c)
        flows.append(ovf)
    oi, ot, oc = _to_events(out_t, out_c, native_path)
    return BatchOutput(oi, ot, oc, tuple(counts), tuple(flows))


class SpikingNetwork:
    """A feed-forward network of fully connected spiking layers (EvSpikeSim's
    ``SpikingNetwork``), simulated exactly in continuous time.

    Args:
      impl: ``"auto"`` (native C++ engine on the CPU when built, else the
        pure-JAX reference), ``"native"`` or ``"reference"``.
      max_events: with the native engine, the capacity (events per sample)
        of the event lists between layers; default ``n_neurons *
        buffer_size`` of the emitting layer, which always suffices. A smaller
        bound saves memory on the layer-by-layer path (:meth:`infer`, custom
        neurons); a sample with more spikes raises
        :class:`BufferOverflowError`. Results are the same either way.
    """

    def __init__(self, impl: str = "auto", *, max_events: int | None = None):
        self.impl = check_impl(impl, "SpikingNetwork")
        if max_events is not None and (not isinstance(max_events, (int, np.integer))
                                       or isinstance(max_events, bool) or max_events < 1):
            raise ValueError(f"SpikingNetwork: max_events must be None or an integer >= 1, got {max_events!r}")
        self.max_events = None if max_events is None else int(max_events)
        self.layers: list[FCLayer] = []
        self._jitted = {}

    def add_fc_layer(self, n_inputs, n_neurons, tau_s, threshold, initializer, buffer_size=64) -> FCLayer:
        """Appends an FC layer of EvSpikeSim's default neuron and returns it.

        ``tau_s``: synaptic time constant (membrane ``2 tau_s``); ``buffer_size``:
        spikes kept per neuron and sample (more raise :class:`BufferOverflowError`).
        """
        return self._append(FCLayer(n_inputs, n_neurons, tau_s, threshold, initializer, buffer_size))

    def add_fc_layer_from_model(self, n_inputs, n_neurons, tau_s, threshold, initializer, model: NeuronModel,
                                buffer_size=64) -> FCLayer:
        """Appends an FC layer whose neurons follow a custom :class:`NeuronModel`
        (the JAX-native counterpart of EvSpikeSim's ``add_fc_layer_from_source``)."""
        return self._append(FCLayer(n_inputs, n_neurons, tau_s, threshold, initializer, buffer_size, model))

    def _append(self, layer):
        if self.layers and layer.n_inputs != self.layers[-1].n_neurons:
            raise ValueError(f"add_fc_layer: n_inputs={layer.n_inputs} must equal the previous layer's "
                             f"n_neurons={self.layers[-1].n_neurons}")
        self.layers.append(layer)
        return layer

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, index) -> FCLayer:
        return self.layers[index]

    def __iter__(self):
        return iter(self.layers)

    @property
    def output_layer(self) -> FCLayer:
        """The last layer."""
        if not self.layers:
            raise IndexError("SpikingNetwork has no layer")
        return self.layers[-1]

    def _runner(self):
        configs = tuple(l.config() for l in self.layers)
        key = (configs, self.impl, self.max_events)
        if key not in self._jitted:
            impl, cap = self.impl, self.max_events
            self._jitted[key] = jax.jit(
                lambda ws, i, t, c: run_network(configs, ws, i, t, c, impl=impl, max_events=cap))
        return self._jitted[key]

    def _check_inputs(self, indices, times, count):
        if not self.layers:
            raise ValueError("SpikingNetwork.infer: the network has no layer")
        indices = jnp.asarray(indices)
        times = jnp.asarray(times)
        if times.ndim != 2:
            raise ValueError(f"infer_batch: times must be (batch, E), got shape {times.shape}")
        if count is None:
            count = jnp.sum(jnp.isfinite(times), axis=1).astype(jnp.int32)
        count = jnp.asarray(count)
        check_events("infer_batch", indices, times, count, self.layers[0].n_inputs)
        return indices.astype(jnp.int32), times.astype(jnp.float32), count.astype(jnp.int32)

    def infer_batch(self, indices, times, count=None, *, check_overflow: bool = True) -> BatchOutput:
        """Simulates many samples at once (one jitted call).

        Args:
          indices: int ``(batch, E)`` input neuron of each event.
          times: float ``(batch, E)`` event times ascending within each
            sample's ``count``; padding ``+inf``.
          count: int ``(batch,)``; default: the number of finite times.
          check_overflow: raise :class:`BufferOverflowError` if a neuron
            exceeded its buffer (else see ``BatchOutput.overflow``).

        Returns:
          :class:`BatchOutput` (output layer events, per-layer counts and
          overflow flags). Equals :meth:`infer` sample by sample.
        """
        indices, times, count = self._check_inputs(indices, times, count)
        with self._event_capacity_errors():
            out = self._runner()([l.weights for l in self.layers], indices, times, count)
            if self.max_events is not None:
                jax.block_until_ready(out)
        if check_overflow:
            self._raise_on_overflow(out.overflow)
        return out

    def _event_capacity_errors(self):
        """Turns the native event gather's capacity error into BufferOverflowError."""
        import contextlib

        cap = self.max_events

        @contextlib.contextmanager
        def ctx():
            try:
                yield
            except jax.errors.JaxRuntimeError as err:
                if cap is not None and "event capacity" in str(err):
                    raise BufferOverflowError(
                        f"SpikingNetwork: a layer fired more than max_events={cap} spikes in one sample; "
                        f"create the network with a larger max_events (or None)") from err
                raise

        return ctx()

    def _raise_on_overflow(self, flows):
        for li, (layer, f) in enumerate(zip(self.layers, flows)):
            f = np.asarray(f)
            if f.any():
                b, n = np.argwhere(f)[0]
                raise BufferOverflowError(
                    f"SpikingNetwork: neuron {n} of layer {li} fired more than buffer_size="
                    f"{layer.buffer_size} spikes (sample {b}); add the layer with a larger buffer_size")

    def infer(self, inputs, times=None) -> SpikeArray:
        """Simulates one sample: ``infer(spike_array)`` or ``infer(indices, times)``.

        Returns the output layer's spikes as a :class:`SpikeArray`; every
        layer's ``post_spikes`` and ``n_spikes`` are updated (EvSpikeSim's
        behaviour). Raises :class:`BufferOverflowError` on buffer overflow.
        """
        if times is None:
            if not isinstance(inputs, SpikeArray):
                raise TypeError("SpikingNetwork.infer: pass a SpikeArray or (indices, times)")
            spikes = inputs
        else:
            spikes = SpikeArray(inputs, times)
        if not self.layers:
            raise ValueError("SpikingNetwork.infer: the network has no layer")
        if len(spikes) and spikes.indices.max() >= self.layers[0].n_inputs:
            raise ValueError(f"SpikingNetwork.infer: indices must lie in [0, n_inputs="
                             f"{self.layers[0].n_inputs}), got {spikes.indices.max()}")
        e = max(len(spikes), 1)
        idx = np.zeros((1, e), np.int32)
        t = np.full((1, e), np.inf, np.float32)
        idx[0, :len(spikes)] = spikes.indices
        t[0, :len(spikes)] = spikes.times
        idx, t, c = self._check_inputs(idx, t, np.array([len(spikes)], np.int32))
        with self._event_capacity_errors():
            out = self._layer_outputs(idx, t, c)
            jax.block_until_ready(out)
        self._raise_on_overflow([o[2] for o in out])
        for layer, (ot, oc, _) in zip(self.layers, out):
            ot, oc = np.asarray(ot[0]), np.asarray(oc[0])
            k = np.arange(ot.shape[1])[None, :] < oc[:, None]
            n_idx = np.broadcast_to(np.arange(ot.shape[0])[:, None], ot.shape)
            layer.post_spikes = SpikeArray(n_idx[k], ot[k])
            layer.n_spikes = oc.astype(np.int32)
        return self.output_layer.post_spikes

    def _layer_outputs(self, idx, t, c):
        native_path = use_native(self.impl, "evsim")
        outs = []
        for layer in self.layers:
            if outs:
                idx, t, c = _to_events(outs[-1][0], outs[-1][1], native_path, self.max_events)
            outs.append(_run_layer(layer.config(), layer.weights, idx, t, c, native_path))
        return outs
