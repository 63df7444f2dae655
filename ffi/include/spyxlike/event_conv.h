// Event-driven convolution + first-threshold-crossing of single-spike inputs,
// on raw pointers (no JAX, no Python).
//
// Input: spike times of one sample, int32 (H, W, Cin), in [0, T] with T = no
// spike. The dense SpykeTorch formulation convolves the cumulative spike-wave
// (1 from the spike time on) at every time step t:
//     pot[t, oy, ox, f] = sum_{ky, kx, c : time[y, x, c] <= t} K[ky, kx, c, f]
// with y = oy * sh + ky - pad_top, x = ox * sw + kx - pad_left (padding never
// spikes). Each input spikes at most once, so pot[t] = pot[t - 1] + the kernel
// contributions of the inputs that spike exactly at t. This kernel buckets the
// input events by time (counting sort), adds each event's Cout-vectors of the
// kernel once into a channels-last potential buffer (Ho, Wo, Cp), and after
// each time step tests only the outputs touched at that step for their first
// crossing pot > threshold (SpykeTorch's fire: equal does not fire). At t = 0
// every output is tested, so a negative threshold fires untouched outputs at
// t = 0 exactly as the dense formulation does.
//
// The channel axis is padded to a multiple of kLanes with zero weights so the
// inner loops have a fixed, vectorisable length.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace spyxlike {

constexpr int64_t kEventConvLanes = 16;

inline int64_t EventConvPaddedChannels(int64_t c) {
  return (c + kEventConvLanes - 1) / kEventConvLanes * kEventConvLanes;
}

struct EventConvShape {
  int64_t H, W, Cin;   // input sample
  int64_t kh, kw;      // kernel window
  int64_t Cout;        // output channels
  int64_t Cp;          // Cout padded to a multiple of kEventConvLanes
  int64_t sh, sw;      // strides, >= 1
  int64_t pt, pl;      // top and left padding (bottom/right only enter Ho, Wo)
  int64_t Ho, Wo;      // output size
  int32_t T;           // time steps, >= 1
};

// Copies an HWIO kernel (kh, kw, Cin, Cout) into (kh, kw, Cin, Cp), zero-padded.
inline void EventConvPackKernel(const float* kernel, const EventConvShape& s, float* packed) {
  const int64_t rows = s.kh * s.kw * s.Cin;
  for (int64_t r = 0; r < rows; ++r) {
    float* dst = packed + r * s.Cp;
    std::memcpy(dst, kernel + r * s.Cout, sizeof(float) * static_cast<size_t>(s.Cout));
    std::fill(dst + s.Cout, dst + s.Cp, 0.0f);
  }
}

// Per-thread work space, sized on first use and reused across samples.
struct EventConvScratch {
  std::vector<int32_t> start;    // T + 2 bucket offsets
  std::vector<int32_t> cursor;   // T + 1 fill positions
  std::vector<int32_t> events;   // flat input indices, sorted by time
  std::vector<float> pot;        // (Ho, Wo, Cp)
  std::vector<int32_t> post;     // (Ho, Wo, Cp)
  std::vector<float> fire;       // (Ho, Wo, Cp)
  std::vector<int32_t> stamp;    // (Ho * Wo): last step that touched the position
  std::vector<int32_t> touched;  // positions touched in the current step

  void Resize(const EventConvShape& s) {
    const size_t outs = static_cast<size_t>(s.Ho * s.Wo);
    start.resize(static_cast<size_t>(s.T) + 2);
    cursor.resize(static_cast<size_t>(s.T) + 1);
    events.resize(static_cast<size_t>(s.H * s.W * s.Cin));
    pot.resize(outs * static_cast<size_t>(s.Cp));
    post.resize(outs * static_cast<size_t>(s.Cp));
    fire.resize(outs * static_cast<size_t>(s.Cp));
    stamp.resize(outs);
    touched.resize(outs);
  }
};

namespace detail {

// Tests positions [pos...] of one step for a first crossing.
inline void EventConvTest(const int32_t* positions, int64_t count, int32_t t, float threshold,
                          int64_t Cp, int32_t T, const float* __restrict__ pot,
                          int32_t* __restrict__ post, float* __restrict__ fire) {
  for (int64_t i = 0; i < count; ++i) {
    const int64_t base = static_cast<int64_t>(positions[i]) * Cp;
    const float* __restrict__ p = pot + base;
    int32_t* __restrict__ po = post + base;
    float* __restrict__ fp = fire + base;
    for (int64_t f = 0; f < Cp; ++f) {
      const bool now = (po[f] == T) & (p[f] > threshold);
      po[f] = now ? t : po[f];
      fp[f] = now ? p[f] : fp[f];
    }
  }
}

template <int64_t CP>
inline void EventConvAdd(float* __restrict__ p, const float* __restrict__ k, int64_t Cp) {
  if constexpr (CP > 0) {
    for (int64_t f = 0; f < CP; ++f) p[f] += k[f];
  } else {
    for (int64_t f = 0; f < Cp; f += kEventConvLanes) {
      for (int64_t g = 0; g < kEventConvLanes; ++g) p[f + g] += k[f + g];
    }
  }
}

template <int64_t CP>
inline bool EventConvFireSampleImpl(const int32_t* __restrict__ times,
                                    const float* __restrict__ packed, float threshold,
                                    const EventConvShape& s, EventConvScratch& w,
                                    int32_t* __restrict__ post_out, float* __restrict__ fire_out,
                                    float* __restrict__ final_out) {
  const int64_t n_in = s.H * s.W * s.Cin;
  const int64_t outs = s.Ho * s.Wo;
  const int64_t Cp = CP > 0 ? CP : s.Cp;
  const int32_t T = s.T;
  // Counting sort of the events (time < T) by time.
  int32_t* start = w.start.data();
  std::fill(start, start + T + 2, 0);
  for (int64_t i = 0; i < n_in; ++i) {
    const int32_t t = times[i];
    if (t < 0 || t > T) return false;
    ++start[t + 1];
  }
  for (int32_t t = 0; t <= T; ++t) start[t + 1] += start[t];
  {
    // start[t] is now the first slot of bucket t; fill with a moving cursor.
    int32_t* cursor = w.cursor.data();
    std::copy(start, start + T + 1, cursor);
    int32_t* ev = w.events.data();
    for (int64_t i = 0; i < n_in; ++i) {
      const int32_t t = times[i];
      if (t < T) ev[cursor[t]++] = static_cast<int32_t>(i);
    }
  }
  float* __restrict__ pot = w.pot.data();
  int32_t* __restrict__ post = w.post.data();
  float* __restrict__ fire = w.fire.data();
  int32_t* __restrict__ stamp = w.stamp.data();
  int32_t* __restrict__ touched = w.touched.data();
  std::fill(pot, pot + outs * Cp, 0.0f);
  std::fill(post, post + outs * Cp, T);
  std::fill(fire, fire + outs * Cp, 0.0f);
  std::fill(stamp, stamp + outs, -1);
  const int64_t WC = s.W * s.Cin;
  for (int32_t t = 0; t < T; ++t) {
    int64_t n_touched = 0;
    for (int32_t e = start[t]; e < start[t + 1]; ++e) {
      const int64_t i = w.events[static_cast<size_t>(e)];
      const int64_t y = i / WC;
      const int64_t rem = i - y * WC;
      const int64_t x = rem / s.Cin;
      const int64_t c = rem - x * s.Cin;
      const int64_t ypt = y + s.pt;
      const int64_t xpl = x + s.pl;
      int64_t ky_lo = std::max<int64_t>(0, ypt - (s.Ho - 1) * s.sh);
      ky_lo += (ypt - ky_lo) % s.sh;
      const int64_t ky_hi = std::min<int64_t>(s.kh - 1, ypt);
      int64_t kx_lo = std::max<int64_t>(0, xpl - (s.Wo - 1) * s.sw);
      kx_lo += (xpl - kx_lo) % s.sw;
      const int64_t kx_hi = std::min<int64_t>(s.kw - 1, xpl);
      for (int64_t ky = ky_lo; ky <= ky_hi; ky += s.sh) {
        const int64_t row = ((ypt - ky) / s.sh) * s.Wo;
        const float* krow = packed + (ky * s.kw * s.Cin + c) * Cp;
        for (int64_t kx = kx_lo; kx <= kx_hi; kx += s.sw) {
          const int64_t pos = row + (xpl - kx) / s.sw;
          EventConvAdd<CP>(pot + pos * Cp, krow + kx * s.Cin * Cp, Cp);
          if (stamp[pos] != t) {
            stamp[pos] = t;
            touched[n_touched++] = static_cast<int32_t>(pos);
          }
        }
      }
    }
    if (t == 0) {
      // Untouched outputs hold 0; test them all once (matters for threshold < 0).
      for (int64_t pos = 0; pos < outs; ++pos) {
        const int32_t p32 = static_cast<int32_t>(pos);
        EventConvTest(&p32, 1, 0, threshold, Cp, T, pot, post, fire);
      }
    } else {
      EventConvTest(touched, n_touched, t, threshold, Cp, T, pot, post, fire);
    }
  }
  for (int64_t pos = 0; pos < outs; ++pos) {
    std::memcpy(post_out + pos * s.Cout, post + pos * Cp, sizeof(int32_t) * s.Cout);
    std::memcpy(fire_out + pos * s.Cout, fire + pos * Cp, sizeof(float) * s.Cout);
    if (final_out) std::memcpy(final_out + pos * s.Cout, pot + pos * Cp, sizeof(float) * s.Cout);
  }
  return true;
}

}  // namespace detail

// One sample. `times` (H, W, Cin) int32, `packed` the kernel from
// EventConvPackKernel, outputs (Ho, Wo, Cout); `final_out` may be null.
// Returns false (outputs unspecified) if a time is outside [0, T].
// `w` must have been Resize()d for `s`.
inline bool EventConvFireSample(const int32_t* times, const float* packed, float threshold,
                                const EventConvShape& s, EventConvScratch& w, int32_t* post_out,
                                float* fire_out, float* final_out) {
  switch (s.Cp) {
    case 16:
      return detail::EventConvFireSampleImpl<16>(times, packed, threshold, s, w, post_out,
                                                 fire_out, final_out);
    case 32:
      return detail::EventConvFireSampleImpl<32>(times, packed, threshold, s, w, post_out,
                                                 fire_out, final_out);
    case 64:
      return detail::EventConvFireSampleImpl<64>(times, packed, threshold, s, w, post_out,
                                                 fire_out, final_out);
    case 112:
      return detail::EventConvFireSampleImpl<112>(times, packed, threshold, s, w, post_out,
                                                  fire_out, final_out);
    default:
      return detail::EventConvFireSampleImpl<0>(times, packed, threshold, s, w, post_out,
                                                fire_out, final_out);
  }
}

}  // namespace spyxlike
