"""Pure functional neuron steps: ``step(x, state, **params) -> (out, new_state)``.

One function per neuron model of Spyx 0.1.20 (``spyx.nn``). Each advances a
layer by one time step and has no side effects, so it can be used directly
with ``jax.lax.scan``, ``jax.jit``, ``jax.vmap`` and ``jax.grad``; the Haiku
cores in :mod:`spyxlike.nn` only create (and clip) parameters and call these.

Update order (Spyx): spikes are computed from the *old* membrane potential,

.. math:: s_t = \\mathrm{act}(V_{t-1} - \\vartheta)

and the reset is by subtraction, ``- s_t * threshold``, applied in the same
step in which the spike is emitted. ``act`` is a surrogate-gradient
activation from :mod:`spyxlike.axn` (default ``superspike()``, as in Spyx),
so gradients flow through the reset too (Spyx does not detach it).

Shapes: ``x`` and every state array share one shape ``(..., *features)``
(for example ``(batch, n)`` or a conv feature map ``(batch, H, W, C)``);
per-neuron parameters (``beta``, ``gamma``, ``alpha``) broadcast against it
(a scalar or an array of the feature shape). Recurrent weights ``w`` have
shape ``(C, C)`` and act on the last (channel) axis: ``feedback = s @ w``.
Two-variable states are pytrees (tuples) here; :mod:`spyxlike.nn` packs them
into one array along the last axis.

These functions take the *effective* decays: they do not clip them to
``[0, 1]`` (the Haiku cores do that) and do not validate traced values.
"""

from .axn import superspike

__all__ = [
    "if_step",
    "lif_step",
    "alif_step",
    "li_step",
    "rif_step",
    "rlif_step",
    "cuba_lif_step",
    "rcuba_lif_step",
    "DEFAULT_ACTIVATION",
]

#: Spyx's default activation: Heaviside forward, SuperSpike(k=25) gradient.
DEFAULT_ACTIVATION = superspike()


def _pair(name, state):
    if not (isinstance(state, (tuple, list)) and len(state) == 2):
        raise TypeError(f"{name} expects state as a pair of arrays "
                        f"(see its docstring); got {type(state).__name__}")
    return state


def if_step(x, v, *, threshold=1.0, activation=DEFAULT_ACTIVATION):
    """Integrate-and-fire step (Spyx ``IF``).

    .. math::
        s_t = \\mathrm{act}(V_{t-1} - \\vartheta) \\\\
        V_t = V_{t-1} + x_t - s_t \\vartheta

    :param x: input current, shape ``S``.
    :param v: membrane potential ``V_{t-1}``, shape ``S``.
    :param threshold: firing threshold ``theta``.
    :param activation: surrogate-gradient activation.
    :return: ``(s_t, V_t)``, both shape ``S``.
    """
    spikes = activation(v - threshold)
    v = v + x - spikes * threshold
    return spikes, v


def lif_step(x, v, *, beta, threshold=1.0, activation=DEFAULT_ACTIVATION):
    """Leaky integrate-and-fire step (Spyx ``LIF``, after snnTorch ``Leaky``).

    .. math::
        s_t = \\mathrm{act}(V_{t-1} - \\vartheta) \\\\
        V_t = \\beta V_{t-1} + x_t - s_t \\vartheta

    :param x: input current, shape ``S``.
    :param v: membrane potential ``V_{t-1}``, shape ``S``.
    :param beta: membrane decay, broadcastable to ``S``.
    :param threshold: firing threshold ``theta``.
    :param activation: surrogate-gradient activation.
    :return: ``(s_t, V_t)``, both shape ``S``.
    """
    spikes = activation(v - threshold)
    v = beta * v + x - spikes * threshold
    return spikes, v


def alif_step(x, state, *, beta, gamma, threshold=1.0,
              activation=DEFAULT_ACTIVATION):
    """Adaptive LIF step (Spyx ``ALIF``, after Bellec et al. 2018's LSNN).

    .. math::
        \\vartheta_t = \\vartheta + T_{t-1} \\\\
        s_t = \\mathrm{act}(V_{t-1} - \\vartheta_t) \\\\
        V_t = \\beta V_{t-1} + x_t - s_t \\vartheta_t \\\\
        T_t = \\gamma T_{t-1} + (1 - \\gamma) s_t

    :param x: input current, shape ``S``.
    :param state: ``(V_{t-1}, T_{t-1})``: potential and threshold adaptation,
        each shape ``S``.
    :param beta: membrane decay, broadcastable to ``S``.
    :param gamma: adaptation decay, broadcastable to ``S``.
    :param threshold: base threshold ``theta``.
    :param activation: surrogate-gradient activation.
    :return: ``(s_t, (V_t, T_t))``.
    """
    v, t = _pair("alif_step", state)
    thresh = threshold + t
    spikes = activation(v - thresh)
    v = beta * v + x - spikes * thresh
    t = gamma * t + (1 - gamma) * spikes
    return spikes, (v, t)


def li_step(x, v, *, beta):
    """Leaky integrator, non-spiking (Spyx ``LI``), typically the read-out.

    .. math:: V_t = \\beta V_{t-1} + x_t

    :param x: input, shape ``S``.
    :param v: potential ``V_{t-1}``, shape ``S``.
    :param beta: decay, broadcastable to ``S``.
    :return: ``(V_t, V_t)``: the potential is both output and state.
    """
    v = beta * v + x
    return v, v


def rif_step(x, v, *, w, threshold=1.0, activation=DEFAULT_ACTIVATION):
    """Recurrent integrate-and-fire step (Spyx ``RIF``).

    .. math::
        s_t = \\mathrm{act}(V_{t-1} - \\vartheta) \\\\
        V_t = V_{t-1} + x_t + s_t W - s_t \\vartheta

    :param x: input current, shape ``(..., C)``.
    :param v: potential ``V_{t-1}``, shape ``(..., C)``.
    :param w: recurrent weights ``W``, shape ``(C, C)``, acting on the last
        axis (``(s W)_j = sum_i s_i W_ij``).
    :param threshold: firing threshold ``theta``.
    :param activation: surrogate-gradient activation.
    :return: ``(s_t, V_t)``.
    """
    spikes = activation(v - threshold)
    v = v + x + spikes @ w - spikes * threshold
    return spikes, v


def rlif_step(x, v, *, beta, w, threshold=1.0, activation=DEFAULT_ACTIVATION):
    """Recurrent LIF step (Spyx ``RLIF``, after snnTorch ``RLeaky``).

    .. math::
        s_t = \\mathrm{act}(V_{t-1} - \\vartheta) \\\\
        V_t = \\beta V_{t-1} + x_t + s_t W - s_t \\vartheta

    :param x: input current, shape ``(..., C)``.
    :param v: potential ``V_{t-1}``, shape ``(..., C)``.
    :param beta: membrane decay, broadcastable to ``v``.
    :param w: recurrent weights, shape ``(C, C)``, on the last axis.
    :param threshold: firing threshold ``theta``.
    :param activation: surrogate-gradient activation.
    :return: ``(s_t, V_t)``.
    """
    spikes = activation(v - threshold)
    v = beta * v + x + spikes @ w - spikes * threshold
    return spikes, v


def cuba_lif_step(x, state, *, alpha, beta, threshold=1.0,
                  activation=DEFAULT_ACTIVATION):
    """Current-based LIF step (Spyx ``CuBaLIF``; reset as snnTorch ``Synaptic``).

    .. math::
        s_t = \\mathrm{act}(V_{t-1} - \\vartheta) \\\\
        I_t = \\alpha I_{t-1} + x_t \\\\
        V_t = \\beta V_{t-1} + I_t - s_t \\vartheta

    Differs from Spyx 0.1.20, which subtracts the reset twice,
    ``V_t = beta (V_{t-1} - s_t theta) + I_t - s_t theta``; here the reset is
    subtracted once, as in snnTorch's ``Synaptic`` and in every other model.

    :param x: input, shape ``S``.
    :param state: ``(V_{t-1}, I_{t-1})``: potential and synaptic current.
    :param alpha: synaptic-current decay, broadcastable to ``S``.
    :param beta: membrane decay, broadcastable to ``S``.
    :param threshold: firing threshold ``theta``.
    :param activation: surrogate-gradient activation.
    :return: ``(s_t, (V_t, I_t))``.
    """
    v, i = _pair("cuba_lif_step", state)
    spikes = activation(v - threshold)
    i = alpha * i + x
    v = beta * v + i - spikes * threshold
    return spikes, (v, i)


def rcuba_lif_step(x, state, *, alpha, beta, w, threshold=1.0,
                   activation=DEFAULT_ACTIVATION):
    """Recurrent current-based LIF step (Spyx ``RCuBaLIF``; reset as
    snnTorch ``RSynaptic``).

    .. math::
        s_t = \\mathrm{act}(V_{t-1} - \\vartheta) \\\\
        I_t = \\alpha I_{t-1} + x_t + s_t W \\\\
        V_t = \\beta V_{t-1} + I_t - s_t \\vartheta

    Differs from Spyx 0.1.20, which resets before the leak,
    ``V_t = beta (V_{t-1} - s_t theta) + I_t`` (so only ``beta * theta`` is
    removed); here the full threshold is subtracted after the leak, as in
    snnTorch's ``RSynaptic`` and in :func:`cuba_lif_step`.

    :param x: input, shape ``(..., C)``.
    :param state: ``(V_{t-1}, I_{t-1})``.
    :param alpha: synaptic-current decay, broadcastable to ``x``.
    :param beta: membrane decay, broadcastable to ``x``.
    :param w: recurrent weights, shape ``(C, C)``, on the last axis.
    :param threshold: firing threshold ``theta``.
    :param activation: surrogate-gradient activation.
    :return: ``(s_t, (V_t, I_t))``.
    """
    v, i = _pair("rcuba_lif_step", state)
    spikes = activation(v - threshold)
    i = alpha * i + x + spikes @ w
    v = beta * v + i - spikes * threshold
    return spikes, (v, i)
