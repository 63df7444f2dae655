"""Haiku spiking-neuron cores and layer helpers (Spyx 0.1.20 ``spyx.nn``).

Every neuron core is a thin :class:`haiku.RNNCore` over a pure step function
of :mod:`spyxlike.neurons`: it creates the parameters exactly as Spyx does
(same names, shapes, initialisers and creation order, so the same
``hk.PRNGKey`` gives the same initial parameters), clips learnable decays to
``[0, 1]`` at every call, and calls the step. Use them with
``hk.dynamic_unroll(core, x, core.initial_state(batch), time_major=False)``
on inputs ``(batch, time, *hidden_shape)``.

Parameters (Spyx names):

* ``beta`` / ``gamma`` / ``alpha`` given as ``None`` -> one learnable decay
  per neuron, shape ``hidden_shape``, ``TruncatedNormal(0.25, 0.5)`` (``LI``:
  ``Constant(0.8)``).
* given as a number in ``[0, 1]`` -> one shared scalar parameter of shape
  ``()`` initialised to it (as in Spyx it is still a parameter, so an
  optimiser will train it unless you mask it).
* recurrent cores: ``"w"``, shape ``(C, C)`` with ``C = hidden_shape[-1]``,
  ``TruncatedNormal()``; the feedback ``s @ w`` acts on the last axis.

Differences from Spyx 0.1.20 (see ``docs/coming_from_spyx.md``): a decay of
``0.0`` is a fixed value (Spyx's ``if not beta`` made it learnable);
two-variable states (``ALIF``, ``CuBaLIF``, ``RCuBaLIF``) are packed along the
last axis only (Spyx doubles every axis); recurrent weights act on the last
axis (Spyx's ``hidden_shape * 2`` weight fails for conv maps); the CuBa
resets follow snnTorch (see :mod:`spyxlike.neurons`); ``initial_state(None)``
gives an unbatched state; arguments are validated. For 1-D ``hidden_shape``
the layouts and initial parameters are identical to Spyx.
"""

from collections.abc import Sequence

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from . import neurons
from .axn import _check_callable, _check_int, _check_real
from .ops.dispatch import check_impl
from .ops.leaky_scan import li_scan, lif_scan

__all__ = [
    "IF", "LIF", "ALIF", "LI", "RIF", "RLIF", "CuBaLIF", "RCuBaLIF",
    "ActivityRegularization", "sum_pool", "SumPool", "PopulationCode",
]


# --------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------

def _check_shape(name, shape):
    ok = (isinstance(shape, tuple) and len(shape) > 0 and all(
        isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_))
        and d > 0 for d in shape))
    if not ok:
        raise ValueError(f"{name} must be a non-empty tuple of positive ints, "
                         f"e.g. (128,) or (H, W, C); got {shape!r}")
    return tuple(int(d) for d in shape)


def _check_decay(name, value):
    if value is None:
        return None
    return _check_real(name, value, lo=0.0, hi=1.0)


def _decay_param(name, value, shape, init):
    """Create (or fetch) a decay parameter the way Spyx does, then clip it."""
    if value is None:
        param = hk.get_parameter(name, shape, init=init)
    else:
        param = hk.get_parameter(name, [], init=hk.initializers.Constant(value))
    return jnp.clip(param, 0, 1)


def _learnable_decay_init():
    return hk.initializers.TruncatedNormal(0.25, 0.5)


# --------------------------------------------------------------------------
# Neuron cores
# --------------------------------------------------------------------------

class _NeuronCore(hk.RNNCore):
    """Shared shape handling: ``hidden_shape``, state layout, input checks."""

    #: number of state variables packed along the last axis.
    _num_state_vars = 1

    def __init__(self, hidden_shape, name, shape_arg="hidden_shape"):
        # Validate before hk.Module.__init__ so bad arguments are reported
        # as such, even outside hk.transform.
        hidden_shape = _check_shape(shape_arg, hidden_shape)
        super().__init__(name=name)
        self.hidden_shape = hidden_shape

    @property
    def state_shape(self):
        """Unbatched state shape: ``hidden_shape`` with the last axis times
        the number of state variables."""
        *lead, c = self.hidden_shape
        return tuple(lead) + (c * self._num_state_vars,)

    def initial_state(self, batch_size):
        """Zero state, ``(batch_size, *state_shape)`` float32; with
        ``batch_size=None`` the state has no batch axis."""
        if batch_size is None:
            return jnp.zeros(self.state_shape)
        batch_size = _check_int("batch_size", batch_size, lo=1)
        return jnp.zeros((batch_size,) + self.state_shape)

    def _check_call(self, x, state):
        k = len(self.hidden_shape)
        xs, ss = tuple(jnp.shape(x)), tuple(jnp.shape(state))
        if xs[len(xs) - k:] != self.hidden_shape:
            raise ValueError(
                f"{type(self).__name__} '{self.module_name}': input x must "
                f"have trailing shape hidden_shape={self.hidden_shape}; got "
                f"x.shape={xs}")
        if ss[len(ss) - k:] != self.state_shape:
            raise ValueError(
                f"{type(self).__name__} '{self.module_name}': state must have "
                f"trailing shape {self.state_shape} (from initial_state); got "
                f"state.shape={ss}")
        try:
            np.broadcast_shapes(xs[:len(xs) - k], ss[:len(ss) - k])
        except ValueError:
            raise ValueError(
                f"{type(self).__name__} '{self.module_name}': leading (batch) "
                f"axes of x {xs} and state {ss} do not match") from None

    def _check_sequence(self, x_seq, state):
        k = len(self.hidden_shape)
        xs, ss = tuple(jnp.shape(x_seq)), tuple(jnp.shape(state))
        if (len(xs) != k + 2 or xs[2:] != self.hidden_shape
                or ss != (xs[0],) + self.state_shape):
            raise ValueError(
                f"{type(self).__name__} '{self.module_name}': unroll expects "
                f"x_seq of shape (batch, time, *{self.hidden_shape}) and state "
                f"(batch, *{self.state_shape}); got x_seq.shape={xs}, "
                f"state.shape={ss}")

    def _split(self, state):
        v, other = jnp.split(state, 2, axis=-1)
        return v, other

    @staticmethod
    def _join(a, b):
        return jnp.concatenate([a, b], axis=-1)


class _SpikingCore(_NeuronCore):
    def __init__(self, hidden_shape, threshold, activation, name):
        threshold = _check_real("threshold", threshold, lo=0.0, lo_open=True)
        _check_callable("activation", activation)
        super().__init__(hidden_shape, name)
        self.threshold = threshold
        self.activation = activation

    def _w(self):
        c = self.hidden_shape[-1]
        return hk.get_parameter("w", (c, c),
                                init=hk.initializers.TruncatedNormal())


class IF(_SpikingCore):
    """Integrate-and-fire core (Spyx ``IF``); step :func:`neurons.if_step`.

    :param hidden_shape: tuple, e.g. ``(n,)`` or ``(H, W, C)``.
    :param threshold: firing threshold ``> 0`` (default 1).
    :param activation: surrogate activation (default ``superspike()``).
    :param impl: implementation of :meth:`unroll` (``"auto"``,
        ``"reference"``, ``"native"``), see :mod:`spyxlike.ops.dispatch`.

    ``__call__(x, V) -> (spikes, V)``; shapes ``(..., *hidden_shape)``.
    ``unroll(x_seq, V) -> (spikes_seq, V_final)`` runs a whole
    ``(batch, T, *hidden_shape)`` sequence in one fused loop (LIF with
    ``beta = 1``); same values as ``hk.dynamic_unroll``.
    """

    def __init__(self, hidden_shape, threshold=1,
                 activation=neurons.DEFAULT_ACTIVATION, name="IF",
                 impl="auto"):
        impl = check_impl(impl, "IF")
        super().__init__(hidden_shape, threshold, activation, name)
        self.impl = impl

    def __call__(self, x, V):
        self._check_call(x, V)
        return neurons.if_step(x, V, threshold=self.threshold,
                               activation=self.activation)

    def unroll(self, x_seq, V):
        self._check_sequence(x_seq, V)
        return lif_scan(x_seq, V, 1.0, self.threshold, self.activation,
                        impl=self.impl)


class LIF(_SpikingCore):
    """Leaky integrate-and-fire core (Spyx ``LIF``); step
    :func:`neurons.lif_step`.

    :param hidden_shape: tuple, e.g. ``(n,)`` or ``(H, W, C)``.
    :param beta: ``None`` (learnable per neuron) or a decay in ``[0, 1]``.
    :param threshold: firing threshold ``> 0`` (default 1).
    :param activation: surrogate activation (default ``superspike()``).
    :param impl: implementation of :meth:`unroll` (``"auto"``,
        ``"reference"``, ``"native"``), see :mod:`spyxlike.ops.dispatch`.

    ``__call__(x, V) -> (spikes, V)``; shapes ``(..., *hidden_shape)``.
    ``unroll(x_seq, V) -> (spikes_seq, V_final)`` runs a whole
    ``(batch, T, *hidden_shape)`` sequence in one fused loop
    (:func:`spyxlike.ops.leaky_scan.lif_scan`), with the same parameters and
    values as ``hk.dynamic_unroll``.
    """

    def __init__(self, hidden_shape, beta=None, threshold=1.0,
                 activation=neurons.DEFAULT_ACTIVATION, name="LIF",
                 impl="auto"):
        beta = _check_decay("beta", beta)
        impl = check_impl(impl, "LIF")
        super().__init__(hidden_shape, threshold, activation, name)
        self.beta = beta
        self.impl = impl

    def _beta(self):
        return _decay_param("beta", self.beta, self.hidden_shape,
                            _learnable_decay_init())

    def __call__(self, x, V):
        self._check_call(x, V)
        return neurons.lif_step(x, V, beta=self._beta(),
                                threshold=self.threshold,
                                activation=self.activation)

    def unroll(self, x_seq, V):
        self._check_sequence(x_seq, V)
        return lif_scan(x_seq, V, self._beta(), self.threshold,
                        self.activation, impl=self.impl)


class ALIF(_SpikingCore):
    """Adaptive LIF core (Spyx ``ALIF``, LSNN of Bellec et al. 2018); step
    :func:`neurons.alif_step`.

    :param hidden_shape: tuple, e.g. ``(n,)`` or ``(H, W, C)``.
    :param beta: ``None`` (learnable) or membrane decay in ``[0, 1]``.
    :param gamma: ``None`` (learnable) or adaptation decay in ``[0, 1]``.
    :param threshold: base threshold ``> 0`` (default 1).
    :param activation: surrogate activation (default ``superspike()``).

    State ``VT = concat([V, T], axis=-1)``, shape
    ``(..., *hidden_shape[:-1], 2 * hidden_shape[-1])``.
    ``__call__(x, VT) -> (spikes, VT)``.
    """

    _num_state_vars = 2

    def __init__(self, hidden_shape, beta=None, gamma=None, threshold=1,
                 activation=neurons.DEFAULT_ACTIVATION, name="ALIF"):
        beta = _check_decay("beta", beta)
        gamma = _check_decay("gamma", gamma)
        super().__init__(hidden_shape, threshold, activation, name)
        self.beta = beta
        self.gamma = gamma

    def __call__(self, x, VT):
        self._check_call(x, VT)
        gamma = _decay_param("gamma", self.gamma, self.hidden_shape,
                             _learnable_decay_init())
        beta = _decay_param("beta", self.beta, self.hidden_shape,
                            _learnable_decay_init())
        spikes, (v, t) = neurons.alif_step(
            x, self._split(VT), beta=beta, gamma=gamma,
            threshold=self.threshold, activation=self.activation)
        return spikes, self._join(v, t)


class LI(_NeuronCore):
    """Leaky integrator read-out (Spyx ``LI``, non-spiking); step
    :func:`neurons.li_step`.

    :param layer_shape: tuple, e.g. ``(num_classes,)``.
    :param beta: ``None`` (learnable per neuron, initialised to 0.8) or a
        decay in ``[0, 1]``.
    :param impl: implementation of :meth:`unroll` (``"auto"``,
        ``"reference"``, ``"native"``).

    ``__call__(x, V) -> (V, V)``. ``unroll(x_seq, V) -> (trace, V_final)``
    runs a whole ``(batch, T, *layer_shape)`` sequence in one fused loop
    (:func:`spyxlike.ops.leaky_scan.li_scan`).
    """

    def __init__(self, layer_shape, beta=None, name="LI", impl="auto"):
        beta = _check_decay("beta", beta)
        impl = check_impl(impl, "LI")
        super().__init__(layer_shape, name, shape_arg="layer_shape")
        self.layer_shape = self.hidden_shape
        self.beta = beta
        self.impl = impl

    def _beta(self):
        return _decay_param("beta", self.beta, self.hidden_shape,
                            hk.initializers.Constant(0.8))

    def __call__(self, x, Vin):
        self._check_call(x, Vin)
        return neurons.li_step(x, Vin, beta=self._beta())

    def unroll(self, x_seq, Vin):
        self._check_sequence(x_seq, Vin)
        return li_scan(x_seq, Vin, self._beta(), impl=self.impl)


class RIF(_SpikingCore):
    """Recurrent integrate-and-fire core (Spyx ``RIF``); step
    :func:`neurons.rif_step`. Parameter ``"w"`` has shape ``(C, C)``,
    ``C = hidden_shape[-1]``.

    ``__call__(x, V) -> (spikes, V)``.
    """

    def __init__(self, hidden_shape, threshold=1,
                 activation=neurons.DEFAULT_ACTIVATION, name="RIF"):
        super().__init__(hidden_shape, threshold, activation, name)

    def __call__(self, x, V):
        self._check_call(x, V)
        w = self._w()
        return neurons.rif_step(x, V, w=w, threshold=self.threshold,
                                activation=self.activation)


class RLIF(_SpikingCore):
    """Recurrent LIF core (Spyx ``RLIF``, after snnTorch ``RLeaky``); step
    :func:`neurons.rlif_step`. Parameters ``"w"`` ``(C, C)`` then ``"beta"``.

    ``__call__(x, V) -> (spikes, V)``.
    """

    def __init__(self, hidden_shape, beta=None, threshold=1,
                 activation=neurons.DEFAULT_ACTIVATION, name="RLIF"):
        beta = _check_decay("beta", beta)
        super().__init__(hidden_shape, threshold, activation, name)
        self.beta = beta

    def __call__(self, x, V):
        self._check_call(x, V)
        w = self._w()
        beta = _decay_param("beta", self.beta, self.hidden_shape,
                            _learnable_decay_init())
        return neurons.rlif_step(x, V, beta=beta, w=w,
                                 threshold=self.threshold,
                                 activation=self.activation)


class CuBaLIF(_SpikingCore):
    """Current-based LIF core (Spyx ``CuBaLIF``); step
    :func:`neurons.cuba_lif_step` (single reset, as snnTorch ``Synaptic``;
    Spyx 0.1.20 subtracts the reset twice).

    :param alpha: ``None`` (learnable) or synaptic decay in ``[0, 1]``.
    :param beta: ``None`` (learnable) or membrane decay in ``[0, 1]``.

    State ``VI = concat([V, I], axis=-1)``. ``__call__(x, VI) -> (spikes, VI)``.
    """

    _num_state_vars = 2

    def __init__(self, hidden_shape, alpha=None, beta=None, threshold=1,
                 activation=neurons.DEFAULT_ACTIVATION, name="CuBaLIF"):
        alpha = _check_decay("alpha", alpha)
        beta = _check_decay("beta", beta)
        super().__init__(hidden_shape, threshold, activation, name)
        self.alpha = alpha
        self.beta = beta

    def __call__(self, x, VI):
        self._check_call(x, VI)
        alpha = _decay_param("alpha", self.alpha, self.hidden_shape,
                             _learnable_decay_init())
        beta = _decay_param("beta", self.beta, self.hidden_shape,
                            _learnable_decay_init())
        spikes, (v, i) = neurons.cuba_lif_step(
            x, self._split(VI), alpha=alpha, beta=beta,
            threshold=self.threshold, activation=self.activation)
        return spikes, self._join(v, i)


class RCuBaLIF(_SpikingCore):
    """Recurrent current-based LIF core (Spyx ``RCuBaLIF``); step
    :func:`neurons.rcuba_lif_step` (reset after the leak, as snnTorch
    ``RSynaptic``; Spyx 0.1.20 resets before the leak). Parameters ``"w"``,
    ``"alpha"``, ``"beta"`` in that order.

    State ``VI = concat([V, I], axis=-1)``. ``__call__(x, VI) -> (spikes, VI)``.
    """

    _num_state_vars = 2

    def __init__(self, hidden_shape, alpha=None, beta=None, threshold=1,
                 activation=neurons.DEFAULT_ACTIVATION, name="RCuBaLIF"):
        alpha = _check_decay("alpha", alpha)
        beta = _check_decay("beta", beta)
        super().__init__(hidden_shape, threshold, activation, name)
        self.alpha = alpha
        self.beta = beta

    def __call__(self, x, VI):
        self._check_call(x, VI)
        w = self._w()
        alpha = _decay_param("alpha", self.alpha, self.hidden_shape,
                             _learnable_decay_init())
        beta = _decay_param("beta", self.beta, self.hidden_shape,
                            _learnable_decay_init())
        spikes, (v, i) = neurons.rcuba_lif_step(
            x, self._split(VI), alpha=alpha, beta=beta, w=w,
            threshold=self.threshold, activation=self.activation)
        return spikes, self._join(v, i)


# --------------------------------------------------------------------------
# Layer helpers
# --------------------------------------------------------------------------

class ActivityRegularization(hk.Module):
    """Identity layer that accumulates the spikes it sees (Spyx).

    Keeps Haiku state ``"spike_count"`` (shape and dtype of ``spikes``) and
    adds ``spikes`` to it at every call; returns ``spikes`` unchanged. Needs
    :func:`haiku.transform_with_state`; feed the state from ``init`` (zeros)
    to each ``apply`` and read the counts from the returned state, e.g. for
    :func:`spyxlike.fn.silence_reg` / :func:`spyxlike.fn.sparsity_reg`.
    """

    def __init__(self, name="ActReg"):
        super().__init__(name=name)

    def __call__(self, spikes):
        spike_count = hk.get_state("spike_count", jnp.shape(spikes),
                                   dtype=jnp.result_type(spikes),
                                   init=jnp.zeros)
        hk.set_state("spike_count", spike_count + spikes)
        return spikes


def _pool_shape(name, value, size, channel_axis):
    """Expand ``size`` to one entry per axis of ``value`` (Haiku's rules)."""
    ndim = value.ndim
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = _check_int(name, size, lo=1)
        if channel_axis is not None:
            channel_axis = _check_int("channel_axis", channel_axis)
            if not -ndim <= channel_axis < ndim:
                raise ValueError(f"channel_axis must be in [{-ndim}, {ndim}) "
                                 f"for a value of shape {value.shape}; got "
                                 f"{channel_axis}")
            channel_axis %= ndim
        # Axis 0 (batch) is never pooled; the channel axis is skipped.
        return (1,) + tuple(1 if d == channel_axis else size
                            for d in range(1, ndim))
    if not isinstance(size, Sequence) or isinstance(size, str):
        raise TypeError(f"{name} must be an int or a sequence of ints; got "
                        f"{size!r}")
    size = tuple(_check_int(f"{name}[{i}]", s, lo=1)
                 for i, s in enumerate(size))
    if len(size) > ndim:
        raise ValueError(f"{name} has {len(size)} entries but value has only "
                         f"{ndim} axes (shape {value.shape}); got {size}")
    # Missing leading entries are taken as batch axes (window 1).
    return (1,) * (ndim - len(size)) + size


def sum_pool(value, window_shape, strides, padding, channel_axis=-1):
    """Sum pooling: total of ``value`` (e.g. spikes) in each window.

    Same semantics as Spyx's ``sum_pool`` (Haiku's pooling rules): an int
    ``window_shape``/``strides`` pools every axis except axis 0 and
    ``channel_axis``; a sequence shorter than ``value.ndim`` is padded with
    1s at the front (leading batch axes).

    :param value: array, e.g. ``(B, H, W, C)``; any real or integer dtype
        (the sum keeps the dtype).
    :param window_shape: int or sequence of positive ints.
    :param strides: int or sequence of positive ints.
    :param padding: ``"VALID"`` or ``"SAME"``.
    :param channel_axis: axis not pooled when sizes are ints (``None``: none).
    :return: pooled array with the same rank as ``value``.
    """
    if padding not in ("SAME", "VALID"):
        raise ValueError(f"padding must be 'SAME' or 'VALID'; got {padding!r}")
    value = jnp.asarray(value)
    window = _pool_shape("window_shape", value, window_shape, channel_axis)
    stride = _pool_shape("strides", value, strides, channel_axis)
    init = jnp.zeros((), value.dtype)
    return jax.lax.reduce_window(value, init, jax.lax.add, window, stride,
                                 padding)


class SumPool(hk.Module):
    """Module form of :func:`sum_pool` (Spyx ``SumPool``); arguments are
    validated at construction where possible."""

    def __init__(self, window_shape, strides, padding, channel_axis=-1,
                 name=None):
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"padding must be 'SAME' or 'VALID'; got "
                             f"{padding!r}")
        super().__init__(name=name)
        self.window_shape = window_shape
        self.strides = strides
        self.padding = padding
        self.channel_axis = channel_axis

    def __call__(self, value):
        return sum_pool(value, self.window_shape, self.strides, self.padding,
                        self.channel_axis)


def PopulationCode(num_classes):
    """Population read-out: sum each class's group of neurons.

    Returns ``f(x)`` mapping ``(..., N)`` to ``(..., num_classes)``, where
    ``N`` must be a multiple of ``num_classes`` and class ``c`` sums the
    contiguous block ``x[..., c*P:(c+1)*P]``, ``P = N // num_classes``
    (snnTorch's population code). Spyx 0.1.20 instead reshapes to
    ``(-1, num_classes)`` and sums the last axis, which mixes the batch and
    returns ``N*B/num_classes`` values; see ``docs/coming_from_spyx.md``.

    :param num_classes: positive int.
    """
    num_classes = _check_int("num_classes", num_classes, lo=1)

    def _pop_code(x):
        x = jnp.asarray(x)
        n = x.shape[-1] if x.ndim else 0
        if x.ndim == 0 or n % num_classes:
            raise ValueError(
                f"PopulationCode({num_classes}): the last axis of x must be a "
                f"multiple of num_classes={num_classes}; got x.shape="
                f"{x.shape}")
        grouped = x.reshape(x.shape[:-1] + (num_classes, n // num_classes))
        return jnp.sum(grouped, axis=-1)

    return jax.jit(_pop_code)
