r"""ZCA whitening (Spyker's ``ZCA``): fit, transform, split, save/load as ``.npz``.

For samples ``x`` of shape ``(N, ...)`` flattened to ``D`` features per
sample (in the array's own order; channels-last images ``(N, H, W, C)`` give
``D = H W C`` in ``(H, W, C)`` order):

.. math::

    \mu = \frac1N \sum_n x_n, \qquad
    \Sigma = \frac{1}{N-1} \sum_n (x_n - \mu)(x_n - \mu)^\top = V \Lambda V^\top,
    \qquad W = V (\Lambda + \varepsilon I)^{-1/2} V^\top,

and the transform is ``y = (x - mu) W`` (``W`` is symmetric). This is what
Spyker 0.1.0 computes (unbiased covariance, ``epsilon`` added to the
eigenvalues; matched on its outputs). :meth:`ZCA.split` rectifies into
positive and negative parts, ``concat([max(x, 0), max(-x, 0)], axis=-1)``:
Spyker inserts a new axis 1 instead (``(N, C, H, W) -> (N, 2, C, H, W)``),
which for channels-last images is the same ``2C`` channels in the same order
(polarity-major).

Files hold the keys ``mean`` ``(D,)`` and ``transform`` ``(D, D)`` like
Spyker's ``ZCA.save``, so files written by either library load in the other;
they are read with ``allow_pickle=False`` and checked.
"""

from __future__ import annotations

import numbers
import os
import zipfile

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["ZCA", "zca_fit", "zca_apply", "zca_split"]


def _check_samples(x, name: str, min_samples: int = 1):
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        x = np.asarray(x)
    dtype = np.dtype(x.dtype)
    if not (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer)):
        raise TypeError(f"{name}: x must be a real array, got dtype {dtype}")
    if x.ndim < 2:
        raise ValueError(f"{name}: x must have shape (N, features...), got shape {tuple(x.shape)}")
    if x.shape[0] < min_samples:
        raise ValueError(f"{name}: x must hold at least {min_samples} samples, got {x.shape[0]}")
    if int(np.prod(x.shape[1:])) == 0:
        raise ValueError(f"{name}: x has no features, shape {tuple(x.shape)}")
    out_dtype = dtype if jnp.issubdtype(dtype, jnp.floating) and dtype.itemsize >= 4 else jnp.float32
    return jnp.asarray(x, jax.dtypes.canonicalize_dtype(out_dtype))


def _check_epsilon(epsilon, name: str) -> float:
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
        raise TypeError(f"{name}: epsilon must be a float, got {epsilon!r}")
    e = float(epsilon)
    if not (np.isfinite(e) and e >= 0):
        raise ValueError(f"{name}: epsilon must be finite and >= 0, got {e}")
    return e


def zca_fit(x, epsilon: float):
    """Mean ``(D,)`` and symmetric whitening matrix ``(D, D)`` of samples ``x`` ``(N, ...)``.

    See :mod:`spyxlike.zca` for the math (follows Spyker's ``ZCA.fit``).

    Args:
      x: ``(N, ...)`` samples, ``N >= 2``.
      epsilon: added to the covariance eigenvalues (>= 0).

    Returns:
      ``(mean, transform)``.

    Raises:
      ValueError: fewer than 2 samples, rank < 2, or a negative/non-finite epsilon.
      TypeError: non-real input or epsilon.
    """
    x = _check_samples(x, "zca_fit", min_samples=2)
    eps = _check_epsilon(epsilon, "zca_fit")
    flat = x.reshape(x.shape[0], -1)
    mean = jnp.mean(flat, axis=0)
    centred = flat - mean
    cov = jnp.matmul(centred.T, centred, precision=jax.lax.Precision.HIGHEST) / (flat.shape[0] - 1)
    evals, evecs = jnp.linalg.eigh(cov)
    # tiny negative eigenvalues from round-off would give NaN with epsilon = 0
    scale = 1.0 / jnp.sqrt(jnp.maximum(evals, 0) + eps)
    transform = jnp.matmul(evecs * scale, evecs.T, precision=jax.lax.Precision.HIGHEST)
    return mean, transform


def zca_apply(x, mean, transform):
    """``(x - mean) @ transform`` on ``(M, ...)`` samples, returned in ``x``'s shape.

    Args:
      x: ``(M, ...)`` samples whose trailing axes flatten to ``D`` features.
      mean: ``(D,)`` feature means.
      transform: ``(D, D)`` whitening matrix.

    Returns:
      Whitened samples, shape of ``x``.

    Raises:
      ValueError: the feature count of ``x`` differs from ``D`` or the
        parameters have the wrong shapes.
      TypeError: non-real input.
    """
    x = _check_samples(x, "zca_apply")
    mean = jnp.asarray(mean)
    transform = jnp.asarray(transform)
    d = int(np.prod(x.shape[1:]))
    if mean.shape != (d,) or transform.shape != (d, d):
        raise ValueError(
            f"zca_apply: x has {d} features per sample (shape {tuple(x.shape)}) but mean has shape "
            f"{tuple(mean.shape)} and transform {tuple(transform.shape)}; expected ({d},) and ({d}, {d})"
        )
    flat = x.reshape(x.shape[0], d) - mean.astype(x.dtype)
    y = jnp.matmul(flat, transform.astype(x.dtype), precision=jax.lax.Precision.HIGHEST)
    return y.reshape(x.shape)


def zca_split(x):
    """``concat([max(x, 0), max(-x, 0)], axis=-1)``: positive then negative channels.

    Spyker's ``ZCA.split`` stacks the two parts on a new axis 1; for
    channels-last data the concatenation on the last axis gives the same
    channels in the same (polarity-major) order.

    Args:
      x: real array of rank >= 1.

    Returns:
      Array with the last axis doubled.

    Raises:
      ValueError: a 0-d input.
      TypeError: non-real input.
    """
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        x = np.asarray(x)
    if not (jnp.issubdtype(np.dtype(x.dtype), jnp.floating) or jnp.issubdtype(np.dtype(x.dtype), jnp.integer)):
        raise TypeError(f"ZCA.split: x must be a real array, got dtype {x.dtype}")
    if x.ndim < 1:
        raise ValueError("ZCA.split: x must have at least one axis, got a 0-d array")
    x = jnp.asarray(x)
    zero = jnp.zeros((), x.dtype)
    return jnp.concatenate([jnp.maximum(x, zero), jnp.maximum(-x, zero)], axis=-1)


@jax.tree_util.register_pytree_node_class
class ZCA:
    """Spyker's ``ZCA`` whitening module (a pytree of ``mean`` and ``transform``).

    ``ZCA().fit(x, epsilon)`` learns the parameters; ``zca(x)`` (or
    ``zca.apply(x)``) whitens; ``ZCA.split`` rectifies into positive/negative
    parts; ``save``/``load`` use ``.npz`` files with Spyker's keys. Being a
    pytree, a fitted ``ZCA`` can be passed into ``jax.jit``-ed functions.
    Differences from Spyker: nothing is modified in place, so
    ``fit(..., transform=True)`` returns ``(self, whitened)`` instead of
    overwriting its input, and ``__call__`` has no ``inplace`` argument.

    Args:
      mean: optional ``(D,)`` feature means (to build a fitted instance).
      transform: optional ``(D, D)`` whitening matrix.

    Raises:
      ValueError: only one of ``mean``/``transform`` given, or inconsistent shapes.
    """

    def __init__(self, mean=None, transform=None):
        if (mean is None) != (transform is None):
            raise ValueError("ZCA: give both mean and transform, or neither")
        if mean is not None:
            mean, transform = self._check_params(mean, transform, "ZCA")
        self.mean = mean
        self.transform = transform

    @staticmethod
    def _check_params(mean, transform, name):
        if isinstance(mean, jax.core.Tracer) or isinstance(transform, jax.core.Tracer):
            return mean, transform
        m = np.asarray(mean)
        t = np.asarray(transform)
        if m.ndim != 1 or t.shape != (m.shape[0], m.shape[0]) or m.shape[0] == 0:
            raise ValueError(
                f"{name}: mean must have shape (D,) and transform (D, D), got {m.shape} and {t.shape}"
            )
        return jnp.asarray(mean), jnp.asarray(transform)

    # pytree protocol
    def tree_flatten(self):
        return (self.mean, self.transform), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        obj.mean, obj.transform = children
        return obj

    @property
    def fitted(self) -> bool:
        """Whether ``mean`` and ``transform`` are set."""
        return self.mean is not None

    def fit(self, x, epsilon: float, transform: bool = False):
        """Learns ``mean`` and ``transform`` from ``x`` ``(N, ...)`` (see :func:`zca_fit`).

        Args:
          x: ``(N, ...)`` samples, ``N >= 2``.
          epsilon: added to the covariance eigenvalues (>= 0).
          transform: also whiten ``x`` and return it.

        Returns:
          ``self``, or ``(self, whitened x)`` when ``transform`` is True.

        Raises:
          ValueError: see :func:`zca_fit`.
          TypeError: see :func:`zca_fit`, or a non-bool ``transform``.
        """
        if not isinstance(transform, (bool, np.bool_)):
            raise TypeError(f"ZCA.fit: transform must be a bool, got {transform!r}")
        self.mean, self.transform = zca_fit(x, epsilon)
        if transform:
            return self, self.apply(x)
        return self

    def apply(self, x):
        """Whitens ``x`` ``(M, ...)`` (see :func:`zca_apply`).

        Args:
          x: samples with the fitted feature count.

        Returns:
          Whitened samples, shape of ``x``.

        Raises:
          ValueError: not fitted, or a feature count mismatch.
        """
        if not self.fitted:
            raise ValueError("ZCA: not fitted; call fit(x, epsilon) or load(path) first")
        return zca_apply(x, self.mean, self.transform)

    def __call__(self, *arrays):
        """Whitens one or more arrays; returns one array or a tuple in input order."""
        if not arrays:
            raise ValueError("ZCA: give at least one array to transform")
        out = tuple(self.apply(a) for a in arrays)
        return out[0] if len(out) == 1 else out

    split = staticmethod(zca_split)

    def save(self, path) -> None:
        """Writes ``mean`` and ``transform`` (float32) to a ``.npz`` file (Spyker's keys).

        Args:
          path: file path; NumPy appends ``.npz`` when missing.

        Raises:
          ValueError: not fitted.
        """
        if not self.fitted:
            raise ValueError("ZCA.save: not fitted; nothing to save")
        np.savez(path, mean=np.asarray(self.mean, np.float32), transform=np.asarray(self.transform, np.float32))

    def load(self, path):
        """Reads ``mean`` and ``transform`` from a ``.npz`` file written by this class or Spyker.

        Args:
          path: the ``.npz`` file.

        Returns:
          ``self`` (with the loaded parameters).

        Raises:
          FileNotFoundError: no such file.
          ValueError: the file is truncated or corrupt, lacks a key, holds
            pickled objects, or holds arrays of the wrong shape, dtype or with
            non-finite values.
        """
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"ZCA.load: no such file {path!r}")
        try:
            with np.load(path, allow_pickle=False) as data:
                missing = [k for k in ("mean", "transform") if k not in data.files]
                if missing:
                    raise ValueError(f"ZCA.load: {path!r} lacks the key(s) {missing} (found {data.files})")
                mean = data["mean"]
                transform = data["transform"]
        except ValueError as e:
            if str(e).startswith("ZCA.load"):
                raise
            raise ValueError(f"ZCA.load: {path!r} is not a readable .npz file (corrupt, truncated or "
                             f"pickled data): {e}") from e
        except (zipfile.BadZipFile, EOFError, OSError, KeyError) as e:
            raise ValueError(f"ZCA.load: {path!r} is not a readable .npz file (corrupt or truncated): {e}") from e
        for key, arr in (("mean", mean), ("transform", transform)):
            if not np.issubdtype(arr.dtype, np.floating):
                raise ValueError(f"ZCA.load: {key} in {path!r} must be a float array, got dtype {arr.dtype}")
            if not np.isfinite(arr).all():
                raise ValueError(f"ZCA.load: {key} in {path!r} holds non-finite values")
        self.mean, self.transform = self._check_params(mean, transform, "ZCA.load")
        return self

    def __repr__(self) -> str:
        if not self.fitted:
            return "ZCA(unfitted)"
        return f"ZCA(features={self.mean.shape[0]})"
