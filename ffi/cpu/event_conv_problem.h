// Shared argument checks of the event-driven conv handlers (conv_fire,
// conv_fire_winners): buffer dimensions -> EventConvShape, the vmapped group
// count, the batch, and the kernel packed to EventConvPaddedChannels lanes.
//
// times:     (L..., B, H, W, Cin) int32 in [0, T]
// kernel:    (L..., kh, kw, Cin, Cout) float32 (HWIO)
// threshold: (L...) float32
// L... are leading (vmapped) dims shared by all three; their rank is the
// threshold's rank.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "parallel.h"
#include "shapes.h"
#include "spyxlike/event_conv.h"
#include "xla/ffi/api/ffi.h"

namespace spyxlike {

// The packed kernels live in the calling thread's reused buffer (see
// ThreadScratch): a large conv kernel is not allocated again every call.
struct EventConvPackedKernels {
  EventConvBuffer<float> buffer;
};

struct EventConvProblem {
  EventConvShape s;
  int64_t groups = 1;                  // product of the L... dims
  int64_t batch = 0;                   // B
  std::vector<int64_t> sample_dims;    // (L..., B): the leading dims of every output
  const float* packed = nullptr;       // groups x EventConvPackedSize, valid during the call
  int64_t packed_size = 0;             // EventConvPackedSize: one group's packed kernel
};

// Checks the buffers and attributes (op names the handler in messages) and
// fills p, packing the kernel. Returns a kInvalidArgument error on bad input.
inline xla::ffi::Error PrepareEventConv(const std::string& op, xla::ffi::Buffer<xla::ffi::S32>& times,
                                        xla::ffi::Buffer<xla::ffi::F32>& kernel,
                                        xla::ffi::Buffer<xla::ffi::F32>& threshold,
                                        int64_t time_steps, int64_t stride_h, int64_t stride_w,
                                        int64_t pad_top, int64_t pad_left, int64_t pad_bottom,
                                        int64_t pad_right, EventConvProblem& p) {
  const auto td = times.dimensions();
  const auto kd = kernel.dimensions();
  const auto hd = threshold.dimensions();
  const size_t nl = hd.size();
  if (td.size() != nl + 4 || kd.size() != nl + 4) {
    return InvalidArgument(op + ": expected times (L..., B, H, W, Cin), kernel (L..., kh, kw, Cin, "
                                "Cout) and threshold (L...)");
  }
  p.groups = 1;
  for (size_t d = 0; d < nl; ++d) {
    if (td[d] != hd[d] || kd[d] != hd[d]) {
      return InvalidArgument(op + ": leading (vmapped) dims of times, kernel, threshold differ");
    }
    p.groups *= hd[d];
  }
  if (time_steps < 1 || time_steps > INT32_MAX - 2) {
    return InvalidArgument(op + ": time_steps must be >= 1");
  }
  if (stride_h < 1 || stride_w < 1) return InvalidArgument(op + ": strides must be >= 1");
  if (pad_top < 0 || pad_left < 0 || pad_bottom < 0 || pad_right < 0) {
    return InvalidArgument(op + ": padding must be >= 0");
  }
  EventConvShape& s = p.s;
  p.batch = td[nl];
  s.H = td[nl + 1];
  s.W = td[nl + 2];
  s.Cin = td[nl + 3];
  s.kh = kd[nl];
  s.kw = kd[nl + 1];
  s.Cout = kd[nl + 3];
  if (kd[nl + 2] != s.Cin) return InvalidArgument(op + ": kernel Cin differs from times Cin");
  if (s.kh < 1 || s.kw < 1) return InvalidArgument(op + ": empty kernel window");
  const int64_t hp = s.H + pad_top + pad_bottom;
  const int64_t wp = s.W + pad_left + pad_right;
  if (hp < s.kh || wp < s.kw) return InvalidArgument(op + ": kernel larger than the padded input");
  if (s.H * s.W * s.Cin >= INT32_MAX) return InvalidArgument(op + ": input too large");
  s.Cp = EventConvPaddedChannels(s.Cout);
  s.sh = stride_h;
  s.sw = stride_w;
  s.pt = pad_top;
  s.pl = pad_left;
  s.Ho = (hp - s.kh) / stride_h + 1;
  s.Wo = (wp - s.kw) / stride_w + 1;
  s.T = static_cast<int32_t>(time_steps);
  if (s.Ho * s.Wo >= INT32_MAX) return InvalidArgument(op + ": output too large");
  p.sample_dims.assign(td.begin(), td.begin() + nl + 1);
  const int64_t k_size = s.kh * s.kw * s.Cin * s.Cout;
  p.packed_size = EventConvPackedSize(s);
  if (p.packed_size >= INT32_MAX) return InvalidArgument(op + ": kernel too large");
  EventConvBuffer<float>& packed = ThreadScratch<EventConvPackedKernels>().buffer;
  packed.Resize(static_cast<size_t>(p.groups * p.packed_size));
  for (int64_t g = 0; g < p.groups; ++g) {
    EventConvPackKernel(kernel.typed_data() + g * k_size, s, packed.data() + g * p.packed_size);
  }
  p.packed = packed.data();
  return xla::ffi::Error::Success();
}

}  // namespace spyxlike
