r"""Winner-take-all competition: SpykeTorch's ``get_k_winners``, Spyker's ``convwta``/``fcwta``.

All of them reduce a layer to its single-spike form - per neuron the spike time
``t`` (first step that fires, ``T`` if none) and the potential ``v`` at that
step - and then pick winners one at a time with the same rule
(:func:`k_winners_from_times`): earliest spike first, then highest potential,
then the lowest index in SpykeTorch's ``(C, H, W)`` flattening (lowest
feature, then row, then column). A winner removes its whole feature map and
every neuron within the inhibition radius (a Chebyshev square, clipped at the
borders) in all maps - for SpykeTorch's functions only when the radius is
positive (SpykeTorch skips the spatial step for radius 0), for Spyker's
always (radius 0 removes the winner's position in every map). Winners come back as :class:`spyxlike.winners.Winners`
with ``k`` fixed slots, so everything jits and vmaps.

**Derivation of the SpykeTorch rule.** SpykeTorch ranks neurons by
``total = n * (v + T * M)``, where ``n`` is the number of spiking steps
(``T - t`` for a cumulative spike-wave), ``v`` the potential at the first
spike and ``M`` the largest entry of ``spikes * v`` over the sample (the
largest spiking potential, or 0 when some entry is 0), and stops when the
largest remaining total is 0 (removed neurons are set to 0). In exact
arithmetic, for spiking neurons with ``v >= 0``: if ``t_i < t_j`` then
``total_i >= (T - t_i) T M > (T - t_j)(T + 1) M >= total_j`` whenever
``M > 0``, and for equal ``t`` the totals order as ``v``. So the order is
exactly lexicographic in ``(t ascending, v descending)``, ties going to the
first maximum of the flattened ``(C, H, W)`` array; a neuron has a positive
total iff it spiked with ``v > 0``, or with ``v == 0`` while some neuron of
the sample spiked with ``v > 0``; if no neuron spiked with ``v > 0`` every
total is ``<= 0`` and there is no winner. spyxlike implements exactly this.
Deliberate differences from SpykeTorch (which the docs' migration page
lists): SpykeTorch computes the totals in float32, so two potentials closer
than the rounding of ``T * M`` can tie there and go to the lower index; a
neuron whose potential at its spike time is negative never wins here
(SpykeTorch's formula lets it win when ``v > -T * M``, which only happens
when ``spikes`` and the sign of ``potentials`` disagree); and when every
neuron of a sample spikes at step 0 with a negative potential SpykeTorch
returns one winner, spyxlike none.

Spyker's ``convwta``/``fcwta`` (checked against Spyker 0.1.0) fire a neuron
at the first step whose potential exceeds ``threshold`` (strictly), order
winners the same way (earliest, then largest potential, then lowest index in
``(C, H, W)`` order) and accept every neuron that fired, whatever its sign.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.expand import expand2
from spyxlike.ops.dispatch import check_impl, use_native
from spyxlike.ops.kwta import (
    first_crossing,
    first_crossing_native,
    k_winners_native,
    k_winners_reference,
)
from spyxlike.winners import Winners

__all__ = ["get_k_winners", "k_winners_from_times", "convwta", "fcwta"]


def _check_int(value, fn: str, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{fn}: {name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value}")
    return int(value)


def _check_threshold(value, fn: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fn}: threshold must be a real number, got {type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"{fn}: threshold must be finite, got {value}")
    return float(value)


def _as_array(x, fn: str, name: str):
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        x = np.asarray(x)
    if not (jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.integer)
            or x.dtype == jnp.bool_):
        raise TypeError(f"{fn}: {name} must be a real array, got dtype {x.dtype}")
    return x


def _check_rank(x, fn: str, name: str, rank: int, layout: str):
    if x.ndim != rank:
        raise ValueError(f"{fn}: {name} must have rank {rank} {layout}, got shape {tuple(x.shape)}")
    if any(d == 0 for d in x.shape[1:]):
        raise ValueError(f"{fn}: {name} must have non-empty {layout[1:-1]} axes besides the "
                         f"batch, got shape {tuple(x.shape)}")


def _to_winners(rows) -> Winners:
    rows = rows.astype(jnp.int32)
    return Winners(rows[..., 0], rows[..., 1], rows[..., 2], rows[..., 0] >= 0)


def _spike_times(pot, signal, threshold, impl, fn):
    """(times, values) of the first step with ``signal > threshold``; native when selected."""
    if impl != "pallas" and use_native(impl, fn):
        return first_crossing_native(signal, pot, threshold)
    return first_crossing(signal > threshold, pot)


def _select(times, values, kwta, radius_y, radius_x, time_steps, exclude_feature,
            spyketorch_rule, impl, fn):
    args = (times, values, kwta, radius_y, radius_x, time_steps, exclude_feature, spyketorch_rule)
    if check_impl(impl, fn, has_pallas=True) == "pallas":
        from spyxlike.ops.pallas.kwta import k_winners_pallas

        return k_winners_pallas(*args)
    if use_native(impl, fn):
        return k_winners_native(*args)
    return k_winners_reference(*args)


def k_winners_from_times(times, values, kwta: int, inhibition_radius: int, time_steps: int,
                         *, impl: str = "auto") -> Winners:
    """k-winners-take-all on spike times (SpykeTorch's ``get_k_winners`` rule).

    The core of :func:`get_k_winners` on the single-spike form of a layer, as
    produced by an event-driven convolution. Candidates are neurons with
    ``0 <= t < T`` and ``v >= 0`` (``v`` not NaN), and only if some neuron
    of the sample has ``t < T`` and ``v > 0``. Winners are picked
    sequentially: smallest ``t``, then largest ``v``, then the lowest
    SpykeTorch index ``c*H*W + h*W + w``; each winner removes its feature map
    and all neurons with ``|row - r| <= inhibition_radius`` and
    ``|col - c| <= inhibition_radius`` in every map. See the module docstring
    for why this equals SpykeTorch's rule.

    Args:
      times: int ``(B, H, W, C)`` spike times in ``[0, T]``, ``T`` = no
        spike (values outside ``[0, T)`` count as no spike).
      values: float ``(B, H, W, C)``, the potential at the spike time.
      kwta: number of winners per sample, ``>= 1`` (SpykeTorch's ``kwta``).
      inhibition_radius: lateral inhibition radius, ``>= 0``.
      time_steps: ``T``, the number of time steps.
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      :class:`~spyxlike.winners.Winners` with ``kwta`` slots per sample, in
      the order they were picked.

    Raises:
      ValueError: wrong ranks or shapes, ``kwta < 1``, negative radius or
        ``time_steps``, unknown ``impl``.
      TypeError: non-integer hyperparameters, non-integer ``times``,
        non-real ``values``.
    """
    fn = "k_winners_from_times"
    kwta = _check_int(kwta, fn, "kwta", 1)
    radius = _check_int(inhibition_radius, fn, "inhibition_radius", 0)
    time_steps = _check_int(time_steps, fn, "time_steps", 0)
    if time_steps >= 2**31 - 1:
        raise ValueError(f"{fn}: time_steps must be < 2**31 - 1, got {time_steps}")
    times = _as_array(times, fn, "times")
    values = _as_array(values, fn, "values")
    if not jnp.issubdtype(times.dtype, jnp.integer):
        raise TypeError(f"{fn}: times must be an integer array, got dtype {times.dtype}")
    _check_rank(times, fn, "times", 4, "(B, H, W, C)")
    if tuple(values.shape) != tuple(times.shape):
        raise ValueError(f"{fn}: values must have the shape of times {tuple(times.shape)}, "
                         f"got {tuple(values.shape)}")
    r = radius if radius > 0 else -1  # SpykeTorch: radius 0 = no spatial inhibition
    rows = _select(jnp.asarray(times, jnp.int32), jnp.asarray(values, jnp.float32), kwta,
                   r, r, time_steps, True, True, impl, fn)
    return _to_winners(rows)


def get_k_winners(potentials, kwta: int = 1, inhibition_radius: int = 0, spikes=None,
                  *, impl: str = "auto") -> Winners:
    """SpykeTorch's ``get_k_winners``, batched: at most ``kwta`` winners per sample.

    Each neuron's spike time is the first step where ``spikes > 0``
    (``spikes=None`` uses ``potentials > 0``, i.e. SpykeTorch's
    ``sign(potentials)`` for thresholded, non-negative potentials) and its
    value the potential at that step; then :func:`k_winners_from_times`
    picks the winners: earliest spike, then highest potential, then lowest
    feature, row, column; one winner per feature map; for ``r > 0`` each
    winner inhibits the ``(2r+1) x (2r+1)`` square around it in all maps
    (``r = 0``: no spatial inhibition, as in SpykeTorch). Only neurons that
    spiked with a potential ``> 0`` (or ``== 0`` while another spiked with
    ``> 0``) can win - exactly SpykeTorch's ``total == 0`` stop rule, see
    the module docstring.

    Args:
      potentials: float ``(B, T, H, W, C)`` potentials (usually thresholded).
      kwta: number of winners per sample, ``>= 1``.
      inhibition_radius: lateral inhibition radius, ``>= 0``.
      spikes: optional ``(B, T, H, W, C)`` spike-waves matching ``potentials``.
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"`` (the
        selection step; the reduction to spike times is JAX).

    Returns:
      :class:`~spyxlike.winners.Winners` with ``kwta`` slots per sample.

    Raises:
      ValueError: wrong rank, ``spikes`` of another shape, ``kwta < 1``,
        negative radius, unknown ``impl``.
      TypeError: non-integer hyperparameters or non-real arrays.
    """
    fn = "get_k_winners"
    kwta = _check_int(kwta, fn, "kwta", 1)
    radius = _check_int(inhibition_radius, fn, "inhibition_radius", 0)
    potentials = _as_array(potentials, fn, "potentials")
    _check_rank(potentials, fn, "potentials", 5, "(B, T, H, W, C)")
    if spikes is not None:
        spikes = _as_array(spikes, fn, "spikes")
        if tuple(spikes.shape) != tuple(potentials.shape):
            raise ValueError(f"{fn}: spikes must have the shape of potentials "
                             f"{tuple(potentials.shape)}, got {tuple(spikes.shape)}")
    check_impl(impl, fn, has_pallas=True)
    pot = jnp.asarray(potentials, jnp.float32)
    signal = pot if spikes is None else jnp.asarray(spikes, jnp.float32)
    times, values = _spike_times(pot, signal, 0.0, impl, fn)
    r = radius if radius > 0 else -1  # SpykeTorch: radius 0 = no spatial inhibition
    rows = _select(times, values, kwta, r, r, pot.shape[1], True, True, impl, fn)
    return _to_winners(rows)


def convwta(potentials, radius, count: int, threshold: float = 0.0, *,
            impl: str = "auto") -> Winners:
    """Spyker's ``convwta``: winners of a convolutional layer, batched.

    A neuron fires at the first step whose potential is ``> threshold``;
    winners are picked sequentially (earliest, then largest potential at
    that step, then lowest feature, row, column); each winner removes its
    feature map and the ``(2 ry + 1) x (2 rx + 1)`` window around it in all
    maps. Every neuron that fired can win, whatever its sign (Spyker 0.1.0).

    Args:
      potentials: float ``(B, T, H, W, C)`` (Spyker's ``(B, T, C, H, W)``
        transposed).
      radius: int or ``(vertical, horizontal)`` (Spyker's ``Expand2``), ``>= 0``.
      count: winners per sample, ``>= 1``.
      threshold: firing threshold (strict ``>``).
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      :class:`~spyxlike.winners.Winners` with ``count`` slots; Spyker's
      ``Winner.z, .y, .x`` are ``feature, row, col``.

    Raises:
      ValueError: wrong rank, ``count < 1``, negative radius, non-finite
        threshold, unknown ``impl``.
      TypeError: non-integer ``count``/``radius``, non-real ``potentials``.
    """
    fn = "convwta"
    count = _check_int(count, fn, "count", 1)
    ry, rx = expand2(radius, f"{fn}: radius")
    threshold = _check_threshold(threshold, fn)
    potentials = _as_array(potentials, fn, "potentials")
    _check_rank(potentials, fn, "potentials", 5, "(B, T, H, W, C)")
    check_impl(impl, fn, has_pallas=True)
    pot = jnp.asarray(potentials, jnp.float32)
    times, values = _spike_times(pot, pot, threshold, impl, fn)
    rows = _select(times, values, count, ry, rx, pot.shape[1], True, False, impl, fn)
    return _to_winners(rows)


def fcwta(potentials, radius: int, count: int, threshold: float = 0.0, *,
          impl: str = "auto") -> Winners:
    """Spyker's ``fcwta``: winners of a fully connected layer, batched.

    As :func:`convwta` on ``(B, T, F)``: the winner is the earliest firing
    neuron (``> threshold``), then the largest potential, then the lowest
    index; it removes the neurons ``index - radius .. index + radius``
    (itself included, so each neuron wins at most once).

    Args:
      potentials: float ``(B, T, F)``.
      radius: neighbourhood radius on the neuron index, ``>= 0``.
      count: winners per sample, ``>= 1``.
      threshold: firing threshold (strict ``>``).
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      :class:`~spyxlike.winners.Winners` with ``count`` slots; ``feature``
      is the neuron index (Spyker's ``Winner.x``), ``row`` and ``col`` are 0.

    Raises:
      ValueError: wrong rank, ``count < 1``, negative radius, non-finite
        threshold, unknown ``impl``.
      TypeError: non-integer ``count``/``radius``, non-real ``potentials``.
    """
    fn = "fcwta"
    count = _check_int(count, fn, "count", 1)
    radius = _check_int(radius, fn, "radius", 0)
    threshold = _check_threshold(threshold, fn)
    potentials = _as_array(potentials, fn, "potentials")
    _check_rank(potentials, fn, "potentials", 3, "(B, T, F)")
    check_impl(impl, fn, has_pallas=True)
    pot = jnp.asarray(potentials, jnp.float32)
    times, values = _spike_times(pot, pot, threshold, impl, fn)
    # neurons along W of a 1 x F x 1 map: the window is the index range, no map exclusion
    rows = _select(times[:, None, :, None], values[:, None, :, None], count, 0, radius,
                   pot.shape[1], False, False, impl, fn)
    feature = rows[..., 2]
    valid = feature >= 0
    zero = jnp.where(valid, 0, -1).astype(jnp.int32)
    return Winners(feature.astype(jnp.int32), zero, zero, valid)
