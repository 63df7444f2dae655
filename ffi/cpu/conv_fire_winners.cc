// XLA FFI handler for the event-driven conv + fire fused with k-WTA (conv_fire_winners).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "parallel.h"
#include "shapes.h"
#include "spyxlike/conv_fire_winners.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

// times:     (L..., B, H, W, Cin) int32 in [0, T]
// kernel:    (L..., kh, kw, Cin, Cout) float32 (HWIO)
// threshold: (L...) float32
// L... are leading (vmapped) dims shared by all three; their rank is the
// threshold's rank. Outputs: winners (L..., B, kwta, 3) int32 rows
// (feature, row, col), -1 when empty; win_time (L..., B, kwta) int32 (T when
// empty) and win_value (L..., B, kwta) float32 (0 when empty).
ffi::Error ConvFireWinnersImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::S32> times,
                               ffi::Buffer<ffi::F32> kernel, ffi::Buffer<ffi::F32> threshold,
                               int64_t time_steps, int64_t stride_h, int64_t stride_w,
                               int64_t pad_top, int64_t pad_left, int64_t pad_bottom,
                               int64_t pad_right, int64_t kwta, int64_t radius_y,
                               int64_t radius_x, ffi::ResultBuffer<ffi::S32> winners,
                               ffi::ResultBuffer<ffi::S32> win_time,
                               ffi::ResultBuffer<ffi::F32> win_value) {
  using spyxlike::InvalidArgument;
  const auto td = times.dimensions();
  const auto kd = kernel.dimensions();
  const auto hd = threshold.dimensions();
  const size_t nl = hd.size();
  if (td.size() != nl + 4 || kd.size() != nl + 4) {
    return InvalidArgument(
        "conv_fire_winners: expected times (L..., B, H, W, Cin), kernel (L..., kh, kw, Cin, Cout) and "
        "threshold (L...)");
  }
  int64_t groups = 1;
  for (size_t d = 0; d < nl; ++d) {
    if (td[d] != hd[d] || kd[d] != hd[d]) {
      return InvalidArgument("conv_fire_winners: leading (vmapped) dims of times, kernel, threshold differ");
    }
    groups *= hd[d];
  }
  if (time_steps < 1 || time_steps > INT32_MAX - 2) {
    return InvalidArgument("conv_fire_winners: time_steps must be >= 1");
  }
  if (stride_h < 1 || stride_w < 1) return InvalidArgument("conv_fire_winners: strides must be >= 1");
  if (pad_top < 0 || pad_left < 0 || pad_bottom < 0 || pad_right < 0) {
    return InvalidArgument("conv_fire_winners: padding must be >= 0");
  }
  spyxlike::EventConvShape s;
  const int64_t B = td[nl];
  s.H = td[nl + 1];
  s.W = td[nl + 2];
  s.Cin = td[nl + 3];
  s.kh = kd[nl];
  s.kw = kd[nl + 1];
  s.Cout = kd[nl + 3];
  if (kd[nl + 2] != s.Cin) return InvalidArgument("conv_fire_winners: kernel Cin differs from times Cin");
  if (s.kh < 1 || s.kw < 1) return InvalidArgument("conv_fire_winners: empty kernel window");
  const int64_t hp = s.H + pad_top + pad_bottom;
  const int64_t wp = s.W + pad_left + pad_right;
  if (hp < s.kh || wp < s.kw) {
    return InvalidArgument("conv_fire_winners: kernel larger than the padded input");
  }
  if (s.H * s.W * s.Cin >= INT32_MAX) return InvalidArgument("conv_fire_winners: input too large");
  s.Cp = spyxlike::EventConvPaddedChannels(s.Cout);
  s.sh = stride_h;
  s.sw = stride_w;
  s.pt = pad_top;
  s.pl = pad_left;
  s.Ho = (hp - s.kh) / stride_h + 1;
  s.Wo = (wp - s.kw) / stride_w + 1;
  s.T = static_cast<int32_t>(time_steps);
  if (s.Ho * s.Wo >= INT32_MAX) return InvalidArgument("conv_fire_winners: output too large");
  if (kwta < 1 || radius_y < -1 || radius_x < -1) {
    return InvalidArgument("conv_fire_winners: kwta must be >= 1 and radii >= -1");
  }
  std::vector<int64_t> out_dims(td.begin(), td.begin() + nl + 1);
  out_dims.push_back(kwta);
  if (!spyxlike::SameDims(win_time->dimensions(), out_dims) ||
      !spyxlike::SameDims(win_value->dimensions(), out_dims)) {
    return InvalidArgument("conv_fire_winners: winner time/value buffers must be (L..., B, kwta)");
  }
  out_dims.push_back(3);
  if (!spyxlike::SameDims(winners->dimensions(), out_dims)) {
    return InvalidArgument("conv_fire_winners: winners buffer must be (L..., B, kwta, 3)");
  }
  const int64_t n = groups * B;
  const int64_t in_size = s.H * s.W * s.Cin;
  if (n == 0) return ffi::Error::Success();
  const int64_t k_size = s.kh * s.kw * s.Cin * s.Cout;
  const int64_t kp_size = s.kh * s.kw * s.Cin * s.Cp;
  if (kp_size >= INT32_MAX) return InvalidArgument("conv_fire_winners: kernel too large");
  spyxlike::EventConvBuffer<float> packed;
  packed.Resize(static_cast<size_t>(groups * kp_size));
  for (int64_t g = 0; g < groups; ++g) {
    spyxlike::EventConvPackKernel(kernel.typed_data() + g * k_size, s, packed.data() + g * kp_size);
  }
  const int32_t* tp = times.typed_data();
  const float* hp_data = threshold.typed_data();
  int32_t* wo = winners->typed_data();
  int32_t* wt = win_time->typed_data();
  float* wv = win_value->typed_data();
  std::atomic<bool> bad_time{false};
  // One work unit per thread; each unit takes samples one at a time from a
  // shared counter, so a thread that the OS delays holds up at most one sample.
  std::atomic<int64_t> next{0};
  const int64_t units = std::max<int64_t>(1, std::min<int64_t>(pool.num_threads(), n));
  spyxlike::ParallelFor(&pool, units, 1, [&](int64_t begin, int64_t end) {
    if (begin >= end || next.load() >= n) return;
    spyxlike::ConvWinnersScratch w;
    w.Prepare(s);
    for (int64_t i; (i = next.fetch_add(1)) < n;) {
      const int64_t g = i / B;
      if (!spyxlike::ConvFireWinnersSample(tp + i * in_size, packed.data() + g * kp_size,
                                           hp_data[g], s, kwta, radius_y, radius_x, w,
                                           wo + i * kwta * 3, wt + i * kwta, wv + i * kwta)) {
        bad_time.store(true);
      }
    }
  });
  if (bad_time.load()) {
    return InvalidArgument("conv_fire_winners: pre_times must lie in [0, time_steps]");
  }
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeConvFireWinners, ConvFireWinnersImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Attr<int64_t>("time_steps")
                                  .Attr<int64_t>("stride_h")
                                  .Attr<int64_t>("stride_w")
                                  .Attr<int64_t>("pad_top")
                                  .Attr<int64_t>("pad_left")
                                  .Attr<int64_t>("pad_bottom")
                                  .Attr<int64_t>("pad_right")
                                  .Attr<int64_t>("kwta")
                                  .Attr<int64_t>("radius_y")
                                  .Attr<int64_t>("radius_x")
                                  .Ret<ffi::Buffer<ffi::S32>>()
                                  .Ret<ffi::Buffer<ffi::S32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());
