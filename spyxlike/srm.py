r"""SLAYER's SRM-alpha neuron as pure functions: kernels, psp filtering, spiking.

Follows SLAYER PyTorch (``slayer.spikeLayer``, Shrestha & Orchard 2018):

* the psp (spike response) kernel is the alpha function

  .. math:: \varepsilon(t) = m \, \frac{t}{\tau}\, e^{1 - t/\tau},
     \qquad t = 0, T_s, 2T_s, \dots

  sampled every ``Ts`` and truncated like SLAYER's ``_calculateAlphaKernel``:
  sampling stops at the first ``t > tau`` where ``|eps(t)| < epsilon``
  (absolute, ``epsilon = 0.01``), and never goes past ``tSample`` when one is
  given;
* the refractory kernel is the same alpha function with ``tau = tauRef`` and
  ``m = -scaleRef * theta``;
* :func:`psp` is the causal temporal convolution
  ``y[t] = Ts * sum_k kernel[k] * x[t - k]`` (SLAYER's ``slayerCuda.conv``
  multiplies by ``Ts``; with spikes of height ``1/Ts`` one spike yields
  exactly the kernel);
* :func:`spike` thresholds the potential, emits spikes of height ``1/Ts``
  and adds the refractory kernel to the future potential of a neuron that
  fired (see :mod:`spyxlike.ops.srm_spike`).

Layout (spyxlike, not SLAYER): batch-first, time-second, channels-last,
``(batch, T, *features)``; SLAYER uses ``(N, C, H, W, T)`` with time last.
Neuron and simulation descriptors are :class:`SRMNeuron` and
:class:`Simulation` or SLAYER-style dicts (``neuron: {type: SRMALPHA, theta,
tauSr, tauRef, scaleRef, tauRho, scaleRho}``, ``simulation: {Ts, tSample}``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.axn import _check_real
from spyxlike.ops.srm_spike import srm_spike, spike_pdf

__all__ = [
    "SRMNeuron",
    "Simulation",
    "as_neuron",
    "as_simulation",
    "alpha_kernel",
    "srm_kernel",
    "refractory_kernel",
    "psp",
    "psp_bank",
    "spike",
    "spike_pdf",
    "PSP_METHODS",
]

PSP_METHODS = ("auto", "toeplitz", "fft", "conv")

# SLAYER's neuron-description keys -> SRMNeuron fields.
_NEURON_KEYS = {
    "theta": "theta", "tauSr": "tau_sr", "tauRef": "tau_ref", "scaleRef": "scale_ref",
    "tauRho": "tau_rho", "scaleRho": "scale_rho",
}
_SIM_KEYS = {"Ts": "Ts", "tSample": "t_sample"}


@dataclasses.dataclass(frozen=True)
class SRMNeuron:
    """SLAYER's SRM-alpha neuron description (``neuron:`` section, ``type: SRMALPHA``).

    Attributes (SLAYER key in brackets):
      theta: firing threshold (``theta``), > 0.
      tau_sr: psp (spike response) time constant in ms (``tauSr``), > 0.
      tau_ref: refractory time constant in ms (``tauRef``), > 0.
      scale_ref: refractory scale relative to ``theta`` (``scaleRef``), >= 0.
      tau_rho: surrogate-pdf time constant relative to ``theta`` (``tauRho``), > 0.
      scale_rho: surrogate-pdf scale (``scaleRho``), >= 0.
      type: always ``"SRMALPHA"``.

    Defaults are the values of SLAYER's documented example. Invalid values
    raise ``ValueError`` naming the field.
    """

    theta: float = 10.0
    tau_sr: float = 10.0
    tau_ref: float = 1.0
    scale_ref: float = 2.0
    tau_rho: float = 1.0
    scale_rho: float = 1.0
    type: str = "SRMALPHA"

    def __post_init__(self):
        if not isinstance(self.type, str) or self.type.upper() != "SRMALPHA":
            raise ValueError(
                f"neuron type must be 'SRMALPHA' for SRM layers; got {self.type!r} "
                "(the Loihi CUBA neuron, type 'LOIHI', has its own layer)")
        object.__setattr__(self, "type", "SRMALPHA")
        for field, lo, open_ in (("theta", 0, True), ("tau_sr", 0, True), ("tau_ref", 0, True),
                                 ("scale_ref", 0, False), ("tau_rho", 0, True),
                                 ("scale_rho", 0, False)):
            key = [k for k, v in _NEURON_KEYS.items() if v == field][0]
            object.__setattr__(self, field, _check_real(
                f"neuron.{field} ({key})", getattr(self, field), lo=lo, lo_open=open_))

    @classmethod
    def from_slayer(cls, desc: Mapping) -> "SRMNeuron":
        """Builds from a SLAYER ``neuron`` mapping (camelCase keys; snake_case also accepted).

        ``type`` defaults to ``SRMALPHA``; the six SRM keys are required (a
        missing one raises ``ValueError`` naming it); other keys are ignored.
        """
        if not isinstance(desc, Mapping):
            raise TypeError(f"neuron must be a mapping or SRMNeuron; got {type(desc).__name__}")
        kwargs = {"type": desc.get("type", "SRMALPHA")}
        for key, field in _NEURON_KEYS.items():
            if key in desc:
                kwargs[field] = desc[key]
            elif field in desc:
                kwargs[field] = desc[field]
            else:
                raise ValueError(f"neuron description is missing the field {key!r}")
        return cls(**kwargs)

    def to_slayer(self) -> dict:
        """The SLAYER ``neuron`` dict."""
        out = {"type": self.type}
        out.update({k: getattr(self, f) for k, f in _NEURON_KEYS.items()})
        return out


@dataclasses.dataclass(frozen=True)
class Simulation:
    """SLAYER's simulation description (``simulation:`` section).

    Attributes:
      Ts: sampling time in ms (``Ts``), > 0.
      t_sample: sample length in ms (``tSample``), > 0 and an integer multiple
        of ``Ts`` (checked to a relative tolerance of 1e-9).
    """

    Ts: float = 1.0
    t_sample: float = 100.0

    def __post_init__(self):
        object.__setattr__(self, "Ts", _check_real("simulation.Ts", self.Ts, lo=0, lo_open=True))
        object.__setattr__(self, "t_sample", _check_real(
            "simulation.t_sample (tSample)", self.t_sample, lo=0, lo_open=True))
        ratio = self.t_sample / self.Ts
        if abs(ratio - round(ratio)) > 1e-9 * max(1.0, ratio):
            raise ValueError(
                f"simulation.Ts must divide simulation.tSample; got Ts={self.Ts!r}, "
                f"tSample={self.t_sample!r} (ratio {ratio!r})")

    @property
    def num_steps(self) -> int:
        """Number of time bins ``tSample / Ts``."""
        return int(round(self.t_sample / self.Ts))

    @classmethod
    def from_slayer(cls, desc: Mapping) -> "Simulation":
        """Builds from a SLAYER ``simulation`` mapping (``Ts``, ``tSample``; snake_case accepted)."""
        if not isinstance(desc, Mapping):
            raise TypeError(
                f"simulation must be a mapping or Simulation; got {type(desc).__name__}")
        kwargs = {}
        for key, field in _SIM_KEYS.items():
            if key in desc:
                kwargs[field] = desc[key]
            elif field in desc:
                kwargs[field] = desc[field]
            else:
                raise ValueError(f"simulation description is missing the field {key!r}")
        return cls(**kwargs)

    def to_slayer(self) -> dict:
        """The SLAYER ``simulation`` dict."""
        return {"Ts": self.Ts, "tSample": self.t_sample}


def as_neuron(neuron) -> SRMNeuron:
    """An :class:`SRMNeuron` from itself or a SLAYER-style mapping."""
    return neuron if isinstance(neuron, SRMNeuron) else SRMNeuron.from_slayer(neuron)


def as_simulation(simulation) -> Simulation:
    """A :class:`Simulation` from itself or a SLAYER-style mapping."""
    return simulation if isinstance(simulation, Simulation) else Simulation.from_slayer(simulation)


# ------------------------------------------------------------------ kernels


def alpha_kernel(tau, mult=1.0, Ts=1.0, t_sample=None, epsilon=0.01) -> np.ndarray:
    r"""SLAYER's truncated, sampled alpha function ``mult * t/tau * exp(1 - t/tau)``.

    Samples ``t = 0, Ts, 2 Ts, ...`` (``t < t_sample`` when ``t_sample`` is
    given) and stops at the first sample with ``t > tau`` and
    ``|value| < epsilon`` (absolute, as SLAYER's ``_calculateAlphaKernel``).
    Computed in float64, returned as a float32 NumPy array of length ``K >= 1``
    (``kernel[0] = 0``).
    """
    tau = _check_real("tau", tau, lo=0, lo_open=True)
    mult = _check_real("mult", mult)
    Ts = _check_real("Ts", Ts, lo=0, lo_open=True)
    epsilon = _check_real("epsilon", epsilon, lo=0, lo_open=True)
    if t_sample is not None:
        t_sample = _check_real("t_sample", t_sample, lo=0, lo_open=True)
        limit = int(math.ceil(t_sample / Ts - 1e-9))
    else:
        limit = None
    values = []
    i = 0
    while limit is None or i < limit:
        t = i * Ts
        v = mult * t / tau * math.exp(1.0 - t / tau)
        if abs(v) < epsilon and t > tau:
            break
        values.append(v)
        i += 1
    if not values:
        values = [0.0]
    return np.asarray(values, np.float64).astype(np.float32)


def srm_kernel(tau, mult=1.0, Ts=1.0, t_sample=None, epsilon=0.01) -> np.ndarray:
    r"""SLAYER's SRM-alpha psp kernel ``eps[k] = mult (k Ts / tau) exp(1 - k Ts / tau)``.

    ``tau`` is ``tauSr``; SLAYER uses ``mult = 1``. Truncation as
    :func:`alpha_kernel`. Returns float32 ``(K,)``.
    """
    return alpha_kernel(tau, mult, Ts, t_sample, epsilon)


def refractory_kernel(theta, tau_ref, scale_ref, Ts=1.0, t_sample=None, full=False) -> np.ndarray:
    r"""SLAYER's refractory kernel ``nu[k] = -scale_ref * theta * (k Ts/tau_ref) exp(1 - k Ts/tau_ref)``.

    Truncated like :func:`alpha_kernel` with ``epsilon = 0.01`` (absolute,
    i.e. in potential units), or ``1e-4`` when ``full`` (SLAYER's
    ``fullRefKernel``). Returns float32 ``(K,)`` with ``nu[0] = 0``.
    """
    theta = _check_real("theta", theta, lo=0, lo_open=True)
    scale_ref = _check_real("scale_ref", scale_ref, lo=0)
    return alpha_kernel(tau_ref, -scale_ref * theta, Ts, t_sample, 1e-4 if full else 0.01)


# ------------------------------------------------------------------ psp


def _check_sequence(op, x):
    if x.ndim < 2:
        raise ValueError(f"{op}: input must be (batch, T, *features); got shape {x.shape}")


def _kernel_array(op, kernel):
    k = jnp.asarray(kernel, jnp.float32) if not isinstance(kernel, jax.Array) else kernel
    if k.ndim != 1 or k.shape[0] < 1:
        raise ValueError(f"{op}: kernel must be a non-empty 1-D array; got shape {k.shape}")
    return k.astype(jnp.float32)


def _toeplitz(kernel, T):
    """The (T, T) lower-triangular banded matrix ``M[t, s] = kernel[t - s]``."""
    K = kernel.shape[0]
    lag = np.arange(T)[:, None] - np.arange(T)[None, :]
    valid = (lag >= 0) & (lag < K)
    padded = jnp.concatenate([kernel, jnp.zeros((1,), kernel.dtype)])
    idx = np.where(valid, lag, K)
    return padded[idx]


def _psp_toeplitz(x, kernel):
    # One 2-D (T, T) @ (T, batch * neurons) matmul on a time-major copy: about
    # twice as fast on XLA's CPU backend as the batched einsum over (batch, T, N).
    B, T = x.shape[:2]
    m = _toeplitz(kernel[:T], T)
    xt = jnp.moveaxis(x, 1, 0).reshape(T, -1)
    y = jnp.matmul(m, xt, precision=jax.lax.Precision.HIGHEST)
    return jnp.moveaxis(y.reshape((T, B) + x.shape[2:]), 0, 1)


def _psp_fft(x, kernel):
    T = x.shape[1]
    K = min(kernel.shape[0], T)
    n = 1 << int(math.ceil(math.log2(T + K - 1)))
    xf = jnp.fft.rfft(x, n=n, axis=1)
    kf = jnp.fft.rfft(kernel[:K], n=n)
    kf = kf.reshape((1, -1) + (1,) * (x.ndim - 2))
    return jnp.fft.irfft(xf * kf, n=n, axis=1)[:, :T].astype(jnp.float32)


def _psp_conv(x, kernel):
    B, T = x.shape[:2]
    feat = x.shape[2:]
    K = min(kernel.shape[0], T)
    # (B, T, N) -> (B*N, 1, T): a single-channel causal 1-D convolution.
    seq = jnp.moveaxis(x.reshape(B, T, -1), 1, 2).reshape(-1, 1, T)
    rhs = kernel[:K][::-1].reshape(1, 1, K)  # conv_general_dilated correlates
    y = jax.lax.conv_general_dilated(seq, rhs, (1,), [(K - 1, 0)],
                                     precision=jax.lax.Precision.HIGHEST)
    return jnp.moveaxis(y.reshape(B, -1, T), 1, 2).reshape((B, T) + feat)


def _choose_method(T):
    return "toeplitz" if T <= 1024 else "fft"


def psp(spikes, kernel, Ts=1.0, *, method: str = "auto"):
    r"""Causal temporal convolution of spikes with a psp kernel along time (SLAYER's ``psp``).

    .. math:: y[b, t, n] = T_s \sum_{k=0}^{K-1} \mathrm{kernel}[k]\; x[b, t - k, n]

    (``x[t] = 0`` for ``t < 0``; SLAYER's ``slayerCuda.conv``.)

    Implementations (``method``), all linear and differentiable w.r.t. the
    spikes and the kernel (the learnable ``psp_layer``), none storing
    anything of size ``T^2`` per neuron:

    * ``"toeplitz"``: one ``(T, T)`` banded lower-triangular matrix shared by
      every neuron, applied as a single matmul over the time axis
      (``T^2`` floats in total, ``O(T * min(K, T))`` useful work per neuron;
      the fastest on CPU for the usual ``T`` of a few hundred);
    * ``"fft"``: zero-padded real FFT along time, ``O(T log T)`` per neuron;
    * ``"conv"``: ``jax.lax.conv_general_dilated`` as a one-channel causal
      1-D convolution per neuron (slow on XLA's CPU backend: about 80x the
      Toeplitz time for ``(64, 100, 128)``; kept for other backends);
    * ``"auto"``: ``toeplitz`` for ``T <= 1024``, ``fft`` above.

    Args:
      spikes: ``(batch, T, *features)`` float input (spikes of height
        ``1/Ts`` in SLAYER's convention, or any signal).
      kernel: ``(K,)`` kernel, ``kernel[k]`` weighs the input ``k`` steps back
        (:func:`srm_kernel`). Not flipped (SLAYER's learnable ``pspLayer``
        stores it flipped for PyTorch's correlation).
      Ts: sampling time; the sum is multiplied by it as in SLAYER.
      method: see above.

    Returns:
      ``(batch, T, *features)`` float32.
    """
    x = jnp.asarray(spikes)
    _check_sequence("psp", x)
    x = x.astype(jnp.float32)
    k = _kernel_array("psp", kernel)
    Ts = _check_real("Ts", Ts, lo=0, lo_open=True)
    if method not in PSP_METHODS:
        raise ValueError(f"psp: method must be one of {PSP_METHODS}; got {method!r}")
    if method == "auto":
        method = _choose_method(x.shape[1])
    fn = {"toeplitz": _psp_toeplitz, "fft": _psp_fft, "conv": _psp_conv}[method]
    return fn(x, k) * jnp.float32(Ts)


def psp_bank(spikes, kernels, Ts=1.0, *, method: str = "auto"):
    r"""Applies each of ``F`` kernels to every neuron (SLAYER's ``pspFilter`` arithmetic).

    Args:
      spikes: ``(batch, T, *spatial, C)`` (or ``(batch, T, C)``).
      kernels: ``(F, K)``.

    Returns:
      ``(batch, T, *spatial, F * C)``: channel ``f * C + c`` is kernel ``f``
      applied to channel ``c`` (SLAYER's order, where output channel ``f``
      blocks of the input's ``C*H*W`` neurons come first).
    """
    x = jnp.asarray(spikes, jnp.float32)
    _check_sequence("psp_bank", x)
    if x.ndim < 3:
        raise ValueError(f"psp_bank: input must be (batch, T, ..., C); got shape {x.shape}")
    ks = jnp.asarray(kernels, jnp.float32)
    if ks.ndim != 2 or ks.shape[0] < 1 or ks.shape[1] < 1:
        raise ValueError(f"psp_bank: kernels must be (n_filter, length); got shape {ks.shape}")
    ys = jax.vmap(lambda k: psp(x, k, Ts, method=method))(ks)  # (F, B, T, ..., C)
    ys = jnp.moveaxis(ys, 0, -2)  # (B, T, ..., F, C)
    return ys.reshape(ys.shape[:-2] + (ys.shape[-2] * ys.shape[-1],))


# ------------------------------------------------------------------ spike


def spike(membrane_potential, neuron, Ts=1.0, *, full_ref_kernel=False, return_potential=False,
          impl: str = "auto"):
    r"""SLAYER's spike function with refractory response (``spikeLayer.spike``).

    Walks time per neuron: when ``u[t] >= theta`` a spike of height ``1/Ts``
    is emitted at ``t`` and the refractory kernel ``nu`` is added to the
    neuron's potential, ``u[t + j] += nu[j]`` for ``0 <= j < K``. The
    threshold test at later steps sees those refractory contributions
    (SLAYER's ``getSpikes`` modifies the potential in place; spyxlike returns
    the modified potential instead, ``return_potential=True``).

    Backward (SLAYER's ``_spikeFunction``): gradient w.r.t. the potential only,
    the refractory feedback ignored,

    .. math:: \frac{\partial s[t]}{\partial u[t]} \approx
       \frac{\rho_s}{\rho_\tau \theta}\,
       \exp\!\Big(-\frac{|\tilde u[t] - \theta|}{\rho_\tau \theta}\Big)

    with ``rho_s = scaleRho``, ``rho_tau = tauRho`` and ``u~`` the
    refractory-modified potential (what SLAYER's backward sees after the
    in-place update). ``theta > 0`` so ``|theta| = theta``.

    Args:
      membrane_potential: ``(batch, T, *features)``.
      neuron: :class:`SRMNeuron` or SLAYER ``neuron`` mapping.
      Ts: sampling time (spike height ``1/Ts``; kernel sampling).
      full_ref_kernel: SLAYER's ``fullRefKernel`` (truncate at 1e-4).
      return_potential: also return the refractory-modified potential.
      impl: ``"auto" | "reference" | "native"`` (:mod:`spyxlike.ops.srm_spike`).

    Returns:
      spikes ``(batch, T, *features)`` float32 (0 or ``1/Ts``), and the
      modified potential when ``return_potential``.
    """
    n = as_neuron(neuron)
    Ts = _check_real("Ts", Ts, lo=0, lo_open=True)
    ref = refractory_kernel(n.theta, n.tau_ref, n.scale_ref, Ts, full=full_ref_kernel)
    s, u = srm_spike(membrane_potential, ref, theta=n.theta, Ts=Ts, tau_rho=n.tau_rho,
                     scale_rho=n.scale_rho, impl=impl)
    return (s, u) if return_potential else s
