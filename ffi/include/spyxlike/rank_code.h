// Rank-order (intensity-to-latency) coding of one sample, on raw pointers.
//
// Follows SpykeTorch's Intensity2Latency and Spyker's rank code: the strongest
// input spikes first and the spikes are spread over `time_steps` bins with, as
// far as ties allow, equal numbers per bin. With n positive inputs and r_i the
// number of inputs strictly greater than x_i, input i spikes at
//     t_i = floor(r_i * time_steps / n)          if x_i > 0
//     t_i = time_steps  (no spike)               otherwise.
// Equal inputs get equal ranks and therefore the same bin.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace spyxlike {

// Returns false (and writes nothing meaningful) if x holds a NaN.
// `order` is scratch space, resized as needed.
template <typename T>
bool RankCodeSample(const T* x, int64_t n_features, int32_t time_steps, int32_t* times,
                    std::vector<int64_t>& order) {
  order.clear();
  for (int64_t i = 0; i < n_features; ++i) {
    const T v = x[i];
    if (std::isnan(v)) return false;
    if (v > T(0)) {
      order.push_back(i);
    } else {
      times[i] = time_steps;
    }
  }
  const int64_t n = static_cast<int64_t>(order.size());
  if (n == 0) return true;
  if constexpr (std::is_same_v<T, float>) {
    // Positive floats order like their bit patterns, so one key holds
    // (descending value, index): sorting plain integers avoids the indirect
    // comparator (about 2x faster for the ~1000 inputs of an image).
    // n_features < 2**31 (checked by the caller), so the index fits 32 bits.
    for (int64_t k = 0; k < n; ++k) {
      uint32_t bits;
      std::memcpy(&bits, &x[order[k]], sizeof bits);
      order[k] = static_cast<int64_t>((static_cast<uint64_t>(~bits) << 32) |
                                      static_cast<uint64_t>(order[k]));
    }
    std::sort(order.begin(), order.end(), [](int64_t a, int64_t b) {
      return static_cast<uint64_t>(a) < static_cast<uint64_t>(b);
    });
    for (int64_t k = 0; k < n; ++k) order[k] = static_cast<int64_t>(static_cast<uint64_t>(order[k]) & 0xFFFFFFFFull);
  } else {
    std::sort(order.begin(), order.end(), [x](int64_t a, int64_t b) { return x[a] > x[b]; });
  }
  int64_t rank = 0;
  for (int64_t k = 0; k < n; ++k) {
    if (k > 0 && x[order[k]] != x[order[k - 1]]) rank = k;
    times[order[k]] = static_cast<int32_t>((rank * time_steps) / n);
  }
  return true;
}

}  // namespace spyxlike
