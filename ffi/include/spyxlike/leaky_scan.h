// Fused time loops of leaky neurons for one batch element, on raw pointers.
//
// Layout: inputs/outputs (T, N) row-major (time, neuron), per-neuron beta (N).
// All loops run over time outside and neurons inside, so the inner loop is a
// contiguous, branch-free vector loop.
#pragma once

#include <cstdint>

namespace spyxlike {

// LIF with subtractive reset in Spyx's order (spike from the old potential):
//   s_t = H(v_{t-1} - theta),   v_t = beta * v_{t-1} + i_t - theta * s_t.
// Writes spikes s (T, N), the pre-update potentials v_prev (T, N) (needed for
// the surrogate gradient) and the final potential v (N), starting from v0.
inline void LifForward(const float* in, const float* v0, const float* beta, float theta,
                       int64_t T, int64_t N, float* spikes, float* v_prev, float* v_final) {
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

// Reverse-time adjoint of LifForward. With a_t = dL/dv_t:
//   di_t = a_t,   dbeta += a_t * v_{t-1},
//   a_{t-1} = beta * a_t + (gs_t - theta * a_t) * surr_t,
// where surr_t = sigma'(v_{t-1} - theta) is the surrogate derivative and the
// reset term's gradient flows through s_t (as under autodiff in Spyx).
// Writes di (T, N), dv0 (N) and this element's dbeta (N).
inline void LifBackward(const float* g_spikes, const float* g_v_final, const float* v_prev,
                        const float* surr, const float* beta, float theta, int64_t T, int64_t N,
                        float* d_in, float* d_v0, float* d_beta) {
  for (int64_t n = 0; n < N; ++n) {
    d_v0[n] = g_v_final[n];
    d_beta[n] = 0.0f;
  }
  for (int64_t t = T - 1; t >= 0; --t) {
    const float* gt = g_spikes + t * N;
    const float* pt = v_prev + t * N;
    const float* ut = surr + t * N;
    float* dt = d_in + t * N;
    for (int64_t n = 0; n < N; ++n) {
      const float a = d_v0[n];
      dt[n] = a;
      d_beta[n] += a * pt[n];
      d_v0[n] = beta[n] * a + (gt[n] - theta * a) * ut[n];
    }
  }
}

// Leaky integrator (Spyx's LI, non-spiking): v_t = beta * v_{t-1} + x_t, out_t = v_t.
inline void LiForward(const float* in, const float* v0, const float* beta, int64_t T, int64_t N,
                      float* out, float* v_final) {
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
inline void LiBackward(const float* g_out, const float* g_v_final, const float* out,
                       const float* v0, const float* beta, int64_t T, int64_t N, float* d_in,
                       float* d_v0, float* d_beta) {
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
