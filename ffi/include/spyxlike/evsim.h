// Exact event-driven simulation of one fully connected layer of EvSpikeSim's
// default neuron, for one sample, on raw pointers (no JAX, no Python).
//
// Neuron model (EvSpikeSim's default kernel, membrane time constant
// tau = 2 tau_s, no normalisation factor):
//
//   V(t) = sum_i w_i (exp(-(t - t_i)/tau) - exp(-(t - t_i)/tau_s))
//          - theta * sum_k exp(-(t - t_k)/tau)           (own earlier spikes t_k)
//
// Relative to a reference time t0, with x = exp(-(t - t0)/tau):
//
//   V(t) = b x - a x^2,
//   a = sum_i w_i exp(-(t0 - t_i)/tau_s),
//   b = sum_i w_i exp(-(t0 - t_i)/tau) - theta sum_k exp(-(t0 - t_k)/tau).
//
// Moving t0 to a later event multiplies b by d = exp(-dt/tau) and a by d^2
// (one shared factor per event for every neuron); an input spike adds w to
// both a and b (V is continuous at inputs). V = theta is a quadratic in x;
// the earliest crossing after t0 is the larger root
//   x* = (b + sqrt(b^2 - 4 a theta)) / (2 a),   t* = t0 + tau log(1/x*),
// written, as EvSpikeSim does, as t* - t0 = tau log(2a / (b + sqrt(D))).
// A spike at t* is valid when t_last < t* < t_next (strict, as EvSpikeSim),
// where t_last is t0 or the neuron's previous spike in this interval and
// t_next the next input event. The reset subtracts theta exp(-(t - t*)/tau),
// i.e. b -= theta / x* relative to t0. Several spikes may fall between two
// inputs; at most `buffer_size` are stored per neuron and a further one sets
// the neuron's overflow flag (the neuron then stops firing for this sample).
//
// All state is double; weights and times are float32 as in EvSpikeSim.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>
#include <type_traits>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace spyxlike {
namespace evsim {

// Validation outcome of one sample's input events (checked before any
// simulation, so the engine never indexes out of bounds).
enum class InputStatus : int {
  kOk = 0,
  kCountOutOfRange = 1,  // count < 0 or count > capacity
  kIndexOutOfRange = 2,  // index < 0 or index >= n_inputs
  kNonFiniteTime = 3,    // NaN or inf among the first `count` times
  kNegativeTime = 4,
  kUnsorted = 5,  // times not non-decreasing
};

struct FcLayerParams {
  int64_t n_inputs;
  int64_t n_neurons;
  int64_t buffer_size;
  double tau_s;
  double threshold;
};

// Checks the first `count` events of a sample. On failure *bad is the first
// offending event position (or the count itself for kCountOutOfRange).
inline InputStatus CheckEvents(const int32_t* indices, const float* times, int64_t count,
                               int64_t capacity, int64_t n_inputs, int64_t* bad) {
  if (count < 0 || count > capacity) {
    *bad = count;
    return InputStatus::kCountOutOfRange;
  }
  float prev = 0.0f;
  for (int64_t e = 0; e < count; ++e) {
    const int32_t i = indices[e];
    const float t = times[e];
    *bad = e;
    if (i < 0 || static_cast<int64_t>(i) >= n_inputs) return InputStatus::kIndexOutOfRange;
    if (!std::isfinite(t)) return InputStatus::kNonFiniteTime;
    if (t < 0.0f) return InputStatus::kNegativeTime;
    if (t < prev) return InputStatus::kUnsorted;
    prev = t;
  }
  return InputStatus::kOk;
}

// Per-thread scratch for FcLayerSample: 2 doubles per neuron (a, b), one
// byte per neuron (stopped) and FcFlagBytes(N) bytes of candidate flags.
struct FcScratch {
  double* a;
  double* b;
  uint8_t* flags;
  uint8_t* stopped;
};

// Candidate flags: one bit per neuron for the vectorised part (whole 64-bit
// words), then one byte per neuron for the rest.
inline int64_t FcFlagBytes(int64_t n_neurons) { return ((n_neurons + 63) / 64) * 8 + n_neurons + 8; }

// Where the engine puts a layer's spikes. BufferSink: per-neuron buffers
// out_times (N, K), ascending and +inf padded (the layer-by-layer API).
struct BufferSink {
  float* out_times;
  int64_t K;
  void Begin(int64_t N) {
    for (int64_t j = 0; j < N * K; ++j) out_times[j] = std::numeric_limits<float>::infinity();
  }
  void Emit(int64_t n, int32_t slot, float t) { out_times[n * K + slot] = t; }
  void EndWindow() {}
  void Finish() {}
};

// Order-preserving 64-bit key of a spike: the time's bits (as an unsigned
// integer that sorts like the float; -0 taken as +0), then the neuron.
inline uint64_t SpikeKey(float t, int64_t n) {
  if (t == 0.0f) t = 0.0f;
  uint32_t u;
  std::memcpy(&u, &t, 4);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return (static_cast<uint64_t>(u) << 32) | static_cast<uint64_t>(static_cast<uint32_t>(n));
}

inline float SpikeKeyTime(uint64_t key) {
  uint32_t u = static_cast<uint32_t>(key >> 32);
  u = (u & 0x80000000u) ? (u & 0x7fffffffu) : ~u;
  float t;
  std::memcpy(&t, &u, 4);
  return t;
}

// EventSink: the layer's spikes as one list of SpikeKey sorted by (time,
// neuron) - the next layer's input events, in the order of GatherEvents.
// `keys` must hold N * K entries (a neuron stores at most K spikes). Spikes
// come out window by window in time order, so each window's few keys are
// sorted on their own; only if float rounding makes a window's first key
// precede the previous window's last is the whole list sorted at the end.
struct EventSink {
  uint64_t* keys;
  int64_t size = 0;
  int64_t window_start = 0;
  bool sorted = true;
  void Begin(int64_t) {
    size = 0;
    window_start = 0;
    sorted = true;
  }
  void Emit(int64_t n, int32_t, float t) { keys[size++] = SpikeKey(t, n); }
  void EndWindow() {
    if (size - window_start > 1) std::sort(keys + window_start, keys + size);
    if (window_start > 0 && size > window_start && keys[window_start] < keys[window_start - 1]) sorted = false;
    window_start = size;
  }
  void Finish() {
    if (!sorted) std::sort(keys, keys + size);
    sorted = true;
  }
};

// Simulates one sample whose events passed CheckEvents. Writes
// out_times (N, K) ascending and +inf padded, out_counts (N) and
// overflow (N). w is (n_inputs, N) row-major: the row of an input is
// contiguous over neurons, so the per-event update is a unit-stride loop.
//
// Per event, one pass over the neurons decays and updates both traces and
// applies a conservative crossing pre-test (with AVX-512: 8 neurons per
// instruction, the results as a bit mask); only the few flagged neurons are
// then solved exactly, found by scanning the mask a 64-bit word at a time.
template <class Sink>
inline void FcLayerSamplePerEvent(const int32_t* indices, const float* times, int64_t count,
                                  const float* w, const FcLayerParams& p, FcScratch s, Sink& sink,
                                  int32_t* out_counts, bool* overflow) {
  const int64_t N = p.n_neurons;
  const int64_t K = p.buffer_size;
  const double tau = 2.0 * p.tau_s;
  const double inv_tau = 1.0 / tau;
  const double theta = p.threshold;
  const double inf = std::numeric_limits<double>::infinity();
  double* __restrict__ a = s.a;
  double* __restrict__ b = s.b;
  uint8_t* __restrict__ flags = s.flags;
  uint8_t* __restrict__ stopped = s.stopped;
  for (int64_t n = 0; n < N; ++n) {
    a[n] = 0.0;
    b[n] = 0.0;
    out_counts[n] = 0;
    overflow[n] = false;
    stopped[n] = 0;
  }
  const int64_t n_flag_bytes = FcFlagBytes(N);
  for (int64_t j = 0; j < n_flag_bytes; ++j) flags[j] = 0;
  sink.Begin(N);
  // Neurons [0, n_vec) get bit flags, [n_vec, N) byte flags.
#if defined(__AVX512F__)
  const int64_t n_vec = N & ~int64_t{7};
#else
  const int64_t n_vec = 0;
#endif
  uint8_t* __restrict__ bytes = flags + ((N + 63) / 64) * 8;

  // Conservative pre-test slack: a neuron is solved exactly whenever the
  // cheap test passes within this relative margin, so the decisions are the
  // exact formula's, never the pre-test's (the slack dwarfs the rounding of
  // the test itself, however it is evaluated).
  constexpr double kSlack = 1e-9;
  const double four_theta = 4.0 * theta;
  double t_prev = count > 0 ? static_cast<double>(times[0]) : 0.0;
  for (int64_t e = 0; e < count; ++e) {
    const double t0 = times[e];
    const double t_next = e + 1 < count ? static_cast<double>(times[e + 1]) : inf;
    const double d = std::exp(-(t0 - t_prev) * inv_tau);
    const double d2 = d * d;
    // x at the next event (0 when there is none): the crossing must lie in
    // (x_next, 1). As V(1) < theta, the maximum of b x - a x^2 over that
    // interval reaches theta iff (the peak x = b/2a lies inside and
    // b^2 >= 4 a theta) or V(x_next) >= theta.
    const double x_next = std::isfinite(t_next) ? std::exp(-(t_next - t0) * inv_tau) : 0.0;
    const double theta_lo = theta * (1.0 - kSlack);
    const float* __restrict__ row = w + static_cast<int64_t>(indices[e]) * N;
    // The tests below, with the constants folded: an exact spike needs the
    // peak ahead (b < 2a, as the root x* >= b/2a must be < 1),
    // b^2 >= 4 a theta, and either the peak before t_next (b >= 2a x_next)
    // or V(x_next) >= theta.
    const double c_ahead = 2.0 * (1.0 + kSlack);
    const double c_reach = four_theta / (1.0 + kSlack);
    const double c_next = 2.0 * x_next / (1.0 + kSlack);
    const double theta_over_x = x_next > 0.0 ? theta_lo / x_next : inf;
    uint64_t any = 0;
#if defined(__AVX512F__)
    {
      const __m512d vd = _mm512_set1_pd(d), vd2 = _mm512_set1_pd(d2);
      const __m512d v_ahead = _mm512_set1_pd(c_ahead), v_reach = _mm512_set1_pd(c_reach);
      const __m512d v_next = _mm512_set1_pd(c_next), v_xn = _mm512_set1_pd(x_next);
      const __m512d v_tox = _mm512_set1_pd(theta_over_x);
      for (int64_t n = 0; n < n_vec; n += 8) {
        const __m512d wn = _mm512_cvtps_pd(_mm256_loadu_ps(row + n));
        const __m512d an = _mm512_fmadd_pd(_mm512_loadu_pd(a + n), vd2, wn);
        const __m512d bn = _mm512_fmadd_pd(_mm512_loadu_pd(b + n), vd, wn);
        _mm512_storeu_pd(a + n, an);
        _mm512_storeu_pd(b + n, bn);
        // b < 2a (1 + slack); this also implies a > 0 except in the case
        // a = b = 0, which the other tests then reject (V = 0).
        __mmask8 k = _mm512_cmp_pd_mask(bn, _mm512_mul_pd(an, v_ahead), _CMP_LT_OQ);
        // (b^2 >= a c_reach and a c_next <= b) or b - a x_next >= theta / x_next
        const __mmask8 k_peak =
            _mm512_mask_cmp_pd_mask(_mm512_cmp_pd_mask(_mm512_mul_pd(bn, bn), _mm512_mul_pd(an, v_reach), _CMP_GE_OQ),
                                    _mm512_mul_pd(an, v_next), bn, _CMP_LE_OQ);
        const __mmask8 k_end = _mm512_cmp_pd_mask(_mm512_fnmadd_pd(an, v_xn, bn), v_tox, _CMP_GE_OQ);
        k &= static_cast<__mmask8>(k_peak | k_end);
        flags[n >> 3] = static_cast<uint8_t>(k);
        any |= k;
      }
    }
#endif
    for (int64_t n = n_vec; n < N; ++n) {
      const double wn = row[n];
      const double an = std::fma(a[n], d2, wn);
      const double bn = std::fma(b[n], d, wn);
      a[n] = an;
      b[n] = bn;
      const bool c = (an > 0.0) & (bn <= an * c_ahead) &
                     (((bn * bn >= an * c_reach) & (an * c_next <= bn)) | (bn - an * x_next >= theta_over_x));
      bytes[n] = c;
      any |= c;
    }
    t_prev = t0;
    if (!any) continue;
    // Exact solve of a flagged neuron; nothing changes unless it spikes.
    auto solve = [&](int64_t n) {
      if (stopped[n]) return;
      const double an = a[n];
      double bn = b[n];
      double last = 0.0;  // time of the previous spike relative to t0
      for (;;) {
        const double disc = bn * bn - four_theta * an;
        if (!(an > 0.0) || !(disc >= 0.0)) break;
        const double r = 2.0 * an / (bn + std::sqrt(disc));  // = 1 / x*
        if (!(r > 0.0)) break;
        const double rel = tau * std::log(r);
        if (!(rel > last) || !(t0 + rel < t_next)) break;
        const int32_t c = out_counts[n];
        if (c >= K) {
          overflow[n] = true;
          stopped[n] = 1;
          break;
        }
        sink.Emit(n, c, static_cast<float>(t0 + rel));
        out_counts[n] = c + 1;
        bn -= theta * r;
        last = rel;
      }
      b[n] = bn;
    };
    for (int64_t word = 0; word < (n_vec + 63) / 64; ++word) {
      uint64_t bits = 0;
      std::memcpy(&bits, flags + word * 8, 8);
      while (bits) {
        const int64_t n = word * 64 + __builtin_ctzll(bits);
        bits &= bits - 1;
        solve(n);
      }
    }
    for (int64_t n0 = n_vec; n0 < N; n0 += 8) {
      uint64_t bits = 0;
      std::memcpy(&bits, bytes + n0, 8);  // FcFlagBytes leaves 8 bytes of slack
      while (bits) {
        const int64_t n = n0 + (__builtin_ctzll(bits) >> 3);
        bits &= bits - 1;
        if (n < N) solve(n);
      }
    }
    sink.EndWindow();
  }
  sink.Finish();
}

// Largest positive weight of each input's row of w (n_inputs, N); +inf for
// a row holding a NaN. Bounds what one input can add to any neuron's V.
inline void RowPositiveMax(const float* w, int64_t n_inputs, int64_t N, float* out) {
  for (int64_t i = 0; i < n_inputs; ++i) {
    float m = 0.0f;
    bool nan = false;
    for (int64_t n = 0; n < N; ++n) {
      const float v = w[i * N + n];
      m = v > m ? v : m;
      nan |= v != v;
    }
    out[i] = nan ? std::numeric_limits<float>::infinity() : m;
  }
}

#if defined(__AVX512F__)
// The AVX-512 engine used by FcLayerSample: same spikes as
// FcLayerSamplePerEvent, fewer operations per neuron and event. Events go in
// windows of kWindow; per group of 8 neurons, the traces stay in registers
// across a window (three operations per event: widen w, two FMAs) and one
// conservative test covers the whole window: with V_e the potential after
// the window's first event e, a later input j of weight w_j adds
// w_j (x - x^2) <= max(w_j, 0) (1 - exp(-(t_end - t_j)/tau)) to V before the
// window's end t_end, so no spike is possible in (t_e, t_end) unless V_e
// reaches theta' = theta - S (S the sum of those bounds) somewhere on
// (t_e, t_end): at t_e, at t_end, or at its peak in between. Flagged neurons
// (few) are re-run through the window event by event from the saved traces
// with the per-event pre-test and the exact solve, with the same arithmetic
// as the vector path, so every result equals FcLayerSamplePerEvent's.
// Full windows are unrolled at compile time (the window's rows and decay
// factors then live in registers); only a sample's last window is generic.
template <class Sink>
inline void FcLayerSampleWindowed(const int32_t* indices, const float* times, int64_t count,
                                  const float* w, const float* row_pos_max, const FcLayerParams& p,
                                  FcScratch s, Sink& sink, int32_t* out_counts, bool* overflow) {
  const int64_t N = p.n_neurons;
  const int64_t K = p.buffer_size;
  const double tau = 2.0 * p.tau_s;
  const double inv_tau = 1.0 / tau;
  const double theta = p.threshold;
  const double inf = std::numeric_limits<double>::infinity();
  double* __restrict__ a = s.a;
  double* __restrict__ b = s.b;
  uint8_t* __restrict__ stopped = s.stopped;
  for (int64_t n = 0; n < N; ++n) {
    a[n] = 0.0;
    b[n] = 0.0;
    out_counts[n] = 0;
    overflow[n] = false;
    stopped[n] = 0;
  }
  sink.Begin(N);
  constexpr double kSlack = 1e-9;  // as in FcLayerSamplePerEvent
  const double four_theta = 4.0 * theta;
  const double theta_lo = theta * (1.0 - kSlack);
  const double c_ahead = 2.0 * (1.0 + kSlack);
  const double c_reach = four_theta / (1.0 + kSlack);
  constexpr int kWindow = 8;
  double ev_d[kWindow], ev_d2[kWindow], ev_t0[kWindow], ev_tn[kWindow], ev_xn[kWindow], ev_next[kWindow],
      ev_tox[kWindow];
  const float* rows[kWindow];
  const int64_t n_vec = N & ~int64_t{7};
  // exp(-(t_e - t_{e-1}) / tau) is both event e-1's x_next and event e's
  // decay factor (the same expression, so the same value): one exp per event.
  double d_carry = 1.0;

  // Exact solve of neuron n after event k of the window (traces an, bn);
  // returns the new bn (only spikes change it).
  auto solve = [&](int64_t n, int k, double an, double bn) {
    const double t0 = ev_t0[k], t_next = ev_tn[k];
    double last = 0.0;
    for (;;) {
      const double disc = bn * bn - four_theta * an;
      if (!(an > 0.0) || !(disc >= 0.0)) break;
      const double r = 2.0 * an / (bn + std::sqrt(disc));  // = 1 / x*
      if (!(r > 0.0)) break;
      const double rel = tau * std::log(r);
      if (!(rel > last) || !(t0 + rel < t_next)) break;
      const int32_t cnt = out_counts[n];
      if (cnt >= K) {
        overflow[n] = true;
        stopped[n] = 1;
        break;
      }
      sink.Emit(n, cnt, static_cast<float>(t0 + rel));
      out_counts[n] = cnt + 1;
      bn -= theta * r;
      last = rel;
    }
    return bn;
  };
  // Neuron n through events [0, ne) of the window, scalar, from traces
  // (an, bn) before the window: trace update, the per-event pre-test, and
  // the exact solve where it passes. Stores the traces after the window.
  auto rerun = [&](int64_t n, int ne, double an, double bn) {
    for (int k = 0; k < ne; ++k) {
      const double wn = rows[k][n];
      an = std::fma(an, ev_d2[k], wn);
      bn = std::fma(bn, ev_d[k], wn);
      const bool c = (an > 0.0) & (bn <= an * c_ahead) &
                     (((bn * bn >= an * c_reach) & (an * ev_next[k] <= bn)) | (bn - an * ev_xn[k] >= ev_tox[k]));
      if (c && !stopped[n]) bn = solve(n, k, an, bn);
    }
    a[n] = an;
    b[n] = bn;
  };

  // Flagged groups of a window: their first neuron and lane flags, and their
  // traces before the window (for the re-run), collected without a branch
  // so that the vector pass runs on without mispredictions; they are re-run
  // after it, in group order.
  std::vector<uint64_t> flagged_groups(static_cast<size_t>(n_vec / 8 + 1));
  std::vector<double> flagged_traces(static_cast<size_t>(2 * n_vec + 16));

  // One window over all neuron groups; `ne_c` is the number of events, a
  // compile-time constant (std::integral_constant) for full windows.
  auto window = [&](auto ne_c, bool all, __m512d v_reach, __m512d v_next, __m512d v_xend, __m512d v_th_lo,
                    __m512d v_tox) {
    const int ne = ne_c;
    const __m512d v_ahead = _mm512_set1_pd(c_ahead);
    uint64_t* __restrict__ list = flagged_groups.data();
    double* __restrict__ saved = flagged_traces.data();
    int64_t n_flagged = 0;
    for (int64_t n = 0; n < n_vec; n += 8) {
      const __m512d a0 = _mm512_loadu_pd(a + n), b0 = _mm512_loadu_pd(b + n);
      __m512d wn = _mm512_maskz_cvtps_pd(0xff, _mm256_loadu_ps(rows[0] + n));
      const __m512d ae = _mm512_fmadd_pd(a0, _mm512_set1_pd(ev_d2[0]), wn);
      const __m512d be = _mm512_fmadd_pd(b0, _mm512_set1_pd(ev_d[0]), wn);
      __m512d an = ae, bn = be;
      for (int k = 1; k < ne; ++k) {
        wn = _mm512_maskz_cvtps_pd(0xff, _mm256_loadu_ps(rows[k] + n));
        an = _mm512_fmadd_pd(an, _mm512_set1_pd(ev_d2[k]), wn);
        bn = _mm512_fmadd_pd(bn, _mm512_set1_pd(ev_d[k]), wn);
      }
      _mm512_storeu_pd(a + n, an);
      _mm512_storeu_pd(b + n, bn);
      // V_e = be x - ae x^2 reaches th = theta - S on [x_end, 1]? (slack 1e-9)
      __mmask8 f = _mm512_cmp_pd_mask(_mm512_sub_pd(be, ae), v_th_lo, _CMP_GE_OQ);
      f |= _mm512_cmp_pd_mask(_mm512_fnmadd_pd(ae, v_xend, be), v_tox, _CMP_GE_OQ);
      __mmask8 peak = _mm512_cmp_pd_mask(be, _mm512_mul_pd(ae, v_ahead), _CMP_LT_OQ);
      peak = _mm512_mask_cmp_pd_mask(peak, _mm512_mul_pd(ae, v_next), be, _CMP_LE_OQ);
      peak = _mm512_mask_cmp_pd_mask(peak, _mm512_mul_pd(be, be), _mm512_mul_pd(ae, v_reach), _CMP_GE_OQ);
      // NaN traces never spike (the solve rejects them): no flag needed.
      const uint32_t flags = all ? 0xffu : static_cast<uint32_t>(f | peak);
      list[n_flagged] = static_cast<uint64_t>(n) << 8 | flags;
      _mm512_storeu_pd(saved + 16 * n_flagged, a0);
      _mm512_storeu_pd(saved + 16 * n_flagged + 8, b0);
      n_flagged += flags != 0;
    }
    for (int64_t g = 0; g < n_flagged; ++g) {
      const int64_t n = static_cast<int64_t>(list[g] >> 8);
      uint32_t flags = static_cast<uint32_t>(list[g] & 0xffu);
      while (flags) {
        const int j = __builtin_ctz(flags);
        flags &= flags - 1;
        rerun(n + j, ne, saved[16 * g + j], saved[16 * g + 8 + j]);
      }
    }
    for (int64_t n = n_vec; n < N; ++n) rerun(n, ne, a[n], b[n]);
  };

  for (int64_t e0 = 0; e0 < count; e0 += kWindow) {
    const int ne = static_cast<int>(std::min<int64_t>(kWindow, count - e0));
    for (int k = 0; k < ne; ++k) {
      const int64_t e = e0 + k;
      const double t0 = times[e];
      const double t_next = e + 1 < count ? static_cast<double>(times[e + 1]) : inf;
      const double d = d_carry;
      const double x_next = std::isfinite(t_next) ? std::exp(-(t_next - t0) * inv_tau) : 0.0;
      d_carry = x_next;
      ev_d[k] = d;
      ev_d2[k] = d * d;
      ev_t0[k] = t0;
      ev_tn[k] = t_next;
      ev_xn[k] = x_next;
      ev_next[k] = 2.0 * x_next / (1.0 + kSlack);
      ev_tox[k] = x_next > 0.0 ? theta_lo / x_next : inf;
      rows[k] = w + static_cast<int64_t>(indices[e]) * N;
    }
    const double t_end = ev_tn[ne - 1];
    // S: what the window's later inputs can add to any neuron's V before
    // t_end, from the largest positive weight of each input's row, and
    // 1 - exp(-u) <= min(u, 1).
    double sum = 0.0;
    for (int k = 1; k < ne; ++k) {
      const double rise = std::isfinite(t_end) ? std::min(1.0, (t_end - ev_t0[k]) * inv_tau) : 1.0;
      sum += static_cast<double>(row_pos_max[indices[e0 + k]]) * rise;
    }
    sum *= 1.0 + kSlack;
    const double th = theta - sum;
    // exp(-(t_end - t_e) / tau), as the product of the window's x_next.
    double x_end = 1.0;
    for (int k = 0; k < ne; ++k) x_end *= ev_xn[k];
    // th <= 0 or NaN (a NaN or infinite weight): every neuron re-runs the window.
    const bool all = !(th > 0.0);
    const __m512d v_reach = _mm512_set1_pd(4.0 * th / (1.0 + kSlack));
    const __m512d v_next = _mm512_set1_pd(2.0 * x_end / (1.0 + kSlack)), v_xend = _mm512_set1_pd(x_end);
    const __m512d v_th_lo = _mm512_set1_pd(th * (1.0 - kSlack));
    const __m512d v_tox = _mm512_set1_pd(x_end > 0.0 ? th * (1.0 - kSlack) / x_end : inf);
    if (ne == kWindow) {
      window(std::integral_constant<int, kWindow>{}, all, v_reach, v_next, v_xend, v_th_lo, v_tox);
    } else {
      window(ne, all, v_reach, v_next, v_xend, v_th_lo, v_tox);
    }
    sink.EndWindow();
  }
  sink.Finish();
}
#endif

// Simulates one sample whose events passed CheckEvents (the contract of
// FcLayerSamplePerEvent), its spikes going to `sink`: with AVX-512 by
// FcLayerSampleWindowed, else by FcLayerSamplePerEvent. Both give the same
// results. row_pos_max is RowPositiveMax(w) (n_inputs entries).
template <class Sink>
inline void FcLayerSampleTo(const int32_t* indices, const float* times, int64_t count, const float* w,
                            const float* row_pos_max, const FcLayerParams& p, FcScratch s, Sink& sink,
                            int32_t* out_counts, bool* overflow) {
#if defined(__AVX512F__)
  FcLayerSampleWindowed(indices, times, count, w, row_pos_max, p, s, sink, out_counts, overflow);
#else
  (void)row_pos_max;
  FcLayerSamplePerEvent(indices, times, count, w, p, s, sink, out_counts, overflow);
#endif
}

// FcLayerSampleTo into per-neuron buffers out_times (N, K), ascending and
// +inf padded.
inline void FcLayerSample(const int32_t* indices, const float* times, int64_t count,
                          const float* w, const float* row_pos_max, const FcLayerParams& p, FcScratch s,
                          float* out_times, int32_t* out_counts, bool* overflow) {
  BufferSink sink{out_times, p.buffer_size};
  FcLayerSampleTo(indices, times, count, w, row_pos_max, p, s, sink, out_counts, overflow);
}

// One layer of a network run by NetworkSample: its weights (n_inputs, N),
// RowPositiveMax of them, parameters, and where its per-neuron spike counts
// and overflow flags (N each) go.
struct NetLayer {
  const float* w;
  const float* row_pos_max;
  FcLayerParams p;
  int32_t* out_counts;
  bool* overflow;
};

// Per-thread scratch for NetworkSample, sized for the largest layer: `a`,
// `b`, `flags`, `stopped` as FcScratch for max N; `keys` for max N * K;
// `ev_indices` / `ev_times` for max N * K of the hidden layers.
struct NetScratch {
  FcScratch fc;
  uint64_t* keys;
  int32_t* ev_indices;
  float* ev_times;
};

enum class NetStatus : int {
  kOk = 0,
  kCapacity = 1,        // a hidden layer fired more than `capacity` spikes
  kNonFiniteSpike = 2,  // a hidden spike time overflowed float32
};

// Runs a feed-forward network of FC layers on one sample whose input events
// passed CheckEvents: each layer's spikes go, sorted by (time, neuron) as
// GatherEvents sorts them, straight to the next layer as its input events.
// Writes every layer's counts and overflow flags, and the output layer's
// spikes as out_indices / out_times (out_capacity >= N * K of the last
// layer, sorted, 0 / +inf padded) with their number in *out_count.
// `capacity` bounds the events passed between layers (<= 0: unbounded);
// more is kCapacity, then *bad_layer names the layer and the following
// layers' counts and flags are left zero.
inline NetStatus NetworkSample(const int32_t* indices, const float* times, int64_t count,
                               const NetLayer* layers, int64_t n_layers, int64_t capacity, NetScratch s,
                               int32_t* out_indices, float* out_times, int64_t out_capacity,
                               int32_t* out_count, int64_t* bad_layer) {
  const int32_t* idx = indices;
  const float* tim = times;
  int64_t n_events = count;
  NetStatus status = NetStatus::kOk;
  EventSink sink{s.keys};
  for (int64_t l = 0; l < n_layers; ++l) {
    const NetLayer& L = layers[l];
    const int64_t N = L.p.n_neurons;
    if (status != NetStatus::kOk) {
      std::fill(L.out_counts, L.out_counts + N, 0);
      std::fill(L.overflow, L.overflow + N, false);
      continue;
    }
    FcLayerSampleTo(idx, tim, n_events, L.w, L.row_pos_max, L.p, s.fc, sink, L.out_counts, L.overflow);
    if (l + 1 == n_layers) break;
    if (capacity > 0 && sink.size > capacity) {
      status = NetStatus::kCapacity;
      *bad_layer = l;
      continue;
    }
    for (int64_t e = 0; e < sink.size; ++e) {
      const uint64_t k = sink.keys[e];
      s.ev_indices[e] = static_cast<int32_t>(static_cast<uint32_t>(k));
      s.ev_times[e] = SpikeKeyTime(k);
      if (!std::isfinite(s.ev_times[e])) {
        status = NetStatus::kNonFiniteSpike;
        *bad_layer = l;
      }
    }
    idx = s.ev_indices;
    tim = s.ev_times;
    n_events = sink.size;
  }
  int64_t kept = 0;
  if (status == NetStatus::kOk) {
    kept = std::min(sink.size, out_capacity);
    for (int64_t e = 0; e < kept; ++e) {
      out_indices[e] = static_cast<int32_t>(static_cast<uint32_t>(sink.keys[e]));
      out_times[e] = SpikeKeyTime(sink.keys[e]);
    }
  }
  for (int64_t e = kept; e < out_capacity; ++e) {
    out_indices[e] = 0;
    out_times[e] = std::numeric_limits<float>::infinity();
  }
  *out_count = static_cast<int32_t>(kept);
  return status;
}

// Gathers a layer's output (N, K) spike buffers into one event list sorted by
// (time, neuron index): writes up to `capacity` events and returns the total
// number of valid spikes (which may exceed capacity: the caller reports it).
// `order` must hold N * K entries of scratch.
inline int64_t GatherEvents(const float* out_times, const int32_t* out_counts, int64_t N,
                            int64_t K, int64_t capacity, int32_t* indices, float* times,
                            int64_t* order) {
  int64_t total = 0;
  if (N * K <= (int64_t{1} << 32)) {
    // Sort 64-bit keys (time as an order-preserving integer, then the slot
    // n * K + j): the same order as the comparison below (-0 is taken as +0,
    // so it ties with it by slot), without an indirection per comparison.
    uint64_t* keys = reinterpret_cast<uint64_t*>(order);
    for (int64_t n = 0; n < N; ++n) {
      int64_t c = out_counts[n];
      c = c < 0 ? 0 : (c > K ? K : c);
      for (int64_t j = 0; j < c; ++j) {
        const float t = out_times[n * K + j] == 0.0f ? 0.0f : out_times[n * K + j];
        uint32_t u;
        std::memcpy(&u, &t, 4);
        u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
        keys[total++] = (static_cast<uint64_t>(u) << 32) | static_cast<uint64_t>(n * K + j);
      }
    }
    std::sort(keys, keys + total);
    const int64_t kept = total < capacity ? total : capacity;
    for (int64_t e = 0; e < kept; ++e) {
      const int64_t slot = static_cast<int64_t>(keys[e] & 0xffffffffu);
      indices[e] = static_cast<int32_t>(slot / K);
      times[e] = out_times[slot];
    }
    for (int64_t e = kept; e < capacity; ++e) {
      indices[e] = 0;
      times[e] = std::numeric_limits<float>::infinity();
    }
    return total;
  }
  for (int64_t n = 0; n < N; ++n) {
    int64_t c = out_counts[n];
    c = c < 0 ? 0 : (c > K ? K : c);
    for (int64_t j = 0; j < c; ++j) order[total++] = n * K + j;
  }
  std::sort(order, order + total, [out_times](int64_t x, int64_t y) {
    const float tx = out_times[x], ty = out_times[y];
    return tx < ty || (tx == ty && x < y);
  });
  const int64_t kept = total < capacity ? total : capacity;
  for (int64_t e = 0; e < kept; ++e) {
    indices[e] = static_cast<int32_t>(order[e] / K);
    times[e] = out_times[order[e]];
  }
  for (int64_t e = kept; e < capacity; ++e) {
    indices[e] = 0;
    times[e] = std::numeric_limits<float>::infinity();
  }
  return total;
}

}  // namespace evsim
}  // namespace spyxlike
