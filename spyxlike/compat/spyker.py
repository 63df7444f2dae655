"""Spyker spellings for spyxlike: ``from spyxlike.compat import spyker``.

Spyker is batch-first and time-second like spyxlike but channels-first:
images ``(B, C, H, W)``, spike-waves and potentials ``(B, T, C, H, W)``,
dense layers ``(B, T, F)``, conv kernels ``(C_out, C_in, kh, kw)`` (OIHW) and
FC kernels ``(F_out, F_in)``. The functions below take and return Spyker's
layouts and call spyxlike's core on channels-last arrays (HWIO kernels,
``(F_in, F_out)`` weights), converting with :mod:`spyxlike.layout`.
Elementwise and time-axis operations (``code``, ``fire``, ``gather``,
``scatter``, ``threshold``, ``quantize``, ``infinite``, ``labelize``,
``backward``) are layout-agnostic and need no conversion.

Spyker name -> spyxlike core:

* ``code`` -> :func:`spyxlike.spikewave.code`; ``fire`` -> :func:`spyxlike.spikewave.spyker_fire`
* ``gather`` / ``scatter`` / ``labelize`` / ``backward`` -> :mod:`spyxlike.spiketime`
* ``threshold`` / ``infinite`` / ``pad`` -> :mod:`spyxlike.spikewave`;
  ``quantize(lower, middle, upper)`` -> :func:`spyxlike.spikewave.quantize_levels`
* ``conv`` / ``fc`` / ``pool`` -> :mod:`spyxlike.spikeconv`
* ``inhibit`` -> :func:`spyxlike.inhibition.inhibit`; ``convwta`` / ``fcwta`` -> :mod:`spyxlike.competition`
* ``stdp`` / ``Conv.stdp`` / ``FC.stdp`` -> :func:`spyxlike.stdp.stdp_spyker` / ``stdp_spyker_fc``
* ``DoG``, ``Gabor``, ``LoG``, ``DoGFilter``, ``GaborFilter`` -> :mod:`spyxlike.filters`,
  :mod:`spyxlike.filter_kernels`; ``ZCA`` -> :mod:`spyxlike.zca`; ``canny`` -> :mod:`spyxlike.canny`
* ``STDPConfig`` -> :class:`spyxlike.stdp_config.STDPConfig`
* ``Winner`` lists <-> :class:`spyxlike.winners.Winners`: :func:`to_winner_lists`,
  :func:`from_winner_lists`
* ``sparse.code/conv/pad/pool/inhibit/gather/convwta`` -> :mod:`spyxlike.sparse`
  (events stay in spyxlike's channels-last :class:`~spyxlike.sparse_spikes.SparseSpikes`).

``dtype`` accepts Spyker's strings (``"u8"``, ``"i32"``, ``"f32"``, ...);
64-bit ones map to 32 bits (JAX default). ``inplace`` arguments are accepted
and ignored: a new array is always returned. ``Conv``/``FC`` are small
stateful Python objects holding ``kernel`` (Spyker layout) and
``stdpconfig``; their ``stdp`` replaces ``kernel``. Not provided: devices,
CUDA/thread controls (``device``, ``cuda_*``, ``max_threads``: JAX places
arrays; use ``XLA_FLAGS`` / ``jax.devices()``), ``BPConfig``/``FC.backward``
(use JAX autodiff), ``utils.read_mnist``/``read_image``/``read_csv`` (use
``spyxlike.datasets`` or NumPy/Pillow) and the zero-copy helpers
(``wrap_array``, ``to_tensor``...; use ``jnp.asarray``/``np.asarray``).
"""

from __future__ import annotations

import dataclasses
import types

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike import canny as _canny
from spyxlike import coding as _coding
from spyxlike import competition as _competition
from spyxlike import filters as _filters
from spyxlike import inhibition as _inhibition
from spyxlike import layout as _layout
from spyxlike import sparse as _sparse
from spyxlike import spikeconv as _spikeconv
from spyxlike import spiketime as _spiketime
from spyxlike import spikewave as _spikewave
from spyxlike import stdp as _stdp
from spyxlike import zca as _zca
from spyxlike.expand import expand2
from spyxlike.filter_kernels import DoGFilter, GaborFilter
from spyxlike.sparse_spikes import SparseSpikes
from spyxlike.stdp_config import STDPConfig
from spyxlike.winners import Winners

__all__ = [
    "code", "fire", "gather", "scatter", "threshold", "quantize", "infinite", "pad", "labelize",
    "backward", "conv", "fc", "pool", "inhibit", "convwta", "fcwta", "stdp", "canny", "DoG",
    "DoGFilter", "Gabor", "GaborFilter", "LoG", "ZCA", "STDPConfig", "Winner", "Conv", "FC",
    "to_winner_lists", "from_winner_lists", "sparse",
]

_DTYPES = {
    "u8": jnp.uint8, "i8": jnp.int8, "u16": jnp.uint16, "i16": jnp.int16, "u32": jnp.uint32,
    "i32": jnp.int32, "u64": jnp.uint32, "i64": jnp.int32, "f16": jnp.float16,
    "f32": jnp.float32, "f64": jnp.float32,
}


def _dtype(dtype):
    if isinstance(dtype, str):
        if dtype not in _DTYPES:
            raise ValueError(f"spyker compat: dtype must be one of {sorted(_DTYPES)}, got {dtype!r}")
        return _DTYPES[dtype]
    return dtype


def _to_core(x, fn, name="array"):
    """Spyker ``(B, T, C, H, W)`` / ``(B, C, H, W)`` -> channels-last; returns (array, undo)."""
    x = jnp.asarray(x)
    if x.ndim == 5:
        return _layout.from_spyker(x), _layout.to_spyker
    if x.ndim == 4:
        return jnp.transpose(x, (0, 2, 3, 1)), lambda y: jnp.transpose(y, (0, 3, 1, 2))
    raise ValueError(f"{fn}: {name} must be Spyker (B, T, C, H, W) or (B, C, H, W), got shape {x.shape}")


def _hwio(kernel, fn):
    kernel = jnp.asarray(kernel)
    if kernel.ndim != 4:
        raise ValueError(f"{fn}: kernel must be Spyker (C_out, C_in, kh, kw), got shape {kernel.shape}")
    return jnp.transpose(kernel, (2, 3, 1, 0))


# ----------------------------------------------------------------------------- winners

@dataclasses.dataclass
class Winner:
    """Spyker's ``Winner``: ``c`` config index, ``t`` spike time, ``z, y, x`` feature, row, column."""

    c: int = 0
    t: int = 0
    z: int = 0
    y: int = 0
    x: int = 0


def to_winner_lists(winners, times=None, config=None):
    """:class:`~spyxlike.winners.Winners` -> Spyker's ``List[List[Winner]]``.

    Args:
      winners: core winners, ``(B, k)`` fields.
      times: optional int ``(B, k)`` spike times for ``Winner.t`` (0 if None).
      config: optional int ``(B, k)`` config indices for ``Winner.c`` (0 if None).

    Returns:
      One list per sample of :class:`Winner` (valid slots only).
    """
    feature, row, col, valid = (np.asarray(a) for a in winners)
    t = np.zeros_like(feature) if times is None else np.asarray(times)
    c = np.zeros_like(feature) if config is None else np.asarray(config)
    return [
        [Winner(int(c[b, s]), int(t[b, s]), int(feature[b, s]), int(row[b, s]), int(col[b, s]))
         for s in range(feature.shape[1]) if valid[b, s]]
        for b in range(feature.shape[0])
    ]


def from_winner_lists(winner_lists):
    """Spyker's ``List[List[Winner]]`` -> ``(Winners, config_index)``.

    Args:
      winner_lists: one list per sample of objects with ``c, z, y, x``
        (this module's :class:`Winner` or Spyker's own).

    Returns:
      ``(Winners, config_index)`` with ``k`` = the longest list (at least 1);
      ``config_index`` is int32 ``(B, k)`` (``Winner.c``).
    """
    lists = [list(items) for items in winner_lists]
    k = max([1] + [len(items) for items in lists])
    shape = (len(lists), k)
    feature, row, col, cfg = (np.full(shape, -1, np.int32) for _ in range(4))
    valid = np.zeros(shape, bool)
    for b, items in enumerate(lists):
        for s, w in enumerate(items):
            feature[b, s], row[b, s], col[b, s], cfg[b, s] = w.z, w.y, w.x, w.c
            valid[b, s] = True
    return (Winners(jnp.asarray(feature), jnp.asarray(row), jnp.asarray(col), jnp.asarray(valid)),
            jnp.asarray(np.where(valid, cfg, 0)))


def _winner_times(times, winners):
    """Spike times (B, H, W, C) at the winners' positions, (B, k)."""
    b = jnp.arange(times.shape[0])[:, None]
    f, r, c = (jnp.maximum(a, 0) for a in (winners.feature, winners.row, winners.col))
    return times[b, r, c, f]


# ----------------------------------------------------------------------------- coding

def code(array, time, sort=True, dtype="u8", code="rank", *, key=None):
    """``spyker.code``: rank (or rate) code of ``(B, ...)`` into ``(B, T, ...)`` waves.

    Args:
      array: ``(B, ...)`` intensities (e.g. ``(B, C, H, W)``).
      time: time steps.
      sort: Spyker's sorted rank code.
      dtype: Spyker dtype string or dtype.
      code: ``"rank"`` or ``"rate"``.
      key: JAX PRNG key for ``"rate"`` (Spyker uses its own RNG).

    Returns:
      ``(B, T, ...)`` cumulative spike-waves.
    """
    return _spikewave.code(array, time, sort=sort, code=code, dtype=_dtype(dtype), key=key)


def fire(array, threshold=0.0, dtype="u8", code="rank"):
    """``spyker.fire`` -> :func:`spyxlike.spikewave.spyker_fire` (any ``(B, T, ...)``)."""
    return _spikewave.spyker_fire(array, threshold, code=code, dtype=_dtype(dtype))


def gather(array, threshold=0.0, dtype="u8", code="rank"):
    """``spyker.gather`` -> :func:`spyxlike.spiketime.gather` (``(B, T, ...)`` -> ``(B, ...)``)."""
    return _spiketime.gather(array, threshold, code, _dtype(dtype))


def scatter(array, time, dtype="u8"):
    """``spyker.scatter`` -> :func:`spyxlike.spiketime.scatter` (``(B, ...)`` -> ``(B, T, ...)``)."""
    return _spiketime.scatter(array, time, _dtype(dtype))


def threshold(array, threshold, value=0.0, inplace=True):
    """``spyker.threshold``: values ``<= threshold`` become ``value`` (``inplace`` ignored)."""
    return _spikewave.threshold(array, threshold, value)


def quantize(array, lower, middle, upper, inplace=True):
    """``spyker.quantize`` (Python 0.1.0): ``lower`` below ``middle``, else ``upper``."""
    return _spikewave.quantize_levels(array, lower, middle, upper)


def infinite(array, value=0.0, inplace=True):
    """``spyker.infinite``: every time step of ``(B, T, ...)`` but the last becomes ``value`` (``inplace`` ignored)."""
    return _spikewave.infinite(array, value)


def pad(array, pad=0, value=0.0):
    """``spyker.pad`` of the last two axes ``(..., H, W)``.

    ``pad`` is an int, ``(vertical, horizontal)`` or ``(top, left, bottom,
    right)`` - the order Spyker 0.1.0 really uses (its docstring says
    ``(left, right, top, bottom)``).
    """
    x = jnp.asarray(array)
    if x.ndim < 2:
        raise ValueError(f"pad: array must have rank >= 2 (..., H, W), got shape {x.shape}")
    return _spikewave.pad(x[..., None], pad, value)[..., 0]


def labelize(array, threshold):
    """``spyker.labelize`` -> :func:`spyxlike.spiketime.labelize` (``(B, T, F)``)."""
    return _spiketime.labelize(array, threshold)


def backward(array, target, time, gamma):
    """``spyker.backward`` -> :func:`spyxlike.spiketime.backward`."""
    return _spiketime.backward(array, target, time, gamma)


# ----------------------------------------------------------------------------- layers

def conv(array, kernel, stride=1, pad=0):
    """``spyker.conv``: ``(B, T, C, H, W)`` (or ``(B, C, H, W)``) with an OIHW kernel.

    Args:
      array: Spyker-layout input.
      kernel: ``(C_out, C_in, kh, kw)``.
      stride: int or pair.
      pad: int, pair or ``(top, left, bottom, right)``.

    Returns:
      Spyker-layout potentials ``(B, T, C_out, Ho, Wo)`` (or ``(B, C_out, Ho, Wo)``).
    """
    x, undo = _to_core(array, "conv")
    return undo(_spikeconv.conv(x, _hwio(kernel, "conv"), stride, pad))


def fc(array, kernel, sign=False):
    """``spyker.fc``: ``(B, T, F_in)`` times Spyker's ``(F_out, F_in)`` kernel."""
    kernel = jnp.asarray(kernel)
    if kernel.ndim != 2:
        raise ValueError(f"fc: kernel must be Spyker (F_out, F_in), got shape {kernel.shape}")
    return _spikeconv.fc(array, kernel.T, sign)


def pool(array, kernel, stride=None, pad=0, rates=None):
    """``spyker.pool`` on ``(B, T, C, H, W)``; ``rates`` is ``(B, C, H, W)``."""
    x, undo = _to_core(array, "pool")
    if rates is not None:
        rates = jnp.transpose(jnp.asarray(rates), (0, 2, 3, 1))
    return undo(_spikeconv.pool(x, kernel, stride, pad, rates))


def inhibit(array, threshold=0.0, inplace=True):
    """``spyker.inhibit`` on ``(B, T, C, H, W)`` (``inplace`` ignored)."""
    x, undo = _to_core(array, "inhibit")
    return undo(_inhibition.inhibit(x, threshold))


def convwta(array, radius, count, threshold=0.0):
    """``spyker.convwta`` on ``(B, T, C, H, W)`` potentials -> ``List[List[Winner]]``.

    ``Winner.t`` is the winner's first step with potential ``> threshold``.
    """
    x, _ = _to_core(array, "convwta")
    winners = _competition.convwta(x, radius, count, threshold)
    times = _coding.waves_to_times(x > threshold)
    return to_winner_lists(winners, _winner_times(times, winners))


def fcwta(array, radius, count, threshold=0.0):
    """``spyker.fcwta`` on ``(B, T, F)`` potentials -> ``List[List[Winner]]`` (neuron in ``z``)."""
    x = jnp.asarray(array)
    winners = _competition.fcwta(x, radius, count, threshold)
    times = _coding.waves_to_times(x > threshold)
    t = jnp.take_along_axis(times, jnp.maximum(winners.feature, 0), axis=1)
    return to_winner_lists(winners, t)


class Conv:
    """``spyker.Conv(insize, outsize, kernel, stride=1, pad=0, mean=0.5, std=0.02)``.

    Attributes:
      kernel: ``(outsize, insize, kh, kw)`` float32 (Spyker's layout).
      stdpconfig: list of :class:`STDPConfig` (``Winner.c`` picks one).

    Args:
      insize: input channels.
      outsize: output channels.
      kernel: kernel size (int or pair).
      stride: int or pair.
      pad: int, pair or ``(top, left, bottom, right)``.
      mean: mean of the initial normal weights.
      std: their standard deviation.
      seed: JAX PRNG seed (Spyker: ``random_seed``).
    """

    def __init__(self, insize, outsize, kernel, stride=1, pad=0, mean=0.5, std=0.02, *, seed=0):
        kh, kw = expand2(kernel, "Conv: kernel", minimum=1)
        self.stride, self.pad = stride, pad
        self.kernel = mean + std * jax.random.normal(
            jax.random.PRNGKey(seed), (int(outsize), int(insize), kh, kw), jnp.float32)
        self.stdpconfig = []

    def __call__(self, array, threshold=None):
        """Dense input -> potentials; :class:`SparseSpikes` input -> :func:`sparse` ``conv`` with ``threshold``."""
        if isinstance(array, SparseSpikes):
            return _sparse_conv(array, self.kernel, 0.0 if threshold is None else threshold,
                                self.stride, self.pad)
        return conv(array, self.kernel, self.stride, self.pad)

    def stdp(self, array, winners, output=None):
        """``Conv.stdp(input, winners, output)``: see :func:`stdp`."""
        stdp(self, array, winners, output)


class FC:
    """``spyker.FC(insize, outsize, mean=0.5, std=0.02)``: kernel ``(outsize, insize)``.

    Args:
      insize: input features.
      outsize: output neurons.
      mean: mean of the initial normal weights.
      std: their standard deviation.
      seed: JAX PRNG seed.
    """

    def __init__(self, insize, outsize, mean=0.5, std=0.02, *, seed=0):
        self.kernel = mean + std * jax.random.normal(
            jax.random.PRNGKey(seed), (int(outsize), int(insize)), jnp.float32)
        self.stdpconfig = []

    def __call__(self, array, sign=False):
        """``(B, T, insize)`` -> ``(B, T, outsize)`` potentials."""
        return fc(array, self.kernel, sign)

    def stdp(self, array, winners, output):
        """``FC.stdp(input, winners, output)``: see :func:`stdp`."""
        stdp(self, array, winners, output)


def stdp(conv, array, winners, output=None):
    """``spyker.stdp(conv, input, winners, output)``: Spyker's sequential STDP, replacing ``conv.kernel``.

    Pre/post times are the first non-zero step of ``array``/``output`` (time
    ``T`` if none); winners are applied one after another with
    ``conv.stdpconfig[Winner.c]`` (:func:`spyxlike.stdp.stdp_spyker`). For an
    :class:`FC` layer the neuron is ``Winner.z`` (what ``fcwta`` writes;
    Spyker 0.1.0's ``FC.stdp`` reads ``Winner.x`` and ignores the output).

    Args:
      conv: a :class:`Conv` or :class:`FC` with a non-empty ``stdpconfig``.
      array: input waves ``(B, T, C, H, W)`` (``(B, T, F)`` for FC).
      winners: ``List[List[Winner]]`` (or core :class:`~spyxlike.winners.Winners`).
      output: the layer's output waves/potentials (``None`` for Conv: computed).

    Raises:
      ValueError: empty ``stdpconfig``.
    """
    if not conv.stdpconfig:
        raise ValueError("stdp: conv.stdpconfig is empty; set it to a list of STDPConfig")
    if isinstance(winners, Winners):
        win, index = winners, None
    else:
        win, index = from_winner_lists(winners)
    configs = list(conv.stdpconfig)
    if isinstance(conv, FC):
        x, y = jnp.asarray(array), jnp.asarray(output)
        new = _stdp.stdp_spyker_fc(conv.kernel.T, _coding.waves_to_times(x), _coding.waves_to_times(y),
                                   win, configs, config_index=index, time_steps=x.shape[1])
        conv.kernel = new.T
        return
    if output is None:
        output = conv(array)
    x, _ = _to_core(array, "stdp")
    y, _ = _to_core(output, "stdp", "output")
    new = _stdp.stdp_spyker(_hwio(conv.kernel, "stdp"), _coding.waves_to_times(x),
                            _coding.waves_to_times(y), win, configs, config_index=index,
                            stride=conv.stride, padding=conv.pad, time_steps=x.shape[1])
    conv.kernel = jnp.transpose(new, (3, 2, 0, 1))


# ----------------------------------------------------------------------------- filters

def _images(x, fn):
    x = jnp.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{fn}: array must be Spyker images (B, C, H, W), got shape {x.shape}")
    return jnp.transpose(x, (0, 2, 3, 1))


def _nchw(y):
    return jnp.transpose(y, (0, 3, 1, 2))


class DoG(_filters.DoG):
    """``spyker.DoG(size, filters, pad=0)`` on ``(B, C, H, W)`` images -> ``(B, C * F, Ho, Wo)``."""

    def __call__(self, array):
        return _nchw(super().__call__(_images(array, "DoG")))


class Gabor(_filters.Gabor):
    """``spyker.Gabor(size, filters, pad=0)`` on ``(B, C, H, W)`` images -> ``(B, C * F, Ho, Wo)``."""

    def __call__(self, array):
        return _nchw(super().__call__(_images(array, "Gabor")))


class LoG(_filters.LoG):
    """``spyker.LoG(size, stds, pad=0)`` on ``(B, C, H, W)`` images -> ``(B, C * 2S, Ho, Wo)``."""

    def __call__(self, array):
        return _nchw(super().__call__(_images(array, "LoG")))


class ZCA(_zca.ZCA):
    """``spyker.ZCA``: fit / ``__call__`` / save / load as the core; ``split`` stacks on axis 1.

    Whitening treats every axis but the first as features, so it works on
    Spyker-layout arrays unchanged. ``split(x)`` returns Spyker's
    ``(B, 2, ...)`` (positive part, negative part).
    """

    def split(self, array):
        """``(B, ...)`` -> ``(B, 2, ...)``: ``[max(x, 0), max(-x, 0)]``."""
        x = jnp.asarray(array)
        zero = jnp.zeros((), x.dtype)
        return jnp.stack([jnp.maximum(x, zero), jnp.maximum(-x, zero)], axis=1)


def canny(array, low, high):
    """``spyker.canny`` on ``(B, C, H, W)`` images -> uint8 0/255 edges, same layout."""
    return _nchw(_canny.canny(_images(array, "canny"), low, high))


# ----------------------------------------------------------------------------- sparse

def _sparse_code(array, time, sort=True):
    if not sort:
        raise ValueError("sparse.code: sort=False is not supported (spyxlike's sparse code always sorts)")
    x = jnp.asarray(array)
    if x.ndim == 4:
        x = jnp.transpose(x, (0, 2, 3, 1))
    return _sparse.code(x, time)


def _sparse_conv(array, kernel, threshold, stride=1, pad=0):
    return _sparse.conv(array, _hwio(kernel, "sparse.conv"), threshold, stride=stride, padding=pad)


def _sparse_pad(array, pad=0):
    return _sparse.pad(array, pad)


def _sparse_pool(array, kernel, stride=None, pad=0):
    return _sparse.pool(array, kernel, stride, pad)


def _sparse_inhibit(array, threshold=0.0):
    return _sparse.inhibit(array)


def _sparse_gather(array, dtype="u8"):
    times = _sparse.gather(array, _dtype(dtype))
    return _nchw(times) if times.ndim == 4 else times


def _sparse_convwta(array, radius, count):
    winners = _sparse.convwta(array, radius, count)
    times = _sparse.gather(array, jnp.int32)
    return to_winner_lists(winners, _winner_times(times, winners))


sparse = types.SimpleNamespace(
    code=_sparse_code, conv=_sparse_conv, pad=_sparse_pad, pool=_sparse_pool,
    inhibit=_sparse_inhibit, gather=_sparse_gather, convwta=_sparse_convwta,
)
sparse.__doc__ = (
    "Spyker's ``spyker.sparse``: ``code(array (B, C, H, W), time, sort=True)``, ``conv(spikes, "
    "kernel OIHW, threshold, stride=1, pad=0)``, ``pad``, ``pool(spikes, kernel, stride=None, "
    "pad=0)``, ``inhibit``, ``gather(spikes, dtype) -> (B, C, H, W) times``, ``convwta(spikes, "
    "radius, count) -> List[List[Winner]]``. Events are spyxlike SparseSpikes (channels-last)."
)
