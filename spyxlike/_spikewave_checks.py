"""Argument checks shared by the spike-wave modules (spikewave, spiketime, spikeconv).

Each check raises ValueError/TypeError naming the function, the argument,
what was expected and what was given, before anything is traced.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def as_real_array(x, fn: str, arg: str, *, min_ndim: int = 0, ndim=None, what: str = ""):
    """``x`` as an array (JAX arrays and tracers pass through) after rank/dtype checks."""
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        try:
            x = np.asarray(x)
        except Exception as err:  # ragged lists and the like
            raise TypeError(f"{fn}: {arg} must be an array, got {type(x).__name__}") from err
    if not (jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.integer)
            or x.dtype == jnp.bool_):
        raise TypeError(f"{fn}: {arg} must be a real array, got dtype {x.dtype}")
    shape_hint = f" {what}" if what else ""
    if ndim is not None and x.ndim not in (ndim if isinstance(ndim, tuple) else (ndim,)):
        raise ValueError(f"{fn}: {arg} must have rank {ndim}{shape_hint}, got shape {tuple(x.shape)}")
    if x.ndim < min_ndim:
        raise ValueError(
            f"{fn}: {arg} must have rank >= {min_ndim}{shape_hint}, got shape {tuple(x.shape)}"
        )
    return x


def check_int(value, fn: str, arg: str, minimum: int) -> int:
    """A Python/NumPy integer ``>= minimum`` (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{fn}: {arg} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{fn}: {arg} must be >= {minimum}, got {value}")
    return int(value)


def check_scalar(value, fn: str, arg: str):
    """A real scalar: Python number, NumPy scalar or 0-d (possibly traced) array."""
    if isinstance(value, bool):
        raise TypeError(f"{fn}: {arg} must be a real number, got bool {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return value
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        if tuple(value.shape) != ():
            raise ValueError(f"{fn}: {arg} must be a scalar, got shape {tuple(value.shape)}")
        if not (jnp.issubdtype(value.dtype, jnp.floating) or jnp.issubdtype(value.dtype, jnp.integer)):
            raise TypeError(f"{fn}: {arg} must be real, got dtype {value.dtype}")
        return value
    raise TypeError(f"{fn}: {arg} must be a real number, got {type(value).__name__} {value!r}")


def check_choice(value, fn: str, arg: str, choices: tuple):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{fn}: {arg} must be one of {choices}, got {value!r}")
    return value


def check_dtype(dtype, fn: str, arg: str = "dtype"):
    try:
        dt = jnp.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"{fn}: {arg} must be a dtype, got {dtype!r}") from err
    if not (jnp.issubdtype(dt, jnp.floating) or jnp.issubdtype(dt, jnp.integer) or dt == jnp.bool_):
        raise TypeError(f"{fn}: {arg} must be a real or bool dtype, got {dt}")
    return dt


def is_concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def check_no_nan(x, fn: str, arg: str):
    """Rejects NaN in concrete floating inputs (traced inputs are not inspected)."""
    if is_concrete(x) and jnp.issubdtype(x.dtype, jnp.floating) and bool(np.isnan(np.asarray(x)).any()):
        raise ValueError(f"{fn}: {arg} contains NaN")
