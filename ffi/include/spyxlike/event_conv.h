// Event-driven convolution + first-threshold-crossing of single-spike inputs,
// on raw pointers (no JAX, no Python).
//
// Input: spike times of one sample, int32 (H, W, Cin), in [0, T] with T = no
// spike. The dense SpykeTorch formulation convolves the cumulative spike-wave
// (1 from the spike time on) at every time step t:
//     pot[t, oy, ox, f] = sum_{ky, kx, c : time[y, x, c] <= t} K[ky, kx, c, f]
// with y = oy * sh + ky - pad_top, x = ox * sw + kx - pad_left (padding never
// spikes). Each input spikes at most once, so pot[t] = pot[t - 1] + the
// kernel contributions of the inputs that spike exactly at t. Per sample this
// kernel
//  * buckets the input events by time (stable counting sort: within a step,
//    events come in pixel order, a pixel's channels next to each other);
//  * adds, per pixel and step, the sum of its spiking channels' kernel
//    Cout-vectors once to each output it reaches, in a channels-last
//    potential buffer (Ho, Wo, Cp);
//  * tests each output row for first crossings pot > threshold (SpykeTorch's
//    fire: equal does not fire) as soon as no later event of the step can
//    reach it (still in cache), only rows touched in the step, only outputs
//    with channels left to fire, using a bitmask of unfired channels. At t = 0
//    every row is tested, so a negative threshold fires untouched outputs at
//    t = 0 exactly as the dense formulation does;
//  * when the final potentials are not requested, stops accumulating into
//    outputs whose channels have all fired.
//
// The channel axis is padded to a multiple of 16 with zero weights (those
// lanes never fire) so the inner loops run on whole 16-lane vectors.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#if defined(__AVX__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <memory>
#include <new>
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

inline bool SameEventConvShape(const EventConvShape& a, const EventConvShape& b) {
  return a.H == b.H && a.W == b.W && a.Cin == b.Cin && a.kh == b.kh && a.kw == b.kw &&
         a.Cout == b.Cout && a.Cp == b.Cp && a.sh == b.sh && a.sw == b.sw && a.pt == b.pt &&
         a.pl == b.pl && a.Ho == b.Ho && a.Wo == b.Wo && a.T == b.T;
}

// Floats of one packed kernel: the (kh, kw, Cin, Cp) weights, then the
// kh * kw * Cin row maxima, rounded up to whole vectors (kernels packed one
// after another stay 64-byte aligned).
inline int64_t EventConvPackedSize(const EventConvShape& s) {
  const int64_t rows = s.kh * s.kw * s.Cin;
  return rows * s.Cp + (rows + kEventConvLanes - 1) / kEventConvLanes * kEventConvLanes;
}

// Copies an HWIO kernel (kh, kw, Cin, Cout) into (kh, kw, Cin, Cp), zero-padded,
// followed by each row's largest weight over the Cout real channels (the
// upper bounds of EventConvFireSample's test skipping).
inline void EventConvPackKernel(const float* kernel, const EventConvShape& s, float* packed) {
  const int64_t rows = s.kh * s.kw * s.Cin;
  float* row_max = packed + rows * s.Cp;
  for (int64_t r = 0; r < rows; ++r) {
    float* dst = packed + r * s.Cp;
    const float* src = kernel + r * s.Cout;
    std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(s.Cout));
    std::fill(dst + s.Cout, dst + s.Cp, 0.0f);
    float m = src[0];
    int64_t c = 1;
#if defined(__AVX512F__)
    if (s.Cout >= kEventConvLanes) {
      __m512 acc = _mm512_loadu_ps(src);
      for (c = kEventConvLanes; c + kEventConvLanes <= s.Cout; c += kEventConvLanes) {
        acc = _mm512_max_ps(acc, _mm512_loadu_ps(src + c));
      }
      m = _mm512_reduce_max_ps(acc);
    }
#endif
    for (; c < s.Cout; ++c) m = src[c] > m ? src[c] : m;
    row_max[r] = m;
  }
}

// A 64-byte aligned array (whole-vector loads and stores never split a cache line).
template <typename T>
class EventConvBuffer {
 public:
  void Resize(size_t n) {
    if (n <= size_) return;
    data_.reset(static_cast<T*>(::operator new[](n * sizeof(T), std::align_val_t(64))));
    size_ = n;
  }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }

 private:
  struct Free {
    void operator()(T* p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  std::unique_ptr<T, Free> data_;
  size_t size_ = 0;
};

// For an input row y (or column x): the kernel rows ky = k0 + j * stride,
// j < n, that map it onto the output rows o0 - j, all inside [0, out).
struct EventConvSpan {
  int32_t k0;
  int32_t o0;
  int32_t n;
};

inline void EventConvSpans(int64_t size, int64_t k, int64_t stride, int64_t pad, int64_t out,
                           EventConvSpan* spans) {
  for (int64_t y = 0; y < size; ++y) {
    const int64_t ypt = y + pad;
    int64_t lo = std::max<int64_t>(0, ypt - (out - 1) * stride);
    lo += (ypt - lo) % stride;
    const int64_t hi = std::min<int64_t>(k - 1, ypt);
    EventConvSpan span{0, 0, 0};
    if (lo <= hi) {
      span.k0 = static_cast<int32_t>(lo);
      span.o0 = static_cast<int32_t>((ypt - lo) / stride);
      span.n = static_cast<int32_t>((hi - lo) / stride + 1);
    }
    spans[y] = span;
  }
}

// Where the spikes of one input pixel go: the packed-kernel offset of its
// first (ky, kx) slice (channel 0), the output row and position it lands on,
// and how many kernel rows (ny) and columns (nx) reach the output.
struct EventConvPixel {
  int32_t kofs;
  int32_t pos;
  int32_t orow;
  int32_t ny;
  int32_t nx;
  int32_t iy;  // input row
};

// One input spike: its pixel and the packed-kernel offset of its channel.
struct EventConvEvent {
  int32_t pixel;
  int32_t coff;
};

// Per-thread work space, prepared once per shape and reused across samples.
struct EventConvScratch {
  std::vector<EventConvPixel> pixels;  // (H * W)
  std::vector<int32_t> start;          // T + 2 bucket offsets
  std::vector<int32_t> cursor;         // T + 1 fill positions
  std::vector<EventConvEvent> events;  // sorted by time, then pixel, then channel
  std::vector<EventConvEvent> found;   // events in input order (compaction)
  std::vector<int32_t> found_time;     // their times
  EventConvBuffer<float> pot;          // (Ho, Wo, Cp)
  std::vector<uint16_t> unfired;       // (Ho, Wo, Cp / 16): lane bits of channels yet to fire
  std::vector<uint8_t> alive;          // (Ho * Wo): 1 while some channel has not fired
  std::vector<float> bound;            // (Ho * Wo): upper bound of the unfired potentials
  std::vector<uint8_t> dirty;          // (Ho): rows touched in the current step
  std::vector<int64_t> last_input;     // (Ho): last input row that reaches the output row

  // Sizes and fills the tables for shape `s` (handlers keep one prepared
  // scratch per shape and thread, see ThreadScratchFor).
  void Prepare(const EventConvShape& s) {
    const size_t outs = static_cast<size_t>(s.Ho * s.Wo);
    std::vector<EventConvSpan> rows(static_cast<size_t>(s.H)), cols(static_cast<size_t>(s.W));
    EventConvSpans(s.H, s.kh, s.sh, s.pt, s.Ho, rows.data());
    EventConvSpans(s.W, s.kw, s.sw, s.pl, s.Wo, cols.data());
    pixels.resize(static_cast<size_t>(s.H * s.W));
    for (int64_t y = 0; y < s.H; ++y) {
      for (int64_t x = 0; x < s.W; ++x) {
        const EventConvSpan& r = rows[static_cast<size_t>(y)];
        const EventConvSpan& c = cols[static_cast<size_t>(x)];
        pixels[static_cast<size_t>(y * s.W + x)] = EventConvPixel{
            static_cast<int32_t>((r.k0 * s.kw + c.k0) * s.Cin * s.Cp),
            static_cast<int32_t>(r.o0 * s.Wo + c.o0), r.o0, r.n, c.n, static_cast<int32_t>(y)};
      }
    }
    start.resize(static_cast<size_t>(s.T) + 2);
    cursor.resize(static_cast<size_t>(s.T) + 1);
    events.resize(static_cast<size_t>(s.H * s.W * s.Cin));
    found.resize(static_cast<size_t>(s.H * s.W * s.Cin));
    found_time.resize(static_cast<size_t>(s.H * s.W * s.Cin));
    pot.Resize(outs * static_cast<size_t>(s.Cp));
    unfired.resize(outs * static_cast<size_t>(s.Cp / kEventConvLanes));
    alive.resize(outs);
    bound.resize(outs);
    dirty.resize(static_cast<size_t>(s.Ho));
    last_input.resize(static_cast<size_t>(s.Ho));
    for (int64_t r = 0; r < s.Ho; ++r) {
      last_input[static_cast<size_t>(r)] = std::min(s.H - 1, r * s.sh - s.pt + s.kh - 1);
    }
  }
};

// Observer of the fires of EventConvFireSample, in time order: Fired() gets
// the lanes of one 16-channel block of an output position that first cross at
// the current step (called in increasing position order within a step);
// StepEnd(t) runs after every output of step t was tested and returns true to
// stop the sample there (outputs of later steps are then left unspecified).
// With kPointwise, an output position keeps only the first channel that
// fires there (see EventConvPointwiseSink) and then stops accumulating.
struct EventConvNoSink {
  static constexpr bool kActive = false;
  static constexpr bool kPointwise = false;
  int32_t time_steps = 0;
  void Fired(int64_t /*pos*/, int64_t /*block*/, uint32_t /*lanes*/) {}
  bool StepEnd(int32_t /*t*/) { return false; }
};

// SpykeTorch's point-wise inhibition fused into the conv: at each output
// position the earliest spike survives, ties going to the larger potential,
// then to the lower channel; every other channel of the position gets no
// spike (time T, potential 0). Once a channel has fired at a position, the
// others can only fire later and lose, so the position stops accumulating.
//
// Optionally the survivors are max-pooled straight away (SpykeTorch's
// pooling of the spike-wave = the earliest spike in each window): with
// `pooled` set, the sample's (Ho, Wo, Cout) times are not written; each
// survivor (oy, ox, c, t) lowers pooled[py, px, c] to t for every window
// (py * sh - pt + [0, kh)) x (px * sw - pl + [0, kw)) that holds it. The
// caller fills `pooled` (Hp, Wp, Cout) with T first.
struct EventConvPointwiseSink {
  static constexpr bool kActive = false;
  static constexpr bool kPointwise = true;
  int32_t time_steps = 0;  // T, the "no spike" time
  int32_t* pooled = nullptr;
  int64_t Wo = 0, Cout = 0;                   // the conv output
  int64_t kh = 1, kw = 1, sh = 1, sw = 1;     // pooling window and stride
  int64_t pt = 0, pl = 0, Hp = 0, Wp = 0;     // top/left padding, pooled size
  void Fired(int64_t /*pos*/, int64_t /*block*/, uint32_t /*lanes*/) {}
  bool StepEnd(int32_t /*t*/) { return false; }
  void Pool(int64_t pos, int64_t c, int32_t t) {
    const int64_t oy = pos / Wo, ox = pos % Wo;
    // windows py with py * sh - pt <= oy < py * sh - pt + kh
    const int64_t py0 = std::max<int64_t>(0, CeilDiv(oy + pt - kh + 1, sh));
    const int64_t py1 = std::min<int64_t>(Hp - 1, (oy + pt) / sh);
    const int64_t px0 = std::max<int64_t>(0, CeilDiv(ox + pl - kw + 1, sw));
    const int64_t px1 = std::min<int64_t>(Wp - 1, (ox + pl) / sw);
    for (int64_t py = py0; py <= py1; ++py) {
      for (int64_t px = px0; px <= px1; ++px) {
        int32_t& cell = pooled[(py * Wp + px) * Cout + c];
        cell = std::min(cell, t);
      }
    }
  }

 private:
  static int64_t CeilDiv(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
};

namespace detail {

#if defined(__GNUC__) && !defined(__clang__)
// Only inlined helpers take vectors by value; silence GCC's ABI note for
// builds without AVX-512.
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

// 16 float lanes (GCC/Clang vector extension: one AVX-512 register,
// two AVX2 registers, or four SSE/NEON registers).
typedef float VecF __attribute__((vector_size(64)));

inline VecF LoadF(const float* p) {
  VecF v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void StoreF(float* p, const VecF& v) { std::memcpy(p, &v, sizeof(v)); }

// Bit g set iff p[g] > threshold, for 16 lanes (false for NaN, like `>`).
inline uint32_t GreaterMask(const float* p, float threshold) {
#if defined(__AVX512F__)
  return _mm512_cmp_ps_mask(_mm512_loadu_ps(p), _mm512_set1_ps(threshold), _CMP_GT_OQ);
#elif defined(__AVX__)
  const __m256 thr = _mm256_set1_ps(threshold);
  const uint32_t lo = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(p), thr, _CMP_GT_OQ));
  const uint32_t hi = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(p + 8), thr, _CMP_GT_OQ));
  return lo | (hi << 8);
#else
  uint32_t mask = 0;
  for (int g = 0; g < kEventConvLanes; ++g) mask |= static_cast<uint32_t>(p[g] > threshold) << g;
  return mask;
#endif
}

// out_t[g] = t and (unless out_p is null) out_p[g] = p[g] for the lanes g
// set in `mask`; other lanes are neither read nor written (the outputs have
// no padding lanes).
inline void StoreLanes(int32_t* out_t, float* out_p, const float* p, int32_t t, uint32_t mask) {
#if defined(__AVX512F__)
  const __mmask16 k = static_cast<__mmask16>(mask);
  _mm512_mask_storeu_epi32(out_t, k, _mm512_set1_epi32(t));
  if (out_p) _mm512_mask_storeu_ps(out_p, k, _mm512_maskz_loadu_ps(k, p));
#else
  do {
    const int g = __builtin_ctz(mask);
    out_t[g] = t;
    if (out_p) out_p[g] = p[g];
    mask &= mask - 1;
  } while (mask);
#endif
}

// Largest p[g] over the lanes g set in `mask` (mask != 0).
inline float MaskedMax(const float* p, uint32_t mask) {
#if defined(__AVX512F__)
  return _mm512_mask_reduce_max_ps(static_cast<__mmask16>(mask), _mm512_loadu_ps(p));
#else
  float m = p[__builtin_ctz(mask)];
  for (; mask; mask &= mask - 1) m = std::max(m, p[__builtin_ctz(mask)]);
  return m;
#endif
}

// Running maximum over selected lanes of several 16-lane vectors:
// Add(p, mask) takes the lanes of p set in mask, Get() the largest so far
// (-inf if none).
class LaneMax {
 public:
#if defined(__AVX512F__)
  void Add(const float* p, uint32_t mask) {
    acc_ = _mm512_mask_max_ps(acc_, static_cast<__mmask16>(mask), acc_, _mm512_loadu_ps(p));
  }
  float Get() const { return _mm512_reduce_max_ps(acc_); }

 private:
  __m512 acc_ = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
#else
  void Add(const float* p, uint32_t mask) {
    for (; mask; mask &= mask - 1) m_ = std::max(m_, p[__builtin_ctz(mask)]);
  }
  float Get() const { return m_; }

 private:
  float m_ = -std::numeric_limits<float>::infinity();
#endif
};

// Bit g set iff p[g] == value, for 16 lanes.
inline uint32_t EqualMask(const float* p, float value) {
#if defined(__AVX512F__)
  return _mm512_cmp_ps_mask(_mm512_loadu_ps(p), _mm512_set1_ps(value), _CMP_EQ_OQ);
#else
  uint32_t mask = 0;
  for (int g = 0; g < kEventConvLanes; ++g) mask |= static_cast<uint32_t>(p[g] == value) << g;
  return mask;
#endif
}

// EventConvTest under point-wise inhibition: when channels of the position
// first cross at step t, only the first one with the largest potential gets
// its spike written (the others keep T and 0) and the position is done.
// With BOUND, returns the largest potential of the position when it did not
// fire (-inf otherwise; without BOUND, always -inf).
// With a null post_out the survivor goes to sink.Pool (fused pooling).
template <int64_t NV, bool BOUND, class Sink>
inline float EventConvTestPointwise(int64_t pos, int32_t t, float threshold, int64_t nv_runtime,
                                    int64_t Cout, const float* __restrict__ pot,
                                    const uint16_t* __restrict__ unfired,
                                    uint8_t* __restrict__ alive, int32_t* __restrict__ post_out,
                                    float* __restrict__ fire_out, Sink& sink) {
  const int64_t nv = NV > 0 ? NV : nv_runtime;
  const float* __restrict__ p = pot + pos * nv * kEventConvLanes;
  const uint16_t* __restrict__ un = unfired + pos * nv;
  bool any = false;
  float best = 0.0f;
#pragma GCC unroll 8
  for (int64_t v = 0; v < nv; ++v) {
    const uint32_t now = GreaterMask(p + v * kEventConvLanes, threshold) & un[v];
    if (now) {
      const float m = MaskedMax(p + v * kEventConvLanes, now);
      if (!any || m > best) best = m;
      any = true;
    }
  }
  if (!any) {
    if constexpr (!BOUND) return -std::numeric_limits<float>::infinity();
    LaneMax m;
    for (int64_t v = 0; v < nv; ++v) m.Add(p + v * kEventConvLanes, un[v]);
    return m.Get();
  }
  for (int64_t v = 0; v < nv; ++v) {
    const uint32_t hit = GreaterMask(p + v * kEventConvLanes, threshold) & un[v] &
                         EqualMask(p + v * kEventConvLanes, best);
    if (hit) {
      const int64_t c = v * kEventConvLanes + __builtin_ctz(hit);
      if (post_out) {
        post_out[pos * Cout + c] = t;
        if (fire_out) fire_out[pos * Cout + c] = best;
      } else {
        sink.Pool(pos, c, t);
      }
      break;
    }
  }
  alive[pos] = 0;
  return -std::numeric_limits<float>::infinity();
}

// Tests one output position for first crossings pot > threshold at step t:
// writes the time and potential of newly fired channels straight into the
// outputs (Cout stride) and clears alive[pos] once every channel has fired.
// With BOUND, returns the largest potential of the channels still unfired
// (-inf if none; without BOUND, always -inf).
template <int64_t NV, bool BOUND, class Sink>
inline float EventConvTest(int64_t pos, int32_t t, float threshold, int64_t nv_runtime,
                           int64_t Cout, const float* __restrict__ pot,
                           uint16_t* __restrict__ unfired, uint8_t* __restrict__ alive,
                           int32_t* __restrict__ post_out, float* __restrict__ fire_out,
                           Sink& sink) {
  const int64_t nv = NV > 0 ? NV : nv_runtime;
  const float* __restrict__ p = pot + pos * nv * kEventConvLanes;
  uint16_t* __restrict__ un = unfired + pos * nv;
  uint32_t left = 0;
  LaneMax unfired_max;
#pragma GCC unroll 8
  for (int64_t v = 0; v < nv; ++v) {
    uint32_t now = GreaterMask(p + v * kEventConvLanes, threshold) & un[v];
    if (now) {
      un[v] = static_cast<uint16_t>(un[v] & ~now);
      StoreLanes(post_out + pos * Cout + v * kEventConvLanes,
                 fire_out ? fire_out + pos * Cout + v * kEventConvLanes : nullptr,
                 p + v * kEventConvLanes, t, now);
      if constexpr (Sink::kActive) sink.Fired(pos, v, now);
    }
    left |= un[v];
    if constexpr (BOUND) unfired_max.Add(p + v * kEventConvLanes, un[v]);
  }
  alive[pos] = left != 0;
  if constexpr (!BOUND) return -std::numeric_limits<float>::infinity();
  return unfired_max.Get();
}

// pot[0:Cp] += sum over the group's m channels of k[coff_e + 0:Cp].
// Always inlined: it is the innermost step (a call per touch costs ~25 %).
template <int64_t NV>
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
inline void EventConvAddGroup(float* __restrict__ pot, const float* __restrict__ k,
                              const EventConvEvent* __restrict__ group, int32_t m,
                              int64_t nv_runtime) {
  if constexpr (NV > 0) {
    VecF acc[NV];
    const float* __restrict__ k0 = k + group[0].coff;
#pragma GCC unroll 8
    for (int64_t v = 0; v < NV; ++v) acc[v] = LoadF(k0 + v * kEventConvLanes);
    for (int32_t e = 1; e < m; ++e) {
      const float* __restrict__ ke = k + group[e].coff;
#pragma GCC unroll 8
      for (int64_t v = 0; v < NV; ++v) acc[v] += LoadF(ke + v * kEventConvLanes);
    }
#pragma GCC unroll 8
    for (int64_t v = 0; v < NV; ++v) {
      float* q = pot + v * kEventConvLanes;
      StoreF(q, LoadF(q) + acc[v]);
    }
  } else {
    for (int64_t v = 0; v < nv_runtime; ++v) {
      const int64_t o = v * kEventConvLanes;
      VecF acc = LoadF(k + group[0].coff + o);
      for (int32_t e = 1; e < m; ++e) acc += LoadF(k + group[e].coff + o);
      StoreF(pot + o, LoadF(pot + o) + acc);
    }
  }
}

// SKIP_DEAD: outputs whose channels have all fired stop accumulating (their
// final potential is not needed).
template <int64_t NV, bool SKIP_DEAD, class Sink>
inline bool EventConvFireSampleImpl(const int32_t* __restrict__ times,
                                    const float* __restrict__ packed, float threshold,
                                    const EventConvShape& s, EventConvScratch& w,
                                    int32_t* __restrict__ post_out, float* __restrict__ fire_out,
                                    float* __restrict__ final_out, Sink& sink) {
  const int64_t outs = s.Ho * s.Wo;
  const int64_t nv = NV > 0 ? NV : s.Cp / kEventConvLanes;
  const int64_t Cp = nv * kEventConvLanes;
  const int64_t Cin = s.Cin;
  const int32_t T = s.T;
  // Counting sort of the events (time < T) by time; stable, so each bucket
  // lists pixels in order and a pixel's channels next to each other. The
  // range check is a min/max reduction and the events are first compacted
  // branch-free, so inputs that never spike (often most of them) cost no
  // histogram update.
  const int64_t n_pix = s.H * s.W;
  const int64_t n_in = n_pix * Cin;
  if (T < 1) return false;
  {
    int32_t lo = 0, hi = 0;
    if (n_in > 0) lo = hi = times[0];
    for (int64_t i = 0; i < n_in; ++i) {
      lo = std::min(lo, times[i]);
      hi = std::max(hi, times[i]);
    }
    if (lo < 0 || hi > T) return false;
  }
  EventConvEvent* __restrict__ found = w.found.data();
  int32_t* __restrict__ found_t = w.found_time.data();
  int64_t n_ev = 0;
  for (int64_t px = 0; px < n_pix; ++px) {
    const int32_t* tx = times + px * Cin;
    for (int64_t c = 0; c < Cin; ++c) {
      const int32_t t = tx[c];
      found[n_ev] = EventConvEvent{static_cast<int32_t>(px), static_cast<int32_t>(c * Cp)};
      found_t[n_ev] = t;
      n_ev += t < T;
    }
  }
  int32_t* start = w.start.data();
  std::fill(start, start + T + 2, 0);
  for (int64_t j = 0; j < n_ev; ++j) ++start[found_t[j] + 1];
  for (int32_t t = 0; t <= T; ++t) start[t + 1] += start[t];
  int32_t* cursor = w.cursor.data();
  std::copy(start, start + T + 1, cursor);
  EventConvEvent* __restrict__ events = w.events.data();
  for (int64_t j = 0; j < n_ev; ++j) events[cursor[found_t[j]]++] = found[j];
  const EventConvPixel* __restrict__ pixels = w.pixels.data();
  float* __restrict__ pot = w.pot.data();
  uint16_t* __restrict__ unfired = w.unfired.data();
  uint8_t* __restrict__ alive = w.alive.data();
  uint8_t* __restrict__ dirty = w.dirty.data();
  std::fill(pot, pot + outs * Cp, 0.0f);
  // Padded lanes (channels >= Cout) never fire.
  for (int64_t v = 0; v < nv; ++v) {
    const int64_t real = std::min<int64_t>(kEventConvLanes, std::max<int64_t>(0, s.Cout - v * kEventConvLanes));
    const uint16_t bits = static_cast<uint16_t>(real == kEventConvLanes ? 0xFFFFu : (1u << real) - 1u);
    for (int64_t pos = 0; pos < outs; ++pos) unfired[pos * nv + v] = bits;
  }
  std::fill(alive, alive + outs, uint8_t{1});
  if (post_out) std::fill(post_out, post_out + outs * s.Cout, T);
  if (fire_out) std::fill(fire_out, fire_out + outs * s.Cout, 0.0f);
  // Untouched outputs hold 0 at t = 0: test them all once (matters for threshold < 0).
  std::fill(dirty, dirty + s.Ho, uint8_t{1});
  const int64_t kstep_y = s.sh * s.kw * Cin * Cp;
  const int64_t kstep_x = s.sw * Cin * Cp;
  const int32_t Wo = static_cast<int32_t>(s.Wo);
  const int64_t* __restrict__ last_input = w.last_input.data();
  // bound[pos] >= every unfired potential of the position: it grows by each
  // touch's kernel row maxima (summed in the same order as the potentials,
  // and float addition is monotone, so rounding cannot break the bound) and
  // is reset to the exact value by each test. A position whose bound is not
  // above the threshold cannot cross, so its test is skipped: most of them
  // while the potentials build up. With one or two vectors per position a
  // test costs less than keeping the bound at every touch, so it is kept
  // only for wider outputs (measured: 2 vectors +25 % time, 7 vectors -18 %).
  constexpr bool kBound = NV != 1 && NV != 2;
  const float* __restrict__ row_max = packed + s.kh * s.kw * Cin * Cp;
  float* __restrict__ bound = w.bound.data();
  if constexpr (kBound) std::fill(bound, bound + outs, 0.0f);
  const int32_t rstep_y = static_cast<int32_t>(s.sh * s.kw * Cin);
  const int32_t rstep_x = static_cast<int32_t>(s.sw * Cin);
  // Tests the touched, still alive positions of output row r at step t.
  auto test_row = [&](int64_t r, int32_t t) {
    if (!dirty[r]) return;
    dirty[r] = 0;
    for (int64_t pos = r * s.Wo, stop = pos + s.Wo; pos < stop; ++pos) {
      if (alive[pos] && (!kBound || bound[pos] > threshold)) {
        float unfired_max;
        if constexpr (Sink::kPointwise) {
          unfired_max = EventConvTestPointwise<NV, kBound>(pos, t, threshold, nv, s.Cout, pot,
                                                           unfired, alive, post_out, fire_out,
                                                           sink);
        } else {
          unfired_max = EventConvTest<NV, kBound>(pos, t, threshold, nv, s.Cout, pot, unfired, alive,
                                          post_out, fire_out, sink);
        }
        if constexpr (kBound) bound[pos] = unfired_max;
      }
    }
  };
  for (int32_t t = 0; t < T; ++t) {
    const int32_t end = start[t + 1];
    // Events come in input-row order, so output row r is complete for this
    // step once an event below last_input[r] shows up: it is tested then,
    // while its potentials are still in cache.
    int64_t r_next = 0;
    for (int32_t e = start[t]; e < end;) {
      // A group: the channels of one pixel that spike at t.
      const int32_t pixel = events[e].pixel;
      int32_t m = 1;
      while (e + m < end && events[e + m].pixel == pixel) ++m;
      const EventConvPixel px = pixels[pixel];
      const EventConvEvent* group = events + e;
      e += m;
      while (r_next < s.Ho && last_input[r_next] < px.iy) test_row(r_next++, t);
      for (int32_t j = 0; j < px.ny; ++j) dirty[px.orow - j] = 1;
      const float* krow = packed + px.kofs;
      // kernel row index of krow (only used for the bound)
      int32_t rrow = kBound ? static_cast<int32_t>(px.kofs / Cp) : 0;
      int32_t prow = px.pos;
      for (int32_t j = 0; j < px.ny; ++j, krow += kstep_y, rrow += rstep_y, prow -= Wo) {
        const float* k = krow;
        int32_t kr = rrow;
        int32_t p = prow;
        for (int32_t i = 0; i < px.nx; ++i, k += kstep_x, kr += rstep_x, --p) {
          if constexpr (SKIP_DEAD && !Sink::kPointwise) {
            if (alive[p] == 0) continue;
          }
          EventConvAddGroup<NV>(pot + static_cast<int64_t>(p) * Cp, k, group, m, nv);
          if constexpr (kBound) {
            // channel c sits at coff = c * Cp
            float gmax = row_max[kr + group[0].coff / Cp];
            for (int32_t e = 1; e < m; ++e) gmax += row_max[kr + group[e].coff / Cp];
            bound[p] += gmax;
          }
        }
      }
    }
    while (r_next < s.Ho) test_row(r_next++, t);
    if constexpr (Sink::kActive) {
      if (sink.StepEnd(t)) break;
    }
  }
  if (final_out) {
    for (int64_t pos = 0; pos < outs; ++pos) {
      std::memcpy(final_out + pos * s.Cout, pot + pos * Cp, sizeof(float) * s.Cout);
    }
  }
  return true;
}

template <int64_t NV, class Sink>
inline bool EventConvFireSampleCp(const int32_t* times, const float* packed, float threshold,
                                  const EventConvShape& s, EventConvScratch& w, int32_t* post_out,
                                  float* fire_out, float* final_out, Sink& sink) {
  if (final_out) {
    return EventConvFireSampleImpl<NV, false>(times, packed, threshold, s, w, post_out, fire_out,
                                              final_out, sink);
  }
  return EventConvFireSampleImpl<NV, true>(times, packed, threshold, s, w, post_out, fire_out,
                                           nullptr, sink);
}

}  // namespace detail

// One sample. `times` (H, W, Cin) int32, `packed` the kernel from
// EventConvPackKernel (64-byte aligned for speed), outputs (Ho, Wo, Cout);
// `fire_out` and `final_out` may be null (not wanted). Returns false (outputs unspecified) if a time is
// outside [0, T]. `w` must have been Prepare()d for `s`. `sink` (see
// EventConvNoSink) observes the fires step by step and may stop early.
template <class Sink>
inline bool EventConvFireSample(const int32_t* times, const float* packed, float threshold,
                                const EventConvShape& s, EventConvScratch& w, int32_t* post_out,
                                float* fire_out, float* final_out, Sink& sink) {
  switch (s.Cp / kEventConvLanes) {
    case 1:
      return detail::EventConvFireSampleCp<1>(times, packed, threshold, s, w, post_out, fire_out,
                                               final_out, sink);
    case 2:
      return detail::EventConvFireSampleCp<2>(times, packed, threshold, s, w, post_out, fire_out,
                                               final_out, sink);
    case 4:
      return detail::EventConvFireSampleCp<4>(times, packed, threshold, s, w, post_out, fire_out,
                                               final_out, sink);
    case 7:
      return detail::EventConvFireSampleCp<7>(times, packed, threshold, s, w, post_out, fire_out,
                                               final_out, sink);
    default:
      return detail::EventConvFireSampleCp<0>(times, packed, threshold, s, w, post_out, fire_out,
                                              final_out, sink);
  }
}

inline bool EventConvFireSample(const int32_t* times, const float* packed, float threshold,
                                const EventConvShape& s, EventConvScratch& w, int32_t* post_out,
                                float* fire_out, float* final_out) {
  EventConvNoSink sink;
  return EventConvFireSample(times, packed, threshold, s, w, post_out, fire_out, final_out, sink);
}

}  // namespace spyxlike
