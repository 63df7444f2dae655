// XLA FFI handler for rank-order coding on the CPU.
#include <cstdint>
#include <vector>

#include "parallel.h"
#include "spyxlike/rank_code.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

// x: (batch..., features...) float32; the trailing `feature_ndim` dimensions
// form one sample, all leading ones (including vmapped ones) are batch.
ffi::Error RankCodeImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> x, int64_t time_steps,
                        int64_t feature_ndim, ffi::ResultBuffer<ffi::S32> times) {
  const auto dims = x.dimensions();
  const int64_t rank = static_cast<int64_t>(dims.size());
  if (feature_ndim < 0 || feature_ndim > rank) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument,
                      "rank_code: feature_ndim out of range for the input rank");
  }
  if (time_steps < 1 || time_steps > INT32_MAX) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument, "rank_code: time_steps must be >= 1");
  }
  if (times->element_count() != x.element_count()) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument,
                      "rank_code: output size differs from input size");
  }
  int64_t features = 1;
  for (int64_t d = rank - feature_ndim; d < rank; ++d) features *= dims[d];
  const int64_t total = static_cast<int64_t>(x.element_count());
  const int64_t batch = features == 0 ? 0 : total / features;
  const float* in = x.typed_data();
  int32_t* out = times->typed_data();
  std::atomic<bool> saw_nan{false};
  spyxlike::ParallelFor(&pool, batch, 1, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> order;
    order.reserve(static_cast<size_t>(features));
    spyxlike::RankCodeBuckets buckets;
    for (int64_t b = begin; b < end; ++b) {
      if (!spyxlike::RankCodeSample(in + b * features, features,
                                    static_cast<int32_t>(time_steps), out + b * features,
                                    order, buckets)) {
        saw_nan.store(true);
      }
    }
  });
  if (saw_nan.load()) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument,
                      "rank_code: x contains NaN; rank coding needs ordered intensities");
  }
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeRankCode, RankCodeImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Attr<int64_t>("time_steps")
                                  .Attr<int64_t>("feature_ndim")
                                  .Ret<ffi::Buffer<ffi::S32>>());
