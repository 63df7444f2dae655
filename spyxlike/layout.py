"""Converters between spyxlike's array layout and the seed systems' layouts.

spyxlike arrays are batch-first, time-second, channels-last:
``(B, T, H, W, C)`` for images and ``(B, T, N)`` for flat layers. The seeds:

* SLAYER, NCHWT ``(N, C, H, W, T)`` (dense layers ``(N, C, 1, 1, T)``):
  :func:`from_slayer`, :func:`to_slayer`;
* SpykeTorch, ``(T, C, H, W)`` cumulative spike-waves of one sample:
  :func:`from_spyketorch`, :func:`to_spyketorch`;
* Spyker, ``(B, T, C, H, W)`` (dense ``(B, T, C)``): :func:`from_spyker`,
  :func:`to_spyker`.

Every converter is a pure axis permutation (plus, where asked, a reshape or
the spike-wave <-> spike-train conversion), works on numpy arrays (returning
numpy) and on jax arrays (returning jax), including inside ``jax.jit`` and
``jax.vmap`` (ranks are static). Ranks are validated before anything else and
a wrong rank raises ``ValueError`` naming the expected layout.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "from_slayer",
    "to_slayer",
    "from_spyketorch",
    "to_spyketorch",
    "from_spyker",
    "to_spyker",
]


def _xp(x):
    """(array, module): jax arrays (and tracers) stay jax, everything else numpy."""
    if isinstance(x, jax.Array):
        return x, jnp
    a = np.asarray(x)
    if a.dtype == object:
        raise TypeError(f"expected a numeric array, got an object array of shape {a.shape}")
    return a, np


def _rank(where, name, x, ranks, layouts):
    if x.ndim not in ranks:
        want = " or ".join(f"{layout} (rank {r})" for r, layout in zip(ranks, layouts))
        raise ValueError(f"{where}: {name} must be {want}; got rank {x.ndim} with shape {tuple(x.shape)}")


def from_slayer(x, *, flatten=False):
    """SLAYER's NCHWT ``(N, C, H, W, T)`` -> spyxlike ``(N, T, H, W, C)``.

    SLAYER keeps every tensor 5-D, putting the neurons of dense layers on the
    channel axis (``(N, C, 1, 1, T)``). With ``flatten=True`` the spatial and
    channel axes are merged in SLAYER's ``C, H, W`` order (the order of its
    dense weights), giving spyxlike's dense layout ``(N, T, C * H * W)``.

    Args:
      x: numpy or jax array of rank 5, ``(N, C, H, W, T)``.
      flatten: return ``(N, T, C*H*W)`` instead of ``(N, T, H, W, C)``.

    Returns:
      The array in spyxlike's layout (same array type and dtype).

    Raises:
      ValueError: ``x`` is not rank 5.
    """
    x, xp = _xp(x)
    _rank("from_slayer", "x", x, (5,), ("SLAYER NCHWT (N, C, H, W, T)",))
    if flatten:
        n, c, h, w, t = x.shape
        return xp.transpose(x, (0, 4, 1, 2, 3)).reshape(n, t, c * h * w)
    return xp.transpose(x, (0, 4, 2, 3, 1))


def to_slayer(x):
    """spyxlike ``(N, T, H, W, C)`` or ``(N, T, F)`` -> SLAYER NCHWT ``(N, C, H, W, T)``.

    A dense ``(N, T, F)`` array becomes ``(N, F, 1, 1, T)``: neurons on the
    channel axis, as SLAYER recommends for layers without spatial extent (and
    the inverse of ``from_slayer(..., flatten=True)`` for such arrays).

    Args:
      x: numpy or jax array, ``(N, T, H, W, C)`` or ``(N, T, F)``.

    Returns:
      ``(N, C, H, W, T)`` (same array type and dtype).

    Raises:
      ValueError: ``x`` is neither rank 5 nor rank 3.
    """
    x, xp = _xp(x)
    _rank("to_slayer", "x", x, (5, 3), ("spyxlike (N, T, H, W, C)", "spyxlike dense (N, T, F)"))
    if x.ndim == 3:
        n, t, f = x.shape
        return xp.transpose(x, (0, 2, 1)).reshape(n, f, 1, 1, t)
    return xp.transpose(x, (0, 4, 2, 3, 1))


def _waves_to_spikes(w, xp):
    """First step of each non-zero run along axis 0 -> 1, else 0 (dtype of ``w``)."""
    on = w != 0
    prev = xp.concatenate([xp.zeros_like(on[:1]), on[:-1]], axis=0)
    return (on & ~prev).astype(w.dtype)


def _spikes_to_waves(s, xp):
    """Cumulative spike-waves along axis 0: 1 from a neuron's first spike on (dtype of ``s``)."""
    return (xp.cumsum((s != 0).astype(np.int32), axis=0) > 0).astype(s.dtype)


def from_spyketorch(waves, *, to_spikes=False):
    """SpykeTorch ``(T, C, H, W)`` spike-waves of one sample -> spyxlike ``(1, T, H, W, C)``.

    SpykeTorch has no batch axis and represents spikes as *cumulative*
    spike-waves (once a neuron fires its entry stays non-zero for the rest of
    the time steps). spyxlike's single-spike code (``rank_code(...,
    output="spikes")``) uses the same cumulative convention, so by default only
    the axes move. With ``to_spikes=True`` the waves are turned into spike
    trains: 1 at the first step of each non-zero run, 0 elsewhere (the form
    surrogate-gradient layers expect).

    Args:
      waves: numpy or jax array of rank 4, ``(T, C, H, W)``.
      to_spikes: convert cumulative waves to per-step spikes.

    Returns:
      ``(1, T, H, W, C)`` (same array type and dtype).

    Raises:
      ValueError: ``waves`` is not rank 4.
    """
    x, xp = _xp(waves)
    _rank("from_spyketorch", "waves", x, (4,), ("SpykeTorch (T, C, H, W)",))
    if to_spikes:
        x = _waves_to_spikes(x, xp)
    return xp.transpose(x, (0, 2, 3, 1))[None]


def to_spyketorch(x, *, from_spikes=False):
    """spyxlike ``(1, T, H, W, C)`` or ``(T, H, W, C)`` -> SpykeTorch ``(T, C, H, W)``.

    SpykeTorch processes one sample at a time, so a batch must hold exactly
    one sample (index the batch, or use :func:`to_spyker` for batches). With
    ``from_spikes=True`` the input is a spike train and is made cumulative
    (1 from each neuron's first spike on), SpykeTorch's spike-wave form.

    Args:
      x: numpy or jax array, ``(1, T, H, W, C)`` or unbatched ``(T, H, W, C)``.
      from_spikes: convert per-step spikes to cumulative waves.

    Returns:
      ``(T, C, H, W)`` (same array type and dtype).

    Raises:
      ValueError: another rank, or a batch of more than one sample.
    """
    x, xp = _xp(x)
    _rank("to_spyketorch", "x", x, (5, 4), ("spyxlike (1, T, H, W, C)", "unbatched (T, H, W, C)"))
    if x.ndim == 5:
        if x.shape[0] != 1:
            raise ValueError(
                f"to_spyketorch: SpykeTorch has no batch axis, so x must hold one sample; got batch "
                f"size {x.shape[0]} (shape {tuple(x.shape)}); index the batch or use to_spyker"
            )
        x = x[0]
    if from_spikes:
        x = _spikes_to_waves(x, xp)
    return xp.transpose(x, (0, 3, 1, 2))


def from_spyker(x):
    """Spyker ``(B, T, C, H, W)`` -> spyxlike ``(B, T, H, W, C)``; dense ``(B, T, C)`` unchanged.

    Spyker is batch-first and time-second like spyxlike but channels-first;
    its dense (fully connected) arrays ``(B, T, C)`` already are spyxlike's
    ``(B, T, N)``. Spike values (binary or cumulative) are kept.

    Args:
      x: numpy or jax array, ``(B, T, C, H, W)`` or ``(B, T, C)``.

    Returns:
      ``(B, T, H, W, C)`` or ``(B, T, C)`` (same array type and dtype).

    Raises:
      ValueError: ``x`` is neither rank 5 nor rank 3.
    """
    x, xp = _xp(x)
    _rank("from_spyker", "x", x, (5, 3), ("Spyker (B, T, C, H, W)", "Spyker dense (B, T, C)"))
    if x.ndim == 3:
        return x
    return xp.transpose(x, (0, 1, 3, 4, 2))


def to_spyker(x):
    """spyxlike ``(B, T, H, W, C)`` -> Spyker ``(B, T, C, H, W)``; dense ``(B, T, N)`` unchanged.

    Args:
      x: numpy or jax array, ``(B, T, H, W, C)`` or ``(B, T, N)``.

    Returns:
      ``(B, T, C, H, W)`` or ``(B, T, N)`` (same array type and dtype).

    Raises:
      ValueError: ``x`` is neither rank 5 nor rank 3.
    """
    x, xp = _xp(x)
    _rank("to_spyker", "x", x, (5, 3), ("spyxlike (B, T, H, W, C)", "spyxlike dense (B, T, N)"))
    if x.ndim == 3:
        return x
    return xp.transpose(x, (0, 1, 4, 2, 3))
