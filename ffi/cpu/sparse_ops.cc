// XLA FFI handlers for the sparse spike ops (conv, pool, gather) on the CPU.
//
// Buffers may carry leading (vmapped) dims L...: events (L..., capacity, ncols),
// count (L...), kernel (L..., kh, kw, C, Cout); every instance is independent.
// Sizes come from buffer dims; every event is range-checked before use.
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "parallel.h"
#include "shapes.h"
#include "spyxlike/sparse_ops.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

using Fired = std::vector<std::pair<int32_t, int64_t>>;

// Reads the event buffer layout: instances, capacity, ncols; checks count.
ffi::Error EventLayout(const char* op, ffi::Span<const int64_t> ev_dims, ffi::Buffer<ffi::S32>& count,
                       int64_t expect_cols, int64_t* instances, int64_t* capacity) {
  if (ev_dims.size() < 2 || ev_dims[ev_dims.size() - 1] != expect_cols) {
    return spyxlike::InvalidArgument(std::string(op) + ": events must be (..., capacity, " +
                                     std::to_string(expect_cols) + ")");
  }
  int64_t l = 1;
  for (size_t d = 0; d + 2 < ev_dims.size(); ++d) l *= ev_dims[d];
  if (static_cast<int64_t>(count.element_count()) != l) {
    return spyxlike::InvalidArgument(std::string(op) + ": count must have the events' leading dims");
  }
  *instances = l;
  *capacity = ev_dims[ev_dims.size() - 2];
  return ffi::Error::Success();
}

ffi::Error ValidateInstance(const char* op, const int32_t* ev, int32_t n, int64_t capacity,
                            int64_t ncols, const int64_t* dims) {
  if (n < 0 || n > capacity) {
    return spyxlike::InvalidArgument(std::string(op) + ": count out of [0, capacity]");
  }
  const int64_t bad = spyxlike::FindBadEvent(ev, n, ncols, dims);
  if (bad >= 0) {
    return spyxlike::InvalidArgument(std::string(op) + ": event " + std::to_string(bad) +
                                     " has a coordinate outside the dense shape");
  }
  return ffi::Error::Success();
}

// Writes per-sample fired lists (already canonical within a sample) into the
// padded output; `decode` maps a flat output index to (row, col, channel).
template <typename Decode>
void WriteEvents(const std::vector<Fired>& per_sample, int64_t capacity, int32_t* out_ev,
                 int32_t* out_count, int32_t* out_overflow, Decode decode) {
  int64_t written = 0, total = 0;
  for (size_t b = 0; b < per_sample.size(); ++b) {
    for (const auto& f : per_sample[b]) {
      ++total;
      if (written >= capacity) continue;
      int32_t* row = out_ev + written * 5;
      row[0] = static_cast<int32_t>(b);
      row[1] = f.first;
      decode(f.second, row + 2);
      ++written;
    }
  }
  std::fill(out_ev + written * 5, out_ev + capacity * 5, -1);
  *out_count = static_cast<int32_t>(written);
  *out_overflow = static_cast<int32_t>(total - written);
}

ffi::Error SparseConvImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::S32> events,
                          ffi::Buffer<ffi::S32> count, ffi::Buffer<ffi::F32> kernel,
                          int64_t batch, int64_t time_steps, int64_t height, int64_t width,
                          int64_t channels, int64_t stride_h, int64_t stride_w, int64_t pad_top,
                          int64_t pad_left, int64_t pad_bottom, int64_t pad_right, float threshold,
                          ffi::ResultBuffer<ffi::S32> out_events,
                          ffi::ResultBuffer<ffi::S32> out_count,
                          ffi::ResultBuffer<ffi::S32> out_overflow) {
  const char* op = "sparse_conv";
  int64_t instances = 0, capacity = 0;
  if (auto err = EventLayout(op, events.dimensions(), count, 5, &instances, &capacity);
      !err.success()) {
    return err;
  }
  const auto kd = kernel.dimensions();
  if (kd.size() < 4 || kd[kd.size() - 2] != channels) {
    return spyxlike::InvalidArgument("sparse_conv: kernel must be (..., kh, kw, C, Cout)");
  }
  const int64_t kh = kd[kd.size() - 4], kw = kd[kd.size() - 3], cout = kd[kd.size() - 1];
  const int64_t ksize = kh * kw * channels * cout;
  if (batch < 1 || time_steps < 1 || height < 1 || width < 1 || channels < 1 || stride_h < 1 ||
      stride_w < 1 || pad_top < 0 || pad_left < 0 || pad_bottom < 0 || pad_right < 0 || kh < 1 ||
      kw < 1 || cout < 1 ||
      static_cast<int64_t>(kernel.element_count()) != instances * ksize) {
    return spyxlike::InvalidArgument("sparse_conv: bad shape attributes or kernel size");
  }
  const int64_t hp = height + pad_top + pad_bottom, wp = width + pad_left + pad_right;
  if (hp < kh || wp < kw) return spyxlike::InvalidArgument("sparse_conv: kernel larger than input");
  spyxlike::SparseConvGeometry g{channels, kh, kw, cout, stride_h, stride_w, pad_top, pad_left,
                                 (hp - kh) / stride_h + 1, (wp - kw) / stride_w + 1};
  const auto od = out_events->dimensions();
  const int64_t out_capacity = od.size() >= 2 ? od[od.size() - 2] : 0;
  if (od.size() < 2 || od[od.size() - 1] != 5 ||
      static_cast<int64_t>(out_events->element_count()) != instances * out_capacity * 5 ||
      static_cast<int64_t>(out_count->element_count()) != instances ||
      static_cast<int64_t>(out_overflow->element_count()) != instances) {
    return spyxlike::InvalidArgument("sparse_conv: output buffers do not match the input instances");
  }
  const int64_t dims[5] = {batch, time_steps, height, width, channels};
  for (int64_t l = 0; l < instances; ++l) {
    const int32_t* ev = events.typed_data() + l * capacity * 5;
    const int32_t n = count.typed_data()[l];
    if (auto err = ValidateInstance(op, ev, n, capacity, 5, dims); !err.success()) return err;
    std::vector<int64_t> order, offsets;
    spyxlike::GroupByBatchTime(ev, n, 5, batch, time_steps, order, offsets);
    const float* k = kernel.typed_data() + l * ksize;
    std::vector<Fired> fired(static_cast<size_t>(batch));
    spyxlike::ParallelFor(&pool, batch, 1, [&](int64_t b0, int64_t b1) {
      spyxlike::SparseConvScratch scratch;
      for (int64_t b = b0; b < b1; ++b) {
        if (offsets[b * time_steps] == offsets[(b + 1) * time_steps]) continue;
        spyxlike::SparseConvSample(ev, 5, order.data(), offsets.data() + b * time_steps,
                                   time_steps, k, threshold, g, scratch, fired[b]);
      }
    });
    const int64_t wo = g.out_w;
    WriteEvents(fired, out_capacity, out_events->typed_data() + l * out_capacity * 5,
                out_count->typed_data() + l, out_overflow->typed_data() + l,
                [&](int64_t idx, int32_t* row) {
                  row[0] = static_cast<int32_t>(idx / (wo * cout));
                  row[1] = static_cast<int32_t>((idx / cout) % wo);
                  row[2] = static_cast<int32_t>(idx % cout);
                });
  }
  return ffi::Error::Success();
}

ffi::Error SparsePoolImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::S32> events,
                          ffi::Buffer<ffi::S32> count, int64_t batch, int64_t time_steps,
                          int64_t height, int64_t width, int64_t channels, int64_t kernel_h,
                          int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_top,
                          int64_t pad_left, int64_t pad_bottom, int64_t pad_right,
                          ffi::ResultBuffer<ffi::S32> out_events,
                          ffi::ResultBuffer<ffi::S32> out_count,
                          ffi::ResultBuffer<ffi::S32> out_overflow) {
  const char* op = "sparse_pool";
  int64_t instances = 0, capacity = 0;
  if (auto err = EventLayout(op, events.dimensions(), count, 5, &instances, &capacity);
      !err.success()) {
    return err;
  }
  if (batch < 1 || time_steps < 1 || time_steps > INT32_MAX || height < 1 || width < 1 ||
      channels < 1 || kernel_h < 1 || kernel_w < 1 || stride_h < 1 || stride_w < 1 ||
      pad_top < 0 || pad_left < 0 || pad_bottom < 0 || pad_right < 0) {
    return spyxlike::InvalidArgument("sparse_pool: bad shape attributes");
  }
  const int64_t hp = height + pad_top + pad_bottom, wp = width + pad_left + pad_right;
  if (hp < kernel_h || wp < kernel_w) {
    return spyxlike::InvalidArgument("sparse_pool: window larger than the padded input");
  }
  const int64_t ho = (hp - kernel_h) / stride_h + 1, wo = (wp - kernel_w) / stride_w + 1;
  const auto od = out_events->dimensions();
  const int64_t out_capacity = od.size() >= 2 ? od[od.size() - 2] : 0;
  if (od.size() < 2 || od[od.size() - 1] != 5 ||
      static_cast<int64_t>(out_events->element_count()) != instances * out_capacity * 5 ||
      static_cast<int64_t>(out_count->element_count()) != instances ||
      static_cast<int64_t>(out_overflow->element_count()) != instances) {
    return spyxlike::InvalidArgument("sparse_pool: output buffers do not match the input instances");
  }
  const int64_t dims[5] = {batch, time_steps, height, width, channels};
  for (int64_t l = 0; l < instances; ++l) {
    const int32_t* ev = events.typed_data() + l * capacity * 5;
    const int32_t n = count.typed_data()[l];
    if (auto err = ValidateInstance(op, ev, n, capacity, 5, dims); !err.success()) return err;
    std::vector<int64_t> order, offsets;
    spyxlike::GroupByBatchTime(ev, n, 5, batch, time_steps, order, offsets);
    std::vector<Fired> fired(static_cast<size_t>(batch));
    spyxlike::ParallelFor(&pool, batch, 1, [&](int64_t b0, int64_t b1) {
      std::vector<int32_t> best;
      std::vector<int64_t> touched;
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t begin = offsets[b * time_steps], end = offsets[(b + 1) * time_steps];
        if (begin == end) continue;
        if (best.empty()) best.assign(static_cast<size_t>(ho * wo * channels),
                                      static_cast<int32_t>(time_steps));
        spyxlike::SparsePoolSample(ev, 5, order.data(), begin, end,
                                   static_cast<int32_t>(time_steps), channels, kernel_h, kernel_w,
                                   stride_h, stride_w, pad_top, pad_left, ho, wo, best, touched,
                                   fired[b]);
      }
    });
    WriteEvents(fired, out_capacity, out_events->typed_data() + l * out_capacity * 5,
                out_count->typed_data() + l, out_overflow->typed_data() + l,
                [&](int64_t idx, int32_t* row) {
                  row[0] = static_cast<int32_t>(idx / (wo * channels));
                  row[1] = static_cast<int32_t>((idx / channels) % wo);
                  row[2] = static_cast<int32_t>(idx % channels);
                });
  }
  return ffi::Error::Success();
}

// Earliest event time per neuron: times (L..., B, N) int32, time_steps where none.
// ncols is 5 (spatial = (H, W, C), flat index (r*W+c)*C+ch) or 3 (spatial = (F,)).
ffi::Error SparseGatherImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::S32> events,
                            ffi::Buffer<ffi::S32> count, int64_t batch, int64_t time_steps,
                            int64_t height, int64_t width, int64_t channels,
                            ffi::ResultBuffer<ffi::S32> times) {
  const char* op = "sparse_gather";
  const auto ed = events.dimensions();
  const int64_t ncols = ed.size() == 0 ? 0 : ed[ed.size() - 1];
  if (ncols != 3 && ncols != 5) {
    return spyxlike::InvalidArgument("sparse_gather: events must be (..., capacity, 3 or 5)");
  }
  int64_t instances = 0, capacity = 0;
  if (auto err = EventLayout(op, ed, count, ncols, &instances, &capacity); !err.success()) {
    return err;
  }
  if (batch < 1 || time_steps < 1 || time_steps > INT32_MAX || height < 1 || width < 1 ||
      channels < 1 || (ncols == 3 && (height != 1 || width != 1))) {
    return spyxlike::InvalidArgument("sparse_gather: bad shape attributes");
  }
  const int64_t per_sample = height * width * channels;
  if (static_cast<int64_t>(times->element_count()) != instances * batch * per_sample) {
    return spyxlike::InvalidArgument("sparse_gather: output size does not match the dense shape");
  }
  const int64_t dims5[5] = {batch, time_steps, height, width, channels};
  const int64_t dims3[3] = {batch, time_steps, channels};
  for (int64_t l = 0; l < instances; ++l) {
    const int32_t* ev = events.typed_data() + l * capacity * ncols;
    const int32_t n = count.typed_data()[l];
    if (auto err = ValidateInstance(op, ev, n, capacity, ncols, ncols == 5 ? dims5 : dims3);
        !err.success()) {
      return err;
    }
    int32_t* out = times->typed_data() + l * batch * per_sample;
    const int32_t none = static_cast<int32_t>(time_steps);
    spyxlike::ParallelFor(&pool, batch * per_sample, 1 << 16, [&](int64_t a, int64_t b) {
      std::fill(out + a, out + b, none);
    });
    for (int64_t k = 0; k < n; ++k) {
      const int32_t* e = ev + k * ncols;
      const int64_t idx = ncols == 5 ? (e[2] * width + e[3]) * channels + e[4] : e[2];
      int32_t& slot = out[e[0] * per_sample + idx];
      slot = std::min(slot, e[1]);
    }
  }
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeSparseConv, SparseConvImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Attr<int64_t>("batch")
                                  .Attr<int64_t>("time_steps")
                                  .Attr<int64_t>("height")
                                  .Attr<int64_t>("width")
                                  .Attr<int64_t>("channels")
                                  .Attr<int64_t>("stride_h")
                                  .Attr<int64_t>("stride_w")
                                  .Attr<int64_t>("pad_top")
                                  .Attr<int64_t>("pad_left")
                                  .Attr<int64_t>("pad_bottom")
                                  .Attr<int64_t>("pad_right")
                                  .Attr<float>("threshold")
                                  .Ret<ffi::Buffer<ffi::S32>>()
                                  .Ret<ffi::Buffer<ffi::S32>>()
                                  .Ret<ffi::Buffer<ffi::S32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeSparsePool, SparsePoolImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Attr<int64_t>("batch")
                                  .Attr<int64_t>("time_steps")
                                  .Attr<int64_t>("height")
                                  .Attr<int64_t>("width")
                                  .Attr<int64_t>("channels")
                                  .Attr<int64_t>("kernel_h")
                                  .Attr<int64_t>("kernel_w")
                                  .Attr<int64_t>("stride_h")
                                  .Attr<int64_t>("stride_w")
                                  .Attr<int64_t>("pad_top")
                                  .Attr<int64_t>("pad_left")
                                  .Attr<int64_t>("pad_bottom")
                                  .Attr<int64_t>("pad_right")
                                  .Ret<ffi::Buffer<ffi::S32>>()
                                  .Ret<ffi::Buffer<ffi::S32>>()
                                  .Ret<ffi::Buffer<ffi::S32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeSparseGather, SparseGatherImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Attr<int64_t>("batch")
                                  .Attr<int64_t>("time_steps")
                                  .Attr<int64_t>("height")
                                  .Attr<int64_t>("width")
                                  .Attr<int64_t>("channels")
                                  .Ret<ffi::Buffer<ffi::S32>>());
