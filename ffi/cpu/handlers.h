// Declarations of every CPU XLA FFI handler symbol exported by spyxlike._native.
#pragma once

#include "xla/ffi/api/ffi.h"

XLA_FFI_DECLARE_HANDLER_SYMBOL(SpyxlikeRankCode);
XLA_FFI_DECLARE_HANDLER_SYMBOL(SpyxlikeLifScanFwd);
XLA_FFI_DECLARE_HANDLER_SYMBOL(SpyxlikeLifScanBwd);
XLA_FFI_DECLARE_HANDLER_SYMBOL(SpyxlikeLifScanBwdFused);
XLA_FFI_DECLARE_HANDLER_SYMBOL(SpyxlikeLiScanFwd);
XLA_FFI_DECLARE_HANDLER_SYMBOL(SpyxlikeLiScanBwd);
XLA_FFI_DECLARE_HANDLER_SYMBOL(SpyxlikeSpikeMatmul);
XLA_FFI_DECLARE_HANDLER_SYMBOL(SpyxlikeSpikeMatmulGradW);
XLA_FFI_DECLARE_HANDLER_SYMBOL(SpyxlikeSrmSpikeFwd);
XLA_FFI_DECLARE_HANDLER_SYMBOL(SpyxlikeEvsimFc);
XLA_FFI_DECLARE_HANDLER_SYMBOL(SpyxlikeEvsimToEvents);
XLA_FFI_DECLARE_HANDLER_SYMBOL(SpyxlikeEventConvFire);
