"""Loading the C++ extension ``spyxlike._native`` and registering its XLA FFI targets.

The extension is optional at run time: if it is missing or fails to load,
``impl="auto"`` falls back to the pure-JAX references with one warning, and
``impl="native"`` raises :class:`NativeUnavailableError` with the reason.
"""

from __future__ import annotations

import functools
import importlib
import warnings

import jax


class NativeUnavailableError(RuntimeError):
    """Raised when ``impl="native"`` is requested but the extension cannot be used."""


@functools.lru_cache(maxsize=None)
def _load():
    """Imports the extension and registers every CPU target once. Returns (ok, reason)."""
    try:
        module = importlib.import_module("spyxlike._native")
    except ImportError as err:  # not built, or built against another Python/jaxlib
        return False, f"spyxlike._native could not be imported: {err}"
    for name, capsule in module.registrations().items():
        jax.ffi.register_ffi_target(name, capsule, platform="cpu")
    return True, ""


def available() -> bool:
    """True when the native CPU kernels are built and registered."""
    return _load()[0]


def unavailable_reason() -> str:
    """Why the native kernels cannot be used ('' when they can)."""
    return _load()[1]


def require() -> None:
    """Raises :class:`NativeUnavailableError` unless the native kernels are usable."""
    ok, reason = _load()
    if not ok:
        raise NativeUnavailableError(
            f"impl='native' was requested but the native kernels are unavailable: {reason}. "
            "Reinstall spyxlike from source (pip install .) with a C++17 compiler, "
            "or use impl='auto' / impl='reference'."
        )


@functools.lru_cache(maxsize=None)
def warn_fallback_once() -> None:
    """Emits the single fallback warning of a session."""
    warnings.warn(
        f"spyxlike: native kernels unavailable ({unavailable_reason()}); "
        "impl='auto' falls back to the pure-JAX reference implementations.",
        RuntimeWarning,
        stacklevel=3,
    )
