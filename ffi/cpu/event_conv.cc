// XLA FFI handler for the event-driven conv + fire of single-spike inputs.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "parallel.h"
#include "shapes.h"
#include "spyxlike/event_conv.h"
#include "event_conv_problem.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

// times:     (L..., B, H, W, Cin) int32 in [0, T]
// kernel:    (L..., kh, kw, Cin, Cout) float32 (HWIO)
// threshold: (L...) float32
// L... are leading (vmapped) dims shared by all three; their rank is the
// threshold's rank. Outputs post (int32) and fire (float32) are
// (L..., B, Ho, Wo, Cout); fire and final are the same or empty (not requested).
// pointwise != 0: SpykeTorch's point-wise inhibition is applied to post and
// fire (at most one spiking channel per position; final is then not allowed).
// pool_kh > 0 (point-wise only, no fire/final): post is instead the inhibited
// times max-pooled over (pool_kh, pool_kw) windows with strides (pool_sh,
// pool_sw) and zero padding pool_top/left/bottom/right: (L..., B, Hp, Wp, Cout).
ffi::Error EventConvFireImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::S32> times,
                             ffi::Buffer<ffi::F32> kernel, ffi::Buffer<ffi::F32> threshold,
                             int64_t time_steps, int64_t stride_h, int64_t stride_w,
                             int64_t pad_top, int64_t pad_left, int64_t pad_bottom,
                             int64_t pad_right, int64_t pointwise, int64_t pool_kh,
                             int64_t pool_kw, int64_t pool_sh, int64_t pool_sw, int64_t pool_top,
                             int64_t pool_left, int64_t pool_bottom, int64_t pool_right,
                             ffi::ResultBuffer<ffi::S32> post,
                             ffi::ResultBuffer<ffi::F32> fire, ffi::ResultBuffer<ffi::F32> final) {
  using spyxlike::InvalidArgument;
  spyxlike::EventConvProblem p;
  if (auto err = spyxlike::PrepareEventConv("conv_fire", times, kernel, threshold, time_steps, stride_h,
                                            stride_w, pad_top, pad_left, pad_bottom, pad_right, p);
      err.failure()) {
    return err;
  }
  const spyxlike::EventConvShape& s = p.s;
  const int64_t B = p.batch;
  const int64_t groups = p.groups;
  std::vector<int64_t> out_dims = p.sample_dims;
  out_dims.push_back(s.Ho);
  out_dims.push_back(s.Wo);
  out_dims.push_back(s.Cout);
  const bool with_fire = fire->element_count() != 0;
  const bool with_final = final->element_count() != 0;
  const bool pooled = pool_kh > 0;
  int64_t Hp = 0, Wp = 0;
  if (pooled) {
    if (pointwise == 0 || with_fire || with_final) {
      return InvalidArgument("conv_fire: fused pooling needs point-wise inhibition and no "
                             "potential outputs");
    }
    if (pool_kw < 1 || pool_sh < 1 || pool_sw < 1 || pool_top < 0 || pool_left < 0 ||
        pool_bottom < 0 || pool_right < 0 || pool_top >= pool_kh || pool_bottom >= pool_kh ||
        pool_left >= pool_kw || pool_right >= pool_kw ||
        s.Ho + pool_top + pool_bottom < pool_kh || s.Wo + pool_left + pool_right < pool_kw) {
      return InvalidArgument("conv_fire: bad pooling window, stride or padding");
    }
    Hp = (s.Ho + pool_top + pool_bottom - pool_kh) / pool_sh + 1;
    Wp = (s.Wo + pool_left + pool_right - pool_kw) / pool_sw + 1;
    std::vector<int64_t> pool_dims = p.sample_dims;
    pool_dims.push_back(Hp);
    pool_dims.push_back(Wp);
    pool_dims.push_back(s.Cout);
    if (!spyxlike::SameDims(post->dimensions(), pool_dims)) {
      return InvalidArgument("conv_fire: pooled output buffer must be (L..., B, Hp, Wp, Cout)");
    }
  } else if (!spyxlike::SameDims(post->dimensions(), out_dims) ||
             (with_fire && !spyxlike::SameDims(fire->dimensions(), out_dims))) {
    return InvalidArgument("conv_fire: output buffers must be (L..., B, Ho, Wo, Cout)");
  }
  if (pointwise != 0 && with_final) {
    return InvalidArgument("conv_fire: no final potentials with point-wise inhibition");
  }
  if (with_final && !spyxlike::SameDims(final->dimensions(), out_dims)) {
    return InvalidArgument("conv_fire: final potentials buffer must be (L..., B, Ho, Wo, Cout)");
  }
  const int64_t n = groups * B;
  const int64_t in_size = s.H * s.W * s.Cin;
  const int64_t out_size = s.Ho * s.Wo * s.Cout;
  const int64_t pooled_size = Hp * Wp * s.Cout;
  if (n == 0 || out_size == 0) return ffi::Error::Success();
  const int64_t kp_size = p.packed_size;
  const float* packed = p.packed;
  const int32_t* tp = times.typed_data();
  const float* hp_data = threshold.typed_data();
  int32_t* po = post->typed_data();
  float* fo = with_fire ? fire->typed_data() : nullptr;
  float* zo = with_final ? final->typed_data() : nullptr;
  std::atomic<bool> bad_time{false};
  spyxlike::ParallelForSamples(&pool, n, [&](auto take) {
    spyxlike::EventConvScratch& w = spyxlike::ThreadScratchFor<spyxlike::EventConvScratch>(
        s, spyxlike::SameEventConvShape, [&](spyxlike::EventConvScratch& fresh) { fresh.Prepare(s); });
    spyxlike::EventConvNoSink plain;
    spyxlike::EventConvPointwiseSink inhibit;
    inhibit.time_steps = s.T;
    if (pooled) {
      inhibit.Wo = s.Wo;
      inhibit.Cout = s.Cout;
      inhibit.kh = pool_kh;
      inhibit.kw = pool_kw;
      inhibit.sh = pool_sh;
      inhibit.sw = pool_sw;
      inhibit.pt = pool_top;
      inhibit.pl = pool_left;
      inhibit.Hp = Hp;
      inhibit.Wp = Wp;
    }
    for (int64_t i; (i = take()) >= 0;) {
      const int64_t g = i / B;
      float* fire_i = fo ? fo + i * out_size : nullptr;
      bool ok;
      if (pooled) {
        int32_t* pooled_i = po + i * pooled_size;
        std::fill(pooled_i, pooled_i + pooled_size, s.T);
        inhibit.pooled = pooled_i;
        ok = spyxlike::EventConvFireSample(tp + i * in_size, packed + g * kp_size, hp_data[g], s,
                                           w, nullptr, nullptr, nullptr, inhibit);
      } else if (pointwise != 0) {
        ok = spyxlike::EventConvFireSample(tp + i * in_size, packed + g * kp_size, hp_data[g], s,
                                           w, po + i * out_size, fire_i, nullptr, inhibit);
      } else {
        ok = spyxlike::EventConvFireSample(tp + i * in_size, packed + g * kp_size, hp_data[g], s,
                                           w, po + i * out_size, fire_i,
                                           zo ? zo + i * out_size : nullptr, plain);
      }
      if (!ok) bad_time.store(true);
    }
  });
  if (bad_time.load()) {
    return InvalidArgument("conv_fire: pre_times must lie in [0, time_steps]");
  }
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeEventConvFire, EventConvFireImpl,
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
                                  .Attr<int64_t>("pointwise")
                                  .Attr<int64_t>("pool_kh")
                                  .Attr<int64_t>("pool_kw")
                                  .Attr<int64_t>("pool_sh")
                                  .Attr<int64_t>("pool_sw")
                                  .Attr<int64_t>("pool_top")
                                  .Attr<int64_t>("pool_left")
                                  .Attr<int64_t>("pool_bottom")
                                  .Attr<int64_t>("pool_right")
                                  .Ret<ffi::Buffer<ffi::S32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());
