// STDP weight update of a single-spike convolution (and FC as a 1x1 conv on a
// 1x1 image), on raw pointers.
//
// Weights are HWIO (kh, kw, Cin, Cout); pre-synaptic spike times (B, H, W, Cin),
// post-synaptic (B, Ho, Wo, Cout), int32, T meaning "no spike". Winner slot s
// of sample b is (feature[s], row[s], col[s]) if valid[s]; its rates (a_LTP,
// a_LTD) are tables[rate_index[s], feature[s]] (table 0 when there is no
// rate_index; slot skipped when rate_index[s] < 0). A slot whose feature or
// position lies outside the layer is skipped too. The pre-synaptic
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

struct StdpWinners {
  const int32_t* feature;
  const int32_t* row;
  const int32_t* col;
  const bool* valid;
  const int32_t* rate_index;  // nullptr: table 0 for every slot
  const float* tables;        // (n_tables, cout, 2)
  int64_t n_tables;
};

// Winner slots of each feature, in (b, slot) order: order[start[f] .. start[f+1]).
inline void BucketWinners(const StdpConvShape& s, const StdpWinners& win,
                          std::vector<int64_t>& start, std::vector<int64_t>& order) {
  const int64_t n = s.batch * s.slots;
  const int32_t* feature = win.feature;
  start.assign(static_cast<size_t>(s.cout + 1), 0);
  auto ok = [&](int64_t i) {
    const bool table_ok =
        win.rate_index == nullptr || (win.rate_index[i] >= 0 && win.rate_index[i] < win.n_tables);
    return win.valid[i] && table_ok && feature[i] >= 0 && feature[i] < s.cout &&
           win.row[i] >= 0 && win.row[i] < s.out_h && win.col[i] >= 0 && win.col[i] < s.out_w;
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
                        const int32_t* post, const StdpWinners& win, int64_t i, float* lr) {
  const int64_t b = i / s.slots;
  const int64_t f = win.feature[i], r = win.row[i], c = win.col[i];
  const int32_t t_post = post[((b * s.out_h + r) * s.out_w + c) * s.cout + f];
  const int64_t table = win.rate_index ? win.rate_index[i] : 0;
  const float a = win.tables[(table * s.cout + f) * 2], d = win.tables[(table * s.cout + f) * 2 + 1];
  const float pad_rate = rule.pad_time <= t_post ? a : d;
  const int64_t x0 = c * s.stride_w - s.pad_left;
  // columns [kx_lo, kx_hi) of the window lie inside the input
  const int64_t kx_lo = std::min<int64_t>(s.kw, std::max<int64_t>(0, -x0));
  const int64_t kx_hi = std::max<int64_t>(kx_lo, std::min<int64_t>(s.kw, s.width - x0));
  for (int64_t ky = 0; ky < s.kh; ++ky) {
    const int64_t iy = r * s.stride_h + ky - s.pad_top;
    float* out = lr + ky * s.kw * s.cin;
    if (iy < 0 || iy >= s.height) {
      std::fill(out, out + s.kw * s.cin, pad_rate);
      continue;
    }
    std::fill(out, out + kx_lo * s.cin, pad_rate);
    std::fill(out + kx_hi * s.cin, out + s.kw * s.cin, pad_rate);
    // the inside columns are one contiguous run of (kx_hi - kx_lo) * cin times
    const int64_t run = (kx_hi - kx_lo) * s.cin;
    if (run == 0) continue;
    const int32_t* p = pre + ((b * s.height + iy) * s.width + x0 + kx_lo) * s.cin;
    float* o = out + kx_lo * s.cin;
    for (int64_t j = 0; j < run; ++j) o[j] = p[j] <= t_post ? a : d;
  }
}

// Updates features [f_begin, f_end) of one (unbatched) layer: reads w, writes out.
inline void StdpConvFeatures(const StdpConvShape& s, const StdpRule& rule, const float* w,
                             const int32_t* pre, const int32_t* post, const StdpWinners& win,
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
        WinnerRates(s, rule, pre, post, win, order[n], lr.data());
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
        WinnerRates(s, rule, pre, post, win, order[n], lr.data());
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
