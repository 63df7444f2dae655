// XLA FFI handler for the event-driven conv + fire fused with k-WTA (conv_fire_winners).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "parallel.h"
#include "shapes.h"
#include "spyxlike/conv_fire_winners.h"
#include "event_conv_problem.h"
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
  spyxlike::EventConvProblem p;
  if (auto err = spyxlike::PrepareEventConv("conv_fire_winners", times, kernel, threshold, time_steps, stride_h,
                                            stride_w, pad_top, pad_left, pad_bottom, pad_right, p);
      err.failure()) {
    return err;
  }
  const spyxlike::EventConvShape& s = p.s;
  const int64_t B = p.batch;
  const int64_t groups = p.groups;
  if (kwta < 1 || radius_y < -1 || radius_x < -1) {
    return InvalidArgument("conv_fire_winners: kwta must be >= 1 and radii >= -1");
  }
  std::vector<int64_t> out_dims = p.sample_dims;
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
  const int64_t kp_size = p.packed_size;
  const float* packed = p.packed;
  const int32_t* tp = times.typed_data();
  const float* hp_data = threshold.typed_data();
  int32_t* wo = winners->typed_data();
  int32_t* wt = win_time->typed_data();
  float* wv = win_value->typed_data();
  std::atomic<bool> bad_time{false};
  spyxlike::ParallelForSamples(&pool, n, [&](auto take) {
    spyxlike::ConvWinnersScratch& w = spyxlike::ThreadScratchFor<spyxlike::ConvWinnersScratch>(
        s, spyxlike::SameEventConvShape, [&](spyxlike::ConvWinnersScratch& fresh) { fresh.Prepare(s); });
    for (int64_t i; (i = take()) >= 0;) {
      const int64_t g = i / B;
      if (!spyxlike::ConvFireWinnersSample(tp + i * in_size, packed + g * kp_size,
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
