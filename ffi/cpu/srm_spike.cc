// XLA FFI handler for SLAYER's SRM spike function with refractory response.
#include <cmath>
#include <cstdint>
#include <vector>

#include "parallel.h"
#include "shapes.h"
#include "spyxlike/srm_spike.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

// u: (batch..., T, N) float32; ref: float32 array attribute (K,).
// Returns spikes and the refractory-modified potential, both shaped like u.
ffi::Error SrmSpikeForwardImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> u,
                               ffi::Span<const float> ref, float theta, float spike_value,
                               ffi::ResultBuffer<ffi::F32> spikes,
                               ffi::ResultBuffer<ffi::F32> u_out) {
  auto dims = u.dimensions();
  if (dims.size() < 2) {
    return spyxlike::InvalidArgument("srm_spike: potential must be (batch..., T, N)");
  }
  if (!spyxlike::SameDims(dims, spikes->dimensions()) ||
      !spyxlike::SameDims(dims, u_out->dimensions())) {
    return spyxlike::InvalidArgument("srm_spike: output shapes do not match the potential");
  }
  const int64_t K = static_cast<int64_t>(ref.size());
  if (K < 1) return spyxlike::InvalidArgument("srm_spike: refractory kernel is empty");
  for (int64_t j = 0; j < K; ++j) {
    if (!std::isfinite(ref[j])) {
      return spyxlike::InvalidArgument("srm_spike: refractory kernel is not finite");
    }
  }
  if (!std::isfinite(theta) || !std::isfinite(spike_value)) {
    return spyxlike::InvalidArgument("srm_spike: theta and spike_value must be finite");
  }
  const size_t rank = dims.size();
  const int64_t T = dims[rank - 2];
  const int64_t N = dims[rank - 1];
  int64_t B = 1;
  for (size_t d = 0; d + 2 < rank; ++d) B *= dims[d];
  if (B == 0 || T == 0 || N == 0) return ffi::Error::Success();
  const float* x = u.typed_data();
  const float* r = ref.begin();
  float* s = spikes->typed_data();
  float* v = u_out->typed_data();
  spyxlike::ParallelFor(&pool, B, 1, [&](int64_t lo, int64_t hi) {
    std::vector<int64_t> fired(static_cast<size_t>(N));
    for (int64_t i = lo; i < hi; ++i) {
      spyxlike::SrmSpikeForward(x + i * T * N, r, K, theta, spike_value, T, N, s + i * T * N,
                                v + i * T * N, fired.data());
    }
  });
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeSrmSpikeFwd, SrmSpikeForwardImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Attr<ffi::Span<const float>>("ref")
                                  .Attr<float>("theta")
                                  .Attr<float>("spike_value")
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());
