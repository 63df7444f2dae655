// SpykeTorch's fire on one block of potentials, on raw pointers.
//
// potentials: `steps` time steps of `n` neurons, row-major (t, i).
// With a threshold (last_step_only == false):
//     spikes[t, i]      = potentials[t, i] > threshold ? 1 : 0
//     thresholded[t, i] = potentials[t, i] > threshold ? potentials[t, i] : 0
// With last_step_only (SpykeTorch's threshold=None): every step but the last
// is zero in both outputs; the last step uses threshold 0.
// `thresholded` may be null (not requested).
#pragma once

#include <cstdint>

namespace spyxlike {

template <typename T>
inline void FireBlock(const T* potentials, int64_t steps, int64_t n, T threshold,
                      bool last_step_only, T* spikes, T* thresholded) {
  const int64_t total = steps * n;
  int64_t begin = 0;
  if (last_step_only) {
    begin = total - n;
    for (int64_t k = 0; k < begin; ++k) spikes[k] = T(0);
    if (thresholded) {
      for (int64_t k = 0; k < begin; ++k) thresholded[k] = T(0);
    }
    threshold = T(0);
  }
  if (thresholded) {
    for (int64_t k = begin; k < total; ++k) {
      const T v = potentials[k];
      const bool fired = v > threshold;
      spikes[k] = fired ? T(1) : T(0);
      thresholded[k] = fired ? v : T(0);
    }
  } else {
    for (int64_t k = begin; k < total; ++k) spikes[k] = potentials[k] > threshold ? T(1) : T(0);
  }
}

}  // namespace spyxlike
