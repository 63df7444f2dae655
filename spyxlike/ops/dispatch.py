"""The single dispatch point that chooses an implementation of a hot operation.

Every op has one pure-JAX reference. ``impl`` selects:

* ``"reference"`` - the pure-JAX reference (runs everywhere, differentiable
  where the op is);
* ``"native"`` - the C++ XLA FFI kernel (CPU); raises if it is not built;
* ``"pallas"`` - a Pallas kernel, for ops that have one;
* ``"auto"`` - the fastest implementation available for the default
  backend, falling back to the reference (never to something with other
  semantics): the native kernel when JAX runs on the CPU, the extension is
  built and the op supports the given arguments; the reference otherwise
  (with one warning per session if the extension failed to load).
"""

from __future__ import annotations

import jax

from spyxlike.ops import native

IMPLS = ("auto", "reference", "native", "pallas")


def check_impl(impl, op_name: str, has_pallas: bool = False) -> str:
    """Validates ``impl`` for ``op_name`` and returns it."""
    if not isinstance(impl, str) or impl not in IMPLS:
        raise ValueError(f"{op_name}: impl must be one of {IMPLS}, got {impl!r}")
    if impl == "pallas" and not has_pallas:
        raise ValueError(
            f"{op_name}: impl='pallas' is not available for this op; "
            "use 'auto', 'reference' or 'native'"
        )
    if impl == "native":
        native.require()
    return impl


def use_native(impl: str, op_name: str, *, supported: bool = True, why_not: str = "") -> bool:
    """The dispatch decision of every op: True to run the native kernel.

    Args:
      impl: the user's ``impl`` argument.
      op_name: for error messages.
      supported: whether the native kernel handles these arguments (dtype,
        activation, static hyperparameters ...).
      why_not: what the native path would need, for the error raised when
        ``impl="native"`` is forced on unsupported arguments.
    """
    impl = check_impl(impl, op_name)
    if impl == "reference":
        return False
    if impl == "native":
        if not supported:
            raise ValueError(f"{op_name}: impl='native' {why_not}")
        return True
    if not supported or jax.default_backend() != "cpu":
        return False
    if not native.available():
        native.warn_fallback_once()
        return False
    return True
