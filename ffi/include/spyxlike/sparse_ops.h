// Event-driven sparse spike ops (Spyker's Sparse::conv / pool / gather) on raw pointers.
//
// Events are int32 rows (batch, time, row, col, channel) for image layouts
// (B, T, H, W, C), or (batch, time, index) for flat layouts (B, T, F). Only the
// first `count` rows are read. Every op costs O(events * work per event) plus
// one pass over per-sample scratch of the output size; nothing is O(T*H*W).
//
// Emitted events are in canonical order (batch, time, row, col, channel) and
// each output neuron fires at most once (Spyker's sparse tensors hold one
// event per neuron).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace spyxlike {

// Returns the index of the first of the `n` events with a coordinate outside
// dims[0..ncols) (batch, time, spatial...), or -1 when all are in range.
inline int64_t FindBadEvent(const int32_t* ev, int64_t n, int64_t ncols, const int64_t* dims) {
  for (int64_t k = 0; k < n; ++k) {
    for (int64_t c = 0; c < ncols; ++c) {
      const int64_t v = ev[k * ncols + c];
      if (v < 0 || v >= dims[c]) return k;
    }
  }
  return -1;
}

// Stable counting sort of events by key batch * T + time. On return
// order[offsets[b*T+t] .. offsets[b*T+t+1]) are the events of sample b at time t,
// in input order. Events must be in range (see FindBadEvent).
inline void GroupByBatchTime(const int32_t* ev, int64_t n, int64_t ncols, int64_t batch,
                             int64_t time_steps, std::vector<int64_t>& order,
                             std::vector<int64_t>& offsets) {
  const int64_t groups = batch * time_steps;
  offsets.assign(static_cast<size_t>(groups + 1), 0);
  for (int64_t k = 0; k < n; ++k) {
    ++offsets[ev[k * ncols] * time_steps + ev[k * ncols + 1] + 1];
  }
  for (int64_t g = 0; g < groups; ++g) offsets[g + 1] += offsets[g];
  std::vector<int64_t> next(offsets.begin(), offsets.end() - 1);
  order.resize(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    order[next[ev[k * ncols] * time_steps + ev[k * ncols + 1]]++] = k;
  }
}

struct SparseConvGeometry {
  int64_t channels;     // input channels C
  int64_t kh, kw;       // kernel size
  int64_t out_channels; // Cout
  int64_t sh, sw;       // stride
  int64_t pad_top, pad_left;
  int64_t out_h, out_w; // Ho, Wo
};

// Scratch of one worker, reused across samples.
struct SparseConvScratch {
  std::vector<float> pot;        // Ho * Wo * Cout potentials
  std::vector<uint8_t> fired;    // Ho * Wo * Cout
  std::vector<int64_t> stamp;    // Ho * Wo: last time step that touched the position
  std::vector<int64_t> touched;  // positions touched in the current time step
};

// One sample of the sparse convolution with a firing threshold.
//
// Input events of the sample at time t are ev rows order[off[t] .. off[t+1]).
// The potential of output neuron (ro, co, o) at time t is
//   sum over events (t_e <= t, r, c, ch) of kernel[r + pad_top - ro*sh, c + pad_left - co*sw, ch, o]
// (taps inside the kernel only), i.e. the convolution of the cumulative
// spike-waves. A neuron fires once, at the first time step t at which the
// sample has input events at or before t and its potential is > threshold
// (strictly, as Spyker). Appends (t, flat output index (ro*Wo+co)*Cout+o) to
// `out`, sorted by (t, index).
inline void SparseConvSample(const int32_t* ev, int64_t ncols, const int64_t* order,
                             const int64_t* off, int64_t time_steps, const float* kernel,
                             float threshold, const SparseConvGeometry& g,
                             SparseConvScratch& s, std::vector<std::pair<int32_t, int64_t>>& out) {
  const int64_t positions = g.out_h * g.out_w;
  const int64_t cout = g.out_channels;
  s.pot.assign(static_cast<size_t>(positions * cout), 0.0f);
  s.fired.assign(static_cast<size_t>(positions * cout), 0);
  s.stamp.assign(static_cast<size_t>(positions), -1);
  bool first_group = true;
  for (int64_t t = 0; t < time_steps; ++t) {
    const int64_t g0 = off[t], g1 = off[t + 1];
    if (g0 == g1) continue;
    s.touched.clear();
    for (int64_t k = g0; k < g1; ++k) {
      const int32_t* e = ev + order[k] * ncols;
      const int64_t rp = e[2] + g.pad_top;
      const int64_t cp = e[3] + g.pad_left;
      const int64_t ch = e[4];
      for (int64_t i = 0; i < g.kh; ++i) {
        const int64_t fr = rp - i;
        if (fr < 0) break;
        if (fr % g.sh != 0) continue;
        const int64_t ro = fr / g.sh;
        if (ro >= g.out_h) continue;
        for (int64_t j = 0; j < g.kw; ++j) {
          const int64_t fc = cp - j;
          if (fc < 0) break;
          if (fc % g.sw != 0) continue;
          const int64_t co = fc / g.sw;
          if (co >= g.out_w) continue;
          const int64_t pos = ro * g.out_w + co;
          const float* w = kernel + ((i * g.kw + j) * g.channels + ch) * cout;
          float* p = s.pot.data() + pos * cout;
          for (int64_t o = 0; o < cout; ++o) p[o] += w[o];
          if (s.stamp[pos] != t) {
            s.stamp[pos] = t;
            s.touched.push_back(pos);
          }
        }
      }
    }
    const size_t begin = out.size();
    auto check = [&](int64_t pos) {
      const float* p = s.pot.data() + pos * cout;
      uint8_t* f = s.fired.data() + pos * cout;
      for (int64_t o = 0; o < cout; ++o) {
        if (!f[o] && p[o] > threshold) {
          f[o] = 1;
          out.emplace_back(static_cast<int32_t>(t), pos * cout + o);
        }
      }
    };
    if (first_group && threshold < 0.0f) {
      // Untouched neurons sit at 0 > threshold: they fire with the sample's first input.
      for (int64_t pos = 0; pos < positions; ++pos) check(pos);
    } else {
      for (int64_t pos : s.touched) check(pos);
      std::sort(out.begin() + begin, out.end());
    }
    first_group = false;
  }
}

// One sample of sparse max pooling: each output neuron (ro, co, ch) takes the
// earliest event of the input neurons in its window
// rows [ro*sh - pad_top, ro*sh - pad_top + kh), cols likewise, same channel.
// `best` (Ho*Wo*C, filled with time_steps by the caller once) is restored on return.
// Appends (t, (ro*Wo+co)*C+ch) sorted by (t, index).
inline void SparsePoolSample(const int32_t* ev, int64_t ncols, const int64_t* order,
                             int64_t begin, int64_t end, int32_t time_steps, int64_t channels,
                             int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t pad_top,
                             int64_t pad_left, int64_t out_h, int64_t out_w,
                             std::vector<int32_t>& best, std::vector<int64_t>& touched,
                             std::vector<std::pair<int32_t, int64_t>>& out) {
  touched.clear();
  for (int64_t k = begin; k < end; ++k) {
    const int32_t* e = ev + order[k] * ncols;
    const int32_t t = e[1];
    const int64_t rp = e[2] + pad_top;
    const int64_t cp = e[3] + pad_left;
    const int64_t ch = e[4];
    for (int64_t ro = rp / sh; ro >= 0 && rp - ro * sh < kh; --ro) {
      if (ro >= out_h) continue;
      for (int64_t co = cp / sw; co >= 0 && cp - co * sw < kw; --co) {
        if (co >= out_w) continue;
        const int64_t idx = (ro * out_w + co) * channels + ch;
        if (best[idx] == time_steps) touched.push_back(idx);
        if (t < best[idx]) best[idx] = t;
      }
    }
  }
  const size_t first = out.size();
  for (int64_t idx : touched) {
    out.emplace_back(best[idx], idx);
    best[idx] = time_steps;
  }
  std::sort(out.begin() + first, out.end());
}

}  // namespace spyxlike
