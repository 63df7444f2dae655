"""Spiking activations ("axons"): Heaviside forward pass, surrogate backward pass.

Follows Spyx 0.1.20 (``spyx.axn``): every factory returns a function ``f`` with

* forward: ``f(x) = heaviside(x)``, i.e. ``1`` where ``x > 0`` and ``0`` elsewhere,
  in the dtype of ``x`` and with the shape of ``x`` (any shape);
* backward: ``d f / d x := g(x)``, a smooth *surrogate* gradient, so that a
  vector-Jacobian product is ``ct * g(x)`` elementwise.

The input is expected to be ``V - threshold`` (the neuron models subtract the
threshold before calling the activation).

The functions are built with :func:`jax.custom_jvp`, so they work under
``jax.jit``, ``jax.vmap``, ``jax.grad`` (reverse mode), ``jax.jvp`` (forward
mode) and any composition such as ``jax.vmap(jax.grad(...))``. Spyx uses
``jax.custom_gradient`` instead (reverse mode only); the gradients are the same.

``sigmoid`` and ``fast_sigmoid`` follow snnTorch's ``surrogate.sigmoid`` and
``surrogate.fast_sigmoid`` (with ``slope`` renamed ``k``); they are not in Spyx.
"""

import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "heaviside",
    "custom",
    "superspike",
    "arctan",
    "boxcar",
    "tanh",
    "triangular",
    "sigmoid",
    "fast_sigmoid",
]


# --------------------------------------------------------------------------
# Argument validation shared by spyxlike's surrogate-gradient modules
# (axn, neurons, nn, fn, data). Private: the names may change.
# --------------------------------------------------------------------------

def _real(name, value):
    """Return ``value`` as a finite Python float or raise naming ``name``."""
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise TypeError(f"{name} must be a real number; got {value!r} "
                        f"of type {type(value).__name__}")
    try:
        if np.ndim(value) != 0:
            raise TypeError
        out = float(value)
    except TypeError:
        raise TypeError(f"{name} must be a real number (a Python or NumPy "
                        f"scalar known before tracing); got {value!r} of type "
                        f"{type(value).__name__}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return out


def _check_real(name, value, lo=None, hi=None, lo_open=False, hi_open=False):
    """Validate a real hyperparameter against an interval; return it as float.

    ``lo``/``hi`` are the bounds (``None`` = unbounded); ``*_open`` excludes
    the bound. The error names ``name``, the expected interval and ``value``.
    """
    out = _real(name, value)
    bad = ((lo is not None and (out < lo or (lo_open and out == lo)))
           or (hi is not None and (out > hi or (hi_open and out == hi))))
    if bad:
        left = "-inf" if lo is None else repr(float(lo))
        right = "inf" if hi is None else repr(float(hi))
        interval = (("(" if lo_open or lo is None else "[") + left + ", "
                    + right + (")" if hi_open or hi is None else "]"))
        raise ValueError(f"{name} must be in {interval}; got {value!r}")
    return out


def _check_int(name, value, lo=None):
    """Validate an integer hyperparameter (``>= lo`` if given); return int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an int; got {value!r} of type "
                        f"{type(value).__name__}")
    out = int(value)
    if lo is not None and out < lo:
        raise ValueError(f"{name} must be an int >= {lo}; got {value!r}")
    return out


def _check_callable(name, value):
    if not callable(value):
        raise TypeError(f"{name} must be callable; got {value!r} of type "
                        f"{type(value).__name__}")
    return value


# --------------------------------------------------------------------------
# Forward function and the custom-gradient builder
# --------------------------------------------------------------------------

def heaviside(x):
    """Heaviside step ``H(x) = 1 if x > 0 else 0`` (``H(0) = 0``), as in Spyx.

    :param x: array of any shape and dtype.
    :return: array of the same shape and dtype as ``x``.

    This plain function has the true (zero) derivative; use one of the
    surrogate factories below to get a useful gradient.
    """
    x = jnp.asarray(x)
    return jnp.where(x > 0, 1, 0).astype(x.dtype)


def custom(bwd=lambda x: x, fwd=heaviside):
    """Build an activation from a forward function and a surrogate gradient.

    Follows ``spyx.axn.custom``:

    .. math:: f(x) = \\mathrm{fwd}(x), \\qquad
              \\frac{\\partial f}{\\partial x} := \\mathrm{bwd}(x)

    so the backward pass computes ``ct * bwd(x)`` elementwise. Both functions
    must be elementwise, JAX-traceable, and map an array of shape ``S`` to an
    array of shape ``S`` (``fwd`` should keep the dtype of ``x``).

    The default ``bwd`` is ``lambda x: x`` (the Spyx default, kept as is): the
    "gradient" is the input itself, not the constant 1 of a straight-through
    estimator. Pass ``bwd=lambda x: jnp.ones_like(x)`` for a true STE.

    :param bwd: surrogate derivative ``x -> g(x)``.
    :param fwd: forward activation, default :func:`heaviside`.
    :return: ``f(x)`` usable under ``jit``, ``vmap``, ``grad`` and ``jvp``.
        It carries metadata for fast paths: ``f.fwd``, ``f.bwd`` and
        ``f.heaviside_forward`` (``True`` when ``fwd`` is :func:`heaviside`,
        so fused kernels may hard-code the step and call ``f.bwd`` only for
        the surrogate), and ``f.surrogate`` (``None`` here; ``(name,
        params)`` for the built-in factories below).
    """
    _check_callable("bwd", bwd)
    _check_callable("fwd", fwd)

    @jax.custom_jvp
    def f(x):
        return fwd(x)

    @f.defjvp
    def _f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        y = fwd(x)
        dy = jnp.asarray(bwd(x) * t)
        return y, dy.astype(jnp.result_type(y))

    f.fwd = fwd
    f.bwd = bwd
    f.heaviside_forward = fwd is heaviside
    f.surrogate = None
    return f


def _with_surrogate(f, name, *params):
    """Tags a built-in activation with ``f.surrogate = (name, params)`` so
    native kernels can evaluate the same surrogate inline (see
    :mod:`spyxlike.ops.leaky_scan`); ``custom`` activations carry ``None``."""
    f.surrogate = (name, tuple(float(p) for p in params))
    return f


# --------------------------------------------------------------------------
# Surrogate gradients
# --------------------------------------------------------------------------

def superspike(k=25):
    """SuperSpike surrogate (Zenke & Ganguli 2018), as in Spyx.

    .. math:: g(x) = \\frac{1}{(1 + k|x|)^2}

    :param k: steepness, ``k > 0`` (default 25).
    :return: activation with Heaviside forward and gradient ``g``; any shape.
    """
    k = _check_real("k", k, lo=0, lo_open=True)

    def grad_superspike(x):
        return 1 / (1 + k * jnp.abs(x)) ** 2

    return _with_surrogate(custom(grad_superspike, heaviside), "superspike", k)


def arctan(k=2):
    """Arctangent surrogate, as in Spyx (derivative of ``arctan(k pi x)/pi``
    divided by ``k``).

    .. math:: g(x) = \\frac{1}{\\pi \\, (1 + (k \\pi x)^2)}

    Note: snnTorch's ``atan(alpha)`` uses ``(alpha/2 * pi * x)^2`` and a
    factor ``alpha/2``; Spyx's ``k`` is not snnTorch's ``alpha``.

    :param k: steepness, ``k > 0`` (default 2).
    :return: activation with Heaviside forward and gradient ``g``; any shape.
    """
    k = _check_real("k", k, lo=0, lo_open=True)
    k_pi = k * math.pi

    def grad_arctan(x):
        return 1 / ((1 + (k_pi * x) ** 2) * jnp.pi)

    return _with_surrogate(custom(grad_arctan, heaviside), "arctan", k)


def boxcar(width=2, height=0.5):
    """Boxcar surrogate, as in Spyx.

    .. math:: g(x) = h \\cdot H\\!\\left(-(|x| - w/2)\\right)
              = h \\text{ if } |x| < w/2 \\text{ else } 0

    (strict inequality: ``g(+-w/2) = 0``).

    :param width: total width ``w > 0`` of the window centred on 0 (default 2).
    :param height: gradient value ``h > 0`` inside the window (default 0.5).
    :return: activation with Heaviside forward and gradient ``g``; any shape.
    """
    width = _check_real("width", width, lo=0, lo_open=True)
    height = _check_real("height", height, lo=0, lo_open=True)
    half = width / 2

    def grad_boxcar(x):
        return height * heaviside(-(jnp.abs(x) - half))

    return _with_surrogate(custom(grad_boxcar, heaviside), "boxcar", width, height)


def tanh(k=1):
    """Hyperbolic-tangent surrogate, as in Spyx (``d/dx tanh(kx)`` over ``k``).

    .. math:: g(x) = \\frac{4}{(e^{-kx} + e^{kx})^2} = \\mathrm{sech}^2(kx)

    :param k: slope, ``k > 0`` (default 1).
    :return: activation with Heaviside forward and gradient ``g``; any shape.
    """
    k = _check_real("k", k, lo=0, lo_open=True)

    def grad_tanh(x):
        kx = k * x
        return 4 / (jnp.exp(-kx) + jnp.exp(kx)) ** 2

    return _with_surrogate(custom(grad_tanh, heaviside), "tanh", k)


def triangular(k=2):
    """Triangular surrogate (Esser et al. 2016), as in Spyx.

    .. math:: g(x) = \\max(0, 1 - |k x|)

    :param k: scale, ``k > 0`` (default 2); the support is ``|x| < 1/k``.
    :return: activation with Heaviside forward and gradient ``g``; any shape.
    """
    k = _check_real("k", k, lo=0, lo_open=True)

    def grad_triangular(x):
        return jnp.maximum(0, 1 - jnp.abs(k * x))

    return _with_surrogate(custom(grad_triangular, heaviside), "triangular", k)


def sigmoid(k=25):
    """Sigmoid surrogate, following snnTorch ``surrogate.sigmoid(slope=k)``.

    .. math:: g(x) = k \\, \\sigma(kx) \\, (1 - \\sigma(kx)),
              \\qquad \\sigma(z) = 1/(1+e^{-z})

    :param k: slope, ``k > 0`` (default 25).
    :return: activation with Heaviside forward and gradient ``g``; any shape.
    """
    k = _check_real("k", k, lo=0, lo_open=True)

    def grad_sigmoid(x):
        # s(z) (1 - s(z)) = s(z) s(-z), without the cancellation in 1 - s(z).
        kx = k * x
        return k * jax.nn.sigmoid(kx) * jax.nn.sigmoid(-kx)

    return _with_surrogate(custom(grad_sigmoid, heaviside), "sigmoid", k)


def fast_sigmoid(k=25):
    """Fast-sigmoid surrogate, following snnTorch
    ``surrogate.fast_sigmoid(slope=k)`` (same gradient as :func:`superspike`).

    .. math:: g(x) = \\frac{1}{(k|x| + 1)^2}

    :param k: slope, ``k > 0`` (default 25).
    :return: activation with Heaviside forward and gradient ``g``; any shape.
    """
    k = _check_real("k", k, lo=0, lo_open=True)

    def grad_fast_sigmoid(x):
        return 1 / (k * jnp.abs(x) + 1) ** 2

    return _with_surrogate(custom(grad_fast_sigmoid, heaviside), "fast_sigmoid", k)
