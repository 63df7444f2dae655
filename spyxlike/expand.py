"""Spyker's ``Expand2``/``Expand4``: broadcasting of stride, kernel and padding arguments.

Every spyxlike op that takes a 2-D stride, kernel size, radius or padding
normalises it here, so the accepted spellings are the same everywhere:

* ``expand2``: an int ``a`` gives ``(a, a)``; a 1-sequence ``(a,)`` gives
  ``(a, a)``; a 2-sequence ``(vertical, horizontal)`` is taken as is.
* ``expand4``: an int ``p`` gives ``(p, p, p, p)``; a 1-sequence ``(p,)`` gives
  ``(p, p, p, p)``; a 2-sequence ``(vertical, horizontal)`` gives
  ``(vertical, horizontal, vertical, horizontal)``; a 4-sequence is taken as
  ``(top, left, bottom, right)``.

The order follows what Spyker 0.1.0 does (checked with its ``pad``: ``(1, 0, 0, 0)``
adds a row at the top, ``(0, 1, 0, 0)`` a column at the left). Spyker's ``pad``
docstring calls the 4-tuple ``(left, right, top, bottom)``, which is not what it
does. SpykeTorch's ``functional.pad`` takes ``(left, right, top, bottom)``
(PyTorch's ``F.pad`` order); the compat layer converts that, the core uses
Expand4 order.

Unlike Spyker, which passes anything through to C++, both helpers check their
argument: entries must be Python/NumPy integers (not bools, not floats) and at
least ``minimum`` (0 by default, 1 for strides and kernel sizes).
"""

from __future__ import annotations

import operator

__all__ = ["expand2", "expand4"]


def _as_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must hold integers, got bool {value!r}")
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(
            f"{name} must hold integers, got {type(value).__name__} {value!r}"
        ) from None
    if v < minimum:
        raise ValueError(f"{name} entries must be >= {minimum}, got {v}")
    return int(v)


def _as_tuple(value, name: str, minimum: int, lengths: tuple[int, ...]) -> tuple[int, ...]:
    if isinstance(value, (list, tuple)):
        if len(value) not in lengths:
            raise ValueError(
                f"{name} must be an int or a sequence of length "
                f"{' or '.join(map(str, lengths))}, got length {len(value)}: {value!r}"
            )
        return tuple(_as_int(v, name, minimum) for v in value)
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an int or a tuple of ints, got {value!r}")
    return (_as_int(value, name, minimum),)


def expand2(value, name: str, *, minimum: int = 0) -> tuple[int, int]:
    """Expands an int or a 1-/2-sequence to ``(vertical, horizontal)`` (Spyker's ``Expand2``).

    Args:
      value: an int, or a list/tuple of 1 or 2 ints.
      name: the argument's name, used in error messages (e.g. ``"conv: stride"``).
      minimum: smallest allowed entry (0 for paddings, 1 for strides and kernels).

    Returns:
      ``(a, b)`` as Python ints: ``(value, value)`` for an int or a 1-sequence,
      the sequence itself for a 2-sequence.

    Raises:
      TypeError: an entry is not an integer (floats and bools are rejected).
      ValueError: the sequence has another length, or an entry is below ``minimum``.
    """
    t = _as_tuple(value, name, minimum, (1, 2))
    if len(t) == 1:
        return (t[0], t[0])
    return (t[0], t[1])


def expand4(value, name: str, *, minimum: int = 0) -> tuple[int, int, int, int]:
    """Expands an int or a 1-/2-/4-sequence to ``(top, left, bottom, right)`` (Spyker's ``Expand4``).

    Args:
      value: an int, or a list/tuple of 1, 2 (``(vertical, horizontal)``) or
        4 (``(top, left, bottom, right)``) ints.
      name: the argument's name, used in error messages (e.g. ``"pad: pad"``).
      minimum: smallest allowed entry.

    Returns:
      ``(top, left, bottom, right)`` as Python ints.

    Raises:
      TypeError: an entry is not an integer (floats and bools are rejected).
      ValueError: the sequence has another length, or an entry is below ``minimum``.
    """
    t = _as_tuple(value, name, minimum, (1, 2, 4))
    if len(t) == 1:
        return (t[0],) * 4
    if len(t) == 2:
        return (t[0], t[1], t[0], t[1])
    return (t[0], t[1], t[2], t[3])
