// XLA FFI handlers of the exact event-driven engine (EvSpikeSim's default
// neuron): one fully connected layer over a batch of event lists, and the
// conversion of a layer's per-neuron spike buffers into the next layer's
// sorted event list. Samples run in parallel on the XLA CPU thread pool.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <cstdint>
#include <string>
#include <vector>

#include "parallel.h"
#include "shapes.h"
#include "spyxlike/evsim.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

using spyxlike::InvalidArgument;
using spyxlike::evsim::InputStatus;

// Maps the flat index of an output batch element to the flat index of an
// input with `in_lead` leading dims that line up with the first `in_lead`
// output batch dims, each 1 (broadcast, as vmap's expand_dims method passes
// unbatched operands) or equal; the remaining output batch dims broadcast
// (e.g. weights (n_inputs, N) shared by every sample).
struct BatchMap {
  std::vector<int64_t> out_dims;
  std::vector<int64_t> in_strides;  // 0 on broadcast dims

  int64_t operator()(int64_t flat) const {
    int64_t off = 0;
    for (int64_t d = static_cast<int64_t>(out_dims.size()) - 1; d >= 0; --d) {
      const int64_t i = flat % out_dims[d];
      flat /= out_dims[d];
      off += i * in_strides[d];
    }
    return off;
  }
};

bool MakeBatchMap(ffi::Span<const int64_t> in_dims, size_t in_lead, ffi::Span<const int64_t> out_dims,
                  size_t out_lead, BatchMap* map) {
  if (in_lead > out_lead) return false;
  map->out_dims.assign(out_dims.begin(), out_dims.begin() + out_lead);
  map->in_strides.assign(out_lead, 0);
  int64_t stride = 1;
  for (int64_t d = static_cast<int64_t>(in_lead) - 1; d >= 0; --d) {
    const int64_t n = in_dims[d];
    if (n != 1 && n != out_dims[d]) return false;
    map->in_strides[d] = n == 1 ? 0 : stride;
    stride *= n;
  }
  return true;
}

std::string StatusMessage(InputStatus st, int64_t sample, int64_t pos) {
  const std::string where = " (sample " + std::to_string(sample) + ", event " + std::to_string(pos) + ")";
  switch (st) {
    case InputStatus::kCountOutOfRange:
      return "evsim_fc: in_count must be in [0, E] (got " + std::to_string(pos) + " at sample " +
             std::to_string(sample) + ")";
    case InputStatus::kIndexOutOfRange:
      return "evsim_fc: in_indices out of range [0, n_inputs)" + where;
    case InputStatus::kNonFiniteTime:
      return "evsim_fc: in_times must be finite within in_count" + where;
    case InputStatus::kNegativeTime:
      return "evsim_fc: in_times must be >= 0" + where;
    case InputStatus::kUnsorted:
      return "evsim_fc: in_times must be sorted ascending within in_count" + where;
    case InputStatus::kOk:
      break;
  }
  return "";
}

ffi::Error FcLayerImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::S32> in_indices,
                       ffi::Buffer<ffi::F32> in_times, ffi::Buffer<ffi::S32> in_count,
                       ffi::Buffer<ffi::F32> weights, float tau_s, float threshold,
                       ffi::ResultBuffer<ffi::F32> out_times, ffi::ResultBuffer<ffi::S32> out_counts,
                       ffi::ResultBuffer<ffi::PRED> overflow) {
  const auto od = out_times->dimensions();
  const auto cd = out_counts->dimensions();
  const auto fd = overflow->dimensions();
  const auto id = in_indices.dimensions();
  const auto td = in_times.dimensions();
  const auto nd = in_count.dimensions();
  const auto wd = weights.dimensions();
  if (od.size() < 2 || cd.size() + 1 != od.size() || !spyxlike::SameDims(cd, fd)) {
    return InvalidArgument("evsim_fc: outputs must be (batch..., N, K), (batch..., N), (batch..., N)");
  }
  const size_t lead = od.size() - 2;
  for (size_t d = 0; d + 1 < od.size(); ++d) {
    if (od[d] != cd[d]) return InvalidArgument("evsim_fc: out_times and out_counts shapes differ");
  }
  const int64_t N = od[lead];
  const int64_t K = od[lead + 1];
  if (K < 1) return InvalidArgument("evsim_fc: buffer_size must be >= 1");
  if (!(tau_s > 0.0f) || !std::isfinite(tau_s)) return InvalidArgument("evsim_fc: tau_s must be > 0");
  if (!(threshold > 0.0f) || !std::isfinite(threshold)) {
    return InvalidArgument("evsim_fc: threshold must be > 0");
  }
  if (id.size() != lead + 1 || !spyxlike::SameDims(id, td)) {
    return InvalidArgument("evsim_fc: in_indices and in_times must both be (batch..., E)");
  }
  if (nd.size() != lead) return InvalidArgument("evsim_fc: in_count must be (batch...)");
  if (wd.size() < 2 || wd.size() > lead + 2 || wd[wd.size() - 1] != N) {
    return InvalidArgument("evsim_fc: weights must be ([batch...,] n_inputs, N)");
  }
  const int64_t E = id[lead];
  const int64_t n_inputs = wd[wd.size() - 2];
  BatchMap ev_map, count_map, w_map;
  if (!MakeBatchMap(id, lead, od, lead, &ev_map) || !MakeBatchMap(nd, lead, od, lead, &count_map) ||
      !MakeBatchMap(wd, wd.size() - 2, od, lead, &w_map)) {
    return InvalidArgument("evsim_fc: batch dims of the inputs do not broadcast to the outputs");
  }
  int64_t B = 1;
  for (size_t d = 0; d < lead; ++d) B *= od[d];

  const int32_t* idx = in_indices.typed_data();
  const float* tim = in_times.typed_data();
  const int32_t* cnt = in_count.typed_data();
  const float* w = weights.typed_data();
  float* ot = out_times->typed_data();
  int32_t* oc = out_counts->typed_data();
  bool* of = overflow->typed_data();
  const spyxlike::evsim::FcLayerParams params{n_inputs, N, K, static_cast<double>(tau_s),
                                              static_cast<double>(threshold)};

  // Largest positive weight of each row of each weight matrix (one per
  // distinct batch element): the engine's window bound.
  int64_t Bw = 1;
  for (size_t d = 0; d + 2 < wd.size(); ++d) Bw *= wd[d];
  std::vector<float> row_max(static_cast<size_t>(Bw * n_inputs));
  spyxlike::ParallelFor(&pool, Bw, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t j = lo; j < hi; ++j) {
      spyxlike::evsim::RowPositiveMax(w + j * n_inputs * N, n_inputs, N, row_max.data() + j * n_inputs);
    }
  });

  std::atomic<int64_t> first_bad{-1};
  std::vector<int64_t> bad_pos(static_cast<size_t>(B), 0);
  std::vector<int> bad_status(static_cast<size_t>(B), 0);
  // Samples are handed out one at a time (not in fixed chunks), so a thread
  // slowed down by other work on the machine does not hold up the call.
  std::atomic<int64_t> next_sample{0};
  const int64_t workers = std::min<int64_t>(B, std::max<int64_t>(1, pool.num_threads()));
  spyxlike::ParallelFor(&pool, workers, 1, [&](int64_t, int64_t) {
    std::vector<double> state(static_cast<size_t>(2 * N));
    std::vector<uint8_t> flags(static_cast<size_t>(spyxlike::evsim::FcFlagBytes(N)));
    std::vector<uint8_t> stopped(static_cast<size_t>(N));
    spyxlike::evsim::FcScratch scratch{state.data(), state.data() + N, flags.data(), stopped.data()};
    for (int64_t i; (i = next_sample.fetch_add(1)) < B;) {
      const int64_t eo = ev_map(i) * E;
      const int64_t count = cnt[count_map(i)];
      int64_t pos = 0;
      const InputStatus st =
          spyxlike::evsim::CheckEvents(idx + eo, tim + eo, count, E, n_inputs, &pos);
      if (st != InputStatus::kOk) {
        bad_status[i] = static_cast<int>(st);
        bad_pos[i] = pos;
        int64_t cur = first_bad.load();
        while ((cur == -1 || i < cur) && !first_bad.compare_exchange_weak(cur, i)) {
        }
        // Leave this sample's outputs defined (empty) even though the call fails.
        std::fill(ot + i * N * K, ot + (i + 1) * N * K, std::numeric_limits<float>::infinity());
        std::fill(oc + i * N, oc + (i + 1) * N, 0);
        std::fill(of + i * N, of + (i + 1) * N, false);
        continue;
      }
      const int64_t wi = w_map(i);
      spyxlike::evsim::FcLayerSample(idx + eo, tim + eo, count, w + wi * n_inputs * N,
                                     row_max.data() + wi * n_inputs, params,
                                     scratch, ot + i * N * K, oc + i * N, of + i * N);
    }
  });
  const int64_t bad = first_bad.load();
  if (bad >= 0) {
    return InvalidArgument(StatusMessage(static_cast<InputStatus>(bad_status[bad]), bad, bad_pos[bad]));
  }
  return ffi::Error::Success();
}

// (batch..., N, K) spike buffers + (batch..., N) counts -> (batch..., C)
// indices and times sorted by (time, neuron), +inf/0 padded, and the number
// of events (batch...). More than C spikes in a sample is an error.
ffi::Error ToEventsImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> out_times,
                        ffi::Buffer<ffi::S32> out_counts, ffi::ResultBuffer<ffi::S32> indices,
                        ffi::ResultBuffer<ffi::F32> times, ffi::ResultBuffer<ffi::S32> count) {
  const auto od = out_times.dimensions();
  const auto cd = out_counts.dimensions();
  const auto xd = indices->dimensions();
  if (od.size() < 2 || cd.size() + 1 != od.size()) {
    return InvalidArgument("evsim_to_events: out_times must be (batch..., N, K), out_counts (batch..., N)");
  }
  const size_t lead = od.size() - 2;
  for (size_t d = 0; d + 1 < od.size(); ++d) {
    if (od[d] != cd[d]) return InvalidArgument("evsim_to_events: out_times and out_counts shapes differ");
  }
  if (xd.size() != lead + 1 || !spyxlike::SameDims(xd, times->dimensions()) ||
      count->dimensions().size() != lead) {
    return InvalidArgument("evsim_to_events: result shapes must be (batch..., C) and (batch...)");
  }
  for (size_t d = 0; d < lead; ++d) {
    if (xd[d] != od[d] || count->dimensions()[d] != od[d]) {
      return InvalidArgument("evsim_to_events: result batch dims differ from the input's");
    }
  }
  const int64_t N = od[lead], K = od[lead + 1], C = xd[lead];
  if (N > 0 && K > 0 && N - 1 > INT32_MAX) return InvalidArgument("evsim_to_events: too many neurons");
  int64_t B = 1;
  for (size_t d = 0; d < lead; ++d) B *= od[d];
  const float* ot = out_times.typed_data();
  const int32_t* oc = out_counts.typed_data();
  int32_t* xi = indices->typed_data();
  float* xt = times->typed_data();
  int32_t* xc = count->typed_data();
  std::atomic<int64_t> too_many{-1};
  spyxlike::ParallelFor(&pool, B, 1, [&](int64_t lo, int64_t hi) {
    std::vector<int64_t> order(static_cast<size_t>(N * K));
    for (int64_t i = lo; i < hi; ++i) {
      const int64_t total = spyxlike::evsim::GatherEvents(
          ot + i * N * K, oc + i * N, N, K, C, xi + i * C, xt + i * C, order.data());
      xc[i] = static_cast<int32_t>(total < C ? total : C);
      if (total > C) too_many.store(i);
    }
  });
  if (too_many.load() >= 0) {
    return InvalidArgument("evsim_to_events: more spikes than the event capacity in sample " +
                           std::to_string(too_many.load()));
  }
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeEvsimFc, FcLayerImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Attr<float>("tau_s")
                                  .Attr<float>("threshold")
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::S32>>()
                                  .Ret<ffi::Buffer<ffi::PRED>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeEvsimToEvents, ToEventsImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Ret<ffi::Buffer<ffi::S32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::S32>>());
