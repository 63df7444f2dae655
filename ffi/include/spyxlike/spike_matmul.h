// Spike-driven dense projection: y = x W for sparse x, touching only the
// weight rows of non-zero inputs.
//
// x is (R, K) of element type X (float, uint8_t or bool), W is (K, N) float.
// The scan tests 32-byte blocks at once (AVX2 compare + movemask where the
// compiler targets it, a portable loop otherwise), so its cost is ~R*K/32
// vector compares plus one N-wide axpy per non-zero input.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace spyxlike {

template <typename X>
inline float SpikeValue(X v) {
  return static_cast<float>(v);
}

// Bit j set <=> x[j] != 0, for the 32 / sizeof(X) elements at x.
template <typename X>
inline uint32_t NonZeroMask(const X* x) {
#if defined(__AVX2__)
  if constexpr (sizeof(X) == 1) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
    return ~static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_setzero_si256())));
  } else if constexpr (std::is_same_v<X, float>) {
    const __m256 v = _mm256_loadu_ps(x);
    return ~static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_EQ_OQ))) &
           0xFFu;
  }
#endif
  constexpr int kBlock = 32 / sizeof(X);
  uint32_t mask = 0;
  for (int j = 0; j < kBlock; ++j) mask |= static_cast<uint32_t>(x[j] != X(0)) << j;
  return mask;
}

// Calls f(k, value) for each k with x[k] != 0, in increasing k: 32-byte
// blocks are tested at once and only set bits are visited.
template <typename X, typename F>
inline void ForEachNonZero(const X* x, int64_t K, F&& f) {
  constexpr int64_t kBlock = 32 / sizeof(X);
  int64_t k = 0;
  for (; k + kBlock <= K; k += kBlock) {
    for (uint32_t m = NonZeroMask(x + k); m; m &= m - 1) {
      const int64_t j = k + __builtin_ctz(m);
      f(j, SpikeValue(x[j]));
    }
  }
  for (; k < K; ++k) {
    if (x[k] != X(0)) f(k, SpikeValue(x[k]));
  }
}

inline void Axpy(float* __restrict__ y, const float* __restrict__ x, float a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// y[r, :] = sum_k x[r, k] * W[k, :] for rows [r0, r1).
template <typename X>
inline void SpikeMatmulRows(const X* x, const float* w, int64_t r0, int64_t r1, int64_t K,
                            int64_t N, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    float* yr = y + r * N;
    for (int64_t n = 0; n < N; ++n) yr[n] = 0.0f;
    ForEachNonZero(x + r * K, K, [&](int64_t k, float v) { Axpy(yr, w + k * N, v, N); });
  }
}

// dW[k, :] += x[r, k] * g[r, :] for rows [r0, r1): the weight gradient of
// SpikeMatmulRows as a sparse outer product.
template <typename X>
inline void SpikeMatmulGradW(const X* x, const float* g, int64_t r0, int64_t r1, int64_t K,
                             int64_t N, float* dw) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* gr = g + r * N;
    ForEachNonZero(x + r * K, K, [&](int64_t k, float v) { Axpy(dw + k * N, gr, v, N); });
  }
}

}  // namespace spyxlike
