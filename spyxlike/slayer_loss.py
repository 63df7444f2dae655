"""SLAYER's spike losses and spike classifier.

Follows SLAYER's ``spikeLoss`` (``numSpikes``, ``spikeTime``) and
``spikeClassifier.getClass`` with spyxlike's layout: spike trains are
``(batch, T, *features)`` (batch first, time second; SLAYER's tensors are
``(N, C, H, W, T)``). Spikes have SLAYER's height ``1/Ts``, as
:func:`spyxlike.srm.spike` and :func:`spyxlike.loihi.spike_loihi` emit them,
so ``Ts * sum(spikes)`` counts spikes (0/1 spikes at ``Ts = 1``). The losses
are plain JAX functions (``jit``, ``vmap``, ``grad``); their configuration
(regions, counts, ``Ts``, the PSP) is static Python.

The PSP ``eps`` used by both losses is a causal filter along time (axis 1).
Pass it as ``psp``: either a 1-D kernel ``K``, applied with
:func:`spyxlike.srm.psp` as ``(eps * x)[t] = Ts * sum_{k<=t} K[k] x[t-k]``
(SLAYER's ``psp``), or a callable ``spikes -> filtered`` that keeps the
shape, used as it is (it must include any ``Ts`` factor itself).
:class:`SpikeLoss` builds it from a network description
(:func:`spike_loss`).
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .axn import _check_real
from .loihi import loihi_psp_kernel
from .srm import psp as _srm_psp
from .srm import srm_kernel

__all__ = [
    "num_spikes",
    "spike_time",
    "get_class",
    "SpikeLoss",
    "spike_loss",
]


def _check_spikes(fname, spikes, name="spike_out"):
    x = jnp.asarray(spikes)
    if x.ndim < 3:
        raise ValueError(f"{fname}: {name} must be (batch, T, *features) with "
                         f"at least one feature axis; got shape {x.shape}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(f"{fname}: {name} must be a floating array (0/1 "
                        f"spikes); got dtype {x.dtype}")
    return x


def _psp_fn(fname, psp, ts):
    if callable(psp):
        return psp
    if psp is None:
        raise ValueError(f"{fname}: psp is required: a callable "
                         f"spikes -> filtered spikes, or a 1-D PSP kernel")
    kernel = np.asarray(psp)
    if kernel.ndim != 1 or kernel.size == 0 or not np.issubdtype(
            kernel.dtype, np.number):
        raise ValueError(f"{fname}: psp must be a callable or a non-empty 1-D "
                         f"numeric kernel; got {type(psp).__name__} of shape "
                         f"{kernel.shape}")
    kernel = kernel.astype(np.float32)
    return lambda x: _srm_psp(x, kernel, ts).astype(x.dtype)


def _apply_psp(fname, psp, x):
    y = psp(x)
    if jnp.shape(y) != x.shape:
        raise ValueError(f"{fname}: psp must keep the shape {x.shape} of its "
                         f"input; it returned shape {jnp.shape(y)}")
    return y


def _pair(fname, name, value, keys):
    """Read a ``{keys[0]: a, keys[1]: b}`` mapping or an ``(a, b)`` pair."""
    if isinstance(value, Mapping):
        try:
            return value[keys[0]], value[keys[1]]
        except KeyError:
            raise ValueError(f"{fname}: {name} must have the keys {keys}; got "
                             f"{sorted(map(str, value))}") from None
    try:
        a, b = value
    except (TypeError, ValueError):
        raise ValueError(f"{fname}: {name} must be a pair or a mapping with "
                         f"keys {keys}; got {value!r}") from None
    return a, b


def _desired_mask(fname, desired_class, out_shape):
    """True where the neuron belongs to the desired class: shape
    ``(batch, 1, *features)``."""
    d = jnp.asarray(desired_class)
    batch, feats = out_shape[0], out_shape[2:]
    if jnp.issubdtype(d.dtype, jnp.integer) and d.shape == (batch,) and \
            len(feats) == 1:
        return jax.nn.one_hot(d, feats[0], dtype=jnp.bool_)[:, None]
    if d.shape == (batch,) + feats:
        return (d != 0)[:, None]
    if d.shape == (batch, 1) + feats:
        return d != 0
    raise ValueError(f"{fname}: desired_class must be integer labels of shape "
                     f"({batch},) (for spike_out of shape (batch, T, classes)) "
                     f"or one-hot of shape {(batch,) + feats} or "
                     f"{(batch, 1) + feats}; got shape {d.shape}")


def _region_ids(fname, target_region, ts, num_steps):
    start, stop = _pair(fname, "target_region", target_region,
                        ("start", "stop"))
    start = _check_real("target_region.start", start)
    stop = _check_real("target_region.stop", stop)
    i0, i1 = int(np.rint(start / ts)), int(np.rint(stop / ts))
    if not 0 <= i0 < i1 <= num_steps:
        raise ValueError(f"{fname}: target_region {{start: {start}, stop: "
                         f"{stop}}} is steps [{i0}, {i1}) at Ts={ts}; it must "
                         f"be a non-empty part of the {num_steps} steps of "
                         f"spike_out")
    return i0, i1


def num_spikes(spike_out, desired_class, *, target_region, target_counts, Ts,
               psp, num_spikes_scale=1.0):
    """SLAYER's ``numSpikes`` loss: spike counts inside a target region.

    With region steps ``[i0, i1) = [rint(start/Ts), rint(stop/Ts))``, target
    count ``n*`` = ``target_counts[True]`` for neurons of the desired class
    and ``target_counts[False]`` for the others, and the spike count
    ``n = Ts * sum_{t in [i0, i1)} spike_out[:, t]`` (held constant for the
    gradient), the error signal is

    .. math::
        e(t) = \\begin{cases}
        \\mathrm{scale} \\cdot \\frac{n - n^*}{i_1 - i_0}
            + (\\varepsilon * s_{\\mathrm{out}})(t) & t \\in [i_0, i_1) \\\\
        (\\varepsilon * s_{\\mathrm{out}})(t) & \\text{otherwise}
        \\end{cases}
        \\qquad E = \\frac{T_s}{2} \\sum_{b, t, n} e(t)^2

    where ``eps * s_out`` filters only the spikes *outside* the region:
    SLAYER computes ``psp(spikeOut - spikeDesired)`` with
    ``spikeDesired = region * spikeOut`` taken out of the graph, so inside
    the region its value is 0 but the gradient flows to every spike (and the
    PSP of spikes before ``i0`` reaches into the region). The gradient is
    therefore ``dE/ds_out = Ts * eps^T e``, which is how the count error
    reaches the network. The sum runs over the batch, as in SLAYER.

    Args:
      spike_out: ``(batch, T, *features)`` output spikes (height ``1/Ts``).
      desired_class: integer labels ``(batch,)`` when there is one feature
        axis, or a one-hot/boolean array ``(batch, *features)`` (also
        SLAYER's ``(batch, 1, *features)``).
      target_region: ``(start, stop)`` or ``{"start":, "stop":}`` in the
        units of ``Ts`` (SLAYER's ``tgtSpikeRegion``).
      target_counts: ``(true_count, false_count)`` or SLAYER's
        ``tgtSpikeCount`` mapping ``{True: ..., False: ...}``.
      Ts: sampling time (``> 0``).
      psp: the PSP filter: a shape-preserving callable on
        ``(batch, T, *features)`` or a 1-D kernel (see module docstring).
      num_spikes_scale: factor on the count error (SLAYER's
        ``numSpikesScale``, default 1).

    Returns:
      the scalar loss ``E``.
    """
    fname = "num_spikes"
    s = _check_spikes(fname, spike_out)
    ts = _check_real("Ts", Ts, lo=0.0, lo_open=True)
    scale = _check_real("num_spikes_scale", num_spikes_scale)
    n_true, n_false = _pair(fname, "target_counts", target_counts,
                            (True, False))
    n_true = _check_real("target_counts[True]", n_true)
    n_false = _check_real("target_counts[False]", n_false)
    i0, i1 = _region_ids(fname, target_region, ts, s.shape[1])
    is_true = _desired_mask(fname, desired_class, s.shape)
    eps = _psp_fn(fname, psp, ts)

    region = np.zeros((1, s.shape[1]) + (1,) * (s.ndim - 2), bool)
    region[:, i0:i1] = True
    actual = jax.lax.stop_gradient(
        jnp.sum(s[:, i0:i1], axis=1, keepdims=True) * ts)
    desired = jnp.where(is_true, n_true, n_false).astype(s.dtype)
    count_err = (actual - desired) / (i1 - i0) * scale
    outside = s - jax.lax.stop_gradient(jnp.where(region, s, 0))
    error = _apply_psp(fname, eps, outside) + jnp.where(region, count_err, 0)
    return 0.5 * jnp.sum(error ** 2) * ts


def spike_time(spike_out, spike_desired, *, psp, Ts=1.0):
    """SLAYER's ``spikeTime`` loss, a van Rossum-like distance.

    .. math:: E = \\frac{T_s}{2} \\sum_{b, t, n}
              \\left(\\varepsilon * (s_{\\mathrm{out}} - s_{\\mathrm{des}})\\right)(t)^2

    Args:
      spike_out: ``(batch, T, *features)`` output spikes.
      spike_desired: desired spikes of the same shape.
      psp: the PSP filter ``eps`` (a shape-preserving callable or a 1-D
        kernel, see the module docstring).
      Ts: sampling time (``> 0``, default 1).

    Returns:
      the scalar loss ``E``.
    """
    fname = "spike_time"
    s = _check_spikes(fname, spike_out)
    d = jnp.asarray(spike_desired)
    if d.shape != s.shape:
        raise ValueError(f"{fname}: spike_desired must have the shape "
                         f"{s.shape} of spike_out; got {d.shape}")
    ts = _check_real("Ts", Ts, lo=0.0, lo_open=True)
    error = _apply_psp(fname, _psp_fn(fname, psp, ts), s - d.astype(s.dtype))
    return 0.5 * jnp.sum(error ** 2) * ts


def get_class(spike):
    """The predicted class: the neuron with the most spikes over the whole
    simulation (SLAYER's ``spikeClassifier.getClass``).

    Args:
      spike: ``(batch, T, *features)`` spikes.

    Returns:
      int32 ``(batch,)``: ``argmax`` over the flattened features of the
      spike count (ties go to the first, as ``np.argmax``).
    """
    x = jnp.asarray(spike)
    if x.ndim < 3:
        raise ValueError(f"get_class: spike must be (batch, T, *features); "
                         f"got shape {x.shape}")
    counts = jnp.sum(x, axis=1).reshape(x.shape[0], -1)
    return jnp.argmax(counts, axis=1).astype(jnp.int32)


class SpikeLoss:
    """SLAYER's ``spikeLoss`` object: the losses configured by a network
    description.

    Reads ``training.error`` (``type``, ``tgtSpikeRegion``,
    ``tgtSpikeCount``), ``simulation.Ts`` and ``simulation.tSample``, and
    builds the PSP from the ``neuron`` section unless ``psp`` is given:
    the Loihi PSP kernel (:func:`spyxlike.loihi.loihi_psp_kernel`) for
    ``type: LOIHI`` (SLAYER's ``slayerClass=snn.loihi``), the SRM-alpha
    kernel (:func:`spyxlike.srm.srm_kernel` with ``tauSr``) for
    ``type: SRMALPHA``; both applied with :func:`spyxlike.srm.psp`.

    As in SLAYER, :meth:`num_spikes` requires ``training.error.type:
    NumSpikes`` and :meth:`spike_time` requires ``SpikeTime``.

    Args:
      net_params: a :class:`spyxlike.netconfig.NetParams` or a plain mapping
        with the same sections.
      psp: optional PSP (a shape-preserving callable or 1-D kernel).
    """

    def __init__(self, net_params, psp=None):
        try:
            self.simulation = net_params["simulation"]
            self.neuron = net_params["neuron"] if psp is None else None
            self.error = net_params["training"]["error"]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"spike_loss: net_params needs the sections "
                             f"simulation, training.error (and neuron unless "
                             f"psp is given); missing {exc}") from None
        self.Ts = _check_real("simulation.Ts", self.simulation.get("Ts"),
                              lo=0.0, lo_open=True)
        t_sample = _check_real("simulation.tSample",
                               self.simulation.get("tSample"), lo=0.0,
                               lo_open=True)
        self.num_steps = int(round(t_sample / self.Ts))
        self.type = self.error.get("type")
        if psp is None:
            psp = self._default_psp(self.neuron, t_sample)
        self.psp = _psp_fn("spike_loss", psp, self.Ts)

    def _default_psp(self, neuron, t_sample):
        kind = neuron.get("type") if isinstance(neuron, Mapping) else None
        if kind == "LOIHI":
            return loihi_psp_kernel(neuron, self.num_steps)
        if kind == "SRMALPHA":
            return srm_kernel(neuron.get("tauSr"), 1.0, self.Ts, t_sample)
        raise ValueError(f"spike_loss: neuron.type must be SRMALPHA or LOIHI "
                         f"to build the PSP (or pass psp=); got {kind!r}")

    def _require(self, kind):
        if self.type != kind:
            raise ValueError(f"training.error.type is {self.type!r}; this loss "
                             f"needs {kind!r} (as SLAYER asserts)")

    def num_spikes(self, spike_out, desired_class, num_spikes_scale=1.0):
        """:func:`num_spikes` with ``tgtSpikeRegion``, ``tgtSpikeCount`` and
        ``Ts`` from the description."""
        self._require("NumSpikes")
        return num_spikes(spike_out, desired_class,
                          target_region=self.error.get("tgtSpikeRegion"),
                          target_counts=self.error.get("tgtSpikeCount"),
                          Ts=self.Ts, psp=self.psp,
                          num_spikes_scale=num_spikes_scale)

    def spike_time(self, spike_out, spike_desired):
        """:func:`spike_time` with ``Ts`` and the PSP of the description."""
        self._require("SpikeTime")
        return spike_time(spike_out, spike_desired, psp=self.psp, Ts=self.Ts)


def spike_loss(net_params, psp=None):
    """Build a :class:`SpikeLoss` from a network description (SLAYER's
    ``snn.loss(netParams)``)."""
    return SpikeLoss(net_params, psp=psp)
