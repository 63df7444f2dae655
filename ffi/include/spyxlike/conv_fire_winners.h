// Event-driven conv + fire fused with SpykeTorch's k-winners-take-all, for
// one sample, on raw pointers.
//
// Equal to EventConvFireSample followed by KWinnersSample (SpykeTorch rule,
// whole feature map excluded) on its (post times, fire potentials), with the
// winners' spike times and potentials gathered, but without materialising or
// sorting the candidates: the event-driven conv discovers the neurons in
// spike-time order, so after every step the neurons that first crossed in
// that step are exactly the next time bucket of the k-WTA. Winners are picked
// from it (largest potential, then lowest SpykeTorch index c*H*W + h*W + w,
// skipping inhibited neurons) and the conv stops as soon as kwta winners are
// found (or every feature map is taken). Most winners come from the first few
// steps, so most of the conv work is skipped.
//
// With threshold >= 0 every fired neuron has a potential > 0, so SpykeTorch's
// candidate rule (v >= 0, and some v > 0) holds for all of them; for a
// negative threshold the sample runs the full conv and KWinnersSample.
#pragma once

#include <cstdint>
#include <vector>

#include "spyxlike/competition.h"
#include "spyxlike/event_conv.h"

namespace spyxlike {

// Collects the fires of each step and picks winners from them.
struct ConvWinnersSink {
  static constexpr bool kActive = true;
  static constexpr bool kPointwise = false;

  // set per sample
  int64_t Ho = 0, Wo = 0, Cout = 0;
  int64_t kwta = 0, radius_y = -1, radius_x = -1;
  const float* fire = nullptr;   // (Ho, Wo, Cout) fire potentials of the conv
  int32_t* win = nullptr;        // (kwta, 3) feature, row, col
  int32_t* win_time = nullptr;   // (kwta)
  float* win_value = nullptr;    // (kwta)
  int64_t found = 0;
  std::vector<int32_t> step;     // neurons pos * Cout + c that fired this step
  std::vector<uint8_t> fdead;    // (Cout)
  std::vector<uint8_t> pdead;    // (Ho * Wo)

  void Reset() {
    found = 0;
    step.clear();
    fdead.assign(static_cast<size_t>(Cout), 0);
    pdead.assign(static_cast<size_t>(Ho * Wo), 0);
  }

  void Fired(int64_t pos, int64_t block, uint32_t lanes) {
    const int32_t base = static_cast<int32_t>(pos * Cout + block * kEventConvLanes);
    do {
      step.push_back(base + __builtin_ctz(lanes));
      lanes &= lanes - 1;
    } while (lanes);
  }

  bool StepEnd(int32_t t) {
    int32_t* cand = step.data();
    int64_t n = static_cast<int64_t>(step.size());
    uint8_t* fd = fdead.data();
    uint8_t* pd = pdead.data();
    while (found < kwta && n > 0) {
      int64_t kept = 0, best = -1;
      float best_v = 0.0f;
      int32_t best_c = 0, best_pos = 0;
      for (int64_t j = 0; j < n; ++j) {
        const int32_t idx = cand[j];
        const int32_t pos = static_cast<int32_t>(idx / Cout);
        const int32_t c = static_cast<int32_t>(idx - pos * Cout);
        if (fd[c] | pd[pos]) continue;
        cand[kept] = idx;
        const float v = fire[idx];
        if (best < 0 || v > best_v ||
            (v == best_v && (c < best_c || (c == best_c && pos < best_pos)))) {
          best = kept;
          best_v = v;
          best_c = c;
          best_pos = pos;
        }
        ++kept;
      }
      n = kept;
      if (best < 0) break;
      const int64_t wh = best_pos / Wo, ww = best_pos % Wo;
      win[3 * found + 0] = best_c;
      win[3 * found + 1] = static_cast<int32_t>(wh);
      win[3 * found + 2] = static_cast<int32_t>(ww);
      win_time[found] = t;
      win_value[found] = best_v;
      ++found;
      fd[best_c] = 1;
      if (radius_y >= 0 && radius_x >= 0) {
        const int64_t h0 = wh - radius_y < 0 ? 0 : wh - radius_y;
        const int64_t h1 = wh + radius_y >= Ho ? Ho - 1 : wh + radius_y;
        const int64_t w0 = ww - radius_x < 0 ? 0 : ww - radius_x;
        const int64_t w1 = ww + radius_x >= Wo ? Wo - 1 : ww + radius_x;
        for (int64_t h = h0; h <= h1; ++h) {
          for (int64_t w = w0; w <= w1; ++w) pd[h * Wo + w] = 1;
        }
      }
    }
    step.clear();
    return found >= kwta || found >= Cout;
  }
};

// Per-thread work space of ConvFireWinnersSample.
struct ConvWinnersScratch {
  EventConvScratch conv;
  std::vector<int32_t> post;   // (Ho, Wo, Cout)
  std::vector<float> fire;     // (Ho, Wo, Cout)
  KwtaScratch kwta;
  ConvWinnersSink sink;

  void Prepare(const EventConvShape& s) {
    conv.Prepare(s);
    post.resize(static_cast<size_t>(s.Ho * s.Wo * s.Cout));
    fire.resize(static_cast<size_t>(s.Ho * s.Wo * s.Cout));
    sink.step.reserve(static_cast<size_t>(s.Ho * s.Wo * s.Cout));
  }
};

// One sample: `times` (H, W, Cin) int32 in [0, T], `packed` from
// EventConvPackKernel; outputs win (kwta, 3) int32 (feature, row, col; -1
// in empty slots), win_time (kwta) int32 (T in empty slots) and win_value
// (kwta) float32 (0 in empty slots). A radius of -1 means no spatial
// inhibition (SpykeTorch's radius 0). Returns false if a time is outside
// [0, T]. `w` must have been Prepare()d for `s`.
inline bool ConvFireWinnersSample(const int32_t* times, const float* packed, float threshold,
                                  const EventConvShape& s, int64_t kwta, int64_t radius_y,
                                  int64_t radius_x, ConvWinnersScratch& w, int32_t* win,
                                  int32_t* win_time, float* win_value) {
  for (int64_t k = 0; k < kwta; ++k) {
    win[3 * k] = win[3 * k + 1] = win[3 * k + 2] = -1;
    win_time[k] = s.T;
    win_value[k] = 0.0f;
  }
  if (threshold >= 0.0f) {
    ConvWinnersSink& sink = w.sink;
    sink.Ho = s.Ho;
    sink.Wo = s.Wo;
    sink.Cout = s.Cout;
    sink.kwta = kwta;
    sink.radius_y = radius_y;
    sink.radius_x = radius_x;
    sink.fire = w.fire.data();
    sink.win = win;
    sink.win_time = win_time;
    sink.win_value = win_value;
    sink.Reset();
    return EventConvFireSample(times, packed, threshold, s, w.conv, w.post.data(), w.fire.data(),
                               nullptr, sink);
  }
  // negative threshold: neurons may fire with v <= 0, so the candidate rule
  // needs every fire first
  if (!EventConvFireSample(times, packed, threshold, s, w.conv, w.post.data(), w.fire.data(),
                           nullptr)) {
    return false;
  }
  KWinnersSample(w.post.data(), w.fire.data(), s.Ho, s.Wo, s.Cout, s.T, kwta, radius_y, radius_x,
                 true, true, win, w.kwta);
  for (int64_t k = 0; k < kwta; ++k) {
    if (win[3 * k] < 0) break;
    const int64_t idx = (win[3 * k + 1] * s.Wo + win[3 * k + 2]) * s.Cout + win[3 * k];
    win_time[k] = w.post[static_cast<size_t>(idx)];
    win_value[k] = w.fire[static_cast<size_t>(idx)];
  }
  return true;
}

}  // namespace spyxlike
