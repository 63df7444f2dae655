// XLA FFI handlers for the spike-driven projection y = x W and its weight
// gradient dW = x^T g, both skipping zero inputs.
#include <cstdint>
#include <vector>

#include "parallel.h"
#include "shapes.h"
#include "spyxlike/spike_matmul.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

// x: (R..., K) with R the product of leading dims; returns false for an
// unsupported element type.
template <typename Fn>
bool WithSpikeType(ffi::AnyBuffer x, Fn&& fn) {
  switch (x.element_type()) {
    case ffi::DataType::F32:
      fn(static_cast<const float*>(x.untyped_data()));
      return true;
    case ffi::DataType::U8:
      fn(static_cast<const uint8_t*>(x.untyped_data()));
      return true;
    case ffi::DataType::PRED:
      fn(static_cast<const bool*>(x.untyped_data()));
      return true;
    default:
      return false;
  }
}

ffi::Error RowsAndK(ffi::AnyBuffer x, int64_t* rows, int64_t* K) {
  const auto dims = x.dimensions();
  if (dims.size() == 0) return spyxlike::InvalidArgument("spike_matmul: x must have rank >= 1");
  *K = dims[dims.size() - 1];
  int64_t r = 1;
  for (size_t d = 0; d + 1 < dims.size(); ++d) r *= dims[d];
  *rows = r;
  return ffi::Error::Success();
}

ffi::Error SpikeMatmulImpl(ffi::ThreadPool pool, ffi::AnyBuffer x, ffi::Buffer<ffi::F32> w,
                           ffi::ResultBuffer<ffi::F32> y) {
  int64_t R, K;
  if (auto e = RowsAndK(x, &R, &K); e.failure()) return e;
  const auto wd = w.dimensions();
  if (wd.size() != 2 || wd[0] != K) {
    return spyxlike::InvalidArgument("spike_matmul: w must be (K, N) with K = x.shape[-1]");
  }
  const int64_t N = wd[1];
  if (static_cast<int64_t>(y->element_count()) != R * N) {
    return spyxlike::InvalidArgument("spike_matmul: output must be (..., N)");
  }
  const float* wp = w.typed_data();
  float* yp = y->typed_data();
  const bool ok = WithSpikeType(x, [&](const auto* xp) {
    spyxlike::ParallelFor(&pool, R, 64, [&](int64_t lo, int64_t hi) {
      spyxlike::SpikeMatmulRows(xp, wp, lo, hi, K, N, yp);
    });
  });
  if (!ok) return spyxlike::InvalidArgument("spike_matmul: x must be float32, uint8 or bool");
  return ffi::Error::Success();
}

ffi::Error SpikeMatmulGradWImpl(ffi::ThreadPool pool, ffi::AnyBuffer x,
                                ffi::Buffer<ffi::F32> g, ffi::ResultBuffer<ffi::F32> dw) {
  int64_t R, K;
  if (auto e = RowsAndK(x, &R, &K); e.failure()) return e;
  const auto gd = g.dimensions();
  if (gd.size() == 0) return spyxlike::InvalidArgument("spike_matmul_grad_w: g must have rank >= 1");
  const int64_t N = gd[gd.size() - 1];
  if (static_cast<int64_t>(g.element_count()) != R * N) {
    return spyxlike::InvalidArgument("spike_matmul_grad_w: g must be (..., N) with x's rows");
  }
  const auto dd = dw->dimensions();
  if (dd.size() != 2 || dd[0] != K || dd[1] != N) {
    return spyxlike::InvalidArgument("spike_matmul_grad_w: dw must be (K, N)");
  }
  // One private accumulator per partition of the rows, summed at the end.
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(pool.num_threads(), R / 256));
  std::vector<float> acc(static_cast<size_t>(parts * K * N), 0.0f);
  const float* gp = g.typed_data();
  const bool ok = WithSpikeType(x, [&](const auto* xp) {
    spyxlike::ParallelFor(&pool, parts, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t p = lo; p < hi; ++p) {
        const int64_t r0 = R * p / parts, r1 = R * (p + 1) / parts;
        spyxlike::SpikeMatmulGradW(xp, gp, r0, r1, K, N, acc.data() + p * K * N);
      }
    });
  });
  if (!ok) return spyxlike::InvalidArgument("spike_matmul_grad_w: x must be float32, uint8 or bool");
  float* out = dw->typed_data();
  const int64_t total = K * N;
  spyxlike::ParallelFor(&pool, total, 4096, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      float s = 0.0f;
      for (int64_t p = 0; p < parts; ++p) s += acc[static_cast<size_t>(p * total + i)];
      out[i] = s;
    }
  });
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeSpikeMatmul, SpikeMatmulImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeSpikeMatmulGradW, SpikeMatmulGradWImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::AnyBuffer>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());
