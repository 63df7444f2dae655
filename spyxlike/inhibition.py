"""Inhibition between feature maps: SpykeTorch's ``pointwise_inhibition`` and
``feature_inhibition``, Spyker's ``inhibit``; batched, channels-last, pure.

Potentials are ``(B, T, H, W, C)`` (Spyker's ``(B, T, C, H, W)`` transposed).
None of these modify their input (SpykeTorch's ``feature_inhibition_`` and
Spyker's ``inplace=True`` map to the returned array).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.competition import _as_array, _check_rank, _check_threshold
from spyxlike.ops.dispatch import check_impl, use_native
from spyxlike.ops.pointwise_inhibition import (
    pointwise_inhibition_native,
    pointwise_inhibition_reference,
)

__all__ = ["pointwise_inhibition", "inhibit", "feature_inhibition"]


def _pointwise(x, spyker, threshold, impl, fn):
    x = _as_array(x, fn, "potentials")
    _check_rank(x, fn, "potentials", 5, "(B, T, H, W, C)")
    x = jnp.asarray(x, jnp.float32)
    if check_impl(impl, fn, has_pallas=True) == "pallas":
        from spyxlike.ops.pallas.pointwise_inhibition import pointwise_inhibition_pallas

        return pointwise_inhibition_pallas(x, spyker, threshold)
    if use_native(impl, fn):
        return pointwise_inhibition_native(x, spyker, threshold)
    return pointwise_inhibition_reference(x, spyker, threshold)


def pointwise_inhibition(thresholded_potentials, *, impl: str = "auto"):
    """SpykeTorch's ``pointwise_inhibition``: at most one feature per position fires.

    At each position ``(h, w)`` the surviving feature is the one with the
    earliest spike (potential ``> 0``); among features spiking first at the
    same step, the one with the largest potential at that step; then the
    lowest feature index. Its potentials are kept at every step, all other
    features are reset to 0 at every step; a position where nothing spikes
    becomes all 0. Exactly SpykeTorch's formula: with ``m_t`` the maximum
    over features at step ``t``, ``s = max_t sign(m_t)`` and ``t*`` the first
    step with ``sign(m_t) = s``, the first argmax at ``t*`` is kept,
    multiplied by ``s`` (so a position whose maxima are negative at every
    step keeps that feature negated, as in SpykeTorch; thresholded
    potentials are never negative).

    Args:
      thresholded_potentials: float ``(B, T, H, W, C)``, without NaN.
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      float32 ``(B, T, H, W, C)``, the inhibited potentials.

    Raises:
      ValueError: wrong rank or empty axes, unknown ``impl``.
      TypeError: non-real input.
    """
    return _pointwise(thresholded_potentials, False, 0.0, impl, "pointwise_inhibition")


def inhibit(potentials, threshold: float = 0.0, *, impl: str = "auto"):
    """Spyker's ``inhibit``: point-wise lateral inhibition between feature maps.

    At each position, with ``m_t`` the maximum over features at step ``t``
    and ``n`` the number of steps with ``m_t > threshold``, the feature with
    the largest potential (lowest index on ties) at step ``t* = T - max(n, 1)``
    survives unchanged at every step; the others are multiplied by 0. For
    potentials that rise over time this is the feature leading at the first
    step above threshold - SpykeTorch's :func:`pointwise_inhibition` rule -
    and where nothing crosses, the feature leading at the last step (Spyker
    0.1.0 behaviour, kept: the values below threshold are not zeroed).

    Args:
      potentials: float ``(B, T, H, W, C)``, without NaN.
      threshold: finite firing threshold (strict ``>``).
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      float32 ``(B, T, H, W, C)``, a new array (Spyker's ``inplace`` has no
      meaning for immutable JAX arrays).

    Raises:
      ValueError: wrong rank or empty axes, non-finite threshold, unknown ``impl``.
      TypeError: non-real input or threshold.
    """
    threshold = _check_threshold(threshold, "inhibit")
    return _pointwise(potentials, True, threshold, impl, "inhibit")


def feature_inhibition(potentials, inhibited_features):
    """SpykeTorch's ``feature_inhibition``: resets whole feature maps to 0.

    Args:
      potentials: ``(B, T, H, W, C)`` (or any ``(B, ..., C)``) array.
      inhibited_features: either a sequence of feature indices inhibited in
        every sample (SpykeTorch's list; negative indices count from the end
        as in PyTorch), or a bool mask ``(B, C)`` of the features inhibited
        per sample.

    Returns:
      ``potentials`` with the inhibited features set to 0 at every position
      and step (same dtype).

    Raises:
      ValueError: a feature index out of range, or a mask of the wrong shape.
      TypeError: indices that are not integers, or a mask that is not bool.
    """
    fn = "feature_inhibition"
    potentials = _as_array(potentials, fn, "potentials")
    if potentials.ndim < 2:
        raise ValueError(f"{fn}: potentials must be (B, ..., C), got shape {tuple(potentials.shape)}")
    batch, chans = potentials.shape[0], potentials.shape[-1]
    x = jnp.asarray(potentials)
    if hasattr(inhibited_features, "dtype") and getattr(inhibited_features, "ndim", 0) == 2:
        mask = inhibited_features
        if mask.dtype != jnp.bool_:
            raise TypeError(f"{fn}: a 2-D inhibited_features must be a bool mask (B, C), "
                            f"got dtype {mask.dtype}")
        if tuple(mask.shape) != (batch, chans):
            raise ValueError(f"{fn}: inhibited_features mask must have shape {(batch, chans)}, "
                             f"got {tuple(mask.shape)}")
        mask = jnp.asarray(mask).reshape((batch,) + (1,) * (x.ndim - 2) + (chans,))
        return jnp.where(mask, jnp.zeros((), x.dtype), x)
    if isinstance(inhibited_features, jax.core.Tracer):
        raise TypeError(f"{fn}: traced feature indices are not supported; pass a bool mask (B, C)")
    indices = np.asarray(inhibited_features)
    if indices.size == 0:
        return x
    if indices.ndim != 1 or not (np.issubdtype(indices.dtype, np.integer)):
        raise TypeError(f"{fn}: inhibited_features must be a list of ints or a bool mask (B, C), "
                        f"got {inhibited_features!r}")
    if indices.min() < -chans or indices.max() >= chans:
        raise ValueError(f"{fn}: inhibited_features must be in [-{chans}, {chans}), "
                         f"got {indices.tolist()}")
    keep = np.ones(chans, bool)
    keep[indices] = False
    return jnp.where(jnp.asarray(keep), x, jnp.zeros((), x.dtype))
