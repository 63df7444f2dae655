// XLA FFI handler for SpykeTorch's fire on the CPU.
#include <cstdint>

#include "parallel.h"
#include "shapes.h"
#include "spyxlike/fire.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

// potentials: (batch..., T, N) float32 where N is the product of the trailing
// `feature_ndim` dims; all leading dims (vmapped ones included) are batch.
// Outputs spikes and thresholded potentials, both shaped like the input; with
// write_thresholded == 0 the second output is left unwritten (the caller drops
// it), which saves a full pass of memory writes.
ffi::Error FireImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> potentials, float threshold,
                    int64_t last_step_only, int64_t feature_ndim, int64_t write_thresholded,
                    ffi::ResultBuffer<ffi::F32> spikes,
                    ffi::ResultBuffer<ffi::F32> thresholded) {
  const auto dims = potentials.dimensions();
  const int64_t rank = static_cast<int64_t>(dims.size());
  if (feature_ndim < 0 || feature_ndim + 1 > rank) {
    return spyxlike::InvalidArgument("fire: expected potentials (batch..., T, features...)");
  }
  if (!spyxlike::SameDims(spikes->dimensions(), dims) ||
      !spyxlike::SameDims(thresholded->dimensions(), dims)) {
    return spyxlike::InvalidArgument("fire: output shapes differ from the input shape");
  }
  int64_t n = 1;
  for (int64_t d = rank - feature_ndim; d < rank; ++d) n *= dims[d];
  const int64_t steps = dims[rank - feature_ndim - 1];
  const int64_t block = steps * n;
  const int64_t total = static_cast<int64_t>(potentials.element_count());
  if (block == 0 || total == 0) return ffi::Error::Success();
  const int64_t batch = total / block;
  const float* in = potentials.typed_data();
  float* out_s = spikes->typed_data();
  float* out_t = write_thresholded != 0 ? thresholded->typed_data() : nullptr;
  const bool last = last_step_only != 0;
  // ~64k elements per chunk keeps the pool overhead small for tiny blocks.
  const int64_t min_chunk = std::max<int64_t>(1, (int64_t{1} << 16) / block);
  spyxlike::ParallelFor(&pool, batch, min_chunk, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      spyxlike::FireBlock(in + b * block, steps, n, threshold, last, out_s + b * block,
                          out_t ? out_t + b * block : nullptr);
    }
  });
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeFire, FireImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Attr<float>("threshold")
                                  .Attr<int64_t>("last_step_only")
                                  .Attr<int64_t>("feature_ndim")
                                  .Attr<int64_t>("write_thresholded")
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());
