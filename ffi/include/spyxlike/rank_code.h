// Rank-order (intensity-to-latency) coding of one sample, on raw pointers.
//
// Follows SpykeTorch's Intensity2Latency and Spyker's rank code: the strongest
// input spikes first and the spikes are spread over `time_steps` bins with, as
// far as ties allow, equal numbers per bin. With n positive inputs and r_i the
// number of inputs strictly greater than x_i, input i spikes at
//     t_i = floor(r_i * time_steps / n)          if x_i > 0
//     t_i = time_steps  (no spike)               otherwise.
// Equal inputs get equal ranks and therefore the same bin.
//
// Float samples with more than kRankCodeBucketMin positive inputs rank by
// buckets instead of a full sort: positive floats order like their bit
// patterns, so the patterns, binned linearly between their min and max into
// about n buckets, give r_i = (inputs in higher buckets) + (inputs of its
// own bucket that are greater), and only the few inputs sharing a bucket
// need sorting. O(n) for spread-out values; a bucket holding many distinct
// values (a narrow cluster) is sorted, so the worst case stays O(n log n).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace spyxlike {

constexpr int64_t kRankCodeBucketMin = 64;

// Scratch of the bucket path, reused across samples of one thread.
struct RankCodeBuckets {
  std::vector<uint32_t> key;      // bit patterns of the positive inputs
  std::vector<int32_t> index;     // their feature indices
  std::vector<int32_t> count;     // per bucket, then the first slot of each bucket
  std::vector<int32_t> cursor;    // fill positions while grouping by bucket
  std::vector<uint64_t> sorted;   // (key << 32 | position) grouped by bucket
};

namespace detail {

// Bucket ranking of the n positive inputs in b.key / b.index (n > 1).
inline void RankCodeByBuckets(int64_t n, int32_t time_steps, int32_t* times,
                              RankCodeBuckets& b) {
  const uint32_t* key = b.key.data();
  uint32_t lo = key[0], hi = key[0];
  for (int64_t k = 1; k < n; ++k) {
    lo = std::min(lo, key[k]);
    hi = std::max(hi, key[k]);
  }
  int shift_bits = 0;
  int64_t n_buckets = 1;
  while (n_buckets < n) n_buckets <<= 1;
  while ((static_cast<uint64_t>(hi - lo) >> shift_bits) >= static_cast<uint64_t>(n_buckets)) {
    ++shift_bits;
  }
  const int64_t used = static_cast<int64_t>((hi - lo) >> shift_bits) + 1;
  std::vector<int32_t>& count = b.count;
  count.assign(static_cast<size_t>(used) + 1, 0);
  for (int64_t k = 0; k < n; ++k) ++count[((key[k] - lo) >> shift_bits) + 1];
  for (int64_t q = 0; q < used; ++q) count[q + 1] += count[q];  // count[q]: first slot of q
  std::vector<uint64_t>& sorted = b.sorted;
  sorted.resize(static_cast<size_t>(n));
  std::vector<int32_t>& cursor = b.cursor;
  cursor.assign(count.begin(), count.end() - 1);
  for (int64_t k = 0; k < n; ++k) {
    const uint32_t q = (key[k] - lo) >> shift_bits;
    sorted[cursor[q]++] = (static_cast<uint64_t>(key[k]) << 32) | static_cast<uint64_t>(k);
  }
  // Inputs in buckets above q: n - count[q + 1]. Within a bucket, sort by key
  // (ascending) and walk down from the largest: r = inputs strictly greater.
  for (int64_t q = 0; q < used; ++q) {
    const int32_t first = count[q], last = count[q + 1];
    if (first == last) continue;
    const int64_t above = n - last;
    if (last - first > 1) std::sort(sorted.begin() + first, sorted.begin() + last);
    int64_t rank = above;
    for (int32_t j = last - 1; j >= first; --j) {
      if (j < last - 1 && (sorted[j] >> 32) != (sorted[j + 1] >> 32)) {
        rank = above + (last - 1 - j);
      }
      const int64_t k = static_cast<int64_t>(sorted[j] & 0xFFFFFFFFull);
      times[b.index[k]] = static_cast<int32_t>((rank * time_steps) / n);
    }
  }
}

}  // namespace detail

// Returns false (and writes nothing meaningful) if x holds a NaN.
// `order` and `buckets` are scratch space, resized as needed.
template <typename T>
bool RankCodeSample(const T* x, int64_t n_features, int32_t time_steps, int32_t* times,
                    std::vector<int64_t>& order, RankCodeBuckets& buckets) {
  if constexpr (std::is_same_v<T, float>) {
    buckets.key.resize(static_cast<size_t>(n_features));
    buckets.index.resize(static_cast<size_t>(n_features));
    int64_t n = 0;
    bool nan = false;
    for (int64_t i = 0; i < n_features; ++i) {
      const float v = x[i];
      nan |= std::isnan(v);
      uint32_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      buckets.key[static_cast<size_t>(n)] = bits;
      buckets.index[static_cast<size_t>(n)] = static_cast<int32_t>(i);
      times[i] = time_steps;
      n += v > 0.0f;
    }
    if (nan) return false;
    if (n > kRankCodeBucketMin) {
      detail::RankCodeByBuckets(n, time_steps, times, buckets);
      return true;
    }
  }
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
