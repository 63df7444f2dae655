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

// A whole feed-forward network per sample: input events (batch..., E) and
// L weight matrices ([batch...,] n_inputs_l, N_l) (RemainingArgs) ->
// output-layer events (batch..., C) sorted by (time, neuron), 0 / +inf
// padded, C = N_L * K_L, their count (batch...), then per layer spike counts
// (batch..., N_l) s32 and after them per layer overflow flags (batch..., N_l)
// (RemainingRets). Each layer's spikes go to the next layer inside the
// engine (no (N, K) buffers, no round trip through XLA). Attributes per
// layer: tau_s, threshold, buffer_size; max_events bounds the events passed
// between layers (0: unbounded), more is an error naming the event capacity.
ffi::Error NetworkImpl(ffi::ThreadPool pool, ffi::Buffer<ffi::S32> in_indices, ffi::Buffer<ffi::F32> in_times,
                       ffi::Buffer<ffi::S32> in_count, ffi::RemainingArgs weights,
                       ffi::Span<const float> tau_s, ffi::Span<const float> threshold,
                       ffi::Span<const int64_t> buffer_size, int64_t max_events,
                       ffi::ResultBuffer<ffi::S32> out_indices, ffi::ResultBuffer<ffi::F32> out_times,
                       ffi::ResultBuffer<ffi::S32> out_count, ffi::RemainingRets layer_outputs) {
  const int64_t L = static_cast<int64_t>(weights.size());
  if (L < 1) return InvalidArgument("evsim_network: at least one weight matrix is required");
  if (static_cast<int64_t>(tau_s.size()) != L || static_cast<int64_t>(threshold.size()) != L ||
      static_cast<int64_t>(buffer_size.size()) != L) {
    return InvalidArgument("evsim_network: tau_s, threshold and buffer_size need one entry per layer");
  }
  if (static_cast<int64_t>(layer_outputs.size()) != 2 * L) {
    return InvalidArgument("evsim_network: expected per-layer counts and overflow results (2 per layer)");
  }
  const auto id = in_indices.dimensions();
  const auto td = in_times.dimensions();
  const auto nd = in_count.dimensions();
  const auto xd = out_indices->dimensions();
  // The batch dims are the results'; inputs may broadcast (size-1 dims, as
  // vmap's expand_dims method passes unbatched operands).
  if (xd.size() < 1 || !spyxlike::SameDims(xd, out_times->dimensions()) ||
      out_count->dimensions().size() + 1 != xd.size()) {
    return InvalidArgument("evsim_network: out_indices and out_times must be (batch..., C), out_count (batch...)");
  }
  const size_t lead = xd.size() - 1;
  for (size_t d = 0; d < lead; ++d) {
    if (out_count->dimensions()[d] != xd[d]) return InvalidArgument("evsim_network: result batch dims differ");
  }
  if (id.size() != lead + 1 || !spyxlike::SameDims(id, td)) {
    return InvalidArgument("evsim_network: in_indices and in_times must both be (batch..., E)");
  }
  if (nd.size() != lead) return InvalidArgument("evsim_network: in_count must be (batch...)");
  BatchMap ev_map, count_map;
  if (!MakeBatchMap(id, lead, xd, lead, &ev_map) || !MakeBatchMap(nd, lead, xd, lead, &count_map)) {
    return InvalidArgument("evsim_network: batch dims of the events do not broadcast to the results");
  }
  const int64_t E = id[lead];
  const int64_t C = xd[lead];
  int64_t B = 1;
  for (size_t d = 0; d < lead; ++d) B *= xd[d];

  struct LayerInfo {
    const float* w;
    BatchMap w_map;
    int64_t n_inputs, N, K, Bw;
    std::vector<float> row_max;
    int32_t* counts;
    bool* overflow;
    spyxlike::evsim::FcLayerParams params;
  };
  std::vector<LayerInfo> info(static_cast<size_t>(L));
  int64_t max_n = 1, max_nk = 1;
  for (int64_t l = 0; l < L; ++l) {
    auto w = weights.get<ffi::Buffer<ffi::F32>>(l);
    auto cr = layer_outputs.get<ffi::Buffer<ffi::S32>>(l);
    auto fr = layer_outputs.get<ffi::Buffer<ffi::PRED>>(L + l);
    if (w.has_error() || cr.has_error() || fr.has_error()) {
      return InvalidArgument("evsim_network: weights must be f32, counts s32 and overflow pred (layer " +
                             std::to_string(l) + ")");
    }
    LayerInfo& li = info[l];
    const auto wd = w->dimensions();
    const auto cd = (*cr)->dimensions();
    const int64_t K = buffer_size[l];
    if (wd.size() < 2 || wd.size() > lead + 2) {
      return InvalidArgument("evsim_network: weights must be ([batch...,] n_inputs, N) (layer " +
                             std::to_string(l) + ")");
    }
    li.n_inputs = wd[wd.size() - 2];
    li.N = wd[wd.size() - 1];
    li.K = K;
    if (cd.size() != lead + 1 || !spyxlike::SameDims(cd, (*fr)->dimensions()) || cd[lead] != li.N) {
      return InvalidArgument("evsim_network: counts and overflow of layer " + std::to_string(l) +
                             " must be (batch..., N)");
    }
    for (size_t d = 0; d < lead; ++d) {
      if (cd[d] != xd[d]) return InvalidArgument("evsim_network: batch dims of the layer results differ");
    }
    if (l > 0 && li.n_inputs != info[l - 1].N) {
      return InvalidArgument("evsim_network: n_inputs of layer " + std::to_string(l) +
                             " must equal the previous layer's N");
    }
    if (K < 1) return InvalidArgument("evsim_network: buffer_size must be >= 1");
    if (!(tau_s[l] > 0.0f) || !std::isfinite(tau_s[l])) return InvalidArgument("evsim_network: tau_s must be > 0");
    if (!(threshold[l] > 0.0f) || !std::isfinite(threshold[l])) {
      return InvalidArgument("evsim_network: threshold must be > 0");
    }
    if (li.N > INT32_MAX || (li.N > 0 && K > INT64_MAX / 4 / li.N)) {
      return InvalidArgument("evsim_network: layer too large");
    }
    if (!MakeBatchMap(wd, wd.size() - 2, xd, lead, &li.w_map)) {
      return InvalidArgument("evsim_network: batch dims of the weights do not broadcast to the results");
    }
    li.w = w->typed_data();
    li.counts = (*cr)->typed_data();
    li.overflow = (*fr)->typed_data();
    li.params = spyxlike::evsim::FcLayerParams{li.n_inputs, li.N, K, static_cast<double>(tau_s[l]),
                                                static_cast<double>(threshold[l])};
    li.Bw = 1;
    for (size_t d = 0; d + 2 < wd.size(); ++d) li.Bw *= wd[d];
    max_n = std::max(max_n, li.N);
    max_nk = std::max(max_nk, li.N * K);
  }
  if (C != info[L - 1].N * info[L - 1].K) {
    return InvalidArgument("evsim_network: out_indices must hold N * buffer_size events of the output layer");
  }
  // Row bounds of every distinct weight matrix (see FcLayerImpl).
  for (int64_t l = 0; l < L; ++l) {
    LayerInfo& li = info[l];
    li.row_max.resize(static_cast<size_t>(li.Bw * li.n_inputs));
    spyxlike::ParallelFor(&pool, li.Bw, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t j = lo; j < hi; ++j) {
        spyxlike::evsim::RowPositiveMax(li.w + j * li.n_inputs * li.N, li.n_inputs, li.N,
                                        li.row_max.data() + j * li.n_inputs);
      }
    });
  }

  const int32_t* idx = in_indices.typed_data();
  const float* tim = in_times.typed_data();
  const int32_t* cnt = in_count.typed_data();
  int32_t* xi = out_indices->typed_data();
  float* xt = out_times->typed_data();
  int32_t* xc = out_count->typed_data();
  const int64_t n_inputs0 = info[0].n_inputs;

  std::atomic<int64_t> first_bad{-1};
  std::vector<int64_t> bad_pos(static_cast<size_t>(B), 0);
  std::vector<int> bad_status(static_cast<size_t>(B), 0);  // InputStatus, or 100 + NetStatus
  std::atomic<int64_t> next_sample{0};
  const int64_t workers = std::min<int64_t>(B, std::max<int64_t>(1, pool.num_threads()));
  spyxlike::ParallelFor(&pool, workers, 1, [&](int64_t, int64_t) {
    std::vector<double> state(static_cast<size_t>(2 * max_n));
    std::vector<uint8_t> flags(static_cast<size_t>(spyxlike::evsim::FcFlagBytes(max_n)));
    std::vector<uint8_t> stopped(static_cast<size_t>(max_n));
    std::vector<uint64_t> keys(static_cast<size_t>(max_nk));
    std::vector<int32_t> ev_idx(static_cast<size_t>(max_nk));
    std::vector<float> ev_t(static_cast<size_t>(max_nk));
    spyxlike::evsim::NetScratch scratch{{state.data(), state.data() + max_n, flags.data(), stopped.data()},
                                        keys.data(), ev_idx.data(), ev_t.data()};
    std::vector<spyxlike::evsim::NetLayer> layers(static_cast<size_t>(L));
    auto fail = [&](int64_t i, int status, int64_t pos) {
      bad_status[i] = status;
      bad_pos[i] = pos;
      int64_t cur = first_bad.load();
      while ((cur == -1 || i < cur) && !first_bad.compare_exchange_weak(cur, i)) {
      }
    };
    for (int64_t i; (i = next_sample.fetch_add(1)) < B;) {
      for (int64_t l = 0; l < L; ++l) {
        const LayerInfo& li = info[l];
        const int64_t wi = li.w_map(i);
        layers[l] = {li.w + wi * li.n_inputs * li.N, li.row_max.data() + wi * li.n_inputs, li.params,
                     li.counts + i * li.N, li.overflow + i * li.N};
      }
      const int64_t eo = ev_map(i) * E;
      const int64_t count = cnt[count_map(i)];
      int64_t pos = 0;
      const InputStatus st = spyxlike::evsim::CheckEvents(idx + eo, tim + eo, count, E, n_inputs0, &pos);
      if (st != InputStatus::kOk) {
        fail(i, static_cast<int>(st), pos);
        // Leave this sample's outputs defined (empty) even though the call fails.
        for (const auto& nl : layers) {
          std::fill(nl.out_counts, nl.out_counts + nl.p.n_neurons, 0);
          std::fill(nl.overflow, nl.overflow + nl.p.n_neurons, false);
        }
        std::fill(xi + i * C, xi + (i + 1) * C, 0);
        std::fill(xt + i * C, xt + (i + 1) * C, std::numeric_limits<float>::infinity());
        xc[i] = 0;
        continue;
      }
      int64_t bad_layer = -1;
      const auto ns = spyxlike::evsim::NetworkSample(idx + eo, tim + eo, count, layers.data(), L, max_events,
                                                     scratch, xi + i * C, xt + i * C, C, xc + i, &bad_layer);
      if (ns != spyxlike::evsim::NetStatus::kOk) fail(i, 100 + static_cast<int>(ns), bad_layer);
    }
  });
  const int64_t bad = first_bad.load();
  if (bad >= 0) {
    const int st = bad_status[bad];
    if (st == 100 + static_cast<int>(spyxlike::evsim::NetStatus::kCapacity)) {
      return InvalidArgument("evsim_network: more spikes than the event capacity max_events=" +
                             std::to_string(max_events) + " in layer " + std::to_string(bad_pos[bad]) +
                             " of sample " + std::to_string(bad));
    }
    if (st == 100 + static_cast<int>(spyxlike::evsim::NetStatus::kNonFiniteSpike)) {
      return InvalidArgument("evsim_network: a spike time of layer " + std::to_string(bad_pos[bad]) +
                             " overflowed float32 in sample " + std::to_string(bad));
    }
    std::string msg = StatusMessage(static_cast<InputStatus>(st), bad, bad_pos[bad]);
    msg.replace(0, 8, "evsim_network");  // "evsim_fc" -> "evsim_network"
    return InvalidArgument(msg);
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

XLA_FFI_DEFINE_HANDLER_SYMBOL(SpyxlikeEvsimNetwork, NetworkImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::S32>>()
                                  .RemainingArgs()
                                  .Attr<ffi::Span<const float>>("tau_s")
                                  .Attr<ffi::Span<const float>>("threshold")
                                  .Attr<ffi::Span<const int64_t>>("buffer_size")
                                  .Attr<int64_t>("max_events")
                                  .Ret<ffi::Buffer<ffi::S32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::S32>>()
                                  .RemainingRets());
