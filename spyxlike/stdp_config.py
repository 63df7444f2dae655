"""STDP hyperparameters: learning-rate tables and Spyker's ``STDPConfig``.

SpykeTorch's ``STDP`` takes ``learning_rate`` as one ``(a_LTP, a_LTD)`` pair
or a list of one pair per feature map, and changes it in place with
``update_learning_rate(feature, ap, an)`` / ``update_all_learning_rate(ap,
an)``. spyxlike keeps the rates as a float32 ``(Cout, 2)`` array (column 0:
``a_LTP``, column 1: ``a_LTD``) and the update helpers return a new array.

Both rates are *added as given*: ``a_LTD`` (Spyker's ``negative``) must be
negative to depress, e.g. SpykeTorch's ``(0.004, -0.003)``. Spyker 0.1.0 does
the same (checked with its ``Conv.stdp``: ``STDPConfig(0.1, 0.05)`` raises the
weights of post-then-pre synapses by 0.05).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "STDPConfig",
    "learning_rate_table",
    "update_learning_rate",
    "update_all_learning_rate",
]


class STDPConfig(NamedTuple):
    """Spyker's ``STDPConfig``: rates, stabiliser and weight bounds of one STDP rule.

    Attributes:
      positive: LTP rate ``a_LTP``, added when the pre-synaptic spike is not
        later than the post-synaptic one.
      negative: LTD rate ``a_LTD``, added otherwise; give it a negative value
        to depress (the value is added as is, like Spyker and SpykeTorch).
      stabilize: multiply the change by ``(W - lower)(upper - W)``.
      lower: lower weight bound.
      upper: upper weight bound.
    """

    positive: float
    negative: float
    stabilize: bool = True
    lower: float = 0.0
    upper: float = 1.0


def learning_rate_table(learning_rates, features: int, name: str = "learning_rates") -> jax.Array:
    """Normalises learning rates to a float32 ``(features, 2)`` table.

    Args:
      learning_rates: one ``(a_LTP, a_LTD)`` pair, applied to every feature,
        or ``features`` pairs (list of pairs or array of shape
        ``(features, 2)``), one per output feature map; may be traced.
      features: number of output features ``Cout``.
      name: the argument's name for error messages (e.g.
        ``"stdp_conv: learning_rates"``).

    Returns:
      float32 array ``(features, 2)``: column 0 ``a_LTP``, column 1 ``a_LTD``.

    Raises:
      ValueError: not a pair and not ``features`` pairs.
      TypeError: non-numeric rates.
    """
    if isinstance(learning_rates, STDPConfig):
        learning_rates = (learning_rates.positive, learning_rates.negative)
    if not hasattr(learning_rates, "shape"):
        try:
            learning_rates = np.asarray(learning_rates, dtype=np.float32)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"{name} must be an (a_LTP, a_LTD) pair or {features} such pairs, "
                f"got {learning_rates!r} ({err})"
            ) from None
    dtype = learning_rates.dtype
    if not (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer)):
        raise TypeError(f"{name} must be real numbers, got dtype {dtype}")
    shape = tuple(learning_rates.shape)
    rates = jnp.asarray(learning_rates, jnp.float32)
    if shape == (2,):
        return jnp.broadcast_to(rates, (features, 2))
    if len(shape) == 2 and shape[1] == 2:
        if shape[0] != features:
            raise ValueError(
                f"{name} must be one (a_LTP, a_LTD) pair or one pair per feature map "
                f"({features}), got {shape[0]} pairs"
            )
        return rates
    raise ValueError(
        f"{name} must be an (a_LTP, a_LTD) pair (shape (2,)) or {features} pairs "
        f"(shape ({features}, 2)), got shape {shape}"
    )


def update_learning_rate(rates, feature: int, ap: float, an: float) -> jax.Array:
    """Returns a copy of ``rates`` with feature ``feature`` set to ``(ap, an)``.

    SpykeTorch's ``STDP.update_learning_rate(feature, ap, an)``, pure.

    Args:
      rates: ``(Cout, 2)`` learning-rate table (see :func:`learning_rate_table`).
      feature: the feature map to change, ``0 <= feature < Cout``.
      ap: its new LTP rate.
      an: its new LTD rate (negative to depress).

    Returns:
      float32 ``(Cout, 2)`` array.

    Raises:
      ValueError: ``rates`` is not ``(Cout, 2)`` or ``feature`` out of range.
    """
    rates = _table(rates, "update_learning_rate")
    if isinstance(feature, bool) or not isinstance(feature, (int, np.integer)):
        raise TypeError(f"update_learning_rate: feature must be an int, got {feature!r}")
    if not 0 <= feature < rates.shape[0]:
        raise ValueError(
            f"update_learning_rate: feature must be in [0, {rates.shape[0]}), got {feature}"
        )
    return rates.at[int(feature)].set(jnp.asarray([ap, an], jnp.float32))


def update_all_learning_rate(rates, ap: float, an: float) -> jax.Array:
    """Returns ``rates`` with every feature set to ``(ap, an)``.

    SpykeTorch's ``STDP.update_all_learning_rate(ap, an)``, pure.

    Args:
      rates: ``(Cout, 2)`` learning-rate table.
      ap: the new LTP rate.
      an: the new LTD rate (negative to depress).

    Returns:
      float32 ``(Cout, 2)`` array.

    Raises:
      ValueError: ``rates`` is not ``(Cout, 2)``.
    """
    rates = _table(rates, "update_all_learning_rate")
    pair = jnp.stack([jnp.asarray(ap, jnp.float32), jnp.asarray(an, jnp.float32)])
    return jnp.broadcast_to(pair, rates.shape)


def _table(rates, op: str) -> jax.Array:
    shape = tuple(np.shape(rates))
    if len(shape) != 2 or shape[1] != 2:
        raise ValueError(f"{op}: rates must have shape (Cout, 2), got {shape}")
    return jnp.asarray(rates, jnp.float32)
