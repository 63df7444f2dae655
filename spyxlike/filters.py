r"""Image pre-processing filter banks for single-spike networks (SpykeTorch and Spyker).

Images are channels-last ``(B, H, W, C)``. Every bank is a stack of ``M``
static ``(K, K)`` kernels (see :mod:`spyxlike.filter_kernels`) applied to each
input channel separately (a depthwise cross-correlation like PyTorch's
``conv2d`` and Spyker's conv):

.. math::

    y[b, i, j, c M + m] = \sum_{u, v} k_m[u, v]\, x_p[b, i + u, j + v, c]

with ``x_p`` the zero-padded input. The output has ``C * M`` channels,
channel-major (all filters of input channel 0 first), the order Spyker uses
for multi-channel input. Output size ``H' = H + top + bottom - K + 1``
(likewise ``W'``). Kernels of up to 11x11 taps run as one fused sum of shifted
multiply-adds (XLA's CPU convolution is 10-40x slower for such few-channel
banks), larger ones as one ``lax.conv_general_dilated``. All banks work under
``jax.jit``, ``jax.vmap`` and ``jax.grad``.

SpykeTorch: :class:`Filter` (with :class:`~spyxlike.filter_kernels.DoGKernel`
and :class:`~spyxlike.filter_kernels.GaborKernel`) and
:func:`local_normalization`. Spyker: :class:`DoG`, :class:`Gabor`,
:class:`LoG` (their ``pad`` follows Spyker's Expand4, see
:mod:`spyxlike.expand`). Outputs, as measured on Spyker 0.1.0:

* ``DoG``: ``max(0, x * k)`` - only the positive (on) part, one channel per filter;
* ``Gabor``: the raw response ``x * k`` (may be negative), one channel per filter;
* ``LoG``: on and off parts, ``max(0, x * k_s)`` for every std then
  ``max(0, -x * k_s)`` for every std, i.e. ``2 S`` channels per input channel.

SpykeTorch's ``Filter`` returns the raw responses, then zeroes those below the
per-kernel threshold, then optionally takes absolute values.
"""

from __future__ import annotations

import functools
import numbers

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from spyxlike.expand import expand4
from spyxlike.filter_kernels import (
    DoGFilter,
    FilterKernel,
    GaborFilter,
    spyker_dog_kernels,
    spyker_gabor_kernels,
    spyker_log_kernels,
)

__all__ = ["filter_bank", "Filter", "DoG", "Gabor", "LoG", "local_normalization"]


def _check_images(x, name: str):
    """Validates a ``(B, H, W, C)`` real array; returns it as a float JAX array."""
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        x = np.asarray(x)
    dtype = np.dtype(x.dtype)
    if not (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer)
            or dtype == jnp.bool_):
        raise TypeError(f"{name}: x must be a real array, got dtype {dtype}")
    if x.ndim != 4:
        raise ValueError(
            f"{name}: x must be channels-last images of shape (B, H, W, C), got shape "
            f"{tuple(x.shape)} (rank {x.ndim}); add a batch axis with x[None] for one image"
        )
    if 0 in x.shape[1:]:
        raise ValueError(f"{name}: x must have non-empty H, W and C, got shape {tuple(x.shape)}")
    out_dtype = dtype if jnp.issubdtype(dtype, jnp.floating) and jnp.dtype(dtype).itemsize >= 4 else jnp.float32
    return jnp.asarray(x, jax.dtypes.canonicalize_dtype(out_dtype))


def _check_bank(kernels, name: str) -> np.ndarray:
    k = np.asarray(kernels)
    if k.ndim == 2:
        k = k[None]
    if k.ndim != 3 or k.shape[0] == 0:
        raise ValueError(f"{name}: kernels must have shape (M, K, K) or (K, K), got {np.shape(kernels)}")
    if k.shape[1] != k.shape[2] or k.shape[1] < 1:
        raise ValueError(f"{name}: kernels must be square, got shape {k.shape}")
    if not (np.issubdtype(k.dtype, np.floating) or np.issubdtype(k.dtype, np.integer)):
        raise TypeError(f"{name}: kernels must be real, got dtype {k.dtype}")
    if not np.isfinite(k).all():
        raise ValueError(f"{name}: kernels must be finite")
    return k.astype(np.float32)


# Banks with at most this many taps per kernel run as fused shifted multiply-adds;
# larger ones as one lax convolution. XLA's CPU convolution is slow for these
# few-channel depthwise banks (measured 64x28x28x1 images, two 7x7 kernels: about
# 40 ms as a conv vs 1-4 ms as shifted sums on a 2-core machine); the two paths
# compute the same sums in a different order.
_SHIFT_MAX_TAPS = 121


def _apply_bank(x, bank: np.ndarray, pad4, name: str):
    """Every bank's computation: depthwise cross-correlation, zero padding, stride 1.

    Output channel ``c * M + m`` holds input channel ``c`` correlated with ``bank[m]``.
    """
    top, left, bottom, right = pad4
    _, h, w, c = x.shape
    m, kh, kw = bank.shape
    if h + top + bottom < kh or w + left + right < kw:
        raise ValueError(
            f"{name}: the {kh}x{kw} kernel is larger than the padded image "
            f"{h + top + bottom}x{w + left + right} (input {h}x{w}, padding "
            f"(top, left, bottom, right)={tuple(pad4)})"
        )
    return _compiled(bank.tobytes(), bank.shape, tuple(pad4))(x)


@functools.lru_cache(maxsize=256)
def _compiled(bank_bytes: bytes, shape: tuple, pad4: tuple):
    """One jitted function per (bank, padding), so eager calls do not dispatch K*K ops."""
    bank = np.frombuffer(bank_bytes, np.float32).reshape(shape)

    def run(x):
        return _bank_core(x, bank, pad4)

    return jax.jit(run)


def _bank_core(x, bank: np.ndarray, pad4):
    top, left, bottom, right = pad4
    c = x.shape[-1]
    m, kh, kw = bank.shape
    if kh * kw <= _SHIFT_MAX_TAPS:
        return _shifted_sums(x, bank, pad4)
    # HWIO with feature_group_count=C: output channel c*M + m uses bank[m]
    rhs = np.tile(np.transpose(bank, (1, 2, 0))[:, :, None, :], (1, 1, 1, c))
    return lax.conv_general_dilated(
        x,
        jnp.asarray(rhs, x.dtype),
        window_strides=(1, 1),
        padding=((top, bottom), (left, right)),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        feature_group_count=c,
        precision=lax.Precision.HIGHEST,
    )


def _shifted_sums(x, bank: np.ndarray, pad4):
    """``sum_{u,v} x_pad[:, i+u, j+v, c] * bank[m, u, v]`` as fused multiply-adds.

    Taps that are 0 in every kernel (e.g. the zero border of a smaller kernel
    stacked into a larger bank) are skipped.
    """
    top, left, bottom, right = pad4
    b, h, w, c = x.shape
    m, kh, kw = bank.shape
    xp = jnp.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    oh, ow = h + top + bottom - kh + 1, w + left + right - kw + 1
    out = jnp.zeros((b, oh, ow, c, m), x.dtype)
    for u in range(kh):
        for v in range(kw):
            taps = bank[:, u, v]
            if not taps.any():
                continue
            out = out + xp[:, u:u + oh, v:v + ow, :, None] * jnp.asarray(taps, x.dtype)
    return out.reshape(b, oh, ow, c * m)


def filter_bank(x, kernels, padding=0):
    r"""Applies a bank of ``M`` square kernels to every channel of ``x`` (the functional core).

    ``y[b, i, j, c*M + m] = sum_{u,v} kernels[m, u, v] * x_pad[b, i+u, j+v, c]``
    (cross-correlation, zero padding).

    Args:
      x: images ``(B, H, W, C)``, any real dtype (float32 unless float64).
      kernels: ``(M, K, K)`` or ``(K, K)`` real array (static, NumPy).
      padding: Spyker Expand4 padding: an int, ``(vertical, horizontal)`` or
        ``(top, left, bottom, right)``.

    Returns:
      ``(B, H', W', C*M)`` responses.

    Raises:
      ValueError: wrong rank of ``x`` or ``kernels``, non-square or non-finite
        kernels, negative padding, or a kernel larger than the padded image.
      TypeError: non-real ``x``/``kernels`` or non-integer padding.
    """
    x = _check_images(x, "filter_bank")
    bank = _check_bank(kernels, "filter_bank")
    return _apply_bank(x, bank, expand4(padding, "filter_bank: padding"), "filter_bank")


class Filter:
    """SpykeTorch's ``utils.Filter``: a bank of filter kernels, thresholds and ``use_abs``.

    The kernels are stacked and zero-padded (centred) to the largest window
    size, then applied with one convolution; each output channel is set to 0
    where it is below its kernel's threshold, then ``|.|`` is taken if
    ``use_abs``. Follows SpykeTorch; differences: images are ``(B, H, W, C)``
    and a multi-channel input is filtered channel by channel (output channel
    ``c * F + f``; SpykeTorch needs ``C = 1``); ``padding`` also accepts
    Spyker's ``(vertical, horizontal)`` / ``(top, left, bottom, right)``;
    even window sizes are rejected (SpykeTorch silently builds a window one
    larger than asked).

    Args:
      filter_kernels: a sequence of :class:`~spyxlike.filter_kernels.FilterKernel`
        objects (e.g. ``DoGKernel``, ``GaborKernel``) and/or square odd
        ``(K, K)`` arrays, or one ``(F, K, K)`` NumPy stack.
      padding: zero padding of the convolution (int or Expand4 tuple).
      thresholds: ``None``, one float for all kernels, or a sequence with one
        float per kernel.
      use_abs: take the absolute value of the (thresholded) outputs.

    Attributes:
      kernels: the ``(F, K, K)`` float32 NumPy stack (``K`` = largest window).
      number_of_kernels: ``F``.
      max_window_size: ``K``.

    Raises:
      ValueError: no kernels, an even/non-square kernel, a threshold count
        different from the kernel count, non-finite thresholds, or negative
        padding.
      TypeError: a kernel that is neither a ``FilterKernel`` nor an array,
        or a non-bool ``use_abs``.
    """

    def __init__(self, filter_kernels, padding=0, thresholds=None, use_abs: bool = False):
        if isinstance(filter_kernels, np.ndarray) and filter_kernels.ndim == 3:
            filter_kernels = list(filter_kernels)      # an (F, K, K) stack
        elif isinstance(filter_kernels, (FilterKernel, np.ndarray)):
            filter_kernels = [filter_kernels]
        if not isinstance(filter_kernels, (list, tuple)) or len(filter_kernels) == 0:
            raise ValueError(
                "Filter: filter_kernels must be a non-empty sequence of FilterKernel objects or "
                f"(K, K) arrays, got {filter_kernels!r}"
            )
        arrays = []
        for i, fk in enumerate(filter_kernels):
            if isinstance(fk, FilterKernel):
                k = np.asarray(fk(), np.float32)
            elif isinstance(fk, (np.ndarray, jax.Array, list, tuple)):
                k = np.asarray(fk, np.float32)
            else:
                raise TypeError(
                    f"Filter: filter_kernels[{i}] must be a FilterKernel or a (K, K) array, "
                    f"got {type(fk).__name__}"
                )
            if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] % 2 == 0:
                raise ValueError(
                    f"Filter: filter_kernels[{i}] must be a square kernel with an odd size, "
                    f"got shape {k.shape}"
                )
            arrays.append(k)
        size = max(k.shape[0] for k in arrays)
        padded = [np.pad(k, (size - k.shape[0]) // 2) for k in arrays]
        self.kernels = _check_bank(np.stack(padded), "Filter")
        self.number_of_kernels = len(arrays)
        self.max_window_size = size
        self.padding = expand4(padding, "Filter: padding")
        self.thresholds = self._check_thresholds(thresholds)
        if not isinstance(use_abs, (bool, np.bool_)):
            raise TypeError(f"Filter: use_abs must be a bool, got {type(use_abs).__name__}")
        self.use_abs = bool(use_abs)

    def _check_thresholds(self, thresholds):
        if thresholds is None:
            return None
        if isinstance(thresholds, numbers.Real) and not isinstance(thresholds, bool):
            t = np.full((self.number_of_kernels,), float(thresholds), np.float32)
        else:
            try:
                t = np.asarray(thresholds, np.float32)
            except (TypeError, ValueError):
                raise TypeError(
                    f"Filter: thresholds must be None, a float or a sequence of floats, got {thresholds!r}"
                ) from None
            if t.ndim != 1 or t.shape[0] != self.number_of_kernels:
                raise ValueError(
                    f"Filter: thresholds must hold one value per kernel ({self.number_of_kernels}), "
                    f"got shape {t.shape}"
                )
        if not np.isfinite(t).all():
            raise ValueError(f"Filter: thresholds must be finite, got {t.tolist()}")
        return t

    def __call__(self, x):
        """Filters ``x`` ``(B, H, W, C)`` -> ``(B, H', W', C * F)``.

        Args:
          x: images, any real dtype.

        Returns:
          The thresholded (and optionally absolute) responses.

        Raises:
          ValueError: wrong rank or a kernel larger than the padded image.
          TypeError: non-real ``x``.
        """
        x = _check_images(x, "Filter")
        y = _apply_bank(x, self.kernels, self.padding, "Filter")
        if self.thresholds is not None:
            thr = jnp.asarray(np.tile(self.thresholds, x.shape[-1]), y.dtype)
            y = jnp.where(y < thr, jnp.zeros((), y.dtype), y)
        if self.use_abs:
            y = jnp.abs(y)
        return y

    def __repr__(self) -> str:
        return (f"Filter(number_of_kernels={self.number_of_kernels}, max_window_size={self.max_window_size}, "
                f"padding={self.padding}, "
                f"thresholds={None if self.thresholds is None else self.thresholds.tolist()}, "
                f"use_abs={self.use_abs})")


class _SpykerBank:
    """Shared parts of Spyker's DoG/Gabor/LoG modules."""

    _name = "?"

    def _setup(self, size, bank: np.ndarray, pad):
        self.size = int(size)
        self.pad = expand4(pad, f"{self._name}: pad")
        self._bank = bank

    @property
    def kernel(self) -> np.ndarray:
        """The ``(M, K, K)`` float32 kernel stack the convolution uses (a copy)."""
        return self._bank.copy()

    def _response(self, x):
        x = _check_images(x, self._name)
        return _apply_bank(x, self._bank, self.pad, self._name)


class DoG(_SpykerBank):
    """Spyker's Difference-of-Gaussians bank: ``max(0, x * (G(std1) - G(std2)))``.

    Follows ``spyker.DoG(size, filters, pad)`` (Spyker 0.1.0, checked on its
    outputs): kernel size ``2*size+1``, each Gaussian normalised to sum 1
    (so the DoG sums to 0; SpykeTorch's :class:`~spyxlike.filter_kernels.DoGKernel`
    instead has zero mean and peak 1), only the positive part is kept.

    Args:
      size: half window size (>= 1).
      filters: a :class:`~spyxlike.filter_kernels.DoGFilter` or a sequence of them.
      pad: Expand4 zero padding: an int, ``(vertical, horizontal)`` or
        ``(top, left, bottom, right)``. (Spyker's docstring calls the 2- and
        4-tuples ``(width, height)`` and ``(left, right, top, bottom)``; its
        code uses the order here.)

    Attributes:
      kernel: ``(F, K, K)`` NumPy array (Spyker's ``kernel`` is ``(2, F, K, K)``,
        the two Gaussians apart).

    Raises:
      ValueError: ``size < 1``, no filters, or negative padding.
      TypeError: wrong argument types.
    """

    _name = "DoG"

    def __init__(self, size: int, filters, pad=0):
        self._setup(size, spyker_dog_kernels(size, filters), pad)
        self.filters = tuple([filters] if isinstance(filters, DoGFilter) else filters)

    def __call__(self, x):
        """``(B, H, W, C)`` -> ``(B, H', W', C * F)`` non-negative responses."""
        return jnp.maximum(self._response(x), 0)


class Gabor(_SpykerBank):
    """Spyker's Gabor bank: the raw response ``x * k`` of sum-1 Gabor kernels.

    Follows ``spyker.Gabor(size, filters, pad)`` (Spyker 0.1.0): kernel size
    ``2*size+1``, kernels normalised to sum 1, ``theta`` in degrees (see
    :class:`~spyxlike.filter_kernels.GaborFilter`), no rectification (unlike
    Spyker's DoG and LoG, negative responses are returned).

    Args:
      size: half window size (>= 1).
      filters: a :class:`~spyxlike.filter_kernels.GaborFilter` or a sequence of them.
      pad: Expand4 zero padding (see :class:`DoG`).

    Raises:
      ValueError: ``size < 1``, no filters, a kernel with zero sum, or negative padding.
      TypeError: wrong argument types.
    """

    _name = "Gabor"

    def __init__(self, size: int, filters, pad=0):
        self._setup(size, spyker_gabor_kernels(size, filters), pad)
        self.filters = tuple([filters] if isinstance(filters, GaborFilter) else filters)

    def __call__(self, x):
        """``(B, H, W, C)`` -> ``(B, H', W', C * F)`` responses."""
        return self._response(x)


class LoG(_SpykerBank):
    r"""Spyker's Laplacian-of-Gaussian bank with on and off channels.

    Follows ``spyker.LoG(size, stds, pad)`` (Spyker 0.1.0): each std ``s`` is
    approximated by the DoG ``G(s/\sqrt2) - G(s\sqrt2)`` of unit-sum Gaussians;
    per input channel the output holds ``max(0, x * k_s)`` for every std
    followed by ``max(0, -(x * k_s))`` for every std (``2 S`` channels, index
    ``c * 2S + polarity * S + s``).

    Args:
      size: half window size (>= 1).
      stds: a sequence of standard deviations (> 0).
      pad: Expand4 zero padding (see :class:`DoG`).

    Attributes:
      kernel: ``(S, K, K)`` NumPy array of the DoG approximations (Spyker's
        ``kernel`` is ``(2, S, K, K)``, the two Gaussians apart).

    Raises:
      ValueError: ``size < 1``, no stds, a non-positive std, or negative padding.
      TypeError: wrong argument types.
    """

    _name = "LoG"

    def __init__(self, size: int, stds, pad=0):
        bank = spyker_log_kernels(size, stds)
        self._setup(size, bank, pad)
        self.stds = tuple(float(s) for s in np.atleast_1d(np.asarray(stds, np.float64)))
        self._onoff = np.concatenate([bank, -bank]).astype(np.float32)

    def __call__(self, x):
        """``(B, H, W, C)`` -> ``(B, H', W', C * 2S)`` non-negative on/off responses."""
        x = _check_images(x, self._name)
        return jnp.maximum(_apply_bank(x, self._onoff, self.pad, self._name), 0)


def local_normalization(x, normalization_radius: int, eps: float = 1e-12):
    r"""SpykeTorch's local normalisation: divide by the local mean.

    .. math::

        y = \frac{x}{\operatorname{mean}_{(2r+1)^2}(x) + \varepsilon}

    where the mean is a box filter of side ``2r+1`` over each channel with
    zero padding, always divided by ``(2r+1)^2`` (so near the border the zeros
    outside the image lower the mean, as in SpykeTorch). Follows
    ``SpykeTorch.functional.local_normalization``; SpykeTorch's
    ``(T, C, H, W)`` input corresponds to ``(B, H, W, C)`` here.

    Args:
      x: ``(B, H, W, C)`` real array.
      normalization_radius: radius ``r >= 0`` of the window.
      eps: added to the mean before dividing.

    Returns:
      The normalised array, shape of ``x``.

    Raises:
      ValueError: wrong rank, negative radius, or non-finite ``eps``.
      TypeError: non-integer radius, non-real ``x`` or ``eps``.
    """
    x = _check_images(x, "local_normalization")
    if isinstance(normalization_radius, bool) or not isinstance(normalization_radius, numbers.Integral):
        raise TypeError(
            f"local_normalization: normalization_radius must be an int, got {normalization_radius!r}"
        )
    if normalization_radius < 0:
        raise ValueError(f"local_normalization: normalization_radius must be >= 0, got {normalization_radius}")
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"local_normalization: eps must be a float, got {eps!r}")
    if not np.isfinite(eps):
        raise ValueError(f"local_normalization: eps must be finite, got {eps}")
    r = int(normalization_radius)
    k = 2 * r + 1
    sums = lax.reduce_window(x, jnp.zeros((), x.dtype), lax.add, (1, k, k, 1), (1, 1, 1, 1),
                             ((0, 0), (r, r), (r, r), (0, 0)))
    means = sums / (k * k) + jnp.asarray(eps, x.dtype)
    return x / means
