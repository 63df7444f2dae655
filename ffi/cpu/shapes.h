// Shape checks shared by the CPU handlers: sizes come from buffer dimensions
// and are validated before any pointer arithmetic.
#pragma once

#include <cstdint>
#include <string>

#include "xla/ffi/api/ffi.h"

namespace spyxlike {

inline xla::ffi::Error InvalidArgument(const std::string& msg) {
  return xla::ffi::Error(xla::ffi::ErrorCode::kInvalidArgument, msg);
}

// A sequence buffer (batch..., T, N) and a state buffer (batch..., N) must
// share batch dims and N. On success sets batch (product of batch dims), T, N.
inline xla::ffi::Error SequenceAndState(const char* op, xla::ffi::Span<const int64_t> seq,
                                        xla::ffi::Span<const int64_t> state, int64_t* batch,
                                        int64_t* T, int64_t* N) {
  const size_t rank = seq.size();
  if (rank < 2 || state.size() + 1 != rank) {
    return InvalidArgument(std::string(op) + ": expected sequence (batch..., T, N) and state "
                                             "(batch..., N) buffers");
  }
  int64_t b = 1;
  for (size_t d = 0; d + 2 < rank; ++d) {
    if (seq[d] != state[d]) {
      return InvalidArgument(std::string(op) + ": sequence and state batch dims differ");
    }
    b *= seq[d];
  }
  if (seq[rank - 1] != state[rank - 2]) {
    return InvalidArgument(std::string(op) + ": sequence and state neuron counts differ");
  }
  *batch = b;
  *T = seq[rank - 2];
  *N = seq[rank - 1];
  return xla::ffi::Error::Success();
}

template <typename A, typename B>
inline bool SameDims(const A& a, const B& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace spyxlike
