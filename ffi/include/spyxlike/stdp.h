// STDP weight update of a single-spike convolution (and FC as a 1x1 conv on a
// 1x1 image), on raw pointers.
//
// Weights are HWIO (kh, kw, Cin, Cout); pre-synaptic spike times (B, H, W, Cin),
// post-synaptic (B, Ho, Wo, Cout), int32, T meaning "no spike". Winner slot s
// of sample b is (feature[s], row[s], col[s]) with rates (a_LTP, a_LTD); a slot
// whose feature or position lies outside the layer is skipped. The pre-synaptic
// neuron of W[ky, kx, ci, f] for winner (f, r, c) is the input at
// (r*sh + ky - pad_top, c*sw + kx - pad_left, ci); outside the input its spike
// time is pad_time. dW = a_LTP if t_pre <= t_post else a_LTD, times
// (W - lower)(upper - W) if stabilize (SpykeTorch's and Spyker's rule).
//
// Sum mode: all winners' changes are computed from the same weights, summed,
// added once, and every weight is clamped to [lower, upper]. Sequential mode:
// winners are applied in (b, slot) order, each from the weights left by the
// previous one, the winner's feature clamped after each (Spyker 0.1.0).
//
// Features own disjoint weights, so the work is split over features.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace spyxlike {

struct StdpConvShape {
  int64_t batch, height, width, cin;  // pre_times
  int64_t out_h, out_w, cout;         // post_times
  int64_t kh, kw;                     // kernel
  int64_t slots;                      // winners per sample
  int64_t stride_h, stride_w, pad_top, pad_left;
};

struct StdpRule {
  int32_t pad_time;
  bool stabilize;
  float lower, upper;
  bool sequential;
};

// Winner slots of each feature, in (b, slot) order: order[start[f] .. start[f+1]).
inline void BucketWinners(const StdpConvShape& s, const int32_t* feature, const int32_t* row,
                          const int32_t* col, std::vector<int64_t>& start,
                          std::vector<int64_t>& order) {
  const int64_t n = s.batch * s.slots;
  start.assign(static_cast<size_t>(s.cout + 1), 0);
  auto ok = [&](int64_t i) {
    return feature[i] >= 0 && feature[i] < s.cout && row[i] >= 0 && row[i] < s.out_h &&
           col[i] >= 0 && col[i] < s.out_w;
  };
  for (int64_t i = 0; i < n; ++i) {
    if (ok(i)) ++start[static_cast<size_t>(feature[i]) + 1];
  }
  for (int64_t f = 0; f < s.cout; ++f) start[f + 1] += start[f];
  order.resize(static_cast<size_t>(start[s.cout]));
  std::vector<int64_t> fill(start.begin(), start.end() - 1);
  for (int64_t i = 0; i < n; ++i) {
    if (ok(i)) order[static_cast<size_t>(fill[feature[i]]++)] = i;
  }
}

// Writes the rate of every weight of winner slot i into lr[(ky*kw + kx)*cin + ci].
inline void WinnerRates(const StdpConvShape& s, const StdpRule& rule, const int32_t* pre,
                        const int32_t* post, const int32_t* feature, const int32_t* row,
                        const int32_t* col, const float* rates, int64_t i, float* lr) {
  const int64_t b = i / s.slots;
  const int64_t f = feature[i], r = row[i], c = col[i];
  const int32_t t_post = post[((b * s.out_h + r) * s.out_w + c) * s.cout + f];
  const float a = rates[2 * i], d = rates[2 * i + 1];
  const float pad_rate = rule.pad_time <= t_post ? a : d;
  for (int64_t ky = 0; ky < s.kh; ++ky) {
    const int64_t iy = r * s.stride_h + ky - s.pad_top;
    for (int64_t kx = 0; kx < s.kw; ++kx) {
      const int64_t ix = c * s.stride_w + kx - s.pad_left;
      float* out = lr + (ky * s.kw + kx) * s.cin;
      if (iy < 0 || iy >= s.height || ix < 0 || ix >= s.width) {
        std::fill(out, out + s.cin, pad_rate);
        continue;
      }
      const int32_t* p = pre + ((b * s.height + iy) * s.width + ix) * s.cin;
      for (int64_t ci = 0; ci < s.cin; ++ci) out[ci] = p[ci] <= t_post ? a : d;
    }
  }
}

// Updates features [f_begin, f_end) of one (unbatched) layer: reads w, writes out.
inline void StdpConvFeatures(const StdpConvShape& s, const StdpRule& rule, const float* w,
                             const int32_t* pre, const int32_t* post, const int32_t* feature,
                             const int32_t* row, const int32_t* col, const float* rates,
                             const std::vector<int64_t>& start,
                             const std::vector<int64_t>& order, int64_t f_begin, int64_t f_end,
                             float* out) {
  const int64_t patch = s.kh * s.kw * s.cin;
  std::vector<float> acc(static_cast<size_t>(patch)), lr(static_cast<size_t>(patch)),
      cur(static_cast<size_t>(patch));
  const float lo = rule.lower, hi = rule.upper;
  auto stab = [&](float v) { return rule.stabilize ? (v - lo) * (hi - v) : 1.0f; };
  for (int64_t f = f_begin; f < f_end; ++f) {
    const int64_t first = start[f], last = start[f + 1];
    if (rule.sequential) {
      for (int64_t j = 0; j < patch; ++j) cur[j] = w[j * s.cout + f];
      for (int64_t n = first; n < last; ++n) {
        WinnerRates(s, rule, pre, post, feature, row, col, rates, order[n], lr.data());
        for (int64_t j = 0; j < patch; ++j) {
          const float v = cur[j];
          const float step = lr[j] * stab(v);
          cur[j] = std::min(std::max(v + step, lo), hi);
        }
      }
      for (int64_t j = 0; j < patch; ++j) out[j * s.cout + f] = cur[j];
    } else {
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t n = first; n < last; ++n) {
        WinnerRates(s, rule, pre, post, feature, row, col, rates, order[n], lr.data());
        for (int64_t j = 0; j < patch; ++j) acc[j] += lr[j];
      }
      for (int64_t j = 0; j < patch; ++j) {
        const float v = w[j * s.cout + f];
        const float step = acc[j] * stab(v);
        out[j * s.cout + f] = std::min(std::max(v + step, lo), hi);
      }
    }
  }
}

}  // namespace spyxlike
