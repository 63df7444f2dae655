"""Losses, accuracy and activity regularisers (Spyx 0.1.20 ``spyx.fn``).

Each function here is a higher-order function: it validates its
hyperparameters and returns a jitted function of arrays. Shapes follow the
library's convention: ``traces`` are ``(batch, time, classes)`` (the time
axis is ``time_axis``; the class axis is the last one) and ``targets`` are
integer labels of shape ``(batch,)`` -- in general, ``traces.shape`` with the
time and class axes removed. Shape and dtype errors are raised at trace time
(shapes are static), before anything is computed.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import tree_util

from .axn import _check_callable, _check_int, _check_real

__all__ = [
    "integral_accuracy",
    "integral_crossentropy",
    "mse_spikerate",
    "silence_reg",
    "sparsity_reg",
]


def _check_time_axis(time_axis):
    return _check_int("time_axis", time_axis)


def _check_traces_targets(fname, traces, targets, time_axis):
    """Validate ``traces``/``targets``; return the normalised time axis."""
    tshape, yshape = jnp.shape(traces), jnp.shape(targets)
    ndim = len(tshape)
    if ndim < 2:
        raise ValueError(f"{fname}: traces must have a time axis and a class "
                         f"axis; got traces.shape={tshape}")
    if not -ndim <= time_axis < ndim or time_axis % ndim == ndim - 1:
        raise ValueError(f"{fname}: time_axis={time_axis} must name an axis "
                         f"of traces (shape {tshape}) other than the last "
                         f"(class) axis")
    axis = time_axis % ndim
    expected = tuple(d for i, d in enumerate(tshape[:-1]) if i != axis)
    if tuple(yshape) != expected:
        raise ValueError(f"{fname}: targets must have shape {expected} "
                         f"(traces.shape={tshape} without the time axis "
                         f"{time_axis} and the class axis); got "
                         f"targets.shape={tuple(yshape)}")
    if not jnp.issubdtype(jnp.result_type(targets), jnp.integer):
        raise TypeError(f"{fname}: targets must be integer class labels; got "
                        f"dtype {jnp.result_type(targets)}")
    return axis


def integral_accuracy(time_axis=1):
    """Accuracy of the class with the largest integrated trace (Spyx).

    .. math:: \\hat y = \\arg\\max_c \\sum_t \\mathrm{traces}[b, t, c], \\qquad
              \\mathrm{acc} = \\mathrm{mean}_b [\\hat y_b = y_b]

    :param time_axis: axis of ``traces`` to integrate over (default 1).
    :return: ``f(traces, targets) -> (accuracy, preds)``; ``accuracy`` is a
        float32 scalar, ``preds`` has the shape of ``targets``.
    """
    time_axis = _check_time_axis(time_axis)

    def _integral_accuracy(traces, targets):
        axis = _check_traces_targets("integral_accuracy", traces, targets,
                                     time_axis)
        preds = jnp.argmax(jnp.sum(traces, axis=axis), axis=-1)
        return jnp.mean(preds == targets), preds

    return jax.jit(_integral_accuracy)


def integral_crossentropy(smoothing=0.3, time_axis=1):
    """Softmax cross-entropy of the time-integrated traces (Spyx).

    .. math::
        z = \\sum_t \\mathrm{traces}[:, t, :], \\qquad
        q = (1 - \\epsilon)\\,\\mathrm{onehot}(y) + \\epsilon / C \\\\
        L = \\mathrm{mean}_b \\left(-\\sum_c q_{bc} \\log \\mathrm{softmax}(z_b)_c\\right)

    :param smoothing: label smoothing ``epsilon`` in ``[0, 1)`` (default 0.3).
    :param time_axis: axis to integrate over (default 1).
    :return: ``f(traces, targets) -> scalar loss``.
    """
    smoothing = _check_real("smoothing", smoothing, lo=0.0, hi=1.0,
                            hi_open=True)
    time_axis = _check_time_axis(time_axis)

    def _integral_crossentropy(traces, targets):
        axis = _check_traces_targets("integral_crossentropy", traces, targets,
                                     time_axis)
        logits = jnp.sum(traces, axis=axis)
        one_hot = jax.nn.one_hot(targets, logits.shape[-1])
        labels = optax.smooth_labels(one_hot, smoothing)
        return jnp.mean(optax.softmax_cross_entropy(logits, labels))

    return jax.jit(_integral_crossentropy)


def mse_spikerate(sparsity=0.25, smoothing=0.0, time_axis=1):
    """Mean squared error between spike *rates* and target rates.

    .. math::
        r = \\mathrm{mean}_t\\, \\mathrm{traces}, \\qquad
        q = (1 - \\epsilon)\\,\\mathrm{onehot}(y) + \\epsilon / C \\\\
        L = \\mathrm{mean}_{b,c} (r_{bc} - \\rho\\, q_{bc})^2

    so the correct class should fire in a fraction ``rho = sparsity`` of the
    time steps. Spyx 0.1.20 compares the mean rate ``r`` with
    ``rho * q * T`` (a spike *count*), a unit mismatch that makes the target
    unreachable for ``T > 1`` (rates are at most 1); both agree for ``T = 1``.

    :param sparsity: target firing fraction ``rho`` in ``(0, 1]`` (0.25).
    :param smoothing: label smoothing ``epsilon`` in ``[0, 1)`` (0.0).
    :param time_axis: axis of ``traces`` holding time (default 1).
    :return: ``f(traces, targets) -> scalar loss``.
    """
    sparsity = _check_real("sparsity", sparsity, lo=0.0, hi=1.0, lo_open=True)
    smoothing = _check_real("smoothing", smoothing, lo=0.0, hi=1.0,
                            hi_open=True)
    time_axis = _check_time_axis(time_axis)

    def _mse_spikerate(traces, targets):
        axis = _check_traces_targets("mse_spikerate", traces, targets,
                                     time_axis)
        rates = jnp.mean(traces, axis=axis)
        labels = optax.smooth_labels(jax.nn.one_hot(targets, rates.shape[-1]),
                                     smoothing)
        return jnp.mean(optax.squared_error(rates, labels * sparsity))

    return jax.jit(_mse_spikerate)


def _flat_leaves(fname, spikes):
    leaves = tree_util.tree_leaves(spikes)
    if not leaves:
        raise ValueError(f"{fname}: spikes must contain at least one array")
    out = []
    for leaf in leaves:
        shape = jnp.shape(leaf)
        if len(shape) < 1 or shape[0] == 0 or int(np.prod(shape[1:])) == 0:
            raise ValueError(f"{fname}: every array in spikes must have a "
                             f"batch axis and at least one neuron; got shape "
                             f"{shape}")
        out.append(jnp.reshape(leaf, (shape[0], -1)))
    return out


def silence_reg(min_spikes):
    """Penalty for neurons that spike too rarely (Spyx).

    For each array ``s`` in the pytree ``spikes`` (batch first, e.g. spike
    counts ``(B, N)`` from :class:`spyxlike.nn.ActivityRegularization` or
    spike trains ``(B, T, N)``), flattened to ``(B, M)``:

    .. math:: L = \\sum_{\\text{arrays}} \\sum_m
              \\max(0,\\ \\mathrm{min\\_spikes} - \\mathrm{mean}_b\\, s_{bm})^2

    :param min_spikes: target minimum average per neuron, ``>= 0``.
    :return: ``f(spikes) -> scalar``.
    """
    min_spikes = _check_real("min_spikes", min_spikes, lo=0.0)

    def _call(spikes):
        flat = _flat_leaves("silence_reg", spikes)
        return sum(jnp.sum(jnp.maximum(0, min_spikes - jnp.mean(x, axis=0))
                           ** 2) for x in flat)

    return jax.jit(_call)


def sparsity_reg(max_spikes, norm=optax.huber_loss):
    """Penalty for layers whose average activity is too high (Spyx).

    For each array ``s`` in the pytree ``spikes``, flattened to ``(B, M)``:

    .. math:: L = \\sum_{\\text{arrays}} \\sum_b
              \\mathrm{norm}\\left(\\max(0,\\ \\mathrm{mean}_m\\, s_{bm} -
              \\mathrm{max\\_spikes})\\right)

    :param max_spikes: allowed average per neuron of a sample, ``>= 0``.
    :param norm: elementwise penalty, an Optax loss such as
        ``optax.huber_loss`` (default) or ``optax.l2_loss``.
    :return: ``f(spikes) -> scalar``.
    """
    max_spikes = _check_real("max_spikes", max_spikes, lo=0.0)
    norm = _check_callable("norm", norm)

    def _call(spikes):
        flat = _flat_leaves("sparsity_reg", spikes)
        return sum(jnp.sum(norm(jnp.maximum(0, jnp.mean(x, axis=-1)
                                            - max_spikes))) for x in flat)

    return jax.jit(_call)
