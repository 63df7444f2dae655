"""Convolution, fully connected layers and max pooling on spike-waves, all time steps at once.

Inputs are channels-last spike-waves or potentials ``(B, T, H, W, C)`` (or
``(B, H, W, C)`` without a time axis), conv kernels HWIO ``(kh, kw, Cin, Cout)``,
FC weights ``(Fin, Fout)``. Stride and padding take Spyker's Expand2/Expand4
spellings (:mod:`spyxlike.expand`); padding is ``(top, left, bottom, right)``.
Results were checked against Spyker 0.1.0 (its layout ``(B, T, C, H, W)`` and
kernels ``(Cout, Cin, kh, kw)``, transposed) in tests/fixtures/spyker_spikewave.npz.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike._spikewave_checks import as_real_array
from spyxlike.expand import expand2, expand4

__all__ = ["conv", "fc", "pool"]


def _out_size(fn, size, k, s, lo, hi, axis):
    padded = size + lo + hi
    if k > padded:
        raise ValueError(
            f"{fn}: kernel {axis} {k} is larger than the padded input {axis} {padded} "
            f"({size} + padding {lo} + {hi})"
        )
    return (padded - k) // s + 1


def _float_dtype(*dtypes):
    dt = jnp.result_type(*dtypes)
    return dt if jnp.issubdtype(dt, jnp.floating) else jnp.dtype(jnp.float32)


def conv(waves, kernel, stride=1, padding=0):
    r"""2-D cross-correlation of every time step with one kernel (Spyker's ``conv``).

    .. math::

        y_{b,t,i,j,o} = \sum_{a,c,k} w_{a,c,k,o}\,
            \hat x_{b,t,\, i s_h + a,\, j s_w + c,\, k}

    where :math:`\hat x` is the input zero-padded by ``(top, left, bottom, right)``.
    All ``B * T`` frames go through one ``lax.conv_general_dilated`` call.
    Output size ``(H + top + bottom - kh) // s_h + 1`` (likewise for width).

    Args:
      waves: ``(B, T, H, W, Cin)`` or ``(B, H, W, Cin)`` spike-waves/potentials.
      kernel: ``(kh, kw, Cin, Cout)`` weights (HWIO).
      stride: Expand2 stride ``>= 1``: int or ``(vertical, horizontal)``.
      padding: Expand4 padding ``>= 0``: int, ``(vertical, horizontal)`` or
        ``(top, left, bottom, right)``.

    Returns:
      ``(B, T, Ho, Wo, Cout)`` (or ``(B, Ho, Wo, Cout)``) potentials, float
      (the kernel's dtype; integer inputs are promoted).

    Raises:
      ValueError: wrong ranks, channel mismatch, kernel larger than the padded
        input, bad stride/padding.
      TypeError: non-real arrays or non-int stride/padding.
    """
    x = jnp.asarray(as_real_array(waves, "conv", "waves", ndim=(4, 5),
                                  what="(B, T, H, W, Cin) or (B, H, W, Cin)"))
    w = jnp.asarray(as_real_array(kernel, "conv", "kernel", ndim=4, what="(kh, kw, Cin, Cout)"))
    sh, sw = expand2(stride, "conv: stride", minimum=1)
    top, left, bottom, right = expand4(padding, "conv: padding")
    if w.shape[2] != x.shape[-1]:
        raise ValueError(
            f"conv: kernel expects Cin={w.shape[2]} input channels, waves have {x.shape[-1]}"
        )
    kh, kw = w.shape[0], w.shape[1]
    ho = _out_size("conv", x.shape[-3], kh, sh, top, bottom, "height")
    wo = _out_size("conv", x.shape[-2], kw, sw, left, right, "width")
    dt = _float_dtype(w.dtype, x.dtype)
    lead = x.shape[:-3]
    frames = x.reshape((-1,) + x.shape[-3:]).astype(dt)
    y = jax.lax.conv_general_dilated(
        frames, w.astype(dt), window_strides=(sh, sw),
        padding=((top, bottom), (left, right)),
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        precision=jax.lax.Precision.HIGHEST,
    )
    return y.reshape(lead + (ho, wo, w.shape[3]))


def fc(x, weights, sign: bool = False):
    r"""Fully connected layer on every time step (Spyker's ``fc``): :math:`y = x W`.

    With ``sign=True`` the weights go through :math:`\mathrm{sign}` first
    (-1, 0 or 1; Spyker's option, checked against it: exact zeros give 0).

    Args:
      x: ``(..., Fin)`` inputs, at least 2-D (e.g. ``(B, T, Fin)``).
      weights: ``(Fin, Fout)`` (Spyker stores ``(Fout, Fin)``).
      sign: use ``sign(weights)``.

    Returns:
      ``(..., Fout)`` float potentials.

    Raises:
      ValueError: wrong ranks or ``Fin`` mismatch.
      TypeError: non-real arrays or non-bool ``sign``.
    """
    x = jnp.asarray(as_real_array(x, "fc", "x", min_ndim=2, what="(..., Fin)"))
    w = jnp.asarray(as_real_array(weights, "fc", "weights", ndim=2, what="(Fin, Fout)"))
    if not isinstance(sign, (bool, np.bool_)):
        raise TypeError(f"fc: sign must be a bool, got {type(sign).__name__}")
    if w.shape[0] != x.shape[-1]:
        raise ValueError(f"fc: weights expect Fin={w.shape[0]} inputs, x has {x.shape[-1]}")
    dt = _float_dtype(w.dtype, x.dtype)
    w = w.astype(dt)
    if sign:
        w = jnp.sign(w)
    return jnp.matmul(x.astype(dt), w, precision=jax.lax.Precision.HIGHEST)


def pool(waves, kernel_size, stride=None, padding=0, rates=None):
    """Spatial max pooling of every time step, propagating the earliest spike.

    Max pooling of cumulative spike-waves keeps, per window, the earliest
    spike (SpykeTorch's ``pooling`` and Spyker's ``pool``). Padded cells count
    as 0 (Spyker; SpykeTorch's PyTorch pooling ignores them, which differs only
    for negative potentials). ``stride=None`` means ``stride = kernel_size``.

    With ``rates`` (Spyker's rate pooling): each window takes the input at the
    position of its largest rate (the first in row-major order on ties), at
    every time step, instead of the maximum. Padding is not allowed there, as
    in Spyker.

    Args:
      waves: ``(B, T, H, W, C)`` or ``(B, H, W, C)``.
      kernel_size: Expand2 window size ``>= 1``.
      stride: Expand2 stride ``>= 1`` or ``None``.
      padding: Expand4 padding ``>= 0``.
      rates: optional ``(B, H, W, C)`` real array (the waves without time axis).

    Returns:
      ``(B, T, Ho, Wo, C)`` (or ``(B, Ho, Wo, C)``) of ``waves``'s dtype.

    Raises:
      ValueError: wrong ranks, kernel larger than the padded input, bad
        kernel/stride/padding, ``rates`` of the wrong shape or with padding.
      TypeError: non-real arrays or non-int kernel/stride/padding.
    """
    x = jnp.asarray(as_real_array(waves, "pool", "waves", ndim=(4, 5),
                                  what="(B, T, H, W, C) or (B, H, W, C)"))
    kh, kw = expand2(kernel_size, "pool: kernel_size", minimum=1)
    sh, sw = (kh, kw) if stride is None else expand2(stride, "pool: stride", minimum=1)
    top, left, bottom, right = expand4(padding, "pool: padding")
    h, w = x.shape[-3], x.shape[-2]
    ho = _out_size("pool", h, kh, sh, top, bottom, "height")
    wo = _out_size("pool", w, kw, sw, left, right, "width")
    if rates is None:
        widths = [(0, 0)] * (x.ndim - 3) + [(top, bottom), (left, right), (0, 0)]
        xp = jnp.pad(x, widths)
        dims = (1,) * (x.ndim - 3) + (kh, kw, 1)
        strides = (1,) * (x.ndim - 3) + (sh, sw, 1)
        init = jnp.array(-jnp.inf if jnp.issubdtype(x.dtype, jnp.floating)
                         else (False if x.dtype == jnp.bool_ else jnp.iinfo(x.dtype).min), x.dtype)
        return jax.lax.reduce_window(xp, init, jax.lax.max, dims, strides, "VALID")
    r = jnp.asarray(as_real_array(rates, "pool", "rates", ndim=4, what="(B, H, W, C)"))
    expected = (x.shape[0],) + x.shape[-3:]
    if tuple(r.shape) != expected:
        raise ValueError(f"pool: rates must have shape {expected}, got {tuple(r.shape)}")
    if top or left or bottom or right:
        raise ValueError("pool: padding is not supported with rates (as in Spyker)")
    return _rate_pool(x, r, kh, kw, sh, sw)


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5))
def _rate_pool(x, r, kh, kw, sh, sw):
    """Spyker's rate pooling (see :func:`pool`), padding-free."""
    h, w = x.shape[-3], x.shape[-2]
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    rows = (np.arange(ho)[:, None] * sh + np.arange(kh)[None, :])      # (Ho, kh)
    cols = (np.arange(wo)[:, None] * sw + np.arange(kw)[None, :])      # (Wo, kw)
    patches = r[:, rows[:, None, :, None], cols[None, :, None, :], :]  # (B, Ho, Wo, kh, kw, C)
    patches = patches.reshape((r.shape[0], ho, wo, kh * kw, r.shape[-1]))
    best = jnp.argmax(patches, axis=3)                                  # (B, Ho, Wo, C)
    a, c = best // kw, best % kw
    row = jnp.arange(ho)[None, :, None, None] * sh + a
    col = jnp.arange(wo)[None, None, :, None] * sw + c
    src = row * w + col                                                 # flat H*W index
    has_time = x.ndim == 5
    xt = x if has_time else x[:, None]
    flat = xt.reshape(xt.shape[:2] + (h * w, xt.shape[-1]))             # (B, T, H*W, C)
    idx = src.reshape((src.shape[0], 1, ho * wo, src.shape[-1]))
    idx = jnp.broadcast_to(idx, flat.shape[:2] + idx.shape[2:])
    out = jnp.take_along_axis(flat, idx, axis=2)
    out = out.reshape(xt.shape[:2] + (ho, wo, xt.shape[-1]))
    return out if has_time else out[:, 0]
