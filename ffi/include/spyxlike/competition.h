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
// |h' - h| <= radius_y, |w' - w| <= radius_x in every map (none when a radius
// is -1: SpykeTorch's radius 0). Selection stops
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
  float value;
  int32_t pos;  // h*W + w
  int32_t c;
};

struct KwtaScratch {
  std::vector<int32_t> time;             // per collected candidate
  std::vector<KwtaCandidate> collected;  // in (h, w, c) order
  std::vector<KwtaCandidate> sorted;     // grouped by time, stable
  std::vector<int64_t> start;            // (T + 1) bucket offsets
  std::vector<uint8_t> feature_dead;     // (C)
  std::vector<uint8_t> position_dead;    // (H*W)
};

// Within one spike time: a beats b if larger, then lower SpykeTorch index
// c*H*W + h*W + w, i.e. lower (c, pos) lexicographically.
inline bool KwtaBetter(const KwtaCandidate& a, const KwtaCandidate& b) {
  if (a.value != b.value) return a.value > b.value;
  if (a.c != b.c) return a.c < b.c;
  return a.pos < b.pos;
}

// times, values: (H, W, C) row-major. out: (kwta, 3) int32 rows (feature, row,
// col), -1 for empty slots. spyketorch_rule: see the file comment.
// Cost: one branch-free pass over the H*W*C neurons, a counting sort of the
// candidates by time, then each selection scans only the earliest time
// buckets that still hold a live candidate.
inline void KWinnersSample(const int32_t* times, const float* values, int64_t H, int64_t W,
                           int64_t C, int32_t time_steps, int64_t kwta, int64_t radius_y,
                           int64_t radius_x, bool exclude_feature, bool spyketorch_rule,
                           int32_t* out, KwtaScratch& scratch) {
  for (int64_t k = 0; k < kwta * 3; ++k) out[k] = -1;
  const int64_t HW = H * W;
  const int64_t n = HW * C;
  if (n == 0 || time_steps <= 0) return;
  scratch.time.resize(static_cast<size_t>(n));
  scratch.collected.resize(static_cast<size_t>(n));
  int32_t* ctime = scratch.time.data();
  KwtaCandidate* col = scratch.collected.data();
  int64_t m = 0;
  bool any_positive = false;
  int64_t i = 0;
  for (int64_t pos = 0; pos < HW; ++pos) {
    for (int64_t c = 0; c < C; ++c, ++i) {
      const int32_t t = times[i];
      const float v = values[i];
      bool ok = t >= 0 && t < time_steps && v == v;
      if (spyketorch_rule) {
        ok = ok && v >= 0.0f;
        any_positive |= ok && v > 0.0f;
      }
      // write unconditionally, keep if ok (no unpredictable branch)
      ctime[m] = t;
      col[m] = KwtaCandidate{v, static_cast<int32_t>(pos), static_cast<int32_t>(c)};
      m += ok;
    }
  }
  if (m == 0 || (spyketorch_rule && !any_positive)) return;
  // counting sort by time (stable: keeps (h, w, c) order inside a bucket)
  auto& start = scratch.start;
  start.assign(static_cast<size_t>(time_steps) + 1, 0);
  for (int64_t j = 0; j < m; ++j) ++start[ctime[j] + 1];
  for (int64_t t = 0; t < time_steps; ++t) start[t + 1] += start[t];
  scratch.sorted.resize(static_cast<size_t>(m));
  KwtaCandidate* sorted = scratch.sorted.data();
  {
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t j = 0; j < m; ++j) sorted[fill[ctime[j]]++] = col[j];
  }
  scratch.feature_dead.assign(static_cast<size_t>(C), 0);
  scratch.position_dead.assign(static_cast<size_t>(HW), 0);
  uint8_t* fdead = scratch.feature_dead.data();
  uint8_t* pdead = scratch.position_dead.data();
  // bucket t holds sorted[start[t] .. end[t]); dead entries are dropped as met
  std::vector<int64_t> end(start.begin() + 1, start.end());
  int64_t first = 0;  // earliest bucket that may hold a live candidate
  for (int64_t k = 0; k < kwta; ++k) {
    int64_t best = -1;
    while (first < time_steps && best < 0) {
      int64_t kept = start[first];
      for (int64_t j = start[first]; j < end[first]; ++j) {
        const KwtaCandidate cand = sorted[j];
        if (fdead[cand.c] | pdead[cand.pos]) continue;
        sorted[kept] = cand;
        if (best < 0 || KwtaBetter(cand, sorted[best])) best = kept;
        ++kept;
      }
      end[first] = kept;
      if (best < 0) ++first;
    }
    if (best < 0) break;
    const KwtaCandidate win = sorted[best];
    const int64_t wh = win.pos / W, ww = win.pos % W;
    out[3 * k + 0] = win.c;
    out[3 * k + 1] = static_cast<int32_t>(wh);
    out[3 * k + 2] = static_cast<int32_t>(ww);
    if (exclude_feature) fdead[win.c] = 1;
    const int64_t h0 = wh - radius_y < 0 ? 0 : wh - radius_y;
    const int64_t h1 = wh + radius_y >= H ? H - 1 : wh + radius_y;
    const int64_t w0 = ww - radius_x < 0 ? 0 : ww - radius_x;
    const int64_t w1 = ww + radius_x >= W ? W - 1 : ww + radius_x;
    for (int64_t h = h0; h <= h1; ++h) {
      for (int64_t w = w0; w <= w1; ++w) pdead[h * W + w] = 1;
    }
  }
}

// First crossing of one sample: signal, potentials (T, N). times[n] = first t
// with signal[t, n] > threshold (T if none), values[n] = potentials[t, n] there
// (0 if none). One pass over the steps, N contiguous per step.
inline void FirstCrossingSample(const float* signal, const float* potentials, int64_t T,
                                int64_t N, float threshold, int32_t* times, float* values) {
  for (int64_t j = 0; j < N; ++j) {
    times[j] = static_cast<int32_t>(T);
    values[j] = 0.0f;
  }
  for (int64_t t = 0; t < T; ++t) {
    const float* s = signal + t * N;
    const float* p = potentials + t * N;
    const int32_t tt = static_cast<int32_t>(t);
    for (int64_t j = 0; j < N; ++j) {
      const bool now = times[j] == static_cast<int32_t>(T) && s[j] > threshold;
      times[j] = now ? tt : times[j];
      values[j] = now ? p[j] : values[j];
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
