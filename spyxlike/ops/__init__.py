"""Hot operations: one pure-JAX reference each, native (XLA FFI) and Pallas fast paths.

Public ops are exposed from the paradigm modules (``spyxlike.coding`` ...);
this package holds the implementations and the dispatch between them.
"""

from spyxlike.ops.dispatch import IMPLS, check_impl, use_native
from spyxlike.ops.native import NativeUnavailableError, available as native_available

__all__ = ["IMPLS", "check_impl", "use_native", "NativeUnavailableError", "native_available"]
