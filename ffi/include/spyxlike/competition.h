// Winner-take-all competition and point-wise inhibition of one sample, on raw pointers.
//
// k-WTA (SpykeTorch get_k_winners, Spyker convwta/fcwta) works on the
// single-spike form of a layer: per neuron (h, w, c) of an (H, W, C) sample,
// its spike time t in [0, T] (T = no spike) and its potential v at that time.
// Candidates are neurons with 0 <= t < T (and, under the SpykeTorch rule,
// v >= 0 with at least one candidate of the sample having v > 0; values that
// are NaN never compete). Winners are picked one at a time: the candidate with
// the smallest t, then the largest v, then the smallest SpykeTorch flat index
// c*H*W + h*W + w (lowest feature, then row, then column). A winner removes
// its whole feature map (when exclude_feature) and the square
// |h' - h| <= radius_y, |w' - w| <= radius_x in every map. Selection stops
// after kwta winners or when no candidate is left.
//
// Point-wise inhibition keeps at most one feature per position (h, w) of a
// (T, H, W, C) sample; see PointwiseInhibitSample for the two rules.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace spyxlike {

struct KwtaCandidate {
  int32_t time;
  float value;
  int64_t order;  // c*H*W + h*W + w: SpykeTorch's (C, H, W) flattening
  int32_t h, w, c;
};

struct KwtaScratch {
  std::vector<KwtaCandidate> candidates;
  std::vector<uint8_t> feature_dead;   // (C)
  std::vector<uint8_t> position_dead;  // (H*W)
};

// True when candidate a beats candidate b: earlier, then larger, then lower index.
inline bool KwtaBetter(const KwtaCandidate& a, const KwtaCandidate& b) {
  if (a.time != b.time) return a.time < b.time;
  if (a.value != b.value) return a.value > b.value;
  return a.order < b.order;
}

// times, values: (H, W, C) row-major. out: (kwta, 3) int32 rows (feature, row,
// col), -1 for empty slots. spyketorch_rule: see the file comment.
inline void KWinnersSample(const int32_t* times, const float* values, int64_t H, int64_t W,
                           int64_t C, int32_t time_steps, int64_t kwta, int64_t radius_y,
                           int64_t radius_x, bool exclude_feature, bool spyketorch_rule,
                           int32_t* out, KwtaScratch& scratch) {
  auto& cands = scratch.candidates;
  cands.clear();
  bool any_positive = false;
  const int64_t HW = H * W;
  int64_t i = 0;
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t w = 0; w < W; ++w) {
      for (int64_t c = 0; c < C; ++c, ++i) {
        const int32_t t = times[i];
        const float v = values[i];
        if (t < 0 || t >= time_steps || v != v) continue;
        if (spyketorch_rule) {
          if (!(v >= 0.0f)) continue;
          any_positive = any_positive || v > 0.0f;
        }
        cands.push_back(KwtaCandidate{t, v, c * HW + h * W + w, static_cast<int32_t>(h),
                                      static_cast<int32_t>(w), static_cast<int32_t>(c)});
      }
    }
  }
  if (spyketorch_rule && !any_positive) cands.clear();
  for (int64_t k = 0; k < kwta * 3; ++k) out[k] = -1;
  if (cands.empty()) return;
  scratch.feature_dead.assign(static_cast<size_t>(C), 0);
  scratch.position_dead.assign(static_cast<size_t>(HW), 0);
  uint8_t* fdead = scratch.feature_dead.data();
  uint8_t* pdead = scratch.position_dead.data();
  size_t alive = cands.size();
  for (int64_t k = 0; k < kwta && alive > 0; ++k) {
    // One pass: drop the candidates the previous winners removed, find the best.
    size_t kept = 0;
    size_t best = 0;
    for (size_t j = 0; j < alive; ++j) {
      const KwtaCandidate& cand = cands[j];
      if (fdead[cand.c] || pdead[static_cast<int64_t>(cand.h) * W + cand.w]) continue;
      if (kept != j) cands[kept] = cand;
      if (kept == 0 || KwtaBetter(cands[kept], cands[best])) best = kept;
      ++kept;
    }
    alive = kept;
    if (alive == 0) break;
    const KwtaCandidate win = cands[best];
    out[3 * k + 0] = win.c;
    out[3 * k + 1] = win.h;
    out[3 * k + 2] = win.w;
    if (exclude_feature) fdead[win.c] = 1;
    const int64_t h0 = win.h - radius_y < 0 ? 0 : win.h - radius_y;
    const int64_t h1 = win.h + radius_y >= H ? H - 1 : win.h + radius_y;
    const int64_t w0 = win.w - radius_x < 0 ? 0 : win.w - radius_x;
    const int64_t w1 = win.w + radius_x >= W ? W - 1 : win.w + radius_x;
    for (int64_t h = h0; h <= h1; ++h) {
      for (int64_t w = w0; w <= w1; ++w) pdead[h * W + w] = 1;
    }
  }
}

// Point-wise inhibition of one sample: x, y are (T, P, C) with P = H*W positions.
// For each position, with m_t = max_c x[t, p, c] and a_t its first argmax:
//   spyketorch (SpykeTorch pointwise_inhibition): s = max_t sign(m_t),
//     t* = first t with sign(m_t) == s, keep feature a_{t*} multiplied by s
//     (1 when some step is positive, 0 when none is, -1 when all are negative);
//   spyker (Spyker inhibit): n = #{t : m_t > threshold}, t* = T - max(n, 1),
//     keep feature a_{t*} unchanged.
// Every other feature is multiplied by 0 at all steps.
inline void PointwiseInhibitSample(const float* x, int64_t T, int64_t P, int64_t C, bool spyker,
                                   float threshold, float* y, std::vector<int32_t>& argmax,
                                   std::vector<float>& maximum) {
  if (T <= 0 || P <= 0 || C <= 0) return;
  argmax.resize(static_cast<size_t>(T));
  maximum.resize(static_cast<size_t>(T));
  for (int64_t p = 0; p < P; ++p) {
    for (int64_t t = 0; t < T; ++t) {
      const float* row = x + (t * P + p) * C;
      float m = row[0];
      int32_t a = 0;
      for (int64_t c = 1; c < C; ++c) {
        if (row[c] > m) {
          m = row[c];
          a = static_cast<int32_t>(c);
        }
      }
      maximum[t] = m;
      argmax[t] = a;
    }
    int64_t tstar = 0;
    float coef = 1.0f;
    if (spyker) {
      int64_t n = 0;
      for (int64_t t = 0; t < T; ++t) n += maximum[t] > threshold;
      tstar = T - (n > 1 ? n : 1);
    } else {
      auto sign = [](float v) { return v > 0.0f ? 1 : (v < 0.0f ? -1 : 0); };
      int best = sign(maximum[0]);
      for (int64_t t = 1; t < T; ++t) {
        const int s = sign(maximum[t]);
        if (s > best) {
          best = s;
          tstar = t;
        }
      }
      coef = static_cast<float>(best);
    }
    const int32_t keep = argmax[tstar];
    for (int64_t t = 0; t < T; ++t) {
      const float* row = x + (t * P + p) * C;
      float* out = y + (t * P + p) * C;
      for (int64_t c = 0; c < C; ++c) out[c] = row[c] * (c == keep ? coef : 0.0f);
    }
  }
}

}  // namespace spyxlike
