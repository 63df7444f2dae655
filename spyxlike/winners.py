"""Winner lists of winner-take-all competition, as fixed-size arrays.

SpykeTorch's ``get_k_winners`` returns a Python list of ``(feature, row,
column)`` tuples and Spyker's ``convwta``/``fcwta`` a ``List[List[Winner]]``.
Lists of varying length do not jit, so spyxlike keeps at most ``k`` winners
per sample in arrays of shape ``(batch, k)`` with a ``valid`` mask; the
invalid slots hold ``-1`` and are ignored by every consumer (STDP updates,
inhibition, plots).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class Winners(NamedTuple):
    """At most ``k`` winners per sample; a JAX pytree (jit/vmap friendly).

    Attributes:
      feature: int32 ``(batch, k)``, the winner's feature map (output channel).
      row: int32 ``(batch, k)``, its row (0 for fully connected layers).
      col: int32 ``(batch, k)``, its column (0 for fully connected layers).
      valid: bool ``(batch, k)``; slots after the last winner are False and
        hold ``-1`` in the index fields.
    """

    feature: jax.Array
    row: jax.Array
    col: jax.Array
    valid: jax.Array

    @property
    def count(self) -> jax.Array:
        """Number of winners per sample, int32 ``(batch,)``."""
        return jnp.sum(self.valid, axis=-1, dtype=jnp.int32)

    def to_list(self) -> list:
        """Per sample, the SpykeTorch-style list of ``(feature, row, col)`` tuples."""
        feature, row, col, valid = (np.asarray(a) for a in self)
        return [
            [(int(f), int(r), int(c)) for f, r, c, v in zip(fs, rs, cs, vs) if v]
            for fs, rs, cs, vs in zip(feature, row, col, valid)
        ]


def winners_from_list(winner_lists, k: int) -> Winners:
    """Builds :class:`Winners` from per-sample lists of ``(feature, row, col)``.

    Args:
      winner_lists: one list per sample of ``(feature, row, col)`` tuples
        (SpykeTorch's format; use ``(feature, 0, 0)`` for FC layers).
      k: number of slots per sample; every list must have at most ``k`` items.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"winners_from_list: k must be an int >= 1, got {k!r}")
    batch = len(winner_lists)
    index = np.full((batch, k, 3), -1, np.int32)
    valid = np.zeros((batch, k), bool)
    for b, items in enumerate(winner_lists):
        items = list(items)
        if len(items) > k:
            raise ValueError(
                f"winners_from_list: sample {b} has {len(items)} winners, more than k={k}"
            )
        for i, item in enumerate(items):
            if len(item) != 3:
                raise ValueError(
                    f"winners_from_list: winners must be (feature, row, col) triples, got {item!r}"
                )
            index[b, i] = item
            valid[b, i] = True
    return Winners(
        jnp.asarray(index[..., 0]), jnp.asarray(index[..., 1]), jnp.asarray(index[..., 2]),
        jnp.asarray(valid),
    )
