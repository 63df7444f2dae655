"""EvSpikeSim spellings for spyxlike: ``import spyxlike.compat.evspikesim as sim``.

An EvSpikeSim 0.5 Python script ports by changing its import::

    import numpy as np
    import spyxlike.compat.evspikesim as sim     # was: import evspikesim as sim

    sim.random.set_seed(42)
    net = sim.SpikingNetwork()
    layer = net.add_fc_layer(2, 3, 0.020, 0.1, sim.initializers.UniformInitializer())
    layer.weights = np.array([[1.0, 0.3], [-0.1, 0.8], [0.5, 0.4]], np.float32)  # (n_neurons, n_inputs)
    layer.weights[0, 1] -= 0.1                     # in-place edits work, as in EvSpikeSim
    out = net.infer(sim.SpikeArray(np.array([0, 1, 1]), np.array([1.0, 1.5, 1.2])))
    for spike in out:
        print(spike.index, spike.time)
    print(net.output_layer.n_spikes)

Each name is a thin adapter over :mod:`spyxlike.evsim` (same engines, same
results). The differences that remain are listed on the migration page
"Coming from EvSpikeSim":

* ``FCLayer.weights`` here is EvSpikeSim's ``(n_neurons, n_inputs)`` NumPy
  array, edited in place or assigned; it is copied into the core layer
  (``(n_inputs, n_neurons)`` JAX array, ``layer.core.weights``) before each
  inference.
* ``buffer_size`` is a hard cap: a neuron firing more often raises
  :class:`BufferOverflowError` (EvSpikeSim flushes and refills its buffer).
* ``add_fc_layer_from_source`` takes a :class:`NeuronModel` (pure JAX
  functions) in place of a C++ callback source; a source path raises
  ``NotImplementedError`` naming the replacement.
* ``SpikeArray`` is always sorted (``sort()`` is a no-op).

EvSpikeSim name -> spyxlike core:

* ``SpikingNetwork(compile_path)`` -> :class:`spyxlike.evsim.SpikingNetwork`
* ``add_fc_layer`` -> :meth:`spyxlike.evsim.SpikingNetwork.add_fc_layer`
* ``add_fc_layer_from_source`` -> :meth:`spyxlike.evsim.SpikingNetwork.add_fc_layer_from_model`
* ``layers.FCLayer`` -> :class:`spyxlike.evsim.FCLayer` (transposed weights)
* ``SpikeArray``, ``Spike`` -> :class:`spyxlike.evsim.SpikeArray`
* ``initializers.*`` -> :mod:`spyxlike.evsim` initializers
* ``random.set_seed`` -> :func:`spyxlike.evsim.set_seed`
"""

from __future__ import annotations

import os
import types
from typing import NamedTuple

import numpy as np

from spyxlike import evsim as _core
from spyxlike.evsim import (
    BatchOutput,
    BufferOverflowError,
    ConstantInitializer,
    Initializer,
    LayerParams,
    NeuronModel,
    NormalInitializer,
    UniformInitializer,
    default_neuron_model,
    set_seed,
)

__all__ = [
    "SpikingNetwork", "FCLayer", "Layer", "LayerDescriptor", "FCLayerDescriptor", "Spike",
    "SpikeArray", "initializers", "layers", "random", "set_seed", "Initializer",
    "UniformInitializer", "NormalInitializer", "ConstantInitializer", "BufferOverflowError",
    "NeuronModel", "LayerParams", "default_neuron_model", "BatchOutput",
]


class Spike:
    """``evspikesim.Spike(index, time)``: one spike.

    Comparisons follow EvSpikeSim: ``<``, ``<=``, ``>``, ``>=`` compare the
    times, and ``==`` is true when the times differ by less than
    ``Spike.epsilon = 1e-6`` (the indices are not compared).
    """

    epsilon = 1e-6
    __slots__ = ("index", "time")

    def __init__(self, index: int, time: float):
        self.index = int(index)
        self.time = float(np.float32(time))

    def __eq__(self, other):
        if not isinstance(other, Spike):
            return NotImplemented
        return abs(self.time - other.time) < self.epsilon

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __lt__(self, other):
        return self.time < other.time

    def __le__(self, other):
        return self.time <= other.time

    def __gt__(self, other):
        return self.time > other.time

    def __ge__(self, other):
        return self.time >= other.time

    __hash__ = None

    def __repr__(self):
        return f"Index: {self.index}, Time: {self.time:.7g}"


class SpikeArray(_core.SpikeArray):
    """``evspikesim.SpikeArray(indices, times)`` over :class:`spyxlike.evsim.SpikeArray`.

    Adds EvSpikeSim's ``add(index, time)`` / ``add(indices, times)`` and
    ``clear()``, and iterates over :class:`Spike` objects. The array is kept
    sorted by time after every change (ties by index), so EvSpikeSim's
    ``sort()`` call is accepted and does nothing. ``indices`` and ``times``
    are NumPy arrays as in the core; comparison with ``==`` is the core's
    (same indices, times within 1e-6 relative).
    """

    @classmethod
    def _from(cls, spikes: _core.SpikeArray) -> "SpikeArray":
        out = cls.__new__(cls)
        out.indices, out.times = spikes.indices, spikes.times
        return out

    def add(self, index, time) -> None:
        """Appends one spike (``add(index, time)``) or several (``add(indices, times)``)."""
        idx = np.concatenate([self.indices, np.asarray(index).reshape(-1)])
        t = np.concatenate([self.times, np.asarray(time, np.float32).reshape(-1)])
        _core.SpikeArray.__init__(self, idx, t)

    def clear(self) -> None:
        """Removes every spike."""
        _core.SpikeArray.__init__(self)

    def __iter__(self):
        return (Spike(i, t) for i, t in zip(self.indices.tolist(), self.times.tolist()))


class LayerDescriptor(NamedTuple):
    """``evspikesim.layers.LayerDescriptor``: a layer's hyperparameters (``tau = 2 tau_s``)."""

    n_inputs: int
    n_neurons: int
    tau_s: float
    threshold: float

    @property
    def tau(self) -> float:
        return 2.0 * self.tau_s


FCLayerDescriptor = LayerDescriptor


class FCLayer:
    """``evspikesim.layers.FCLayer``: EvSpikeSim's view of a core
    :class:`spyxlike.evsim.FCLayer` (returned by :meth:`SpikingNetwork.add_fc_layer`).

    Attributes:
      weights: float32 NumPy array ``(n_neurons, n_inputs)`` (EvSpikeSim's
        layout). It is the layer's weight store: edit it in place
        (``layer.weights[0, 1] -= 0.1``) or assign an array of that shape
        (copied in, like EvSpikeSim). The network copies it, transposed, into
        ``core.weights`` before each inference.
      core: the spyxlike :class:`spyxlike.evsim.FCLayer` (weights
        ``(n_inputs, n_neurons)``); read it, but set weights through
        ``weights`` here, which overrides ``core.weights`` at the next
        inference.
      descriptor: :class:`LayerDescriptor` (``n_inputs``, ``n_neurons``,
        ``tau_s``, ``tau``, ``threshold``), also available as attributes,
        with ``buffer_size``.
      post_spikes: :class:`SpikeArray` of the last inference.
      n_spikes: int32 ``(n_neurons,)`` spike counts of the last inference.
    """

    def __init__(self, core: _core.FCLayer):
        self.core = core
        self._weights = np.ascontiguousarray(np.asarray(core.weights, np.float32).T)

    @property
    def weights(self) -> np.ndarray:
        return self._weights

    @weights.setter
    def weights(self, value):
        w = np.asarray(value, np.float32)
        if w.shape != self._weights.shape:
            raise ValueError(f"FCLayer.weights must have EvSpikeSim's shape (n_neurons, n_inputs) = "
                             f"{self._weights.shape}, got {w.shape}")
        np.copyto(self._weights, w)

    def _sync(self) -> None:
        self.core.weights = self._weights.T

    @property
    def descriptor(self) -> LayerDescriptor:
        c = self.core
        return LayerDescriptor(c.n_inputs, c.n_neurons, c.tau_s, c.threshold)

    n_inputs = property(lambda self: self.core.n_inputs)
    n_neurons = property(lambda self: self.core.n_neurons)
    tau_s = property(lambda self: self.core.tau_s)
    tau = property(lambda self: self.core.tau)
    threshold = property(lambda self: self.core.threshold)
    buffer_size = property(lambda self: self.core.buffer_size)
    n_spikes = property(lambda self: self.core.n_spikes)

    @property
    def post_spikes(self) -> SpikeArray:
        return SpikeArray._from(self.core.post_spikes)

    def __repr__(self):
        return repr(self.core)


Layer = FCLayer


class SpikingNetwork:
    """``evspikesim.SpikingNetwork(compile_path='/tmp/evspikesim')`` over
    :class:`spyxlike.evsim.SpikingNetwork`.

    Args:
      compile_path: accepted so EvSpikeSim scripts run unchanged, and unused:
        spyxlike compiles nothing at run time (custom neurons are JAX
        functions, see :meth:`add_fc_layer_from_source`).
      impl: spyxlike's engine choice, ``"auto" | "native" | "reference"``.

    Attributes:
      core: the wrapped :class:`spyxlike.evsim.SpikingNetwork`.
    """

    default_compile_path = "/tmp/evspikesim"

    def __init__(self, compile_path: str = default_compile_path, impl: str = "auto"):
        if not isinstance(compile_path, (str, os.PathLike)):
            raise TypeError(f"SpikingNetwork: compile_path must be a str, got {type(compile_path).__name__}")
        self.compile_path = os.fspath(compile_path)
        self.core = _core.SpikingNetwork(impl=impl)
        self._layers: list[FCLayer] = []

    def add_fc_layer(self, n_inputs, n_neurons, tau_s, threshold, initializer, buffer_size=64) -> FCLayer:
        """EvSpikeSim's ``add_fc_layer``: appends a layer of the default neuron
        (current-based LIF, membrane time constant ``2 tau_s``) and returns it.

        The initializer draws the core's ``(n_inputs, n_neurons)`` matrix;
        ``buffer_size`` caps the spikes per neuron and inference (more raise
        :class:`BufferOverflowError`).
        """
        core = self.core.add_fc_layer(n_inputs, n_neurons, tau_s, threshold, initializer, buffer_size)
        return self._append(core)

    def add_fc_layer_from_source(self, src_path, n_inputs, n_neurons, tau_s, threshold, initializer,
                                 buffer_size=64) -> FCLayer:
        """EvSpikeSim's ``add_fc_layer_from_source``, with a :class:`NeuronModel`
        in place of the C++ source.

        EvSpikeSim compiles the callbacks in ``src_path`` (``on_pre``,
        ``on_post``, trace time constants) into a kernel at run time.
        spyxlike compiles no C++ at run time: write the callbacks as a
        :class:`NeuronModel` (pure JAX ``init``, ``advance``, ``on_pre``,
        ``next_spike``, ``on_post``) and pass it as ``src_path``; the layer
        then runs :meth:`spyxlike.evsim.SpikingNetwork.add_fc_layer_from_model`.

        Raises:
          TypeError: ``src_path`` is a file path (a C++ source, which spyxlike
            does not compile; the message names the JAX-native replacement)
            or anything else but a ``NeuronModel``; nothing is added.

        EvSpikeSim's Python binding names its first two keywords the other way
        round (``n_inputs`` is the path); a call with an integer ``src_path``
        and a model or path as ``n_inputs`` is read that way.
        """
        if isinstance(src_path, (int, np.integer)) and isinstance(n_inputs, (str, os.PathLike, NeuronModel)):
            src_path, n_inputs = n_inputs, src_path
        if isinstance(src_path, NeuronModel):
            core = self.core.add_fc_layer_from_model(n_inputs, n_neurons, tau_s, threshold, initializer,
                                                     src_path, buffer_size)
            return self._append(core)
        if isinstance(src_path, (str, os.PathLike)):
            raise TypeError(
                f"add_fc_layer_from_source: src_path must be a NeuronModel; spyxlike does not compile EvSpikeSim C++ callback sources "
                f"({os.fspath(src_path)!r}). Write the callbacks as a spyxlike NeuronModel (pure JAX "
                f"functions init, advance, on_pre, next_spike, on_post; see spyxlike.evsim.NeuronModel "
                f"and the 'Coming from EvSpikeSim' docs page) and pass it as src_path, or call "
                f"add_fc_layer_from_model.")
        raise TypeError(f"add_fc_layer_from_source: src_path must be a NeuronModel (or a path, which is "
                        f"not supported), got {type(src_path).__name__}")

    def _append(self, core_layer) -> FCLayer:
        layer = FCLayer(core_layer)
        self._layers.append(layer)
        return layer

    def _sync(self) -> None:
        for layer in self._layers:
            layer._sync()

    def infer(self, inputs, times=None) -> SpikeArray:
        """``infer(spike_array)`` or ``infer(indices, times)``: simulates one
        sample and returns the output layer's spikes (every layer's
        ``post_spikes`` and ``n_spikes`` are updated)."""
        self._sync()
        return SpikeArray._from(self.core.infer(inputs, times))

    def infer_batch(self, indices, times, count=None, *, check_overflow: bool = True) -> BatchOutput:
        """spyxlike's batched, jitted inference (not in EvSpikeSim), see
        :meth:`spyxlike.evsim.SpikingNetwork.infer_batch`."""
        self._sync()
        return self.core.infer_batch(indices, times, count, check_overflow=check_overflow)

    def get_n_layers(self) -> int:
        return len(self._layers)

    def __len__(self) -> int:
        return len(self._layers)

    def __getitem__(self, index) -> FCLayer:
        return self._layers[index]

    def __iter__(self):
        return iter(self._layers)

    @property
    def output_layer(self) -> FCLayer:
        """The last layer."""
        if not self._layers:
            raise IndexError("SpikingNetwork has no layer")
        return self._layers[-1]


initializers = types.SimpleNamespace(
    Initializer=Initializer, UniformInitializer=UniformInitializer,
    NormalInitializer=NormalInitializer, ConstantInitializer=ConstantInitializer)
"""``evspikesim.initializers``: the core initializers. As in EvSpikeSim they
draw from the global generator seeded by ``random.set_seed``; spyxlike's
optional ``seed=`` argument gives one its own generator."""

layers = types.SimpleNamespace(Layer=Layer, FCLayer=FCLayer, LayerDescriptor=LayerDescriptor,
                               FCLayerDescriptor=FCLayerDescriptor)
"""``evspikesim.layers``: the layer and descriptor types."""

random = types.SimpleNamespace(set_seed=set_seed)
"""``evspikesim.random``: ``set_seed(seed)`` seeds the initializers' global generator."""
