r"""SpykeTorch's lateral inhibition of intensities (before rank-order coding).

SpykeTorch (``functional.intensity_lateral_inhibition`` and
``utils.generate_inhibition_kernel``) describes it as "decreasing the
intensity of the surrounding cells that have lower intensities". What its
code computes, and what spyxlike reproduces, is, for every channel and pixel
``p`` with intensity ``x_p``:

.. math::

    y_p = x_p \Big(1 + \sum_{q \in N(p)} k_{q - p}\,[x_p > x_q]\Big)

where ``N(p)`` is the ``(2n+1) x (2n+1)`` window around ``p``, ``k`` the
inhibition kernel (0 at the centre) and ``[.]`` is 1 if the centre is
strictly greater than the neighbour. Pixels outside the image count as
intensity 0 (zero padding). A pixel is thus *boosted* by the inhibition
factors of every weaker neighbour, so after rank-order coding the local
maxima fire earlier and their weaker neighbours relatively later - that is
the inhibition. Ties inhibit nobody.
"""

from __future__ import annotations

import numbers

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from spyxlike.filters import _check_images

__all__ = ["generate_inhibition_kernel", "intensity_lateral_inhibition"]


def generate_inhibition_kernel(inhibition_percents) -> np.ndarray:
    """SpykeTorch's inhibition kernel: factor by Chebyshev distance from the centre.

    For ``n = len(inhibition_percents)`` the kernel is ``(2n+1, 2n+1)`` with
    ``kernel[i, j] = inhibition_percents[d - 1]`` where
    ``d = max(|i - n|, |j - n|) >= 1`` and ``kernel[n, n] = 0``. Follows
    ``SpykeTorch.utils.generate_inhibition_kernel``.

    Args:
      inhibition_percents: sequence of ``n >= 1`` factors in ``[0, 1]``, for
        distances ``1..n``.

    Returns:
      ``(2n+1, 2n+1)`` float32 NumPy array.

    Raises:
      ValueError: an empty sequence or a factor outside ``[0, 1]``.
      TypeError: not a sequence of real numbers.
    """
    if isinstance(inhibition_percents, (str, bytes)) or not hasattr(inhibition_percents, "__len__"):
        raise TypeError(
            "generate_inhibition_kernel: inhibition_percents must be a sequence of floats, got "
            f"{type(inhibition_percents).__name__}"
        )
    vals = list(inhibition_percents)
    if len(vals) == 0:
        raise ValueError("generate_inhibition_kernel: inhibition_percents must not be empty")
    for i, v in enumerate(vals):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"generate_inhibition_kernel: inhibition_percents[{i}] must be a float, got {v!r}")
        if not 0.0 <= float(v) <= 1.0:
            raise ValueError(f"generate_inhibition_kernel: inhibition_percents[{i}] must be in [0, 1], got {v}")
    n = len(vals)
    idx = np.arange(2 * n + 1) - n
    dist = np.maximum(np.abs(idx)[:, None], np.abs(idx)[None, :])
    table = np.concatenate([[0.0], np.asarray(vals, np.float64)])
    return table[dist].astype(np.float32)


def intensity_lateral_inhibition(intensities, inhibition_kernel):
    r"""SpykeTorch's ``intensity_lateral_inhibition`` on ``(B, H, W, C)`` intensities.

    ``y = x * (1 + sum_q k[q - p] * [x_p > x_q])`` per channel, with zero
    padding outside the image (see :mod:`spyxlike.intensity_inhibition`).
    Computed with one patch extraction (``lax.conv_general_dilated_patches``).
    SpykeTorch's ``(1, C, H, W)`` maps to ``(B, H, W, C)`` here; channels do
    not interact.

    Args:
      intensities: ``(B, H, W, C)`` real array.
      inhibition_kernel: square ``(K, K)`` array with odd ``K`` (e.g. from
        :func:`generate_inhibition_kernel`).

    Returns:
      The inhibited intensities, shape of ``intensities`` (float).

    Raises:
      ValueError: wrong rank, or a kernel that is not square with an odd size
        or not finite.
      TypeError: non-real input.
    """
    x = _check_images(intensities, "intensity_lateral_inhibition")
    k = np.asarray(inhibition_kernel)
    if not (np.issubdtype(k.dtype, np.floating) or np.issubdtype(k.dtype, np.integer)):
        raise TypeError(f"intensity_lateral_inhibition: inhibition_kernel must be real, got dtype {k.dtype}")
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] % 2 == 0:
        raise ValueError(
            "intensity_lateral_inhibition: inhibition_kernel must be a square (K, K) array with odd K, "
            f"got shape {k.shape}"
        )
    if not np.isfinite(k).all():
        raise ValueError("intensity_lateral_inhibition: inhibition_kernel must be finite")
    return _inhibit(x, jnp.asarray(k, x.dtype))


@jax.jit
def _inhibit(x, kernel):
    """The computation on validated input; compiled once per shape."""
    size = kernel.shape[0]
    rad = size // 2
    b, h, w, c = x.shape
    # (B, H, W, C * K * K), feature order (channel, row offset, column offset)
    patches = lax.conv_general_dilated_patches(
        x,
        filter_shape=(size, size),
        window_strides=(1, 1),
        padding=((rad, rad), (rad, rad)),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        precision=lax.Precision.HIGHEST,
    ).reshape(b, h, w, c, size * size)
    lower = (x[..., None] > patches).astype(x.dtype)
    factors = jnp.sum(lower * kernel.reshape(-1), axis=-1)
    return x + x * factors
