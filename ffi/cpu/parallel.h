// Splitting a handler's work over the XLA CPU intra-op thread pool.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "xla/ffi/api/ffi.h"

namespace spyxlike {

// Runs fn(begin, end) over [0, n) in contiguous chunks. The calling thread
// works too and takes chunks from the same atomic counter, so the call never
// waits on a pool task that has not started: a task that starts late finds no
// chunk left and returns at once. fn must not throw.
inline void ParallelFor(xla::ffi::ThreadPool* pool, int64_t n, int64_t min_chunk,
                        const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  int64_t threads = pool ? std::max<int64_t>(1, pool->num_threads()) : 1;
  int64_t chunks = std::min<int64_t>(threads * 4, (n + min_chunk - 1) / min_chunk);
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  struct State {
    std::atomic<int64_t> next{0};
    int64_t done = 0;
    std::mutex mu;
    std::condition_variable cv;
  };
  auto state = std::make_shared<State>();
  const int64_t chunk = (n + chunks - 1) / chunks;
  chunks = (n + chunk - 1) / chunk;
  // Takes chunks until none is left. A task that starts after all chunks are
  // taken touches only `state` (kept alive by its shared_ptr), never `fn`.
  auto drain = [state, chunk, chunks, n, fnp = &fn]() {
    int64_t finished = 0;
    for (int64_t c; (c = state->next.fetch_add(1)) < chunks;) {
      (*fnp)(c * chunk, std::min(n, (c + 1) * chunk));
      ++finished;
    }
    if (finished) {
      std::lock_guard<std::mutex> lock(state->mu);
      state->done += finished;
      state->cv.notify_all();
    }
  };
  const int64_t helpers = std::min<int64_t>(threads, chunks) - 1;
  for (int64_t i = 0; i < helpers; ++i) {
    auto task = drain;
    pool->Schedule(std::move(task));
  }
  drain();
  std::unique_lock<std::mutex> lock(state->mu);
  state->cv.wait(lock, [&] { return state->done == chunks; });
}

// Runs unit(take) on up to num_threads workers (the caller included) for n
// samples; take() returns the next sample index in [0, n), or -1 once all
// are taken. Samples are handed out one at a time from a shared counter, so
// a worker that the OS delays holds up at most one sample. A unit sets up its
// per-worker scratch once, then loops: for (int64_t i; (i = take()) >= 0;).
template <class Unit>
inline void ParallelForSamples(xla::ffi::ThreadPool* pool, int64_t n, Unit&& unit) {
  if (n <= 0) return;
  std::atomic<int64_t> next{0};
  auto take = [&next, n]() -> int64_t {
    const int64_t i = next.fetch_add(1);
    return i < n ? i : -1;
  };
  const int64_t threads = pool ? std::max<int64_t>(1, pool->num_threads()) : 1;
  const int64_t units = std::max<int64_t>(1, std::min<int64_t>(threads, n));
  ParallelFor(pool, units, 1, [&](int64_t begin, int64_t end) {
    if (begin >= end || next.load() >= n) return;
    unit(take);
  });
}

// This thread's instance of a handler's scratch type: XLA runs handlers on
// long-lived pool threads, so buffers sized on the first call are reused by
// later ones instead of being allocated (and page-faulted in) every call.
// A thread runs one sample loop at a time, so the instance is never shared.
template <class Scratch>
inline Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// As ThreadScratch, for scratch prepared for a shape `key`: each thread keeps
// a few, one per recent key, so layers of different shapes that run in turn
// (conv1, conv2, conv1, ...) each find theirs ready. prepare(scratch) runs
// only when a slot is (re)assigned to a key; same(a, b) compares keys.
template <class Scratch, class Key, class Same, class Prepare>
inline Scratch& ThreadScratchFor(const Key& key, Same same, Prepare prepare) {
  constexpr size_t kSlots = 4;
  struct Slot {
    bool used = false;
    Key key{};
    Scratch scratch;
  };
  thread_local std::array<Slot, kSlots> slots;
  thread_local size_t next = 0;
  for (Slot& slot : slots) {
    if (slot.used && same(slot.key, key)) return slot.scratch;
  }
  Slot& slot = slots[next];
  next = (next + 1) % kSlots;
  slot.used = true;
  slot.key = key;
  prepare(slot.scratch);
  return slot.scratch;
}

}  // namespace spyxlike
