"""The single dispatch point that chooses an implementation of a hot operation.

Every op has one pure-JAX reference. ``impl`` selects:

* ``"reference"`` - the pure-JAX reference (runs everywhere, differentiable
  where the op is);
* ``"native"`` - the C++ XLA FFI kernel (CPU); raises if it is not built;
* ``"pallas"`` - a Pallas kernel, for ops that have one;
* ``"auto"`` - the fastest implementation available for the platform the
  computation is lowered for, falling back to the reference (never to
  something with other semantics). The platform choice is made at lowering
  time with :func:`jax.lax.platform_dependent`, so one jitted function picks
  the native kernel on CPU and the reference on other backends.
"""

from __future__ import annotations

from typing import Callable

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


def dispatch(
    impl: str,
    op_name: str,
    reference: Callable,
    native_cpu: Callable | None,
    *args,
):
    """Runs ``op_name`` on ``args`` with the chosen implementation.

    ``reference`` and ``native_cpu`` take the same positional arguments and
    must return the same pytree structure, shapes and dtypes.
    """
    impl = check_impl(impl, op_name)
    if impl == "reference" or native_cpu is None:
        if impl == "native":
            raise ValueError(f"{op_name}: has no native implementation")
        return reference(*args)
    if impl == "native":
        return native_cpu(*args)
    # auto
    if not native.available():
        native.warn_fallback_once()
        return reference(*args)
    return jax.lax.platform_dependent(*args, cpu=native_cpu, default=reference)
