// Declarations of every CPU XLA FFI handler symbol exported by spyxlike._native.
#pragma once

#include "xla/ffi/api/ffi.h"

XLA_FFI_DECLARE_HANDLER_SYMBOL(SpyxlikeRankCode);
