r"""Static NumPy kernels of the classical image filters (SpykeTorch and Spyker).

Every kernel here is a plain ``float32`` NumPy array, built once when a
filter object is created; :mod:`spyxlike.filters` applies banks of them with a
single ``lax`` convolution. Kernels are indexed ``[row, column]`` with the
centre at ``[w, w]`` (``w`` the half width); ``r`` below is the row offset and
``c`` the column offset from the centre.

SpykeTorch (``SpykeTorch.utils``), window size ``K = 2w + 1``:

* :class:`DoGKernel`: :math:`\frac{1}{2\pi}\big(\frac{1}{\sigma_1^2}
  e^{-\rho^2/2\sigma_1^2} - \frac{1}{\sigma_2^2} e^{-\rho^2/2\sigma_2^2}\big)`
  with :math:`\rho^2 = r^2 + c^2`, then the mean is subtracted (zero sum) and
  the result divided by its maximum (peak 1).
* :class:`GaborKernel`: :math:`\lambda = 2K/\mathrm{div}`,
  :math:`\sigma = 0.8\lambda`, aspect :math:`\gamma = 0.3`,
  :math:`\theta` = orientation in degrees;
  :math:`X = c\sin\theta + r\cos\theta`, :math:`Y = c\cos\theta - r\sin\theta`;
  :math:`e^{-(X^2 + \gamma^2 Y^2)/2\sigma^2}\cos(2\pi X/\lambda)`, then mean
  subtracted and divided by the maximum.

Spyker (``spyker.DoG``/``Gabor``/``LoG``), half size ``s``, ``K = 2s + 1``
(formulas recovered from Spyker 0.1.0's kernels, matched to 1e-8):

* :class:`DoGFilter` ``(std1, std2)``: :math:`G_{std1} - G_{std2}` where
  :math:`G_\sigma` is the Gaussian :math:`e^{-\rho^2/2\sigma^2}` normalised to
  sum 1 over the window (so the DoG sums to 0 and is not rescaled).
* :class:`GaborFilter` ``(sigma, theta, gamma, lambda_, psi)``:
  :math:`x' = r\cos\theta + c\sin\theta`, :math:`y' = -r\sin\theta + c\cos\theta`
  (``theta`` in **degrees**, although Spyker's docstring says radians; ``psi``
  in radians), :math:`e^{-(x'^2 + \gamma^2 y'^2)/2\sigma^2}\cos(2\pi x'/\lambda + \psi)`,
  then divided by its sum (sum 1; a Gabor whose raw sum is near 0 gets very
  large entries, as in Spyker).
* LoG of std ``s``: the DoG :math:`G_{s/\sqrt2} - G_{s\sqrt2}` of two
  sum-normalised Gaussians (Spyker's LoG approximation).

Where the two systems disagree - SpykeTorch's DoG has zero mean and peak 1,
Spyker's DoG is a difference of unit-sum Gaussians; SpykeTorch's Gabor has
zero mean and peak 1, Spyker's has sum 1; SpykeTorch takes a full odd window
size, Spyker a half size - the SpykeTorch-named classes follow SpykeTorch and
the Spyker-named ones follow Spyker.
"""

from __future__ import annotations

import abc

import math
import numbers
from dataclasses import dataclass

import numpy as np

__all__ = [
    "FilterKernel",
    "DoGKernel",
    "GaborKernel",
    "DoGFilter",
    "GaborFilter",
    "spyker_dog_kernels",
    "spyker_gabor_kernels",
    "spyker_log_kernels",
]


def _check_real(value, name: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if positive and not v > 0:
        raise ValueError(f"{name} must be > 0, got {v}")
    return v


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    v = int(value)
    if v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    return v


def _check_window(window_size, name: str) -> int:
    k = _check_int(window_size, name, 1)
    if k % 2 == 0:
        raise ValueError(
            f"{name} must be odd (the kernel is centred on a pixel), got {k}; "
            "SpykeTorch would silently build a window of size window_size + 1"
        )
    return k


def _grid(half: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column offsets ``r[i, j] = i - half``, ``c[i, j] = j - half``."""
    r = np.arange(-half, half + 1, dtype=np.float64)
    return r[:, None] + 0 * r[None, :], 0 * r[:, None] + r[None, :]


def _unit_gaussian(half: int, std: float) -> np.ndarray:
    r, c = _grid(half)
    g = np.exp(-(r * r + c * c) / (2.0 * std * std))
    return g / g.sum()


class FilterKernel(abc.ABC):
    """Abstract base class of SpykeTorch-style kernels: ``kernel()`` returns a ``(K, K)`` float32 array.

    Subclasses set ``window_size`` (odd, >= 1) and implement :meth:`__call__`.
    Follows ``SpykeTorch.utils.FilterKernel``.

    Args:
      window_size: the full (odd) window size ``K``.

    Raises:
      ValueError: ``window_size`` is not a positive odd int.
      TypeError: ``window_size`` is not an int.
    """

    def __init__(self, window_size: int):
        self.window_size = _check_window(window_size, f"{type(self).__name__}: window_size")

    @abc.abstractmethod
    def __call__(self) -> np.ndarray:
        """The ``(K, K)`` float32 kernel."""


class DoGKernel(FilterKernel):
    r"""SpykeTorch's Difference-of-Gaussians kernel (zero mean, peak 1).

    :math:`\frac{1}{2\pi}\big(\sigma_1^{-2} e^{-\rho^2/2\sigma_1^2} -
    \sigma_2^{-2} e^{-\rho^2/2\sigma_2^2}\big)`, minus its mean, divided by its
    maximum. With ``sigma1 < sigma2`` it is an on-centre filter. Spyker's
    :class:`DoGFilter` instead subtracts two unit-sum Gaussians and does not
    rescale.

    Args:
      window_size: full window size ``K`` (odd, >= 1).
      sigma1: standard deviation of the first (positive) Gaussian, > 0.
      sigma2: standard deviation of the second (negative) Gaussian, > 0.

    Raises:
      ValueError: even or non-positive ``window_size``, non-positive or
        non-finite sigmas, or sigmas/window that give a constant kernel
        (e.g. ``sigma1 == sigma2`` or ``window_size == 1``), which cannot be
        scaled to peak 1.
      TypeError: non-numeric arguments.
    """

    def __init__(self, window_size: int, sigma1: float, sigma2: float):
        super().__init__(window_size)
        self.sigma1 = _check_real(sigma1, "DoGKernel: sigma1", positive=True)
        self.sigma2 = _check_real(sigma2, "DoGKernel: sigma2", positive=True)
        self._kernel = self._build()

    def _build(self) -> np.ndarray:
        r, c = _grid(self.window_size // 2)
        rho2 = r * r + c * c
        s1, s2 = self.sigma1 ** 2, self.sigma2 ** 2
        dog = (np.exp(-0.5 * rho2 / s1) / s1 - np.exp(-0.5 * rho2 / s2) / s2) / (2.0 * math.pi)
        dog = dog - dog.mean()
        peak = dog.max()
        if not peak > 0:
            raise ValueError(
                f"DoGKernel: window_size={self.window_size}, sigma1={self.sigma1}, "
                f"sigma2={self.sigma2} give a kernel without a positive peak after removing "
                "its mean; it cannot be normalised (SpykeTorch would divide by zero)"
            )
        return (dog / peak).astype(np.float32)

    def __call__(self) -> np.ndarray:
        """The ``(K, K)`` float32 kernel (a fresh copy)."""
        return self._kernel.copy()

    def __repr__(self) -> str:
        return f"DoGKernel(window_size={self.window_size}, sigma1={self.sigma1}, sigma2={self.sigma2})"


class GaborKernel(FilterKernel):
    r"""SpykeTorch's Gabor kernel (zero mean, peak 1) for an orientation in degrees.

    With ``K = window_size``: :math:`\lambda = 2K/\mathrm{div}`,
    :math:`\sigma = 0.8\lambda`, :math:`\gamma = 0.3`,
    :math:`X = c\sin\theta + r\cos\theta`, :math:`Y = c\cos\theta - r\sin\theta`
    (``r`` row and ``c`` column offsets), kernel
    :math:`e^{-(X^2+\gamma^2Y^2)/2\sigma^2}\cos(2\pi X/\lambda)` minus its mean
    divided by its maximum. ``orientation=0`` gives horizontal stripes (the
    carrier varies down the rows), i.e. it responds to horizontal bars;
    ``90`` to vertical bars. Spyker's :class:`GaborFilter` has free
    ``sigma/gamma/lambda_/psi`` and normalises to sum 1 instead.

    Args:
      window_size: full window size ``K`` (odd, >= 1).
      orientation: orientation in degrees.
      div: divisor of the wavelength equation ``lambda = 2 K / div``, > 0.

    Raises:
      ValueError: even or non-positive ``window_size``, non-finite
        ``orientation``, non-positive ``div``, or a constant kernel
        (``window_size == 1``).
      TypeError: non-numeric arguments.
    """

    def __init__(self, window_size: int, orientation: float, div: float = 4.0):
        super().__init__(window_size)
        self.orientation = _check_real(orientation, "GaborKernel: orientation")
        self.div = _check_real(div, "GaborKernel: div", positive=True)
        self._kernel = self._build()

    def _build(self) -> np.ndarray:
        r, c = _grid(self.window_size // 2)
        lam = self.window_size * 2.0 / self.div
        sigma = 0.8 * lam
        gamma = 0.3
        theta = self.orientation * math.pi / 180.0
        big_y = c * math.cos(theta) - r * math.sin(theta)
        big_x = c * math.sin(theta) + r * math.cos(theta)
        g = np.exp(-(big_x ** 2 + gamma ** 2 * big_y ** 2) / (2.0 * sigma * sigma))
        g = g * np.cos(2.0 * math.pi * big_x / lam)
        g = g - g.mean()
        peak = g.max()
        if not peak > 0:
            raise ValueError(
                f"GaborKernel: window_size={self.window_size}, orientation={self.orientation}, "
                f"div={self.div} give a kernel without a positive peak after removing its mean; "
                "it cannot be normalised (SpykeTorch would divide by zero)"
            )
        return (g / peak).astype(np.float32)

    def __call__(self) -> np.ndarray:
        """The ``(K, K)`` float32 kernel (a fresh copy)."""
        return self._kernel.copy()

    def __repr__(self) -> str:
        return (f"GaborKernel(window_size={self.window_size}, orientation={self.orientation}, "
                f"div={self.div})")


@dataclass(frozen=True)
class DoGFilter:
    """Spyker's DoG parameters: ``G(std1) - G(std2)`` of two unit-sum Gaussians.

    Follows ``spyker.DoGFilter``; ``std1 < std2`` gives an on-centre filter.

    Args:
      std1: standard deviation of the positive Gaussian, > 0.
      std2: standard deviation of the negative Gaussian, > 0.

    Raises:
      ValueError: a non-positive or non-finite std (Spyker accepts 0 and
        returns NaN kernels).
      TypeError: a non-numeric std.
    """

    std1: float
    std2: float

    def __post_init__(self):
        object.__setattr__(self, "std1", _check_real(self.std1, "DoGFilter: std1", positive=True))
        object.__setattr__(self, "std2", _check_real(self.std2, "DoGFilter: std2", positive=True))


@dataclass(frozen=True)
class GaborFilter:
    r"""Spyker's Gabor parameters.

    Follows ``spyker.GaborFilter(sigma, theta, gamma, lambda_, psi)``; the
    kernel is described in :mod:`spyxlike.filter_kernels`. ``theta`` is taken
    in **degrees**, which is what Spyker 0.1.0 computes (its docstring says
    radians; ``theta=90`` turns the filter by a quarter turn there too).

    Args:
      sigma: standard deviation of the Gaussian envelope, > 0.
      theta: orientation in degrees; 0 makes the carrier vary down the rows.
      gamma: spatial aspect ratio of the envelope.
      lambda_: wavelength of the cosine carrier in pixels, > 0.
      psi: phase offset of the carrier in radians.

    Raises:
      ValueError: non-positive ``sigma`` or ``lambda_``, or a non-finite value.
      TypeError: a non-numeric value.
    """

    sigma: float
    theta: float
    gamma: float
    lambda_: float
    psi: float

    def __post_init__(self):
        object.__setattr__(self, "sigma", _check_real(self.sigma, "GaborFilter: sigma", positive=True))
        object.__setattr__(self, "theta", _check_real(self.theta, "GaborFilter: theta"))
        object.__setattr__(self, "gamma", _check_real(self.gamma, "GaborFilter: gamma"))
        object.__setattr__(self, "lambda_", _check_real(self.lambda_, "GaborFilter: lambda_", positive=True))
        object.__setattr__(self, "psi", _check_real(self.psi, "GaborFilter: psi"))


def _as_list(filters, cls, name: str) -> list:
    if isinstance(filters, cls):
        filters = [filters]
    if not isinstance(filters, (list, tuple)):
        raise TypeError(f"{name} must be a {cls.__name__} or a sequence of them, got {type(filters).__name__}")
    if len(filters) == 0:
        raise ValueError(f"{name} must hold at least one {cls.__name__}, got an empty sequence")
    for i, f in enumerate(filters):
        if not isinstance(f, cls):
            raise TypeError(f"{name}[{i}] must be a {cls.__name__}, got {type(f).__name__}")
    return list(filters)


def spyker_dog_kernels(size: int, filters) -> np.ndarray:
    """Spyker's DoG kernels ``G(std1) - G(std2)``, shape ``(F, 2*size+1, 2*size+1)`` float32.

    Spyker's own ``DoG.kernel`` stores the two Gaussians apart, shape
    ``(2, F, K, K)``; this is their difference.

    Args:
      size: half window size (>= 1).
      filters: a :class:`DoGFilter` or a sequence of them.

    Returns:
      The kernel stack.

    Raises:
      ValueError: ``size < 1`` or no filters.
      TypeError: wrong argument types.
    """
    half = _check_int(size, "DoG: size", 1)
    fs = _as_list(filters, DoGFilter, "DoG: filters")
    return np.stack([_unit_gaussian(half, f.std1) - _unit_gaussian(half, f.std2) for f in fs]).astype(np.float32)


def spyker_gabor_kernels(size: int, filters) -> np.ndarray:
    """Spyker's Gabor kernels (sum 1), shape ``(F, 2*size+1, 2*size+1)`` float32.

    Args:
      size: half window size (>= 1).
      filters: a :class:`GaborFilter` or a sequence of them.

    Returns:
      The kernel stack.

    Raises:
      ValueError: ``size < 1``, no filters, or a kernel whose raw sum is 0 up
        to round-off (``|sum| <= 1e-9 * sum|g|``; it cannot be normalised,
        Spyker returns huge or non-finite entries).
      TypeError: wrong argument types.
    """
    half = _check_int(size, "Gabor: size", 1)
    fs = _as_list(filters, GaborFilter, "Gabor: filters")
    r, c = _grid(half)
    out = []
    for i, f in enumerate(fs):
        theta = math.radians(f.theta)
        xp = r * math.cos(theta) + c * math.sin(theta)
        yp = -r * math.sin(theta) + c * math.cos(theta)
        g = np.exp(-(xp ** 2 + f.gamma ** 2 * yp ** 2) / (2.0 * f.sigma ** 2))
        g = g * np.cos(2.0 * math.pi * xp / f.lambda_ + f.psi)
        total = g.sum()
        if not abs(total) > 1e-9 * np.abs(g).sum():
            raise ValueError(f"Gabor: filters[{i}]={f} gives a kernel whose sum ({total:.3g}) is 0 up to "
                             "round-off; Spyker's Gabor is normalised to sum 1 and cannot be built "
                             "(Spyker returns huge or non-finite entries)")
        out.append(g / total)
    return np.stack(out).astype(np.float32)


def spyker_log_kernels(size: int, stds) -> np.ndarray:
    r"""Spyker's LoG kernels ``G(s/sqrt2) - G(s*sqrt2)``, shape ``(S, 2*size+1, 2*size+1)`` float32.

    Spyker's own ``LoG.kernel`` stores the two Gaussians apart, shape
    ``(2, S, K, K)``; this is their difference.

    Args:
      size: half window size (>= 1).
      stds: a sequence of standard deviations, each > 0.

    Returns:
      The kernel stack.

    Raises:
      ValueError: ``size < 1``, no stds, or a non-positive std.
      TypeError: wrong argument types.
    """
    half = _check_int(size, "LoG: size", 1)
    if isinstance(stds, numbers.Real) and not isinstance(stds, bool):
        stds = [stds]
    if not isinstance(stds, (list, tuple, np.ndarray)):
        raise TypeError(f"LoG: stds must be a sequence of floats, got {type(stds).__name__}")
    if len(stds) == 0:
        raise ValueError("LoG: stds must hold at least one standard deviation, got an empty sequence")
    vals = [_check_real(s, f"LoG: stds[{i}]", positive=True) for i, s in enumerate(list(stds))]
    root2 = math.sqrt(2.0)
    kernels = [_unit_gaussian(half, s / root2) - _unit_gaussian(half, s * root2) for s in vals]
    return np.stack(kernels).astype(np.float32)
