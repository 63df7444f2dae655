// SLAYER's SRM spike function with refractory response, for one batch element,
// on raw pointers (no JAX/Python).
//
// Layout: u, spikes, u_out are (T, N) row-major (time, neuron); ref is (K,).
//   u_out = u;  for t: s[t,n] = u_out[t,n] >= theta ? spike_value : 0;
//               if fired: u_out[t + j, n] += ref[j]  (0 <= j < K, t + j < T).
// The additions into each u_out element happen in time order, exactly like
// SLAYER's in-place getSpikes kernel and spyxlike's lax.scan reference.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace spyxlike {

// `fired` is caller-provided scratch of at least N entries.
inline void SrmSpikeForward(const float* __restrict__ u, const float* __restrict__ ref, int64_t K,
                            float theta, float spike_value, int64_t T, int64_t N,
                            float* __restrict__ spikes, float* __restrict__ u_out,
                            int64_t* __restrict__ fired) {
  std::memcpy(u_out, u, sizeof(float) * static_cast<size_t>(T * N));
  for (int64_t t = 0; t < T; ++t) {
    float* ut = u_out + t * N;
    float* st = spikes + t * N;
    int64_t count = 0;
    for (int64_t n = 0; n < N; ++n) {
      const bool f = ut[n] >= theta;
      st[n] = f ? spike_value : 0.0f;
      fired[count] = n;
      count += f ? 1 : 0;
    }
    if (count == 0) continue;
    const int64_t jmax = K < T - t ? K : T - t;
    for (int64_t j = 0; j < jmax; ++j) {
      const float r = ref[j];
      float* row = ut + j * N;
      for (int64_t c = 0; c < count; ++c) row[fired[c]] += r;
    }
  }
}

}  // namespace spyxlike
