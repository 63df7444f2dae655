"""The Loihi CUBA neuron in Loihi's integer arithmetic, and weight quantisation.

Follows SLAYER's ``slayerLoihi`` module (``spikeLoihi``, ``spikeLoihiFull``,
the Loihi PSP kernel, ``quantizeWeights`` and the step-2 weights of its
``dense``/``conv``/``pool`` layers) with spyxlike's layout: arrays are
``(batch, T, *features)``, batch first, time second, and spikes are ``0/1``.

The neuron (one compartment, current-based synapse) is described by
:class:`LoihiNeuron`, or by SLAYER's ``neuron`` dictionary::

    neuron:
      type:     LOIHI
      vThMant:  80     # threshold mantissa:  theta = vThMant * 2**6
      vDecay:   128    # voltage decay, in 1/4096 per step
      iDecay:   1024   # current decay, in 1/4096 per step
      refDelay: 1      # refractory delay in steps (1 = none after the spike)
      wgtExp:   0      # weight exponent: input scale 2**(6 + wgtExp)
      tauRho:   1      # surrogate width, relative to theta
      scaleRho: 1      # surrogate height

Integer dynamics (per neuron, all quantities ``int32``)
-------------------------------------------------------

With ``d(x, D) = sign(x) * ((|x| * (4096 - D)) >> 12)`` (decay towards zero,
truncating the magnitude, exactly as SLAYER's CUDA kernel and Intel's
bit-accurate Loihi model), ``w_t = trunc(Ts * weighted_spikes[:, t])``,
``theta = vThMant << 6`` and ``c`` the number of steps since the last spike
(``c_0 = refDelay``), each step ``t = 0 .. T-1`` computes::

    u_t   = d(u_{t-1}, iDecay) + 2**(6 + wgtExp) * w_t      # current
    v'_t  = d(v_{t-1}, vDecay) + u_t                         # voltage before the test
    s_t   = (v'_t > theta) and (c_t >= refDelay)             # spike
    v_t   = 0 if s_t or c_t < refDelay else v'_t             # reset / refractory hold
    c_{t+1} = 1 if s_t else min(c_t + 1, refDelay)

starting from ``u_{-1} = v_{-1} = 0``. A neuron that spiked at step ``k``
cannot spike, and its voltage is held at 0, for steps ``k+1 .. k+refDelay-1``
(its current keeps integrating); ``refDelay = 1`` means no refractory period
beyond the reset. This is SLAYER's ``getSpikesKernel`` (``refState`` counts
the spikes of the last ``refDelay - 1`` steps; as at most one spike fits in
that window, it is exactly the ``c < refDelay`` test above).

Where spyxlike differs from SLAYER's kernel (each is documented, none
changes the equations):

* SLAYER forces step 0 to ``s = u = v = 0`` and ignores the input there;
  spyxlike integrates from step 0, as Loihi and Intel's Lava bit-accurate
  model do. Zero ``weighted_spikes[:, 0]`` to reproduce SLAYER exactly.
* SLAYER writes ``vDecay`` into the voltage trace at spike steps (a marker);
  :func:`spike_loihi_full` returns the true compartment voltage, 0 after a
  reset.
* The products ``|x| * (4096 - D)`` are formed without int32 overflow (split
  into high and low 12-bit parts), so ``|u|, |v|`` may use the whole int32
  range. Loihi's 24-bit saturation of ``u`` and ``v`` is not modelled
  (SLAYER does not model it either).

Units: like SLAYER (and :mod:`spyxlike.srm`), the functions take the
sampling time ``Ts`` (default 1): real inputs are multiplied by ``Ts``
before truncation and spikes have height ``1/Ts``, so that
``sum(spikes) * Ts`` counts spikes. Integer inputs are used as they are and
give spikes of height 1 (SLAYER sets ``Ts = 1`` for ``int32`` inputs).
Loihi itself runs at ``Ts = 1``, where spikes are 0/1.

Surrogate gradient (:func:`spike_loihi`)
----------------------------------------

As in SLAYER's ``_spike.backward`` for Loihi, with ``K`` the Loihi PSP
kernel (:func:`loihi_psp_kernel`, the voltage response to a unit weighted
spike) and ``tau = tauRho * theta``::

    rho_t = scaleRho / max(K) / tau * exp(-|v'_t - theta| / tau)
    dL/dw_t = Ts * sum_{k >= 0} K[k] * rho_{t+k} * dL/ds_{t+k}

(SLAYER divides ``scaleRho`` by ``max(K)`` when it builds a Loihi layer.)
spyxlike evaluates ``rho`` at the pre-reset voltage ``v'``, which is above
threshold at a spike; SLAYER evaluates it on its voltage trace, where the
``vDecay`` marker sits at spike steps. The correlation with ``K`` is the
adjoint of :func:`spyxlike.srm.psp` (a causal convolution along time that
never stores ``T x T`` per neuron), applied to the time-reversed signal.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .axn import _check_int, _check_real
from .srm import psp as _srm_psp

__all__ = [
    "LoihiNeuron",
    "spike_loihi",
    "spike_loihi_full",
    "loihi_psp_kernel",
    "loihi_psp_kernel_max",
    "quantize",
    "loihi_weights",
    "loihi_pool_weight",
    "LOIHI_WEIGHT_STEP",
]

#: Step of Loihi's signed (mixed-sign synapse) weights, used by SLAYER's
#: Loihi ``dense``/``conv``/``pool``.
LOIHI_WEIGHT_STEP = 2

_DECAY_UNITY = 4096  # decays are in 1/4096 per step (12-bit)
_KERNEL_CAP = 1 << 16  # longest PSP kernel traced to find its maximum


@dataclasses.dataclass(frozen=True)
class LoihiNeuron:
    """Parameters of the Loihi CUBA neuron (SLAYER's ``LOIHI`` neuron type).

    Attributes:
      v_th_mant: threshold mantissa ``vThMant``, an int in ``[0, 2**17)``;
        the threshold is ``theta = v_th_mant * 2**6``.
      v_decay: voltage decay ``vDecay`` in ``[0, 4096]`` (per step, in
        units of 1/4096; 0 = no leak, 4096 = full reset every step).
      i_decay: current decay ``iDecay`` in ``[0, 4096]``.
      ref_delay: refractory delay ``refDelay`` in steps, ``[1, 63]``.
      wgt_exp: weight exponent ``wgtExp`` in ``[-6, 7]``; inputs are scaled
        by ``2**(6 + wgt_exp)``. (Loihi allows down to -8; spyxlike keeps the
        scale an integer.)
      tau_rho: surrogate width relative to ``theta`` (``> 0``).
      scale_rho: surrogate height (``> 0``), before SLAYER's division by the
        PSP kernel's maximum.

    SLAYER's defaults are ``vThMant=80, vDecay=128, iDecay=1024, refDelay=1,
    wgtExp=0, tauRho=1, scaleRho=1``.
    """

    v_th_mant: int = 80
    v_decay: int = 128
    i_decay: int = 1024
    ref_delay: int = 1
    wgt_exp: int = 0
    tau_rho: float = 1.0
    scale_rho: float = 1.0

    def __post_init__(self):
        def chk_int(field, name, lo, hi):
            value = _check_int(name, getattr(self, field), lo=lo)
            if value > hi:
                raise ValueError(f"{name} must be an int in [{lo}, {hi}]; "
                                 f"got {getattr(self, field)!r}")
            object.__setattr__(self, field, value)

        chk_int("v_th_mant", "vThMant", 0, (1 << 17) - 1)
        chk_int("v_decay", "vDecay", 0, _DECAY_UNITY)
        chk_int("i_decay", "iDecay", 0, _DECAY_UNITY)
        chk_int("ref_delay", "refDelay", 1, 63)
        chk_int("wgt_exp", "wgtExp", -6, 7)
        object.__setattr__(self, "tau_rho", _check_real(
            "tauRho", self.tau_rho, lo=0.0, lo_open=True))
        object.__setattr__(self, "scale_rho", _check_real(
            "scaleRho", self.scale_rho, lo=0.0, lo_open=True))

    _SLAYER_KEYS = {"vThMant": "v_th_mant", "vDecay": "v_decay",
                    "iDecay": "i_decay", "refDelay": "ref_delay",
                    "wgtExp": "wgt_exp", "tauRho": "tau_rho",
                    "scaleRho": "scale_rho"}

    @classmethod
    def from_params(cls, neuron) -> "LoihiNeuron":
        """Build from SLAYER's ``neuron`` mapping (``vThMant``, ``vDecay``,
        ...); a :class:`LoihiNeuron` is returned as is.

        Missing keys take SLAYER's defaults. A ``type`` other than
        ``LOIHI``, or an unknown key, raises ``ValueError`` naming it;
        ``theta`` (which SLAYER adds to the dict itself) is accepted when it
        equals ``vThMant * 2**6``.
        """
        if isinstance(neuron, LoihiNeuron):
            return neuron
        if not isinstance(neuron, Mapping):
            raise TypeError(f"neuron must be a LoihiNeuron or a mapping of "
                            f"SLAYER's neuron fields; got {type(neuron).__name__}")
        kwargs = {}
        for key, value in neuron.items():
            if key == "type":
                if value != "LOIHI":
                    raise ValueError(f"neuron.type must be 'LOIHI' for the "
                                     f"Loihi neuron; got {value!r}")
            elif key in cls._SLAYER_KEYS:
                kwargs[cls._SLAYER_KEYS[key]] = value
            elif key != "theta":
                raise ValueError(f"neuron.{key}: unknown field for a LOIHI "
                                 f"neuron; expected {sorted(cls._SLAYER_KEYS)}")
        out = cls(**kwargs)
        if "theta" in neuron and neuron["theta"] != out.theta:
            raise ValueError(f"neuron.theta must equal vThMant * 2**6 = "
                             f"{out.theta} for a LOIHI neuron; got "
                             f"{neuron['theta']!r}")
        return out

    def to_params(self) -> dict:
        """SLAYER's ``neuron`` dictionary (``type: LOIHI`` and camelCase keys)."""
        out = {"type": "LOIHI"}
        out.update({k: getattr(self, v) for k, v in self._SLAYER_KEYS.items()})
        return out

    @property
    def theta(self) -> int:
        """Integer threshold ``vThMant * 2**6``."""
        return self.v_th_mant << 6

    @property
    def weight_scale(self) -> int:
        """Input scale ``2**(6 + wgtExp)``."""
        return 1 << (6 + self.wgt_exp)


# --------------------------------------------------------------------------
# Integer arithmetic
# --------------------------------------------------------------------------

def _decay(x, decay):
    """``sign(x) * ((|x| * (4096 - decay)) >> 12)`` on int32 without overflow.

    ``|x| = 4096 h + l`` gives ``(|x| m) >> 12 = h m + ((l m) >> 12)`` exactly,
    with ``l m < 2**24``.
    """
    m = np.int32(_DECAY_UNITY - decay)
    a = jnp.abs(x)
    r = (a >> 12) * m + (((a & 4095) * m) >> 12)
    return jnp.where(x >= 0, r, -r)


def _check_input(fname, weighted_spikes):
    x = jnp.asarray(weighted_spikes)
    if x.ndim < 2:
        raise ValueError(f"{fname}: weighted_spikes must be (batch, T, "
                         f"*features); got shape {x.shape}")
    if not (jnp.issubdtype(x.dtype, jnp.floating)
            or jnp.issubdtype(x.dtype, jnp.integer)):
        raise TypeError(f"{fname}: weighted_spikes must be a real or integer "
                        f"array; got dtype {x.dtype}")
    return x


def _to_int(x, ts):
    """C's ``int(Ts * x)`` (truncation towards zero), as SLAYER; integer
    inputs are taken as they are."""
    if jnp.issubdtype(x.dtype, jnp.integer):
        return x.astype(jnp.int32)
    return jnp.trunc(x * ts).astype(jnp.int32)


def _spike_height(x, ts):
    return 1.0 if jnp.issubdtype(x.dtype, jnp.integer) else 1.0 / ts


def _run(x, neuron: LoihiNeuron, ts):
    """Scan the integer dynamics over axis 1. Returns ``(s, v, u, v_pre)``,
    all int32 of the shape of ``x`` (``s`` is 0/1)."""
    w = jnp.swapaxes(_to_int(x, ts), 0, 1) * np.int32(neuron.weight_scale)
    feat = w.shape[1:]
    theta = np.int32(neuron.theta)
    ref = np.int32(neuron.ref_delay)

    def step(carry, w_t):
        u, v, c = carry
        u = _decay(u, neuron.i_decay) + w_t
        v_pre = _decay(v, neuron.v_decay) + u
        ready = c >= ref
        s = (v_pre > theta) & ready
        v = jnp.where(s | ~ready, np.int32(0), v_pre)
        c = jnp.where(s, np.int32(1), jnp.minimum(c + 1, ref))
        return (u, v, c), (s.astype(jnp.int32), v, u, v_pre)

    zeros = jnp.zeros(feat, jnp.int32)
    init = (zeros, zeros, jnp.full(feat, ref, jnp.int32))
    _, outs = jax.lax.scan(step, init, w)
    return tuple(jnp.swapaxes(o, 0, 1) for o in outs)


def _out_dtype(x):
    return x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.float32


def spike_loihi_full(weighted_spikes, neuron, Ts=1.0):
    """Loihi neuron dynamics returning spikes, voltage and current (SLAYER's
    ``spikeLoihiFull``).

    Runs the integer update documented in :mod:`spyxlike.loihi` (a
    ``lax.scan`` over time in int32). No gradient flows through it (the
    outputs are integers), as in SLAYER.

    Args:
      weighted_spikes: ``(batch, T, *features)`` synaptic input, i.e. spikes
        (0/1) weighted by their synaptic weights and summed per neuron; real
        values are truncated towards zero, integers used as they are. NOT
        filtered with a PSP: the neuron models the synapse itself.
      neuron: a :class:`LoihiNeuron` or SLAYER's ``neuron`` mapping.
      Ts: sampling time (``> 0``, default 1); see "Units" above.

    Returns:
      ``(spikes, voltage, current)`` of the input's shape: spikes of height
      ``1/Ts`` in the input's float dtype (float32 for integer inputs, height
      1), and the int32 voltage after reset (0 at spike steps and while
      refractory) and current.
    """
    x = _check_input("spike_loihi_full", weighted_spikes)
    neuron = LoihiNeuron.from_params(neuron)
    ts = _check_real("Ts", Ts, lo=0.0, lo_open=True)
    s, v, u, _ = _run(jax.lax.stop_gradient(x), neuron, ts)
    dtype = _out_dtype(x)
    return s.astype(dtype) * jnp.asarray(_spike_height(x, ts), dtype), v, u


# --------------------------------------------------------------------------
# PSP kernel and temporal correlation
# --------------------------------------------------------------------------

def _psp_values(neuron: LoihiNeuron, length):
    """SLAYER's ``_calculateLoihiPSP``: the voltage response to a weighted
    spike of 2 (one weight step), halved; at most ``length`` samples, ending
    where the voltage reaches 0."""
    u = v = 1 << (6 + neuron.wgt_exp + 1)
    out = [v]
    ku = _DECAY_UNITY - neuron.i_decay
    kv = _DECAY_UNITY - neuron.v_decay
    while v > 0 and len(out) < length:
        u = (u * ku) >> 12
        v = ((v * kv) >> 12) + u
        out.append(v)
    return out


@functools.lru_cache(maxsize=64)
def _psp_kernel_cached(neuron: LoihiNeuron, length: int):
    vals = _psp_values(neuron, length)
    kernel = np.zeros(length, np.float32)
    kernel[:len(vals)] = np.asarray(vals, np.float64) / 2
    kernel.setflags(write=False)
    return kernel


def loihi_psp_kernel(neuron, length):
    """The Loihi PSP kernel ``K`` of ``length`` samples (SLAYER's
    ``_calculateLoihiPSP``).

    ``K[k]`` is the voltage ``k`` steps after a unit weighted spike, without
    threshold: ``u_0 = v_0 = 2**(6+wgtExp+1)``,
    ``u_{k+1} = (u_k (4096 - iDecay)) >> 12``,
    ``v_{k+1} = ((v_k (4096 - vDecay)) >> 12) + u_{k+1}``, then ``K = v / 2``
    (SLAYER traces a weight of 2, Loihi's weight step, and halves). The
    kernel ends where ``v`` reaches 0; it is zero-padded or cut to
    ``length``.

    Args:
      neuron: a :class:`LoihiNeuron` or SLAYER's ``neuron`` mapping.
      length: number of samples, an int ``>= 1``.

    Returns:
      a read-only float32 NumPy array of shape ``(length,)``.
    """
    neuron = LoihiNeuron.from_params(neuron)
    length = _check_int("length", length, lo=1)
    return _psp_kernel_cached(neuron, length)


@functools.lru_cache(maxsize=64)
def _psp_max_cached(neuron: LoihiNeuron):
    return float(max(_psp_values(neuron, _KERNEL_CAP))) / 2


def loihi_psp_kernel_max(neuron):
    """``max(K)`` of the untruncated Loihi PSP kernel (SLAYER's
    ``maxPspKernel``), by which SLAYER divides ``scaleRho`` (traced for at
    most 65536 steps)."""
    return _psp_max_cached(LoihiNeuron.from_params(neuron))


def _causal_corr(y, kernel, ts):
    """``x[t] = Ts * sum_{k>=0} kernel[k] y[t+k]`` along axis 1: the adjoint
    of :func:`spyxlike.srm.psp`."""
    return jnp.flip(_srm_psp(jnp.flip(y, 1), kernel, ts), 1).astype(y.dtype)


# --------------------------------------------------------------------------
# spike_loihi with a surrogate gradient
# --------------------------------------------------------------------------

def _spike_pdf(v_pre, neuron: LoihiNeuron, dtype):
    theta = float(neuron.theta)
    tau = neuron.tau_rho * theta
    if tau == 0.0:  # vThMant = 0: a zero-width surrogate
        return jnp.zeros(v_pre.shape, dtype)
    scale = neuron.scale_rho / loihi_psp_kernel_max(neuron)
    v = v_pre.astype(jnp.float32)
    return (scale / tau * jnp.exp(-jnp.abs(v - theta) / tau)).astype(dtype)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2))
def _spike_loihi(x, neuron, ts):
    return _run(x, neuron, ts)[0].astype(x.dtype) * jnp.asarray(1.0 / ts, x.dtype)


def _spike_loihi_fwd(x, neuron, ts):
    s, _, _, v_pre = _run(x, neuron, ts)
    return s.astype(x.dtype) * jnp.asarray(1.0 / ts, x.dtype), v_pre


def _spike_loihi_bwd(neuron, ts, v_pre, g):
    pdf = _spike_pdf(v_pre, neuron, g.dtype)
    kernel = loihi_psp_kernel(neuron, v_pre.shape[1])
    return (_causal_corr(g * pdf, kernel, ts),)


_spike_loihi.defvjp(_spike_loihi_fwd, _spike_loihi_bwd)


def spike_loihi(weighted_spikes, neuron, Ts=1.0):
    """Loihi neuron spikes with a SLAYER surrogate gradient (``spikeLoihi``).

    Forward: the integer dynamics of :mod:`spyxlike.loihi`, returning spikes
    of height ``1/Ts`` in the input's float dtype. Backward: SLAYER's Loihi
    surrogate,
    ``dL/dw_t = Ts * sum_k K[k] rho_{t+k} dL/ds_{t+k}`` with
    ``rho = scaleRho / max(K) / (tauRho theta) * exp(-|v' - theta| / (tauRho theta))``
    (see the module docstring). Works under ``jit``, ``vmap`` and ``grad``.

    Args:
      weighted_spikes: ``(batch, T, *features)`` weighted synaptic input
        (not PSP-filtered); real values are multiplied by ``Ts`` and
        truncated towards zero in the forward pass. Integer inputs give
        float32 0/1 spikes and no gradient.
      neuron: a :class:`LoihiNeuron` or SLAYER's ``neuron`` mapping.
      Ts: sampling time (``> 0``, default 1).

    Returns:
      spikes of the input's shape.
    """
    x = _check_input("spike_loihi", weighted_spikes)
    neuron = LoihiNeuron.from_params(neuron)
    ts = _check_real("Ts", Ts, lo=0.0, lo_open=True)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        return _run(x, neuron, ts)[0].astype(_out_dtype(x))
    return _spike_loihi(x, neuron, ts)


# --------------------------------------------------------------------------
# Weight quantisation
# --------------------------------------------------------------------------

def quantize(weights, step=1.0):
    """Round weights to multiples of ``step`` with a straight-through gradient
    (SLAYER's ``quantizeWeights``).

    Forward: ``round(weights / step) * step`` (round half to even, like
    ``torch.round``). Backward: the gradient passes unchanged,
    ``d quantize(w) / d w := 1``.

    Args:
      weights: array of any shape (a floating dtype for gradients).
      step: the quantisation step, a real number ``> 0`` (SLAYER's default 1).

    Returns:
      an array of the shape and dtype of ``weights``.
    """
    step = _check_real("step", step, lo=0.0, lo_open=True)
    w = jnp.asarray(weights)
    q = (jnp.round(w / step) * step).astype(w.dtype)
    if not jnp.issubdtype(w.dtype, jnp.floating):
        return q
    return w + jax.lax.stop_gradient(q - w)


def loihi_weights(weights, quantize_weights=True):
    """Weights as a SLAYER Loihi ``dense``/``conv`` layer uses them:
    :func:`quantize` with step 2 (Loihi's signed weights) when
    ``quantize_weights`` (SLAYER's ``quantize=True``), unchanged otherwise."""
    if not isinstance(quantize_weights, (bool, np.bool_)):
        raise TypeError(f"quantize_weights must be a bool; got "
                        f"{quantize_weights!r}")
    if not quantize_weights:
        return jnp.asarray(weights)
    return quantize(weights, LOIHI_WEIGHT_STEP)


def loihi_pool_weight(neuron):
    """The fixed weight of SLAYER's Loihi ``pool`` layer (sum pooling).

    SLAYER picks the weight so that one input spike drives the pooled neuron
    just over threshold, on the step-2 grid:
    ``quantize(1.1 * theta / max(K), 2) / 1.1`` with ``K`` the Loihi PSP
    kernel (:func:`loihi_psp_kernel_max`).

    Returns:
      a Python float.
    """
    neuron = LoihiNeuron.from_params(neuron)
    raw = 1.1 * neuron.theta / loihi_psp_kernel_max(neuron)
    return float(np.round(raw / LOIHI_WEIGHT_STEP) * LOIHI_WEIGHT_STEP) / 1.1
