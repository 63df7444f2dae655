// Spike-driven dense projection: y = x W for sparse x, touching only the
// weight rows of non-zero inputs.
//
// x is (R, K) of element type X (float, uint8_t or bool), W is (K, N) float.
// The scan skips 32-byte blocks of zeros, so its cost is ~R*K/32 loads plus
// one N-wide axpy per non-zero input.
#pragma once

#include <cstdint>
#include <cstring>

namespace spyxlike {

template <typename X>
inline float SpikeValue(X v) {
  return static_cast<float>(v);
}

// Calls f(k, value) for each k with x[k] != 0, in increasing k.
template <typename X, typename F>
inline void ForEachNonZero(const X* x, int64_t K, F&& f) {
  constexpr int64_t kBlock = 32 / sizeof(X);
  int64_t k = 0;
  for (; k + kBlock <= K; k += kBlock) {
    uint64_t words[4];
    std::memcpy(words, x + k, 32);
    if ((words[0] | words[1] | words[2] | words[3]) == 0) continue;
    for (int64_t j = 0; j < kBlock; ++j) {
      if (x[k + j] != X(0)) f(k + j, SpikeValue(x[k + j]));
    }
  }
  for (; k < K; ++k) {
    if (x[k] != X(0)) f(k, SpikeValue(x[k]));
  }
}

// y[r, :] = sum_k x[r, k] * W[k, :] for rows [r0, r1).
template <typename X>
inline void SpikeMatmulRows(const X* x, const float* w, int64_t r0, int64_t r1, int64_t K,
                            int64_t N, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    float* yr = y + r * N;
    for (int64_t n = 0; n < N; ++n) yr[n] = 0.0f;
    ForEachNonZero(x + r * K, K, [&](int64_t k, float v) {
      const float* wk = w + k * N;
      for (int64_t n = 0; n < N; ++n) yr[n] += v * wk[n];
    });
  }
}

// dW[k, :] += x[r, k] * g[r, :] for rows [r0, r1): the weight gradient of
// SpikeMatmulRows as a sparse outer product.
template <typename X>
inline void SpikeMatmulGradW(const X* x, const float* g, int64_t r0, int64_t r1, int64_t K,
                             int64_t N, float* dw) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* gr = g + r * N;
    ForEachNonZero(x + r * K, K, [&](int64_t k, float v) {
      float* dk = dw + k * N;
      for (int64_t n = 0; n < N; ++n) dk[n] += v * gr[n];
    });
  }
}

}  // namespace spyxlike
