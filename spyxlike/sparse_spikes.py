"""Sparse spike events in fixed-capacity arrays: the :class:`SparseSpikes` pytree.

Spyker keeps sparse spikes in a ``SparseTensor`` (a list of events per sample
and time step, of any length). Lists of varying length do not jit, so
spyxlike stores the events of a whole batch in one padded int32 array of a
fixed ``capacity`` with the number of valid events next to it:

* ``events``: int32 ``(capacity, 5)`` rows ``(batch, time, row, col, channel)``
  for image layouts ``(B, T, H, W, C)``, or ``(capacity, 3)`` rows
  ``(batch, time, index)`` for flat layouts ``(B, T, F)``. Rows ``>= count``
  are padding and hold ``-1``.
* ``count``: int32 scalar, the number of valid rows (always ``<= capacity``).
* ``overflow``: int32 scalar, how many events did NOT fit (0 when all did).
  Nothing is ever dropped silently: the Python entry points raise
  ``ValueError`` when the overflow is concrete and non-zero, and inside
  ``jax.jit`` the flag travels with the container (ops add the overflow of
  their input to their own) so that :meth:`SparseSpikes.check` on the result
  reports it after the jitted function returns.
* ``shape``: the dense shape ``(B, T, H, W, C)`` or ``(B, T, F)``; static
  (pytree aux data), so it must be a tuple of Python ints.

An event ``(b, t, ...)`` means "neuron ``...`` of sample ``b`` spikes at time
step ``t``". Read as SpykeTorch/Spyker spike-waves (cumulative, 1 from the
spike time on), a neuron's wave starts at its earliest event; Spyker's sparse
tensors hold at most one event per neuron and so does everything the
``spyxlike.sparse`` ops emit. Ops emit events in canonical order: sorted by
``(batch, time, row, col, channel)`` (resp. ``(batch, time, index)``).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["SparseSpikes"]


def _is_tracer(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def _check_shape(fn: str, shape) -> tuple:
    if not isinstance(shape, (tuple, list)) or len(shape) not in (3, 5):
        raise ValueError(
            f"{fn}: shape must be (B, T, H, W, C) or (B, T, F), got {shape!r}"
        )
    out = []
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise TypeError(f"{fn}: shape must hold ints, got {shape!r}")
        if d < 1:
            raise ValueError(f"{fn}: shape entries must be >= 1, got {shape!r}")
        out.append(int(d))
    if math.prod(out) >= 2**31:
        raise ValueError(f"{fn}: dense size {math.prod(out)} must be < 2**31 for int32 events")
    return tuple(out)


def _check_capacity(fn: str, capacity, default: int) -> int:
    if capacity is None:
        return max(int(default), 1)
    if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)):
        raise TypeError(f"{fn}: capacity must be an int or None, got {type(capacity).__name__}")
    if capacity < 1:
        raise ValueError(f"{fn}: capacity must be >= 1, got {capacity}")
    if capacity >= 2**31:
        raise ValueError(f"{fn}: capacity must be < 2**31, got {capacity}")
    return int(capacity)


def _raise_overflow(fn: str, overflow, capacity) -> None:
    n = int(np.max(np.asarray(overflow)))
    if n > 0:
        raise ValueError(
            f"{fn}: {n} spike events did not fit into capacity={capacity}; "
            "pass a larger capacity (events are never dropped silently)"
        )


@jax.tree_util.register_pytree_node_class
class SparseSpikes:
    """Spike events of a batch in fixed-capacity padded arrays (a JAX pytree).

    Build one with :meth:`from_dense`, :meth:`from_times`,
    :meth:`from_indices_times` or :meth:`from_events` (these validate their
    input); the plain constructor does no checks (it is what ``jit``/``vmap``
    use to rebuild the pytree).

    Attributes:
      events: int32 ``(capacity, 5)`` rows ``(batch, time, row, col, channel)``
        or ``(capacity, 3)`` rows ``(batch, time, index)``; padding rows hold -1.
      count: int32 scalar, number of valid (leading) rows.
      overflow: int32 scalar, number of events that did not fit (0 if none).
      shape: static dense shape ``(B, T, H, W, C)`` or ``(B, T, F)``.
    """

    def __init__(self, events, count, overflow, shape):
        self.events = events
        self.count = count
        self.overflow = overflow
        self.shape = tuple(shape)

    # ------------------------------------------------------------------ pytree
    def tree_flatten(self):
        return (self.events, self.count, self.overflow), self.shape

    @classmethod
    def tree_unflatten(cls, shape, children):
        return cls(*children, shape)

    def __repr__(self):
        return (
            f"SparseSpikes(shape={self.shape}, capacity={self.capacity}, "
            f"count={self.count}, overflow={self.overflow})"
        )

    # -------------------------------------------------------------- accessors
    @property
    def capacity(self) -> int:
        """Number of event slots (static)."""
        return int(self.events.shape[-2])

    @property
    def time_steps(self) -> int:
        """``T`` of the dense shape."""
        return self.shape[1]

    @property
    def spatial_shape(self) -> tuple:
        """``(H, W, C)`` or ``(F,)``: the shape of one sample at one time step."""
        return self.shape[2:]

    @property
    def batch(self):
        """int32 ``(capacity,)`` sample index of each event (-1 for padding)."""
        return self.events[..., 0]

    @property
    def time(self):
        """int32 ``(capacity,)`` time step of each event (-1 for padding)."""
        return self.events[..., 1]

    def _image_column(self, i: int, name: str):
        if len(self.shape) != 5:
            raise ValueError(f"SparseSpikes.{name}: only image layouts (B, T, H, W, C) have {name}")
        return self.events[..., i]

    @property
    def row(self):
        """int32 ``(capacity,)`` row of each event (image layouts only)."""
        return self._image_column(2, "row")

    @property
    def col(self):
        """int32 ``(capacity,)`` column of each event (image layouts only)."""
        return self._image_column(3, "col")

    @property
    def channel(self):
        """int32 ``(capacity,)`` channel of each event (image layouts only)."""
        return self._image_column(4, "channel")

    @property
    def index(self):
        """int32 ``(capacity,)`` flat neuron index ``(row * W + col) * C + channel`` or ``index``."""
        if len(self.shape) == 3:
            return self.events[..., 2]
        _, _, _, w, c = self.shape
        e = self.events
        idx = (e[..., 2] * w + e[..., 3]) * c + e[..., 4]
        return jnp.where(self.valid, idx, -1)

    @property
    def valid(self):
        """bool ``(capacity,)``: True for the first ``count`` rows."""
        slots = jnp.arange(self.capacity, dtype=jnp.int32)
        return slots < jnp.expand_dims(jnp.asarray(self.count), -1)

    # ----------------------------------------------------------------- checks
    def check(self) -> "SparseSpikes":
        """Raises ``ValueError`` if events were lost to a too small capacity.

        Call it on the result of a jitted pipeline (``jit`` cannot raise from
        data); every op adds its input's overflow to its own, so one check at
        the end covers the whole pipeline. Inside ``jit`` it installs a
        runtime check instead (a ``jax.debug.callback`` that raises when the
        computation runs). Returns ``self`` for chaining.

        Raises:
          ValueError: ``overflow > 0``.
        """
        if _is_tracer(self.overflow):
            cap = self.capacity
            jax.debug.callback(lambda o: _raise_overflow("SparseSpikes.check", o, cap),
                               self.overflow)
        else:
            _raise_overflow("SparseSpikes.check", self.overflow, self.capacity)
        return self

    # ------------------------------------------------------------ builders
    @classmethod
    def from_events(cls, events, shape, capacity=None) -> "SparseSpikes":
        """Builds a container from an ``(n, 5)`` or ``(n, 3)`` integer array of events.

        Args:
          events: rows ``(batch, time, row, col, channel)`` or ``(batch, time, index)``,
            in any order (kept as given).
          shape: dense shape ``(B, T, H, W, C)`` or ``(B, T, F)`` (Python ints).
          capacity: number of slots, ``>= n`` (default ``max(n, 1)``).

        Returns:
          The container, with ``count = n`` and ``overflow = 0``.

        Raises:
          ValueError: shape/capacity invalid, ``n > capacity``, a negative time,
            or any coordinate out of range (checked for concrete ``events``).
          TypeError: non-integer events.
        """
        fn = "SparseSpikes.from_events"
        shape = _check_shape(fn, shape)
        events = events if _is_tracer(events) else np.asarray(events)
        if events.ndim != 2 or events.shape[1] != len(shape):
            raise ValueError(
                f"{fn}: events must have shape (n, {len(shape)}) for dense shape {shape}, "
                f"got {events.shape}"
            )
        if not jnp.issubdtype(events.dtype, jnp.integer):
            raise TypeError(f"{fn}: events must be integers, got dtype {events.dtype}")
        n = events.shape[0]
        capacity = _check_capacity(fn, capacity, n)
        if n > capacity:
            raise ValueError(f"{fn}: {n} events do not fit into capacity={capacity}")
        if not _is_tracer(events):
            _check_coords(fn, events, shape)
        ev = jnp.full((capacity, len(shape)), -1, jnp.int32).at[:n].set(jnp.asarray(events, jnp.int32))
        return cls(ev, jnp.int32(n), jnp.int32(0), shape)

    @classmethod
    def from_dense(cls, waves, capacity=None, *, cumulative: bool = True) -> "SparseSpikes":
        """Dense spikes ``(B, T, H, W, C)`` or ``(B, T, F)`` -> events.

        Args:
          waves: dense spikes; non-zero entries are spikes.
          capacity: number of slots (default: enough for every possible event,
            ``B*H*W*C`` when ``cumulative`` else ``B*T*H*W*C``).
          cumulative: True (default) reads SpykeTorch/Spyker spike-waves: one
            event per neuron at its FIRST non-zero step (like Spyker's
            ``SparseTensor(dense, 0)``); False: one event per non-zero entry
            (spike trains).

        Returns:
          Events in canonical order ``(batch, time, row, col, channel)``.

        Raises:
          ValueError: wrong rank, bad capacity, or (concrete input) more events
            than ``capacity``.
        """
        fn = "SparseSpikes.from_dense"
        if not hasattr(waves, "shape"):
            waves = np.asarray(waves)
        if waves.ndim not in (3, 5):
            raise ValueError(f"{fn}: waves must be (B, T, H, W, C) or (B, T, F), got shape {waves.shape}")
        shape = _check_shape(fn, tuple(int(d) for d in waves.shape))
        fired = jnp.asarray(waves) != 0
        if cumulative:
            first = jnp.cumsum(fired, axis=1, dtype=jnp.int32) == 1
            fired = fired & first
        neurons = math.prod(shape[2:]) * shape[0]
        capacity = _check_capacity(fn, capacity, neurons if cumulative else neurons * shape[1])
        out = _from_mask(fired, capacity, shape)
        if not _is_tracer(out.overflow):
            _raise_overflow(fn, out.overflow, capacity)
        return out

    @classmethod
    def from_times(cls, times, time_steps: int, capacity=None) -> "SparseSpikes":
        """Spike times ``(B, H, W, C)`` or ``(B, F)`` in ``[0, T]`` (``T`` = none) -> events.

        Args:
          times: integer spike times, ``T`` meaning "no spike".
          time_steps: ``T >= 1``.
          capacity: slots (default ``B*H*W*C``, one per neuron).

        Returns:
          One event per spiking neuron, in canonical order.

        Raises:
          ValueError: bad rank/``time_steps``/capacity; negative times or times
            above ``T`` (concrete input); overflow (concrete input).
          TypeError: non-integer times.
        """
        fn = "SparseSpikes.from_times"
        if isinstance(time_steps, bool) or not isinstance(time_steps, (int, np.integer)):
            raise TypeError(f"{fn}: time_steps must be an int, got {type(time_steps).__name__}")
        if time_steps < 1:
            raise ValueError(f"{fn}: time_steps must be >= 1, got {time_steps}")
        if not hasattr(times, "shape"):
            times = np.asarray(times)
        if times.ndim not in (2, 4):
            raise ValueError(f"{fn}: times must be (B, H, W, C) or (B, F), got shape {times.shape}")
        if not jnp.issubdtype(times.dtype, jnp.integer):
            raise TypeError(f"{fn}: times must be integers, got dtype {times.dtype}")
        if not _is_tracer(times):
            t = np.asarray(times)
            if t.size and t.min() < 0:
                raise ValueError(f"{fn}: times must be >= 0 (negative times), got min {t.min()}")
            if t.size and t.max() > time_steps:
                raise ValueError(f"{fn}: times must be <= time_steps={time_steps}, got max {t.max()}")
        shape = _check_shape(fn, (int(times.shape[0]), int(time_steps)) + tuple(int(d) for d in times.shape[1:]))
        capacity = _check_capacity(fn, capacity, math.prod(times.shape))
        out = events_from_times(jnp.asarray(times, jnp.int32), time_steps, capacity)
        if not _is_tracer(out.overflow):
            _raise_overflow(fn, out.overflow, capacity)
        return out

    @classmethod
    def from_indices_times(cls, indices, times, shape, capacity=None, *,
                           sort: bool = False) -> "SparseSpikes":
        """Per-sample ``(indices, times)`` lists -> events (EvSpikeSim-style input).

        Args:
          indices: one 1-D integer array per sample: flat neuron indices into the
            sample's ``(H, W, C)`` (row-major) or ``(F,)`` neurons.
          times: one 1-D integer array per sample, same lengths, time steps in
            ``[0, T)``, non-decreasing unless ``sort`` is True.
          shape: dense shape ``(B, T, H, W, C)`` or ``(B, T, F)``; ``B`` must equal
            the number of samples.
          capacity: slots (default: the total number of events).
          sort: True to sort each sample's events by time (stable) instead of
            rejecting unsorted times.

        Returns:
          The events, per sample in time order (ties keep their input order).

        Raises:
          ValueError: lengths differ, unsorted/negative/too large times, indices
            out of range, bad shape or capacity, overflow.
        """
        fn = "SparseSpikes.from_indices_times"
        shape = _check_shape(fn, shape)
        if len(indices) != shape[0] or len(times) != shape[0]:
            raise ValueError(
                f"{fn}: indices and times must hold one array per sample (B={shape[0]}), "
                f"got {len(indices)} and {len(times)}"
            )
        per_sample = math.prod(shape[2:])
        rows = []
        for b, (idx, ts) in enumerate(zip(indices, times)):
            idx = np.asarray(idx)
            ts = np.asarray(ts)
            if idx.ndim != 1 or ts.ndim != 1 or idx.shape != ts.shape:
                raise ValueError(
                    f"{fn}: sample {b}: indices and times must be 1-D of equal length, "
                    f"got shapes {idx.shape} and {ts.shape}"
                )
            for name, arr in (("indices", idx), ("times", ts)):
                if arr.size and not np.issubdtype(arr.dtype, np.integer):
                    raise TypeError(f"{fn}: sample {b}: {name} must be integers, got {arr.dtype}")
            idx = idx.astype(np.int64)
            ts = ts.astype(np.int64)
            if ts.size and ts.min() < 0:
                raise ValueError(f"{fn}: sample {b}: times must be >= 0 (negative times), got {ts.min()}")
            if ts.size and ts.max() >= shape[1]:
                raise ValueError(f"{fn}: sample {b}: times must be < T={shape[1]}, got {ts.max()}")
            if idx.size and (idx.min() < 0 or idx.max() >= per_sample):
                raise ValueError(
                    f"{fn}: sample {b}: indices must be in [0, {per_sample}), "
                    f"got range [{idx.min()}, {idx.max()}]"
                )
            if ts.size > 1 and np.any(np.diff(ts) < 0):
                if not sort:
                    raise ValueError(
                        f"{fn}: sample {b}: times must be sorted (non-decreasing); "
                        "pass sort=True to sort them"
                    )
                order = np.argsort(ts, kind="stable")
                idx, ts = idx[order], ts[order]
            spatial = np.unravel_index(idx, shape[2:])
            rows.append(np.stack([np.full_like(ts, b), ts, *spatial], axis=1))
        ev = np.concatenate(rows, 0) if rows else np.zeros((0, len(shape)), np.int64)
        return cls.from_events(ev.reshape(-1, len(shape)), shape, capacity)

    # ------------------------------------------------------------ converters
    def to_times(self):
        """Earliest event time per neuron, int32 ``(B, H, W, C)`` / ``(B, F)``; ``T`` = none.

        The same as :func:`spyxlike.sparse.gather` with the default dtype.
        """
        from spyxlike.ops.sparse_ops import sparse_gather_reference

        return sparse_gather_reference(self.events, self.count, self.shape)

    def to_dense(self, *, cumulative: bool = True, dtype=jnp.float32):
        """Events -> dense ``(B, T, H, W, C)`` / ``(B, T, F)``.

        Args:
          cumulative: True (default): SpykeTorch/Spyker spike-waves, 1 from each
            neuron's earliest event on; False: 1 exactly at each event.
          dtype: output dtype.
        """
        if cumulative:
            from spyxlike.coding import times_to_waves

            return times_to_waves(self.to_times(), self.time_steps, dtype=dtype)
        ev = jnp.where(self.valid[..., None], self.events, jnp.asarray(self.shape, jnp.int32))
        dense = jnp.zeros(self.shape, dtype)
        return dense.at[tuple(ev[..., i] for i in range(len(self.shape)))].set(1, mode="drop")

    def to_indices_times(self) -> list:
        """Per sample, ``(indices, times)`` int64 NumPy arrays (concrete containers only).

        ``indices`` are flat row-major neuron indices; events are ordered by
        time, then index. The inverse of :meth:`from_indices_times`.
        """
        if _is_tracer(self.events):
            raise TypeError("SparseSpikes.to_indices_times: needs a concrete container (not inside jit)")
        n = int(self.count)
        ev = np.asarray(self.events)[:n].astype(np.int64)
        flat = np.ravel_multi_index(tuple(ev[:, 2:].T), self.shape[2:]) if n else np.zeros(0, np.int64)
        out = []
        for b in range(self.shape[0]):
            sel = ev[:, 0] == b
            t, i = ev[sel, 1], flat[sel]
            order = np.lexsort((i, t))
            out.append((i[order], t[order]))
        return out

    def sort_by_time(self, *, per_sample: bool = True) -> "SparseSpikes":
        """Sorts the valid events (padding stays at the end).

        Args:
          per_sample: True: canonical order ``(batch, time, row, col, channel)``
            (time order within each sample); False: global time order
            ``(time, batch, row, col, channel)``.
        """
        ev = self.events
        keys = [ev[..., i] for i in range(ev.shape[-1])]
        if not per_sample:
            keys[0], keys[1] = keys[1], keys[0]
        invalid = (~self.valid).astype(jnp.int32)
        order = jnp.lexsort(tuple(reversed([invalid] + keys)), axis=-1)
        ev = jnp.take_along_axis(ev, order[..., None], axis=-2)
        return SparseSpikes(ev, self.count, self.overflow, self.shape)


def _check_coords(fn: str, events: np.ndarray, shape: tuple) -> None:
    names = ("batch", "time", "row", "col", "channel") if len(shape) == 5 else ("batch", "time", "index")
    for i, (name, size) in enumerate(zip(names, shape)):
        col = events[:, i]
        if col.size == 0:
            continue
        if col.min() < 0:
            what = "negative times" if name == "time" else f"negative {name}"
            raise ValueError(f"{fn}: {what}: {name} must be in [0, {size}), got {col.min()}")
        if col.max() >= size:
            raise ValueError(f"{fn}: {name} out of range: must be < {size}, got {col.max()}")


def _from_mask(mask, capacity: int, shape: tuple) -> SparseSpikes:
    """Boolean dense mask -> events in row-major (canonical) order."""
    total = jnp.sum(mask, dtype=jnp.int32)
    coords = jnp.nonzero(mask, size=capacity, fill_value=-1)
    ev = jnp.stack([c.astype(jnp.int32) for c in coords], axis=-1)
    count = jnp.minimum(total, capacity).astype(jnp.int32)
    overflow = jnp.maximum(total - capacity, 0).astype(jnp.int32)
    return SparseSpikes(ev, count, overflow, shape)


def events_from_times(times, time_steps: int, capacity: int) -> SparseSpikes:
    """Pure-JAX: spike times ``(B, *spatial)`` -> canonical events (one per spiking neuron).

    See :func:`spyxlike.ops.sparse_ops.compact_times`; no ``T`` factor in the cost.
    """
    from spyxlike.ops.sparse_ops import compact_times

    ev, count, overflow = compact_times(times, time_steps, capacity)
    return SparseSpikes(ev, count, overflow, (times.shape[0], time_steps) + tuple(times.shape[1:]))
