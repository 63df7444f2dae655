// XLA FFI handlers for winner-take-all competition and point-wise inhibition on the CPU.
#include <cstdint>
#include <string>
#include <vector>

#include "parallel.h"
#include "shapes.h"
#include "spyxlike/competition.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

// times: (batch..., H, W, C) int32, values: same dims float32;
// winners: (batch..., kwta, 3) int32 rows (feature, row, col), -1 when empty.
ffi::Error KWinnersImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::S32> times,
                        ffi::Buffer<ffi::F32> values, int64_t time_steps, int64_t kwta,
                        int64_t radius_y, int64_t radius_x, int64_t exclude_feature,
                        int64_t spyketorch_rule, ffi::ResultBuffer<ffi::S32> winners) {
  const auto dims = times.dimensions();
  const auto wdims = winners->dimensions();
  const size_t rank = dims.size();
  if (rank < 3) return spyxlike::InvalidArgument("k_winners: times must be (batch..., H, W, C)");
  if (!spyxlike::SameDims(dims, values.dimensions())) {
    return spyxlike::InvalidArgument("k_winners: times and values shapes differ");
  }
  if (time_steps < 0 || time_steps > INT32_MAX) {
    return spyxlike::InvalidArgument("k_winners: time_steps must be in [0, 2**31)");
  }
  if (kwta < 1 || radius_y < -1 || radius_x < -1) {
    return spyxlike::InvalidArgument("k_winners: kwta must be >= 1 and radii >= -1");
  }
  if (wdims.size() != rank - 1 || wdims[rank - 3] != kwta || wdims[rank - 2] != 3) {
    return spyxlike::InvalidArgument("k_winners: winners must be (batch..., kwta, 3)");
  }
  int64_t batch = 1;
  for (size_t d = 0; d + 3 < rank; ++d) {
    if (wdims[d] != dims[d]) {
      return spyxlike::InvalidArgument("k_winners: winners batch dims differ from times");
    }
    batch *= dims[d];
  }
  const int64_t H = dims[rank - 3], W = dims[rank - 2], C = dims[rank - 1];
  if (H > INT32_MAX || W > INT32_MAX || C > INT32_MAX) {
    return spyxlike::InvalidArgument("k_winners: H, W and C must each be < 2**31");
  }
  const int64_t n = H * W * C;
  const int32_t* t = times.typed_data();
  const float* v = values.typed_data();
  int32_t* out = winners->typed_data();
  spyxlike::ParallelFor(&pool, batch, 1, [&](int64_t begin, int64_t end) {
    spyxlike::KwtaScratch scratch;
    for (int64_t b = begin; b < end; ++b) {
      spyxlike::KWinnersSample(t + b * n, v + b * n, H, W, C, static_cast<int32_t>(time_steps),
                               kwta, radius_y, radius_x, exclude_feature != 0,
                               spyketorch_rule != 0, out + b * kwta * 3, scratch);
    }
  });
  return ffi::Error::Success();
}

// signal, potentials: (batch..., T, N) float32; times (batch..., N) int32, values float32.
ffi::Error FirstCrossingImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> signal,
                             ffi::Buffer<ffi::F32> potentials, float threshold,
                             ffi::ResultBuffer<ffi::S32> times, ffi::ResultBuffer<ffi::F32> values) {
  const auto dims = signal.dimensions();
  const size_t rank = dims.size();
  if (rank < 2) return spyxlike::InvalidArgument("first_crossing: signal must be (batch..., T, N)");
  if (!spyxlike::SameDims(dims, potentials.dimensions())) {
    return spyxlike::InvalidArgument("first_crossing: signal and potentials shapes differ");
  }
  const auto tdims = times->dimensions();
  if (!spyxlike::SameDims(tdims, values->dimensions()) || tdims.size() != rank - 1 ||
      tdims[rank - 2] != dims[rank - 1]) {
    return spyxlike::InvalidArgument("first_crossing: outputs must be (batch..., N)");
  }
  int64_t batch = 1;
  for (size_t d = 0; d + 2 < rank; ++d) {
    if (tdims[d] != dims[d]) return spyxlike::InvalidArgument("first_crossing: batch dims differ");
    batch *= dims[d];
  }
  const int64_t T = dims[rank - 2], N = dims[rank - 1];
  if (T >= INT32_MAX) return spyxlike::InvalidArgument("first_crossing: T must be < 2**31 - 1");
  const float* s = signal.typed_data();
  const float* p = potentials.typed_data();
  int32_t* t = times->typed_data();
  float* v = values->typed_data();
  spyxlike::ParallelFor(&pool, batch, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      spyxlike::FirstCrossingSample(s + b * T * N, p + b * T * N, T, N, threshold, t + b * N,
                                    v + b * N);
    }
  });
  return ffi::Error::Success();
}

// x, y: (batch..., T, H, W, C) float32.
ffi::Error PointwiseInhibitImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> x, int64_t spyker,
                                float threshold, ffi::ResultBuffer<ffi::F32> y) {
  const auto dims = x.dimensions();
  const size_t rank = dims.size();
  if (rank < 4) {
    return spyxlike::InvalidArgument("pointwise_inhibition: x must be (batch..., T, H, W, C)");
  }
  if (!spyxlike::SameDims(dims, y->dimensions())) {
    return spyxlike::InvalidArgument("pointwise_inhibition: output shape differs from input");
  }
  int64_t batch = 1;
  for (size_t d = 0; d + 4 < rank; ++d) batch *= dims[d];
  const int64_t T = dims[rank - 4], P = dims[rank - 3] * dims[rank - 2], C = dims[rank - 1];
  if (C > INT32_MAX) return spyxlike::InvalidArgument("pointwise_inhibition: C must be < 2**31");
  const int64_t n = T * P * C;
  const float* in = x.typed_data();
  float* out = y->typed_data();
  spyxlike::ParallelFor(&pool, batch, 1, [&](int64_t begin, int64_t end) {
    std::vector<int32_t> argmax;
    std::vector<float> maximum;
    for (int64_t b = begin; b < end; ++b) {
      spyxlike::PointwiseInhibitSample(in + b * n, T, P, C, spyker != 0, threshold, out + b * n,
                                       argmax, maximum);
    }
  });
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeKWinners, KWinnersImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Attr<int64_t>("time_steps")
                                  .Attr<int64_t>("kwta")
                                  .Attr<int64_t>("radius_y")
                                  .Attr<int64_t>("radius_x")
                                  .Attr<int64_t>("exclude_feature")
                                  .Attr<int64_t>("spyketorch_rule")
                                  .Ret<ffi::Buffer<ffi::S32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikePointwiseInhibit, PointwiseInhibitImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Attr<int64_t>("spyker")
                                  .Attr<float>("threshold")
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeFirstCrossing, FirstCrossingImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Attr<float>("threshold")
                                  .Ret<ffi::Buffer<ffi::S32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());
