"""SLAYER PyTorch spellings for spyxlike: ``import spyxlike.compat.slayer as snn``.

A SLAYER script ports by changing its imports and its tensors: the names,
arguments and defaults below are SLAYER's (``snn.layer``, ``snn.loihi``,
``snn.params``, ``snn.loss``, ``snn.predict``, ``snn.io``, ``snn.quantize``,
``learningStats``, ``optimizer.Nadam``), and each maps to one core spyxlike
function. What changes: arrays are JAX arrays in spyxlike's batch-first
layout ``(batch, T, H, W, C)`` instead of SLAYER's NCHWT (convert with
``snn.fromNCHWT`` / ``snn.toNCHWT``), layers are Haiku modules created
inside ``hk.transform``, and optimisers are Optax transformations.

SLAYER name -> spyxlike core:

* ``snn.layer(neuron, sim)`` -> :class:`spyxlike.slayer_layers.SpikeLayer`
* ``snn.loihi(neuron, sim)`` -> :mod:`spyxlike.loihi` (with step-2 weights)
* ``snn.params(path)`` -> :class:`spyxlike.netconfig.NetParams`
* ``snn.loss(params)`` -> :class:`spyxlike.slayer_loss.SpikeLoss`
* ``snn.predict.getClass`` -> :func:`spyxlike.slayer_loss.get_class`
* ``snn.io.read2Dspikes`` etc. -> :mod:`spyxlike.io` (``read_2d_spikes`` ...)
* ``snn.quantize`` -> :func:`spyxlike.loihi.quantize`
* ``learningStats`` -> :class:`spyxlike.learning_stats.LearningStats`
* ``optimizer.Nadam`` -> ``optax.nadam``
"""

from __future__ import annotations

import types

import haiku as hk
import optax

from spyxlike import io as _io
from spyxlike import layout as _layout
from spyxlike import loihi as _loihi
from spyxlike.event_viz import anim_td, show_td
from spyxlike.learning_stats import LearningStat, LearningStats
from spyxlike.netconfig import NetParams
from spyxlike.slayer_layers import Conv, Dense, Pool, SpikeLayer
from spyxlike.slayer_loss import SpikeLoss, get_class
from spyxlike.srm import as_simulation, psp as _psp

__all__ = [
    "spikeLayer", "layer", "loihi", "params", "yamlParams", "loss", "spikeLoss", "predict",
    "spikeClassifier", "io", "spikeFileIO", "event", "quantize", "quantizeWeights",
    "learningStats", "learningStat", "Nadam", "optimizer", "fromNCHWT", "toNCHWT",
]


class spikeLayer(SpikeLayer):
    """``slayer.spikeLayer(neuronDesc, simulationDesc, fullRefKernel=False)``.

    Methods keep SLAYER's names and keyword arguments and return spyxlike's
    Haiku modules (create them inside ``hk.transform``); ``psp`` and
    ``spike`` are inherited unchanged.
    """

    def __init__(self, neuronDesc, simulationDesc, fullRefKernel=False, impl="auto"):
        super().__init__(neuronDesc, simulationDesc, full_ref_kernel=fullRefKernel, impl=impl)

    def conv(self, inChannels, outChannels, kernelSize, stride=1, padding=0, dilation=1,
             groups=1, weightScale=100, name=None):
        return super().conv(inChannels, outChannels, kernelSize, stride, padding, dilation,
                            groups, weight_scale=weightScale, name=name)

    def dense(self, inFeatures, outFeatures, weightScale=10, name=None):
        return super().dense(inFeatures, outFeatures, weight_scale=weightScale, name=name)

    def pool(self, kernelSize, stride=None, padding=0, dilation=1, name=None):
        return super().pool(kernelSize, stride, padding, dilation, name=name)

    def dropout(self, p=0.5, inplace=False, name=None):
        """``inplace`` is accepted for SLAYER scripts and has no effect (arrays are immutable)."""
        return super().dropout(p, name=name)

    def delay(self, inputSize, name=None):
        return super().delay(inputSize, name=name)

    def delayShift(self, input, delay, Ts=1):
        return self.delay_shift(input, delay, Ts)

    def pspFilter(self, nFilter, filterLength, filterScale=1, name=None):
        return self.psp_filter(nFilter, filterLength, filterScale, name=name)

    def pspLayer(self, name=None):
        return self.psp_layer(name=name)


layer = spikeLayer


def _quantized(module, quantize_weights):
    """Calls a Haiku module with its weights read through Loihi's step-2 quantiser."""
    if not quantize_weights:
        return module

    def getter(next_getter, value, context):
        return next_getter(_loihi.loihi_weights(value) if context.name == "w" else value)

    def call(x):
        with hk.custom_getter(getter):
            return module(x)

    return call


class loihi:
    """``slayerLoihi.spikeLayer(neuronDesc, simulationDesc)``: the Loihi CUBA neuron.

    ``spikeLoihi``/``spikeLoihiFull`` run :func:`spyxlike.loihi.spike_loihi`
    / :func:`spyxlike.loihi.spike_loihi_full` on weighted spikes (not psp
    filtered); ``dense``/``conv`` quantise their weights in steps of 2 when
    ``quantize=True`` (SLAYER's default); ``pool`` uses SLAYER Loihi's fixed
    pool weight; ``psp`` filters with the Loihi PSP kernel.
    """

    def __init__(self, neuronDesc, simulationDesc):
        self.neuron = _loihi.LoihiNeuron.from_params(neuronDesc)
        self.simulation = as_simulation(simulationDesc)
        self.Ts = self.simulation.Ts

    def spikeLoihi(self, weightedSpikes):
        return _loihi.spike_loihi(weightedSpikes, self.neuron, self.Ts)

    def spikeLoihiFull(self, weightedSpikes):
        return _loihi.spike_loihi_full(weightedSpikes, self.neuron, self.Ts)

    def psp(self, spike):
        kernel = _loihi.loihi_psp_kernel(self.neuron, spike.shape[1])
        return _psp(spike, kernel, self.Ts)

    def dense(self, inFeatures, outFeatures, weightScale=100, quantize=True, name=None):
        return _quantized(Dense(inFeatures, outFeatures, weightScale, name=name), quantize)

    def conv(self, inChannels, outChannels, kernelSize, stride=1, padding=0, dilation=1,
             groups=1, weightScale=100, quantize=True, name=None):
        module = Conv(inChannels, outChannels, kernelSize, stride, padding, dilation, groups,
                      weightScale, name=name)
        return _quantized(module, quantize)

    def pool(self, kernelSize, stride=None, padding=0, dilation=1, name=None):
        # spyxlike's Pool multiplies by 1.1 * theta; pass theta so that the
        # product is SLAYER Loihi's fixed pool weight.
        weight = _loihi.loihi_pool_weight(self.neuron)
        return Pool(weight / 1.1, kernelSize, stride, padding, dilation, name=name)


params = yamlParams = NetParams


class spikeLoss(SpikeLoss):
    """``spikeLoss.spikeLoss(networkDescriptor)`` with ``numSpikes`` / ``spikeTime``."""

    def __init__(self, networkDescriptor, slayerClass=None):
        psp = None
        if isinstance(slayerClass, (spikeLayer, loihi)):
            psp = slayerClass.psp
        super().__init__(networkDescriptor, psp=psp)

    def numSpikes(self, spikeOut, desiredClass, numSpikesScale=1):
        return self.num_spikes(spikeOut, desiredClass, num_spikes_scale=numSpikesScale)

    def spikeTime(self, spikeOut, spikeDesired):
        return self.spike_time(spikeOut, spikeDesired)


loss = spikeLoss


class spikeClassifier:
    """``spikeClassifier.spikeClassifier.getClass(spike)``: the class with the most spikes."""

    getClass = staticmethod(get_class)


predict = spikeClassifier


class event(_io.Event):
    """``spikeFileIO.event(xEvent, yEvent, pEvent, tEvent)`` with SLAYER's method names."""

    def __init__(self, xEvent, yEvent, pEvent, tEvent):
        super().__init__(xEvent, yEvent, pEvent, tEvent)

    def toSpikeArray(self, samplingTime=1, dim=None):
        return self.to_spike_array(samplingTime, dim)

    def toSpikeTensor(self, emptyTensor, samplingTime=1, randomShift=False, binningMode="OR"):
        """Returns the filled array (JAX/NumPy arrays are not filled in place)."""
        return self.to_spike_tensor(emptyTensor, samplingTime, randomShift, binningMode)


def _as_event(e):
    return event(e.x, e.y, e.p, e.t)


spikeFileIO = io = types.SimpleNamespace(
    event=event,
    read1Dspikes=lambda filename: _as_event(_io.read_1d_spikes(filename)),
    encode1Dspikes=_io.encode_1d_spikes,
    read2Dspikes=lambda filename: _as_event(_io.read_2d_spikes(filename)),
    encode2Dspikes=_io.encode_2d_spikes,
    read3Dspikes=lambda filename: _as_event(_io.read_3d_spikes(filename)),
    encode3Dspikes=_io.encode_3d_spikes,
    read1DnumSpikes=_io.read_1d_num_spikes,
    encode1DnumSpikes=_io.encode_1d_num_spikes,
    spikeArrayToEvent=lambda spikeMat, samplingTime=1: _as_event(
        _io.spike_array_to_event(spikeMat, samplingTime)),
    showTD=lambda TD, fig=None, frameRate=24, preComputeFrames=True, repeat=False: show_td(
        TD, frame_rate=frameRate),
    animTD=lambda TD, fig=None, frameRate=24, preComputeFrames=True, repeat=False: anim_td(
        TD, frame_rate=frameRate, fig=fig, repeat=repeat).animation,
)


class quantizeWeights:
    """``quantizeParams.quantizeWeights.apply(weights, step=1)`` (straight-through gradient)."""

    @staticmethod
    def apply(weights, step=1):
        return _loihi.quantize(weights, step)


quantize = quantizeWeights.apply
learningStats = LearningStats
learningStat = LearningStat


def Nadam(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0, amsgrad=False):
    """SLAYER's ``optimizer.Nadam`` as an Optax transformation (``optax.nadam``).

    Unlike the PyTorch class it takes no ``params``: initialise it with
    ``opt.init(params)``. ``weight_decay`` adds ``weight_decay * w`` to the
    gradient before Nadam, as PyTorch's ``weight_decay`` does. ``amsgrad`` is
    not offered by ``optax.nadam``.
    """
    if amsgrad:
        raise ValueError("Nadam: amsgrad=True is not supported by optax.nadam; use amsgrad=False")
    b1, b2 = betas
    opt = optax.nadam(lr, b1=b1, b2=b2, eps=eps)
    return optax.chain(optax.add_decayed_weights(weight_decay), opt) if weight_decay else opt


optimizer = types.SimpleNamespace(Nadam=Nadam)
fromNCHWT = _layout.from_slayer
toNCHWT = _layout.to_slayer
