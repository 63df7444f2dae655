r"""SLAYER-style layers: ``SpikeLayer(neuron, simulation)`` and its Haiku modules.

Mirrors ``slayer.spikeLayer`` of SLAYER PyTorch. A :class:`SpikeLayer` holds
the neuron and simulation descriptions and their psp / refractory kernels and
provides

* pure functions: :meth:`SpikeLayer.psp`, :meth:`SpikeLayer.spike`,
  :meth:`SpikeLayer.delay_shift`;
* factories of Haiku modules (call them inside ``hk.transform``):
  :meth:`~SpikeLayer.dense`, :meth:`~SpikeLayer.conv`, :meth:`~SpikeLayer.pool`,
  :meth:`~SpikeLayer.dropout`, :meth:`~SpikeLayer.delay`,
  :meth:`~SpikeLayer.psp_filter`, :meth:`~SpikeLayer.psp_layer`.

A SLAYER network ``spike(fc(psp(x)))`` reads the same::

    sl = SpikeLayer(neuron, simulation)
    def net(x):                                    # (batch, T, 700) spikes
        h = sl.spike(sl.dense(700, 128)(sl.psp(x)))
        return sl.spike(sl.dense(128, 10)(sl.psp(h)))
    model = hk.transform(net)

Differences from SLAYER: layout is ``(batch, T, *features)`` with
channels-last features ``(N,)`` or ``(H, W, C)`` (SLAYER: ``(N, C, H, W, T)``);
weights are stored as ``(in, out)`` (dense) and ``HWIO`` (conv) so they are
not interchangeable with SLAYER's state dicts without reordering.
Initialisations follow SLAYER: PyTorch's default conv init
``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` times ``weight_scale``, no bias.
"""

from __future__ import annotations

import math

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.axn import _check_int, _check_real
from spyxlike.delays import Delay, delay_shift
from spyxlike.ops.spike_matmul import spike_matmul
from spyxlike.srm import (as_neuron, as_simulation, psp, psp_bank, refractory_kernel,
                          spike, srm_kernel)

__all__ = ["SpikeLayer", "Dense", "Conv", "Pool", "Dropout", "PspFilter", "PspLayer", "Delay"]


def _pair(name, value, lo):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a tuple of two ints; got {value!r}")
        return tuple(_check_int(name, v, lo=lo) for v in value)
    v = _check_int(name, value, lo=lo)
    return (v, v)


def _torch_uniform(fan_in, scale):
    bound = float(scale) / math.sqrt(fan_in)
    return hk.initializers.RandomUniform(-bound, bound)


def _check_seq(op, x, min_ndim=3):
    x = jnp.asarray(x)
    if x.ndim < min_ndim:
        raise ValueError(f"{op}: input must be (batch, T, *features) with {min_ndim - 2} or more "
                         f"feature axes; got shape {x.shape}")
    return x


class Dense(hk.Module):
    r"""Fully connected projection applied at every time step (SLAYER ``dense``).

    ``y[b, t, :] = flatten(x[b, t]) @ W``, ``W`` of shape ``(in, out)``
    initialised ``U(-1/sqrt(in), 1/sqrt(in)) * weight_scale`` (PyTorch's
    conv default, SLAYER's ``weightScale``); no bias.

    Args:
      in_features: int or tuple whose product is the number of input
        neurons (SLAYER's ``(W, H, C)`` tuple is accepted: only the product
        is used; the input's features are flattened in channels-last order).
      out_features: int.
      weight_scale: SLAYER default 10.
      spike_driven: compute the product with
        :func:`spyxlike.ops.spike_matmul.spike_matmul` (same result; on CPU
        only the weight rows of non-zero inputs are read and the weight
        gradient is a sparse outer product: faster for sparse spike inputs).
      impl: implementation of ``spike_matmul`` when ``spike_driven``.
    """

    def __init__(self, in_features, out_features, weight_scale=10.0, spike_driven=False,
                 impl: str = "auto", name=None):
        super().__init__(name=name)
        self.spike_driven = bool(spike_driven)
        self.impl = impl
        if isinstance(in_features, (tuple, list)):
            if not 1 <= len(in_features) <= 3:
                raise ValueError(f"Dense: in_features must be an int or a tuple of up to three "
                                 f"ints; got {in_features!r}")
            self.in_features = int(np.prod([_check_int("in_features", v, lo=1)
                                            for v in in_features]))
        else:
            self.in_features = _check_int("in_features", in_features, lo=1)
        self.out_features = _check_int("out_features", out_features, lo=1)
        self.weight_scale = _check_real("weight_scale", weight_scale)

    def __call__(self, x):
        x = _check_seq("Dense", x)
        n = int(np.prod(x.shape[2:]))
        if n != self.in_features:
            raise ValueError(f"Dense: input has {n} features per time step (shape {x.shape}); "
                             f"in_features is {self.in_features}")
        w = hk.get_parameter("w", (self.in_features, self.out_features), jnp.float32,
                             init=_torch_uniform(self.in_features, self.weight_scale))
        flat = x.reshape(x.shape[:2] + (n,))
        if self.spike_driven:
            return spike_matmul(flat, w, impl=self.impl)
        return flat.astype(jnp.float32) @ w


class Conv(hk.Module):
    r"""2-D convolution applied at every time step (SLAYER ``conv``).

    Input ``(batch, T, H, W, C_in)`` -> ``(batch, T, H', W', C_out)``;
    ``torch.nn.Conv2d`` semantics (symmetric zero ``padding``, ``stride``,
    ``dilation``, ``groups``), weights ``HWIO`` ``(kh, kw, C_in/groups,
    C_out)`` initialised ``U(-1/sqrt(fan_in), 1/sqrt(fan_in)) * weight_scale``
    with ``fan_in = C_in/groups * kh * kw``; no bias.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, weight_scale=100.0, name=None):
        super().__init__(name=name)
        self.in_channels = _check_int("in_channels", in_channels, lo=1)
        self.out_channels = _check_int("out_channels", out_channels, lo=1)
        self.kernel_size = _pair("kernel_size", kernel_size, 1)
        self.stride = _pair("stride", stride, 1)
        self.padding = _pair("padding", padding, 0)
        self.dilation = _pair("dilation", dilation, 1)
        self.groups = _check_int("groups", groups, lo=1)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"Conv: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        self.weight_scale = _check_real("weight_scale", weight_scale)

    def __call__(self, x):
        x = _check_seq("Conv", x, 5)
        if x.ndim != 5 or x.shape[-1] != self.in_channels:
            raise ValueError(f"Conv: input must be (batch, T, H, W, {self.in_channels}); "
                             f"got shape {x.shape}")
        kh, kw = self.kernel_size
        cin = self.in_channels // self.groups
        w = hk.get_parameter("w", (kh, kw, cin, self.out_channels), jnp.float32,
                             init=_torch_uniform(cin * kh * kw, self.weight_scale))
        B, T = x.shape[:2]
        y = jax.lax.conv_general_dilated(
            x.reshape((B * T,) + x.shape[2:]).astype(jnp.float32), w, self.stride,
            [(p, p) for p in self.padding], rhs_dilation=self.dilation,
            dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=self.groups)
        return y.reshape((B, T) + y.shape[1:])


class Pool(hk.Module):
    r"""Sum pooling with SLAYER's fixed weight ``1.1 * theta`` per pooled input (SLAYER ``pool``).

    Input ``(batch, T, H, W, C)``; every channel pooled on its own:
    ``y = 1.1 * theta * sum_{window} x``. As SLAYER, when ``H`` (``W``) is not
    a multiple of the kernel height (width) the input is first extended by
    ``H % kh`` (``W % kw``) zero rows (columns) at the bottom (right);
    ``stride`` defaults to the kernel size; ``padding`` is symmetric zero
    padding, ``dilation`` spaces the window. The weight is not a parameter.

    Difference: SLAYER pools a ``(C*H, W)`` reshaped map, so with
    ``padding > 0`` or a stride that does not divide ``H`` its windows can
    straddle two channels; spyxlike never mixes channels.
    """

    def __init__(self, theta, kernel_size, stride=None, padding=0, dilation=1, name=None):
        super().__init__(name=name)
        self.theta = _check_real("theta", theta, lo=0, lo_open=True)
        self.kernel_size = _pair("kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _pair("stride", stride, 1)
        self.padding = _pair("padding", padding, 0)
        self.dilation = _pair("dilation", dilation, 1)

    def __call__(self, x):
        x = _check_seq("Pool", x, 5)
        if x.ndim != 5:
            raise ValueError(f"Pool: input must be (batch, T, H, W, C); got shape {x.shape}")
        kh, kw = self.kernel_size
        H, W = x.shape[2:4]
        x = jnp.pad(x.astype(jnp.float32),
                    ((0, 0), (0, 0), (0, H % kh), (0, W % kw), (0, 0)))
        (ph, pw), (sh, sw), (dh, dw) = self.padding, self.stride, self.dilation
        # A Python 0.0 init (not a jnp scalar) keeps reduce_window a
        # differentiable window sum under jit.
        y = jax.lax.reduce_window(
            x, 0.0, jax.lax.add, (1, 1, kh, kw, 1), (1, 1, sh, sw, 1),
            ((0, 0), (0, 0), (ph, ph), (pw, pw), (0, 0)), window_dilation=(1, 1, dh, dw, 1))
        return y * jnp.float32(1.1 * self.theta)


class Dropout(hk.Module):
    r"""Dropout that keeps a dropped neuron silent for all time steps (SLAYER ``dropout``).

    One Bernoulli mask per ``(batch, *features)`` element, shared by every
    time step; survivors are scaled by ``1 / (1 - p)`` (``torch.nn.Dropout3d``
    on SLAYER's per-neuron reshape). Identity when ``is_training`` is False.
    Needs an RNG key (``hk.transform`` with ``apply(params, rng, ...)``).
    """

    def __init__(self, p=0.5, name=None):
        super().__init__(name=name)
        self.p = _check_real("p", p, lo=0, hi=1, hi_open=True)

    def __call__(self, x, is_training=True):
        x = _check_seq("Dropout", x)
        if not is_training or self.p == 0.0:
            return x
        keep = jax.random.bernoulli(hk.next_rng_key(), 1.0 - self.p,
                                    (x.shape[0], 1) + x.shape[2:])
        return jnp.where(keep, x / (1.0 - self.p), jnp.zeros((), x.dtype))


class PspLayer(hk.Module):
    r"""Learnable psp filter shared by all neurons, initialised to the SRM kernel (SLAYER ``pspLayer``).

    Parameter ``kernel`` ``(K,)`` in convolution order (``kernel[k]`` weighs
    the input ``k`` steps back; SLAYER stores it flipped for PyTorch's
    correlation); output :func:`spyxlike.srm.psp` ``(x, kernel, Ts)``.
    """

    def __init__(self, kernel, Ts=1.0, name=None):
        super().__init__(name=name)
        self.init_kernel = np.asarray(kernel, np.float32)
        if self.init_kernel.ndim != 1 or self.init_kernel.size < 1:
            raise ValueError(f"PspLayer: kernel must be a non-empty 1-D array; got shape "
                             f"{self.init_kernel.shape}")
        self.Ts = _check_real("Ts", Ts, lo=0, lo_open=True)

    def __call__(self, x):
        x = _check_seq("PspLayer", x)
        k = hk.get_parameter("kernel", self.init_kernel.shape, jnp.float32,
                             init=lambda s, d: jnp.asarray(self.init_kernel, d))
        return psp(x, k, self.Ts)


class PspFilter(hk.Module):
    r"""A learnable bank of ``n_filter`` temporal filters (SLAYER ``pspFilter``).

    Parameter ``kernels`` ``(n_filter, filter_length)`` initialised
    ``U(-1/sqrt(L), 1/sqrt(L)) * filter_scale`` (PyTorch's conv default);
    output :func:`spyxlike.srm.psp_bank`: ``(batch, T, *spatial, n_filter *
    C)`` with channel ``f * C + c`` = filter ``f`` on channel ``c``.
    """

    def __init__(self, n_filter, filter_length, Ts=1.0, filter_scale=1.0, name=None):
        super().__init__(name=name)
        self.n_filter = _check_int("n_filter", n_filter, lo=1)
        self.filter_length = _check_int("filter_length", filter_length, lo=1)
        self.Ts = _check_real("Ts", Ts, lo=0, lo_open=True)
        self.filter_scale = _check_real("filter_scale", filter_scale)

    def __call__(self, x):
        x = _check_seq("PspFilter", x)
        k = hk.get_parameter("kernels", (self.n_filter, self.filter_length), jnp.float32,
                             init=_torch_uniform(self.filter_length, self.filter_scale))
        return psp_bank(x, k, self.Ts)


class SpikeLayer:
    r"""SLAYER's ``spikeLayer(neuronDesc, simulationDesc, fullRefKernel)`` for spyxlike.

    Args:
      neuron: :class:`spyxlike.srm.SRMNeuron` or SLAYER ``neuron`` mapping
        (``type: SRMALPHA``).
      simulation: :class:`spyxlike.srm.Simulation` or SLAYER ``simulation``
        mapping (``Ts``, ``tSample``).
      full_ref_kernel: SLAYER's ``fullRefKernel`` (refractory kernel
        truncated at 1e-4 instead of 0.01).
      impl: implementation of the spike op (``"auto" | "reference" |
        "native"``).

    Attributes:
      srm_kernel: ``(K,)`` float32 psp kernel (``tauSr``).
      ref_kernel: ``(K_ref,)`` float32 refractory kernel.
    """

    def __init__(self, neuron, simulation, full_ref_kernel=False, impl: str = "auto"):
        self.neuron = as_neuron(neuron)
        self.simulation = as_simulation(simulation)
        self.full_ref_kernel = bool(full_ref_kernel)
        self.impl = impl
        Ts, tS = self.simulation.Ts, self.simulation.t_sample
        self.srm_kernel = srm_kernel(self.neuron.tau_sr, 1.0, Ts, tS)
        self.ref_kernel = refractory_kernel(self.neuron.theta, self.neuron.tau_ref,
                                            self.neuron.scale_ref, Ts, tS, full=full_ref_kernel)

    @property
    def Ts(self) -> float:
        return self.simulation.Ts

    # -------------------------------------------------------- pure functions

    def psp(self, spikes, *, method: str = "auto"):
        """Psp filtering with the neuron's SRM kernel (:func:`spyxlike.srm.psp`)."""
        return psp(spikes, self.srm_kernel, self.Ts, method=method)

    def spike(self, membrane_potential, *, return_potential=False):
        """Spikes with refractory response (:func:`spyxlike.srm.spike`)."""
        return spike(membrane_potential, self.neuron, self.Ts,
                     full_ref_kernel=self.full_ref_kernel, return_potential=return_potential,
                     impl=self.impl)

    def delay_shift(self, x, delay, Ts=1.0, *, mode: str = "slayer"):
        """:func:`spyxlike.delays.delay_shift` (``Ts`` defaults to 1 as in SLAYER's ``delayShift``)."""
        return delay_shift(x, delay, Ts, mode=mode)

    # -------------------------------------------------------- module factories

    def dense(self, in_features, out_features, weight_scale=10.0, spike_driven=False,
              name=None) -> Dense:
        """A :class:`Dense` projection (SLAYER default ``weightScale=10``)."""
        return Dense(in_features, out_features, weight_scale, spike_driven=spike_driven,
                     impl=self.impl, name=name)

    def conv(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
             groups=1, weight_scale=100.0, name=None) -> Conv:
        """A :class:`Conv` layer (SLAYER default ``weightScale=100``)."""
        return Conv(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                    weight_scale, name=name)

    def pool(self, kernel_size, stride=None, padding=0, dilation=1, name=None) -> Pool:
        """A :class:`Pool` with weight ``1.1 * theta``."""
        return Pool(self.neuron.theta, kernel_size, stride, padding, dilation, name=name)

    def dropout(self, p=0.5, name=None) -> Dropout:
        """A :class:`Dropout` (dropped neurons stay silent for all time steps)."""
        return Dropout(p, name=name)

    def delay(self, input_size, mode: str = "slayer", name=None) -> Delay:
        """A learnable :class:`spyxlike.delays.Delay` with this simulation's ``Ts``."""
        return Delay(input_size, self.Ts, mode=mode, name=name)

    def psp_filter(self, n_filter, filter_length, filter_scale=1.0, name=None) -> PspFilter:
        """A learnable :class:`PspFilter` bank."""
        return PspFilter(n_filter, filter_length, self.Ts, filter_scale, name=name)

    def psp_layer(self, name=None) -> PspLayer:
        """A learnable :class:`PspLayer` initialised to the SRM kernel."""
        return PspLayer(self.srm_kernel, self.Ts, name=name)
