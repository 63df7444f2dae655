// Fused time loops of leaky neurons for one batch element, on raw pointers.
//
// Layout: inputs/outputs (T, N) row-major (time, neuron), per-neuron beta (N).
// All loops run over time outside and neurons inside, so the inner loop is a
// contiguous, branch-free vector loop.
#pragma once

#include <cmath>
#include <cstdint>

namespace spyxlike {

// LIF with subtractive reset in Spyx's order (spike from the old potential):
//   s_t = H(v_{t-1} - theta),   v_t = beta * v_{t-1} + i_t - theta * s_t.
// Writes spikes s (T, N), the pre-update potentials v_prev (T, N) (needed for
// the surrogate gradient) and the final potential v (N), starting from v0.
inline void LifForward(const float* __restrict__ in, const float* __restrict__ v0, const float* __restrict__ beta, float theta,
                       int64_t T, int64_t N, float* __restrict__ spikes, float* __restrict__ v_prev, float* __restrict__ v_final) {
  for (int64_t n = 0; n < N; ++n) v_final[n] = v0[n];
  for (int64_t t = 0; t < T; ++t) {
    const float* it = in + t * N;
    float* st = spikes + t * N;
    float* pt = v_prev + t * N;
    for (int64_t n = 0; n < N; ++n) {
      const float v = v_final[n];
      const float s = (v - theta) > 0.0f ? 1.0f : 0.0f;
      pt[n] = v;
      st[n] = s;
      v_final[n] = beta[n] * v + it[n] - theta * s;
    }
  }
}

// Surrogate derivatives sigma'(u) of the built-in spyxlike.axn activations,
// evaluated inline by the fused LIF adjoint (ids match spyxlike/ops/leaky_scan.py).
enum class Surrogate : int64_t {
  kArray = 0,  // precomputed sigma'(v_prev - theta) passed in as a buffer
  kSuperSpike = 1,   // 1 / (1 + k|u|)^2
  kArctan = 2,       // 1 / (pi (1 + (k pi u)^2))
  kBoxcar = 3,       // h if |u| < w/2 else 0     (p0 = w, p1 = h)
  kTanh = 4,         // 4 / (e^{-ku} + e^{ku})^2
  kTriangular = 5,   // max(0, 1 - |ku|)
  kSigmoid = 6,      // k s(ku) s(-ku)
  kFastSigmoid = 7,  // 1 / (k|u| + 1)^2
};

struct SurrogateFormula {
  Surrogate kind;
  float p0, p1;
};

// sigma'(u) for one compile-time surrogate kind (no branch in the hot loop).
template <Surrogate K>
inline float SurrogateAt(float u, float p0, float p1) {
  constexpr float kPi = 3.14159265358979323846f;
  if constexpr (K == Surrogate::kSuperSpike || K == Surrogate::kFastSigmoid) {
    const float d = 1.0f + p0 * std::fabs(u);
    return 1.0f / (d * d);
  } else if constexpr (K == Surrogate::kArctan) {
    const float z = p0 * kPi * u;
    return 1.0f / ((1.0f + z * z) * kPi);
  } else if constexpr (K == Surrogate::kBoxcar) {
    return std::fabs(u) < 0.5f * p0 ? p1 : 0.0f;
  } else if constexpr (K == Surrogate::kTanh) {
    const float e = std::exp(-p0 * u) + std::exp(p0 * u);
    return 4.0f / (e * e);
  } else if constexpr (K == Surrogate::kTriangular) {
    return std::fmax(0.0f, 1.0f - std::fabs(p0 * u));
  } else if constexpr (K == Surrogate::kSigmoid) {
    const float z = p0 * u;
    return p0 / ((1.0f + std::exp(-z)) * (1.0f + std::exp(z)));
  } else {
    (void)p1;
    return 0.0f;
  }
}

// Reverse-time adjoint of LifForward. With a_t = dL/dv_t:
//   di_t = a_t,   dbeta += a_t * v_{t-1},
//   a_{t-1} = beta * a_t + (gs_t - theta * a_t) * sigma'(v_{t-1} - theta),
// the reset term's gradient flowing through s_t (as under autodiff in Spyx).
// The surrogate comes from `surr` (T, N) when formula.kind == kArray, else it
// is evaluated inline. Writes di (T, N), dv0 (N) and this element's dbeta (N).
template <Surrogate kKind>
inline void LifBackwardT(const float* __restrict__ g_spikes, const float* __restrict__ g_v_final, const float* __restrict__ v_prev,
                         const float* __restrict__ surr, SurrogateFormula formula, const float* __restrict__ beta,
                         float theta, int64_t T, int64_t N, float* __restrict__ d_in, float* __restrict__ d_v0,
                         float* __restrict__ d_beta) {
  const float p0 = formula.p0, p1 = formula.p1;
  for (int64_t n = 0; n < N; ++n) {
    d_v0[n] = g_v_final[n];
    d_beta[n] = 0.0f;
  }
  for (int64_t t = T - 1; t >= 0; --t) {
    const float* gt = g_spikes + t * N;
    const float* pt = v_prev + t * N;
    const float* ut = kKind == Surrogate::kArray ? surr + t * N : nullptr;
    float* dt = d_in + t * N;
    for (int64_t n = 0; n < N; ++n) {
      const float a = d_v0[n];
      float sg;
      if constexpr (kKind == Surrogate::kArray) {
        sg = ut[n];
      } else {
        sg = SurrogateAt<kKind>(pt[n] - theta, p0, p1);
      }
      dt[n] = a;
      d_beta[n] += a * pt[n];
      d_v0[n] = beta[n] * a + (gt[n] - theta * a) * sg;
    }
  }
}

// Dispatches on the surrogate kind once per batch element, so each inner
// loop is specialised (and vectorisable) for one formula.
inline bool LifBackward(const float* __restrict__ g_spikes, const float* __restrict__ g_v_final, const float* __restrict__ v_prev,
                        const float* __restrict__ surr, SurrogateFormula formula, const float* __restrict__ beta,
                        float theta, int64_t T, int64_t N, float* __restrict__ d_in, float* __restrict__ d_v0,
                        float* __restrict__ d_beta) {
#define SPYXLIKE_LIF_BWD(K)                                                                  \
  case K:                                                                                    \
    LifBackwardT<K>(g_spikes, g_v_final, v_prev, surr, formula, beta, theta, T, N, d_in, d_v0, \
                    d_beta);                                                                 \
    return true;
  switch (formula.kind) {
    SPYXLIKE_LIF_BWD(Surrogate::kArray)
    SPYXLIKE_LIF_BWD(Surrogate::kSuperSpike)
    SPYXLIKE_LIF_BWD(Surrogate::kArctan)
    SPYXLIKE_LIF_BWD(Surrogate::kBoxcar)
    SPYXLIKE_LIF_BWD(Surrogate::kTanh)
    SPYXLIKE_LIF_BWD(Surrogate::kTriangular)
    SPYXLIKE_LIF_BWD(Surrogate::kSigmoid)
    SPYXLIKE_LIF_BWD(Surrogate::kFastSigmoid)
  }
#undef SPYXLIKE_LIF_BWD
  return false;
}

// Leaky integrator (Spyx's LI, non-spiking): v_t = beta * v_{t-1} + x_t, out_t = v_t.
inline void LiForward(const float* __restrict__ in, const float* __restrict__ v0, const float* __restrict__ beta, int64_t T, int64_t N,
                      float* __restrict__ out, float* __restrict__ v_final) {
  for (int64_t n = 0; n < N; ++n) v_final[n] = v0[n];
  for (int64_t t = 0; t < T; ++t) {
    const float* it = in + t * N;
    float* ot = out + t * N;
    for (int64_t n = 0; n < N; ++n) {
      v_final[n] = beta[n] * v_final[n] + it[n];
      ot[n] = v_final[n];
    }
  }
}

// Adjoint of LiForward: a_t = g_t + beta * a_{t+1} (+ g_final at t = T-1),
//   dx_t = a_t,  dbeta += a_t * v_{t-1} (v_{-1} = v0),  dv0 = beta * a_0.
inline void LiBackward(const float* __restrict__ g_out, const float* __restrict__ g_v_final, const float* __restrict__ out,
                       const float* __restrict__ v0, const float* __restrict__ beta, int64_t T, int64_t N, float* __restrict__ d_in,
                       float* __restrict__ d_v0, float* __restrict__ d_beta) {
  for (int64_t n = 0; n < N; ++n) {
    d_v0[n] = g_v_final[n];
    d_beta[n] = 0.0f;
  }
  for (int64_t t = T - 1; t >= 0; --t) {
    const float* gt = g_out + t * N;
    const float* prev = t > 0 ? out + (t - 1) * N : v0;
    float* dt = d_in + t * N;
    for (int64_t n = 0; n < N; ++n) {
      const float a = d_v0[n] + gt[n];
      dt[n] = a;
      d_beta[n] += a * prev[n];
      d_v0[n] = beta[n] * a;
    }
  }
}

}  // namespace spyxlike
