// XLA FFI handlers for the fused LIF / LI time loops (forward and adjoint).
#include <cstdint>

#include "parallel.h"
#include "shapes.h"
#include "spyxlike/leaky_scan.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;
using F32 = ffi::Buffer<ffi::F32>;
using F32Out = ffi::ResultBuffer<ffi::F32>;

namespace {

// Every (batch..., N) buffer must match the state shape, every
// (batch..., T, N) buffer the sequence shape.
template <typename... Bufs>
bool AllDims(ffi::Span<const int64_t> want, const Bufs&... bufs) {
  return (spyxlike::SameDims(want, bufs.dimensions()) && ...);
}

ffi::Error LifForwardImpl(ffi::ThreadPool pool, F32 in, F32 v0, F32 beta, float theta,
                          F32Out spikes, F32Out v_prev, F32Out v_final) {
  int64_t B, T, N;
  if (auto e = spyxlike::SequenceAndState("lif_scan", in.dimensions(), v0.dimensions(), &B, &T, &N);
      e.failure()) {
    return e;
  }
  if (!AllDims(v0.dimensions(), beta, *v_final) || !AllDims(in.dimensions(), *spikes, *v_prev)) {
    return spyxlike::InvalidArgument("lif_scan: beta/outputs do not match the input shapes");
  }
  const float* x = in.typed_data();
  const float* v = v0.typed_data();
  const float* b = beta.typed_data();
  float* s = spikes->typed_data();
  float* p = v_prev->typed_data();
  float* f = v_final->typed_data();
  spyxlike::ParallelFor(&pool, B, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      spyxlike::LifForward(x + i * T * N, v + i * N, b + i * N, theta, T, N, s + i * T * N,
                           p + i * T * N, f + i * N);
    }
  });
  return ffi::Error::Success();
}

// Shared by both adjoint handlers; `surr` is null unless kind == kArray.
ffi::Error LifBackwardCommon(ffi::ThreadPool& pool, F32& g_spikes, F32& g_v_final, F32& v_prev,
                             const float* surr, spyxlike::SurrogateFormula formula, F32& beta,
                             float theta, F32Out& d_in, F32Out& d_v0, F32Out& d_beta) {
  int64_t B, T, N;
  if (auto e = spyxlike::SequenceAndState("lif_scan_bwd", g_spikes.dimensions(),
                                          g_v_final.dimensions(), &B, &T, &N);
      e.failure()) {
    return e;
  }
  if (!AllDims(g_v_final.dimensions(), beta, *d_v0, *d_beta) ||
      !AllDims(g_spikes.dimensions(), v_prev, *d_in)) {
    return spyxlike::InvalidArgument("lif_scan_bwd: buffers do not match the input shapes");
  }
  const int64_t kind = static_cast<int64_t>(formula.kind);
  if (kind < 0 || kind > static_cast<int64_t>(spyxlike::Surrogate::kFastSigmoid)) {
    return spyxlike::InvalidArgument("lif_scan_bwd: unknown surrogate id");
  }
  const float* gs = g_spikes.typed_data();
  const float* gv = g_v_final.typed_data();
  const float* p = v_prev.typed_data();
  const float* b = beta.typed_data();
  float* di = d_in->typed_data();
  float* dv = d_v0->typed_data();
  float* db = d_beta->typed_data();
  spyxlike::ParallelFor(&pool, B, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      spyxlike::LifBackward(gs + i * T * N, gv + i * N, p + i * T * N,
                            surr ? surr + i * T * N : nullptr, formula, b + i * N, theta, T, N,
                            di + i * T * N, dv + i * N, db + i * N);
    }
  });
  return ffi::Error::Success();
}

ffi::Error LifBackwardImpl(ffi::ThreadPool pool, F32 g_spikes, F32 g_v_final, F32 v_prev,
                           F32 surr, F32 beta, float theta, F32Out d_in, F32Out d_v0,
                           F32Out d_beta) {
  if (!spyxlike::SameDims(surr.dimensions(), v_prev.dimensions())) {
    return spyxlike::InvalidArgument("lif_scan_bwd: surrogate buffer must match v_prev");
  }
  return LifBackwardCommon(pool, g_spikes, g_v_final, v_prev, surr.typed_data(),
                           {spyxlike::Surrogate::kArray, 0.0f, 0.0f}, beta, theta, d_in, d_v0,
                           d_beta);
}

ffi::Error LifBackwardFusedImpl(ffi::ThreadPool pool, F32 g_spikes, F32 g_v_final, F32 v_prev,
                                F32 beta, float theta, int64_t surrogate, float p0, float p1,
                                F32Out d_in, F32Out d_v0, F32Out d_beta) {
  if (surrogate <= 0 || surrogate > static_cast<int64_t>(spyxlike::Surrogate::kFastSigmoid)) {
    return spyxlike::InvalidArgument("lif_scan_bwd_fused: unknown surrogate id");
  }
  return LifBackwardCommon(pool, g_spikes, g_v_final, v_prev, nullptr,
                           {static_cast<spyxlike::Surrogate>(surrogate), p0, p1}, beta, theta,
                           d_in, d_v0, d_beta);
}

ffi::Error LiForwardImpl(ffi::ThreadPool pool, F32 in, F32 v0, F32 beta, F32Out out,
                         F32Out v_final) {
  int64_t B, T, N;
  if (auto e = spyxlike::SequenceAndState("li_scan", in.dimensions(), v0.dimensions(), &B, &T, &N);
      e.failure()) {
    return e;
  }
  if (!AllDims(v0.dimensions(), beta, *v_final) || !AllDims(in.dimensions(), *out)) {
    return spyxlike::InvalidArgument("li_scan: beta/outputs do not match the input shapes");
  }
  const float* x = in.typed_data();
  const float* v = v0.typed_data();
  const float* b = beta.typed_data();
  float* o = out->typed_data();
  float* f = v_final->typed_data();
  spyxlike::ParallelFor(&pool, B, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      spyxlike::LiForward(x + i * T * N, v + i * N, b + i * N, T, N, o + i * T * N, f + i * N);
    }
  });
  return ffi::Error::Success();
}

ffi::Error LiBackwardImpl(ffi::ThreadPool pool, F32 g_out, F32 g_v_final, F32 out, F32 v0,
                          F32 beta, F32Out d_in, F32Out d_v0, F32Out d_beta) {
  int64_t B, T, N;
  if (auto e = spyxlike::SequenceAndState("li_scan_bwd", g_out.dimensions(),
                                          g_v_final.dimensions(), &B, &T, &N);
      e.failure()) {
    return e;
  }
  if (!AllDims(g_v_final.dimensions(), v0, beta, *d_v0, *d_beta) ||
      !AllDims(g_out.dimensions(), out, *d_in)) {
    return spyxlike::InvalidArgument("li_scan_bwd: buffers do not match the input shapes");
  }
  const float* g = g_out.typed_data();
  const float* gv = g_v_final.typed_data();
  const float* o = out.typed_data();
  const float* v = v0.typed_data();
  const float* b = beta.typed_data();
  float* di = d_in->typed_data();
  float* dv = d_v0->typed_data();
  float* db = d_beta->typed_data();
  spyxlike::ParallelFor(&pool, B, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      spyxlike::LiBackward(g + i * T * N, gv + i * N, o + i * T * N, v + i * N, b + i * N, T, N,
                           di + i * T * N, dv + i * N, db + i * N);
    }
  });
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeLifScanFwd, LifForwardImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Attr<float>("theta")
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeLifScanBwd, LifBackwardImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Attr<float>("theta")
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeLifScanBwdFused, LifBackwardFusedImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Attr<float>("theta")
                                  .Attr<int64_t>("surrogate")
                                  .Attr<float>("p0")
                                  .Attr<float>("p1")
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeLiScanFwd, LiForwardImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeLiScanBwd, LiBackwardImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>());
