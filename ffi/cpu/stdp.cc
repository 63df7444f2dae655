// XLA FFI handler for the conv (and FC) STDP weight update on the CPU.
#include <cstdint>
#include <string>
#include <vector>

#include "parallel.h"
#include "shapes.h"
#include "spyxlike/stdp.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

// Leading dims (added by vmap) of `dims` before its last `own` dims must equal `lead`.
bool SameLeading(ffi::Span<const int64_t> dims, size_t own, ffi::Span<const int64_t> lead) {
  if (dims.size() != lead.size() + own) return false;
  for (size_t d = 0; d < lead.size(); ++d) {
    if (dims[d] != lead[d]) return false;
  }
  return true;
}

// weights (V..., kh, kw, Cin, Cout) f32; pre (V..., B, H, W, Cin) s32;
// post (V..., B, Ho, Wo, Cout) s32; feature/row/col (V..., B, k) s32; valid
// (V..., B, k) pred; rate_index (V..., B, k) s32 or empty; tables (V..., R, Cout, 2)
// f32 -> new weights, shape of `weights`.
ffi::Error StdpConvImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> weights,
                        ffi::Buffer<ffi::S32> pre, ffi::Buffer<ffi::S32> post,
                        ffi::Buffer<ffi::S32> feature, ffi::Buffer<ffi::S32> row,
                        ffi::Buffer<ffi::S32> col, ffi::Buffer<ffi::PRED> valid,
                        ffi::Buffer<ffi::S32> rate_index, ffi::Buffer<ffi::F32> tables,
                        int64_t stride_h,
                        int64_t stride_w, int64_t pad_top, int64_t pad_left, int64_t pad_time,
                        bool stabilize, float lower, float upper, bool sequential,
                        ffi::ResultBuffer<ffi::F32> out) {
  const auto wd = weights.dimensions();
  if (wd.size() < 4) {
    return spyxlike::InvalidArgument("stdp_conv: weights must be (kh, kw, Cin, Cout)");
  }
  const size_t nlead = wd.size() - 4;
  const ffi::Span<const int64_t> lead(wd.begin(), nlead);
  const auto pd = pre.dimensions(), od = post.dimensions(), fd = feature.dimensions(),
             td = tables.dimensions();
  const bool indexed = rate_index.element_count() != 0;
  if (!SameLeading(pd, 4, lead) || !SameLeading(od, 4, lead) || !SameLeading(fd, 2, lead) ||
      !spyxlike::SameDims(fd, row.dimensions()) || !spyxlike::SameDims(fd, col.dimensions()) ||
      !spyxlike::SameDims(fd, valid.dimensions()) ||
      (indexed && !spyxlike::SameDims(fd, rate_index.dimensions())) ||
      !SameLeading(td, 3, lead)) {
    return spyxlike::InvalidArgument(
        "stdp_conv: expected pre (B, H, W, Cin), post (B, Ho, Wo, Cout), winners (B, k), "
        "rate_index (B, k) or empty and tables (R, Cout, 2) with the same leading dims as "
        "weights");
  }
  spyxlike::StdpConvShape s;
  s.kh = wd[nlead];
  s.kw = wd[nlead + 1];
  s.cin = wd[nlead + 2];
  s.cout = wd[nlead + 3];
  s.batch = pd[nlead];
  s.height = pd[nlead + 1];
  s.width = pd[nlead + 2];
  s.out_h = od[nlead + 1];
  s.out_w = od[nlead + 2];
  s.slots = fd[nlead + 1];
  s.stride_h = stride_h;
  s.stride_w = stride_w;
  s.pad_top = pad_top;
  s.pad_left = pad_left;
  if (pd[nlead + 3] != s.cin || od[nlead] != s.batch || od[nlead + 3] != s.cout ||
      fd[nlead] != s.batch || td[nlead] < 1 || td[nlead + 1] != s.cout || td[nlead + 2] != 2) {
    return spyxlike::InvalidArgument(
        "stdp_conv: Cin, Cout, batch or winner counts differ between the buffers");
  }
  if (stride_h < 1 || stride_w < 1 || pad_top < 0 || pad_left < 0) {
    return spyxlike::InvalidArgument("stdp_conv: stride must be >= 1 and padding >= 0");
  }
  if (pad_time < INT32_MIN || pad_time > INT32_MAX || !(lower < upper)) {
    return spyxlike::InvalidArgument("stdp_conv: pad_time out of int32 range or lower >= upper");
  }
  if (out->element_count() != weights.element_count()) {
    return spyxlike::InvalidArgument("stdp_conv: output size differs from weights size");
  }
  const spyxlike::StdpRule rule{static_cast<int32_t>(pad_time), stabilize, lower, upper,
                                sequential};
  int64_t vmapped = 1;
  for (size_t d = 0; d < nlead; ++d) vmapped *= lead[d];
  const int64_t wsize = s.kh * s.kw * s.cin * s.cout;
  const int64_t psize = s.batch * s.height * s.width * s.cin;
  const int64_t osize = s.batch * s.out_h * s.out_w * s.cout;
  const int64_t nslots = s.batch * s.slots;
  const int64_t n_tables = td[nlead];
  const int64_t tsize = n_tables * s.cout * 2;
  if (wsize == 0) return ffi::Error::Success();
  for (int64_t v = 0; v < vmapped; ++v) {
    const float* w = weights.typed_data() + v * wsize;
    const int32_t* pr = pre.typed_data() + v * psize;
    const int32_t* po = post.typed_data() + v * osize;
    const spyxlike::StdpWinners win{
        feature.typed_data() + v * nslots, row.typed_data() + v * nslots,
        col.typed_data() + v * nslots, valid.typed_data() + v * nslots,
        indexed ? rate_index.typed_data() + v * nslots : nullptr,
        tables.typed_data() + v * tsize, n_tables};
    float* o = out->typed_data() + v * wsize;
    std::vector<int64_t> start, order;
    spyxlike::BucketWinners(s, win, start, order);
    // Split features so that a chunk holds roughly >= kMinWork weight updates: waking a
    // pool thread costs about as much as a few ten thousand updates.
    constexpr int64_t kMinWork = 1 << 15;
    const int64_t per_feature =
        (static_cast<int64_t>(order.size()) / s.cout + 1) * s.kh * s.kw * s.cin;
    const int64_t min_chunk = std::max<int64_t>(1, kMinWork / std::max<int64_t>(per_feature, 1));
    spyxlike::ParallelFor(&pool, s.cout, min_chunk, [&](int64_t begin, int64_t end) {
      spyxlike::StdpConvFeatures(s, rule, w, pr, po, win, start, order, begin, end, o);
    });
  }
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeStdpConv, StdpConvImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Arg<ffi::Buffer<ffi::PRED>>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Attr<int64_t>("stride_h")
                                  .Attr<int64_t>("stride_w")
                                  .Attr<int64_t>("pad_top")
                                  .Attr<int64_t>("pad_left")
                                  .Attr<int64_t>("pad_time")
                                  .Attr<bool>("stabilize")
                                  .Attr<float>("lower")
                                  .Attr<float>("upper")
                                  .Attr<bool>("sequential")
                                  .Ret<ffi::Buffer<ffi::F32>>());
