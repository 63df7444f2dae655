"""SpykeTorch spellings for spyxlike: ``from spyxlike.compat import spyketorch as st``.

SpykeTorch works on one sample at a time, channels-first: spike-waves and
potentials are ``(T, C, H, W)`` tensors, conv weights ``(C_out, C_in, kh, kw)``
(OIHW). spyxlike's core is batched and channels-last: ``(B, T, H, W, C)`` and
HWIO kernels. The names below keep SpykeTorch's arguments and layouts and
call the core after converting with :mod:`spyxlike.layout` (a batch of one),
so a SpykeTorch script ports by changing its imports (``sf`` =
``st.functional``, ``snn`` = ``st.snn``, ``utils`` = ``st.utils``,
``vis`` = ``st.visualization``) and using JAX/NumPy arrays. For batched
training use the core functions directly (they are jittable; these adapters
return Python lists where SpykeTorch does, so they are not).

SpykeTorch name -> spyxlike core:

* ``sf.fire`` / ``sf.fire_`` -> :func:`spyxlike.spikewave.fire`
* ``sf.threshold`` / ``sf.threshold_`` -> :func:`spyxlike.spikewave.threshold`
* ``sf.pad`` (``(left, right, top, bottom)``) -> :func:`spyxlike.spikewave.pad`
  (``(top, left, bottom, right)``)
* ``sf.pooling`` -> :func:`spyxlike.spikeconv.pool`
* ``sf.get_k_winners`` -> :func:`spyxlike.competition.get_k_winners`
* ``sf.pointwise_inhibition`` -> :func:`spyxlike.inhibition.pointwise_inhibition`
* ``sf.feature_inhibition(_)`` -> :func:`spyxlike.inhibition.feature_inhibition`
* ``sf.intensity_lateral_inhibition`` ->
  :func:`spyxlike.intensity_inhibition.intensity_lateral_inhibition`
* ``sf.local_normalization`` -> :func:`spyxlike.filters.local_normalization`
* ``snn.Convolution`` / ``snn.Pooling`` -> :func:`spyxlike.spikeconv.conv` /
  :func:`spyxlike.spikeconv.pool`
* ``snn.STDP`` -> :func:`spyxlike.stdp.stdp_conv`,
  :func:`spyxlike.stdp.get_pre_post_ordering`, :mod:`spyxlike.stdp_config`
* ``utils.DoGKernel`` / ``GaborKernel`` / ``FilterKernel`` -> :mod:`spyxlike.filter_kernels`
* ``utils.Filter`` -> :class:`spyxlike.filters.Filter`
* ``utils.Intensity2Latency`` -> :func:`spyxlike.coding.rank_code`
* ``utils.LateralIntencityInhibition`` / ``generate_inhibition_kernel`` ->
  :mod:`spyxlike.intensity_inhibition`
* ``visualization.*`` -> :mod:`spyxlike.feature_viz`

``fire_``, ``threshold_`` and ``feature_inhibition_`` return new arrays (JAX
arrays are immutable); ``snn.Convolution`` and ``snn.STDP`` are small stateful
Python objects (not Haiku modules) that hold and replace their ``weight``.
Not provided: ``utils.CacheDataset`` (cache encoded data yourself, e.g. encode
the whole data set once with the batched core, which is fast, or use
``numpy.save``) and devices (JAX places arrays).
"""

from __future__ import annotations

import types

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike import coding as _coding
from spyxlike import competition as _competition
from spyxlike import feature_viz as _viz
from spyxlike import filter_kernels as _fk
from spyxlike import filters as _filters
from spyxlike import inhibition as _inhibition
from spyxlike import intensity_inhibition as _ili
from spyxlike import layout as _layout
from spyxlike import spikeconv as _spikeconv
from spyxlike import spikewave as _spikewave
from spyxlike import stdp as _stdp
from spyxlike import stdp_config as _stdp_config
from spyxlike.winners import winners_from_list

__all__ = [
    "fire", "fire_", "threshold", "threshold_", "feature_inhibition", "feature_inhibition_",
    "get_k_winners", "intensity_lateral_inhibition", "local_normalization", "pad",
    "pointwise_inhibition", "pooling", "Convolution", "Pooling", "STDP", "DoGKernel",
    "GaborKernel", "FilterKernel", "Filter", "Intensity2Latency", "LateralIntencityInhibition",
    "generate_inhibition_kernel", "to_pair", "get_deep_feature", "get_deep_receptive_field",
    "plot_tensor_in_image", "show_tensor", "functional", "snn", "utils", "visualization",
]

DoGKernel = _fk.DoGKernel
GaborKernel = _fk.GaborKernel
FilterKernel = _fk.FilterKernel
generate_inhibition_kernel = _ili.generate_inhibition_kernel
get_deep_receptive_field = _viz.get_deep_receptive_field
plot_tensor_in_image = _viz.plot_tensor_in_image
show_tensor = _viz.show_tensor


def _waves(x, fn, name="input"):
    """SpykeTorch ``(T, C, H, W)`` -> spyxlike ``(1, T, H, W, C)``."""
    x = jnp.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{fn}: {name} must be a SpykeTorch (T, C, H, W) array, got shape {x.shape}")
    return _layout.from_spyketorch(x)


def _back(x):
    """spyxlike ``(1, T, H, W, C)`` -> SpykeTorch ``(T, C, H, W)``."""
    return _layout.to_spyketorch(x)


def _nchw(x, fn, name):
    """``(N, C, H, W)`` (or ``(C, H, W)``) channels-first -> ``(N, H, W, C)``, and the undo."""
    x = jnp.asarray(x)
    if x.ndim == 3:
        return jnp.transpose(x, (1, 2, 0))[None], lambda y: jnp.transpose(y[0], (2, 0, 1))
    if x.ndim != 4:
        raise ValueError(f"{fn}: {name} must be (N, C, H, W) or (C, H, W), got shape {x.shape}")
    return jnp.transpose(x, (0, 2, 3, 1)), lambda y: jnp.transpose(y, (0, 3, 1, 2))


# ----------------------------------------------------------------------------- functional

def fire(potentials, threshold=None, return_thresholded_potentials=False):
    """``sf.fire``: potentials ``(T, ...)`` -> spike-wave (and thresholded potentials).

    Elementwise, so any ``(T, ...)`` shape works (conv ``(T, C, H, W)`` or FC
    ``(T, F)``). See :func:`spyxlike.spikewave.fire` (spikes are 0/1; SpykeTorch's
    ``sign`` gives -1 for negative thresholds).

    Args:
      potentials: ``(T, ...)`` potentials of one sample.
      threshold: firing threshold, or ``None`` (only the last step fires).
      return_thresholded_potentials: also return the thresholded potentials.

    Returns:
      The spike-wave ``(T, ...)`` (and the thresholded potentials).
    """
    out = _spikewave.fire(jnp.asarray(potentials)[None], threshold, return_thresholded_potentials)
    if return_thresholded_potentials:
        return out[0][0], out[1][0]
    return out[0]


def fire_(potentials, threshold=None):
    """``sf.fire_`` (in place in SpykeTorch): returns the spike-wave of :func:`fire`."""
    return fire(potentials, threshold)


def threshold(potentials, threshold=None):
    """``sf.threshold``: values ``<= threshold`` become 0; ``None`` keeps only the last step.

    Args:
      potentials: ``(T, ...)`` potentials of one sample.
      threshold: the threshold, or ``None``.

    Returns:
      Thresholded potentials, shape of ``potentials``.
    """
    return _spikewave.threshold(jnp.asarray(potentials)[None], threshold)[0]


def threshold_(potentials, threshold=None):
    """``sf.threshold_`` (in place in SpykeTorch): returns :func:`threshold`'s result."""
    return globals()["threshold"](potentials, threshold)


def feature_inhibition(potentials, inhibited_features):
    """``sf.feature_inhibition``: zero the listed feature maps of ``(T, C, H, W)`` potentials.

    Args:
      potentials: ``(T, C, H, W)`` potentials.
      inhibited_features: list of feature indices.

    Returns:
      ``(T, C, H, W)`` potentials with those features set to 0.
    """
    x = _waves(potentials, "feature_inhibition", "potentials")
    return _back(_inhibition.feature_inhibition(x, list(inhibited_features)))


def feature_inhibition_(potentials, inhibited_features):
    """``sf.feature_inhibition_`` (in place in SpykeTorch): returns :func:`feature_inhibition`."""
    return feature_inhibition(potentials, inhibited_features)


def get_k_winners(potentials, kwta=1, inhibition_radius=0, spikes=None):
    """``sf.get_k_winners``: list of ``(feature, row, column)`` winners of one sample.

    Args:
      potentials: ``(T, C, H, W)`` (thresholded) potentials.
      kwta: number of winners.
      inhibition_radius: lateral inhibition radius.
      spikes: optional ``(T, C, H, W)`` spike-wave.

    Returns:
      SpykeTorch's list of ``(feature, row, column)`` tuples (at most ``kwta``).
    """
    p = _waves(potentials, "get_k_winners", "potentials")
    s = None if spikes is None else _waves(spikes, "get_k_winners", "spikes")
    return _competition.get_k_winners(p, kwta, inhibition_radius, s).to_list()[0]


def intensity_lateral_inhibition(intencities, inhibition_kernel):
    """``sf.intensity_lateral_inhibition`` on channels-first ``(N, C, H, W)`` intensities.

    Args:
      intencities: ``(N, C, H, W)`` or ``(C, H, W)`` intensities (SpykeTorch's spelling).
      inhibition_kernel: ``(K, K)`` kernel from :func:`generate_inhibition_kernel`.

    Returns:
      Inhibited intensities, shape of the input.
    """
    x, undo = _nchw(intencities, "intensity_lateral_inhibition", "intencities")
    return undo(_ili.intensity_lateral_inhibition(x, inhibition_kernel))


def local_normalization(input, normalization_radius, eps=1e-12):
    """``sf.local_normalization`` on ``(T, C, H, W)`` (each step divided by its local mean).

    Args:
      input: ``(T, C, H, W)`` (or ``(C, H, W)``) array.
      normalization_radius: window radius.
      eps: added to the mean.

    Returns:
      The normalised array, shape of ``input``.
    """
    x, undo = _nchw(input, "local_normalization", "input")
    return undo(_filters.local_normalization(x, normalization_radius, eps))


def pad(input, pad, value=0):
    """``sf.pad``: 2-D padding of the last two axes with SpykeTorch's ``(left, right, top, bottom)``.

    The core's :func:`spyxlike.spikewave.pad` takes Spyker's ``(top, left,
    bottom, right)`` on channels-last arrays; this reorders.

    Args:
      input: array of rank >= 2 whose last two axes are height and width.
      pad: ``(padLeft, padRight, padTop, padBottom)``.
      value: fill value.

    Returns:
      The padded array.

    Raises:
      ValueError: ``pad`` is not four integers, or ``input`` has rank < 2.
    """
    if not isinstance(pad, (tuple, list)) or len(pad) != 4:
        raise ValueError(f"pad: pad must be (left, right, top, bottom), got {pad!r}")
    x = jnp.asarray(input)
    if x.ndim < 2:
        raise ValueError(f"pad: input must have rank >= 2 (..., H, W), got shape {x.shape}")
    left, right, top, bottom = pad
    return _spikewave.pad(x[..., None], (top, left, bottom, right), value)[..., 0]


def pointwise_inhibition(thresholded_potentials):
    """``sf.pointwise_inhibition`` on ``(T, C, H, W)`` thresholded potentials.

    Args:
      thresholded_potentials: ``(T, C, H, W)``.

    Returns:
      ``(T, C, H, W)`` potentials where at most one feature per position survives.
    """
    x = _waves(thresholded_potentials, "pointwise_inhibition", "thresholded_potentials")
    return _back(_inhibition.pointwise_inhibition(x))


def pooling(input, kernel_size, stride=None, padding=0):
    """``sf.pooling``: max pooling of ``(T, C, H, W)`` spike-waves or potentials.

    ``padding`` is an int or ``(vertical, horizontal)``; padded cells count as
    0 (SpykeTorch's PyTorch pooling ignores them; this differs only for
    negative values).

    Args:
      input: ``(T, C, H, W)``.
      kernel_size: int or pair.
      stride: int, pair or ``None`` (= ``kernel_size``).
      padding: int or pair.

    Returns:
      ``(T, C, Ho, Wo)``.
    """
    x = _waves(input, "pooling")
    return _back(_spikeconv.pool(x, kernel_size, stride, padding))


functional = types.SimpleNamespace(
    fire=fire, fire_=fire_, threshold=threshold, threshold_=threshold_,
    feature_inhibition=feature_inhibition, feature_inhibition_=feature_inhibition_,
    get_k_winners=get_k_winners, intensity_lateral_inhibition=intensity_lateral_inhibition,
    local_normalization=local_normalization, pad=pad, pointwise_inhibition=pointwise_inhibition,
    pooling=pooling,
)


# ----------------------------------------------------------------------------- snn

def to_pair(data):
    """``utils.to_pair``: ``x -> (x, x)``; a tuple/list keeps its first two items."""
    if isinstance(data, (tuple, list)):
        return tuple(data[0:2])
    return (data, data)


class Convolution:
    """``snn.Convolution(in_channels, out_channels, kernel_size, weight_mean=0.8, weight_std=0.02)``.

    Holds ``weight`` in SpykeTorch's layout ``(out_channels, in_channels, kh,
    kw)``; calling it convolves a ``(T, C_in, H, W)`` spike-wave (stride 1, no
    padding, as in SpykeTorch) with :func:`spyxlike.spikeconv.conv` and
    returns ``(T, C_out, Ho, Wo)`` potentials.

    Args:
      in_channels: input channels.
      out_channels: output feature maps.
      kernel_size: int or pair.
      weight_mean: mean of the initial normal weights.
      weight_std: standard deviation of the initial weights.
      seed: JAX PRNG seed for the initial weights (SpykeTorch uses torch's global RNG).
    """

    def __init__(self, in_channels, out_channels, kernel_size, weight_mean=0.8, weight_std=0.02,
                 *, seed=0):
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = to_pair(kernel_size)
        self._key = jax.random.PRNGKey(seed)
        self.reset_weight(weight_mean, weight_std)

    def reset_weight(self, weight_mean=0.8, weight_std=0.02):
        """Draws new ``N(weight_mean, weight_std)`` weights."""
        self._key, key = jax.random.split(self._key)
        shape = (self.out_channels, self.in_channels) + tuple(self.kernel_size)
        self.weight = weight_mean + weight_std * jax.random.normal(key, shape, jnp.float32)

    def load_weight(self, target):
        """Replaces the weights with ``target`` (OIHW)."""
        target = jnp.asarray(target, jnp.float32)
        if target.shape != self.weight.shape:
            raise ValueError(f"Convolution.load_weight: target must have shape {self.weight.shape}, "
                             f"got {target.shape}")
        self.weight = target

    @property
    def kernel_hwio(self):
        """The weights in spyxlike's HWIO layout ``(kh, kw, C_in, C_out)``."""
        return jnp.transpose(self.weight, (2, 3, 1, 0))

    def __call__(self, input):
        """``(T, C_in, H, W)`` spike-wave -> ``(T, C_out, Ho, Wo)`` potentials."""
        return _back(_spikeconv.conv(_waves(input, "Convolution"), self.kernel_hwio))

    forward = __call__


class Pooling:
    """``snn.Pooling(kernel_size, stride=None, padding=0)``: :func:`pooling` as an object."""

    def __init__(self, kernel_size, stride=None, padding=0):
        self.kernel_size = to_pair(kernel_size)
        self.stride = self.kernel_size if stride is None else to_pair(stride)
        self.padding = to_pair(padding)

    def __call__(self, input):
        """``(T, C, H, W)`` -> ``(T, C, Ho, Wo)``."""
        return pooling(input, self.kernel_size, self.stride, self.padding)

    forward = __call__


class STDP:
    """``snn.STDP(conv_layer, learning_rate, use_stabilizer=True, lower_bound=0, upper_bound=1)``.

    Calling it updates ``conv_layer.weight`` with :func:`spyxlike.stdp.stdp_conv`
    (SpykeTorch's rule: LTP iff the pre-synaptic spike is not later than the
    post-synaptic one, stabiliser ``(W - W_LB)(W_UB - W)``, clamp). One sample
    of SpykeTorch layout, as in SpykeTorch; winners are at most one per
    feature, so the sum over winners equals SpykeTorch's update exactly.

    Args:
      conv_layer: a :class:`Convolution`.
      learning_rate: one ``(a_LTP, a_LTD)`` pair or one pair per feature map.
      use_stabilizer: use the stabiliser term.
      lower_bound: lower weight bound.
      upper_bound: upper weight bound.

    Attributes:
      learning_rate: float32 ``(C_out, 2)`` table.
    """

    def __init__(self, conv_layer, learning_rate, use_stabilizer=True, lower_bound=0,
                 upper_bound=1):
        self.conv_layer = conv_layer
        self.learning_rate = _stdp_config.learning_rate_table(
            learning_rate, conv_layer.out_channels, "STDP: learning_rate")
        self.use_stabilizer = use_stabilizer
        self.lower_bound = lower_bound
        self.upper_bound = upper_bound

    def get_pre_post_ordering(self, input_spikes, output_spikes, winners):
        """Per winner, a bool ``(C_in, kh, kw)`` array: True for pre-then-post (or together).

        Args:
          input_spikes: ``(T, C_in, H, W)`` input spike-wave.
          output_spikes: ``(T, C_out, Ho, Wo)`` output spike-wave.
          winners: list of ``(feature, row, column)``.

        Returns:
          A list with one ``(C_in, kh, kw)`` bool array per winner.
        """
        winners = list(winners)
        if not winners:
            return []
        w = winners_from_list([winners], len(winners))
        order = _stdp.get_pre_post_ordering(
            _waves(input_spikes, "STDP.get_pre_post_ordering", "input_spikes"),
            _waves(output_spikes, "STDP.get_pre_post_ordering", "output_spikes"),
            w, self.conv_layer.kernel_size)
        return [jnp.transpose(order[0, i], (2, 0, 1)) for i in range(len(winners))]

    def __call__(self, input_spikes, potentials, output_spikes, winners=None, kwta=1,
                 inhibition_radius=0):
        """Applies one STDP update to ``conv_layer.weight``; returns the new weight (OIHW).

        Args:
          input_spikes: ``(T, C_in, H, W)`` input spike-wave.
          potentials: ``(T, C_out, Ho, Wo)`` potentials of the layer.
          output_spikes: ``(T, C_out, Ho, Wo)`` output spike-wave.
          winners: list of ``(feature, row, column)``; ``None`` -> :func:`get_k_winners`.
          kwta: winners to find when ``winners`` is None.
          inhibition_radius: their inhibition radius.

        Returns:
          The updated OIHW weight (also stored in ``conv_layer.weight``).
        """
        if winners is None:
            winners = get_k_winners(potentials, kwta, inhibition_radius, output_spikes)
        winners = list(winners)
        if not winners:
            return self.conv_layer.weight
        x = _waves(input_spikes, "STDP", "input_spikes")
        y = _waves(output_spikes, "STDP", "output_spikes")
        time_steps = x.shape[1]
        new = _stdp.stdp_conv(
            self.conv_layer.kernel_hwio, _coding.waves_to_times(x), _coding.waves_to_times(y),
            winners_from_list([winners], len(winners)), self.learning_rate,
            use_stabilizer=self.use_stabilizer, lower_bound=self.lower_bound,
            upper_bound=self.upper_bound, time_steps=time_steps)
        self.conv_layer.weight = jnp.transpose(new, (3, 2, 0, 1))
        return self.conv_layer.weight

    forward = __call__

    def update_learning_rate(self, feature, ap, an):
        """Sets feature ``feature``'s ``(a_LTP, a_LTD)``."""
        self.learning_rate = _stdp_config.update_learning_rate(self.learning_rate, feature, ap, an)

    def update_all_learning_rate(self, ap, an):
        """Sets every feature's ``(a_LTP, a_LTD)``."""
        self.learning_rate = _stdp_config.update_all_learning_rate(self.learning_rate, ap, an)


snn = types.SimpleNamespace(Convolution=Convolution, Pooling=Pooling, STDP=STDP)


# ----------------------------------------------------------------------------- utils

class Filter(_filters.Filter):
    """``utils.Filter(filter_kernels, padding=0, thresholds=None, use_abs=False)`` on NCHW images.

    :class:`spyxlike.filters.Filter` with SpykeTorch's channels-first
    ``(N, 1, H, W)`` input and ``(N, F, Ho, Wo)`` output.
    """

    def __call__(self, input):
        """``(N, C, H, W)`` (or ``(C, H, W)``) -> ``(N, C * F, Ho, Wo)``."""
        x, undo = _nchw(input, "Filter", "input")
        return undo(super().__call__(x))


class Intensity2Latency:
    """``utils.Intensity2Latency(number_of_spike_bins, to_spike=False)`` via :func:`spyxlike.coding.rank_code`.

    Calling it on the intensities of one sample (any shape; a leading axis of
    size 1 is squeezed, as SpykeTorch's ``squeeze(0)``) returns ``(T, ...)``
    cumulative waves: 0/1 spikes with ``to_spike=True``, else the intensities
    from each input's bin on. Difference: SpykeTorch drops the last
    ``n mod T`` inputs and fails when fewer than ``T`` inputs are positive;
    here every positive input spikes and equal inputs share a bin.

    Args:
      number_of_spike_bins: time steps ``T``.
      to_spike: return 0/1 spike-waves instead of intensities.
    """

    def __init__(self, number_of_spike_bins, to_spike=False):
        self.time_steps = number_of_spike_bins
        self.to_spike = to_spike

    def intensity_to_latency(self, intencities):
        """``(...)`` intensities -> ``(T, ...)`` intensity waves."""
        x = jnp.asarray(intencities)
        if x.ndim >= 1 and x.shape[0] == 1:
            x = x[0]
        return _coding.rank_code(x[None], self.time_steps, output="intensities")[0]

    def __call__(self, image):
        """``(...)`` intensities -> ``(T, ...)`` waves (spikes if ``to_spike``)."""
        x = jnp.asarray(image)
        if x.ndim >= 1 and x.shape[0] == 1:
            x = x[0]
        output = "spikes" if self.to_spike else "intensities"
        return _coding.rank_code(x[None], self.time_steps, output=output)[0]


class LateralIntencityInhibition:
    """``utils.LateralIntencityInhibition(inhibition_percents)``.

    Args:
      inhibition_percents: inhibition factors in ``[0, 1]`` by distance 1, 2, ...
    """

    def __init__(self, inhibition_percents):
        self.inhibition_kernel = generate_inhibition_kernel(inhibition_percents)

    def intensity_lateral_inhibition(self, intencities):
        """``(N, C, H, W)`` or ``(C, H, W)`` intensities -> inhibited intensities."""
        return intensity_lateral_inhibition(intencities, self.inhibition_kernel)

    __call__ = intensity_lateral_inhibition


utils = types.SimpleNamespace(
    DoGKernel=DoGKernel, GaborKernel=GaborKernel, FilterKernel=FilterKernel, Filter=Filter,
    Intensity2Latency=Intensity2Latency, LateralIntencityInhibition=LateralIntencityInhibition,
    generate_inhibition_kernel=generate_inhibition_kernel, to_pair=to_pair,
)


# ----------------------------------------------------------------------------- visualization

def get_deep_feature(pre_feature, feature_stride, window_size, stride, weights=None):
    """``visualization.get_deep_feature`` with SpykeTorch's OIHW ``weights``.

    Args:
      pre_feature: ``(C_in, h, w)`` features of the layer below.
      feature_stride: its feature stride.
      window_size: this layer's kernel or pooling window.
      stride: this layer's stride.
      weights: OIHW ``(C_out, C_in, kh, kw)`` weights (e.g. ``Convolution.weight``),
        or ``None`` for pooling.

    Returns:
      ``(features (C_out, H', W'), feature_stride)``, see
      :func:`spyxlike.feature_viz.get_deep_feature`.
    """
    if weights is not None:
        weights = np.transpose(np.asarray(weights), (2, 3, 1, 0))
    return _viz.get_deep_feature(pre_feature, feature_stride, window_size, stride, weights)


visualization = types.SimpleNamespace(
    get_deep_feature=get_deep_feature, get_deep_receptive_field=get_deep_receptive_field,
    plot_tensor_in_image=plot_tensor_in_image, show_tensor=show_tensor,
)
