"""SLAYER's binary spike files and the :class:`Event` type.

Follows SLAYER PyTorch's ``spikeFileIO`` (``read1Dspikes``, ``read2Dspikes``,
``read3Dspikes``, ``read1DnumSpikes``, their ``encode*`` writers, the
``event`` class, ``spikeArrayToEvent``); the SLAYER spellings live in
``spyxlike.compat.slayer``. All formats are big-endian bit fields packed into
fixed-size records, with timestamps stored in **microseconds** on disk and
held in **milliseconds** (float) in memory, exactly as SLAYER converts them
(``t_ms = t_us / 1000`` when reading, ``t_us = round(t_ms * 1000)`` when
writing, so a round trip is exact to the format's 1 us resolution).

* 1D spikes, 40-bit records: neuron id ``x`` (16 bits) | polarity ``p`` (1) |
  ``t`` in us (23);
* 2D spikes (N-MNIST, N-Caltech101), 40-bit records: ``x`` (8) | ``y`` (8) |
  polarity ``p`` (1) | ``t`` in us (23);
* 3D spikes, 56-bit records: ``x`` (12) | ``y`` (12) | channel ``p`` (8) |
  ``t`` in us (24);
* 1D number of spikes, 80-bit records: neuron id (16) | region start in us
  (24) | region end in us (24) | number of spikes (16).

Fields are listed most significant bit first; records are stored big-endian,
back to back, with no header.

Polarity ``p = 1`` is an ON event (brightness increase), ``p = 0`` OFF. The 2D
layout is the N-MNIST / N-Caltech101 ``.bin`` format (Orchard et al., 2015).
The N-MNIST reference Python reader (and loaders derived from it)
additionally treats a record with ``y == 240`` as a timestamp-overflow marker
(adding ``2**13`` us to later timestamps); SLAYER does not and neither does
spyxlike (N-MNIST samples last ~0.3 s, far below the 8.39 s the 23-bit field
holds). ``read_2d_spikes(path, shape=(34, 34))`` reports such a record as
corrupt instead of returning it as an event.

Where spyxlike differs from SLAYER (all deliberate):

* Errors instead of silent wrong data: a file whose length is not a multiple
  of the record size, a field out of range on writing (SLAYER wraps with
  ``np.uint8``), negative or non-integer coordinates, non-finite timestamps
  raise ``ValueError`` naming the field.
* SLAYER's ``event`` shifts the polarities so that their minimum is 0
  (``p -= p.min()``), so a file holding only ON events reads back as OFF;
  :class:`Event` keeps ``p`` as given.
* SLAYER's ``encode1Dspikes`` drops the high byte of neuron ids >= 256 and its
  ``encode3Dspikes`` mixes the high bits of ``y`` into ``x``; spyxlike writes
  the documented layouts (which SLAYER's readers read correctly).
* :meth:`Event.to_spike_tensor` returns a new array instead of filling its
  argument in place; :func:`spike_array_to_event` returns events sorted by
  time (stable, so SLAYER's order among equal times).
* Arrays are float32 (SLAYER: float64).

Spike arrays come in two layouts: SLAYER's ``(C, H, W, T)`` (``CHWT``; 1D
data ``(C, N, T)``) from :meth:`Event.to_spike_array`, and spyxlike's
time-first, channels-last ``(T, H, W, C)`` (1D: ``(T, N, C)``) from
:meth:`Event.to_dense`. Stack samples along a new leading axis for spyxlike's
batch-first ``(B, T, H, W, C)``; :mod:`spyxlike.layout` converts whole
batches between the two layouts.
"""

from __future__ import annotations

import math
import numbers
import os

import numpy as np

__all__ = [
    "Event",
    "read_1d_spikes",
    "encode_1d_spikes",
    "read_2d_spikes",
    "encode_2d_spikes",
    "read_3d_spikes",
    "encode_3d_spikes",
    "read_1d_num_spikes",
    "encode_1d_num_spikes",
    "spike_array_to_event",
    "dense_to_event",
]

_BINNING_MODES = ("OR", "SUM")


# --------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------

def _int_field(name, values, where):
    """``values`` as a 1-D int64 array; integral, finite, non-negative."""
    a = np.asarray(values)
    if a.ndim != 1:
        raise ValueError(f"{where}: {name} must be a 1-D array of event fields, got shape {a.shape}")
    if a.dtype == np.bool_:
        return a.astype(np.int64)
    if np.issubdtype(a.dtype, np.integer):
        out = a.astype(np.int64)
    elif np.issubdtype(a.dtype, np.floating):
        if a.size and not np.all(np.isfinite(a)):
            i = int(np.flatnonzero(~np.isfinite(a))[0])
            raise ValueError(f"{where}: {name} must be finite; got {a[i]!r} at event {i}")
        if a.size and not np.all(a == np.round(a)):
            i = int(np.flatnonzero(a != np.round(a))[0])
            raise ValueError(f"{where}: {name} must hold integer indices; got {a[i]!r} at event {i}")
        if a.size and np.max(np.abs(a)) >= 2.0**62:
            raise ValueError(f"{where}: {name} holds values too large for an index")
        out = a.astype(np.int64)
    else:
        raise TypeError(f"{where}: {name} must be an integer array, got dtype {a.dtype}")
    if out.size and out.min() < 0:
        i = int(np.argmin(out))
        raise ValueError(
            f"{where}: {name} must be non-negative; got {out[i]} at event {i}"
            + (" (for +-1 polarities pass p=(p > 0))" if name == "p" else "")
        )
    return out


def _check_range(where, name, values, bits, what):
    """Raise if an int array does not fit in an unsigned ``bits``-bit field."""
    hi = (1 << bits) - 1
    if values.size and values.max() > hi:
        i = int(np.argmax(values))
        raise ValueError(
            f"{where}: {name} ({what}) must fit the format's {bits}-bit field, i.e. lie in "
            f"[0, {hi}]; got {values[i]} at event {i}"
        )


def _sampling_time(value, where):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: sampling_time must be a positive real number (ms), got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{where}: sampling_time must be a positive finite number of ms, got {value}")
    return value


def _binning_mode(mode, where):
    if not isinstance(mode, str) or mode.upper() not in _BINNING_MODES:
        raise ValueError(f"{where}: binning_mode must be 'OR' or 'SUM', got {mode!r}")
    return mode.upper()


def _shape(dim, n, where, name="dim"):
    if isinstance(dim, (str, bytes)) or not hasattr(dim, "__len__") or len(dim) != n:
        raise ValueError(f"{where}: {name} must be a sequence of {n} positive ints, got {dim!r}")
    out = []
    for d in dim:
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, numbers.Integral) or d < 1:
            raise ValueError(f"{where}: {name} must be a sequence of {n} positive ints, got {dim!r}")
        out.append(int(d))
    return tuple(out)


# --------------------------------------------------------------------------
# Event
# --------------------------------------------------------------------------

class Event:
    """Spike events: addresses ``x`` (and ``y``), polarity/channel ``p``, time ``t`` in ms.

    Follows SLAYER's ``spikeFileIO.event(xEvent, yEvent, pEvent, tEvent)``:
    ``y=None`` makes a 1-D event stream (``dim == 1``, neuron index in ``x``),
    otherwise a 2-D one (``dim == 2``, pixel column ``x``, row ``y``). ``p`` is
    the polarity (0 = OFF, 1 = ON) or, for 3D files, the channel.

    Attributes:
      x: int64 array ``(n,)``, column (2-D) or neuron index (1-D).
      y: int64 array ``(n,)`` (row), or ``None`` for 1-D events.
      p: int64 array ``(n,)``, polarity or channel.
      t: float64 array ``(n,)``, timestamps in milliseconds.

    Unlike SLAYER, the constructor validates: the arrays must be 1-D and of
    equal length, ``x``/``y``/``p`` non-negative integers (integral floats are
    accepted), ``t`` finite; and ``p`` is stored as given (SLAYER subtracts its
    minimum).

    Raises:
      ValueError: mismatched lengths, non-1-D arrays, negative or
        non-integral indices, non-finite timestamps; the message names the
        field.
      TypeError: non-numeric fields.
    """

    __slots__ = ("x", "y", "p", "t")

    def __init__(self, x, y, p, t):
        where = "Event"
        self.x = _int_field("x", x, where)
        self.y = None if y is None else _int_field("y", y, where)
        self.p = _int_field("p", p, where)
        tt = np.asarray(t)
        if tt.ndim != 1:
            raise ValueError(f"{where}: t must be a 1-D array of timestamps (ms), got shape {tt.shape}")
        if not (np.issubdtype(tt.dtype, np.integer) or np.issubdtype(tt.dtype, np.floating)):
            raise TypeError(f"{where}: t must be a real array of timestamps (ms), got dtype {tt.dtype}")
        tt = tt.astype(np.float64)
        if tt.size and not np.all(np.isfinite(tt)):
            i = int(np.flatnonzero(~np.isfinite(tt))[0])
            raise ValueError(f"{where}: t must be finite; got {tt[i]!r} at event {i}")
        self.t = tt
        n = self.x.shape[0]
        for name, arr in (("y", self.y), ("p", self.p), ("t", self.t)):
            if arr is not None and arr.shape[0] != n:
                raise ValueError(
                    f"{where}: x, y, p and t must have the same length; x has {n}, "
                    f"{name} has {arr.shape[0]}"
                )

    @property
    def dim(self):
        """1 for 1-D events (``y is None``), 2 otherwise (as SLAYER's ``event.dim``)."""
        return 1 if self.y is None else 2

    def __len__(self):
        return int(self.x.shape[0])

    def __repr__(self):
        span = f", t in [{self.t.min():g}, {self.t.max():g}] ms" if len(self) else ""
        return f"Event(dim={self.dim}, n={len(self)}{span})"

    # ---- binning ----------------------------------------------------------

    def _default_dim(self, sampling_time, where):
        if len(self) == 0:
            raise ValueError(f"{where}: dim must be given for an empty event stream")
        t_bins = int(np.round(self.t.max() / sampling_time + 1))
        if t_bins < 1:
            raise ValueError(
                f"{where}: all timestamps are negative (max {self.t.max()} ms); give dim explicitly"
            )
        if self.dim == 1:
            return (int(self.p.max()) + 1, int(self.x.max()) + 1, t_bins)
        return (int(self.p.max()) + 1, int(self.y.max()) + 1, int(self.x.max()) + 1, t_bins)

    def _bin(self, shape_chwt, sampling_time, t_offset):
        """Indices (c, h, w, t) of in-range events and their time bins, SLAYER's rounding."""
        c_n, h_n, w_n, t_n = shape_chwt
        t_idx = np.round(self.t / sampling_time).astype(np.int64) - t_offset
        x = self.x
        y = np.zeros_like(x) if self.y is None else self.y
        keep = (x < w_n) & (y < h_n) & (self.p < c_n) & (t_idx >= 0) & (t_idx < t_n)
        return self.p[keep], y[keep], x[keep], t_idx[keep]

    def to_spike_tensor(self, empty_tensor, sampling_time=1, random_shift=False, binning_mode="OR",
                        rng=None):
        """Bins the events into a copy of ``empty_tensor`` (SLAYER layout).

        Follows SLAYER's ``event.toSpikeTensor(emptyTensor, samplingTime,
        randomShift, binningMode)``: event ``i`` lands in
        ``[p_i, y_i, x_i, round(t_i / sampling_time) - shift]`` of a
        ``(C, H, W, T)`` tensor (1-D events: ``[p_i, 0, x_i, ...]`` of
        ``(C, 1, N, T)``, or of ``(C, N, T)``), with value ``1 / sampling_time``
        (``"OR"``: set, ``"SUM"``: added per event); events outside the tensor
        are dropped. ``np.round`` rounds halves to even, as in SLAYER.

        spyxlike returns a new float array (of ``empty_tensor``'s floating
        dtype, float32 otherwise) holding ``empty_tensor`` plus the events;
        SLAYER fills its argument in place.

        Args:
          empty_tensor: array-like (numpy or jax) of shape ``(C, H, W, T)``,
            ``(C, 1, N, T)`` or, for 1-D events, ``(C, N, T)``.
          sampling_time: bin width in ms (> 0).
          random_shift: if ``True``, shift the events earlier by a random
            number of bins drawn as SLAYER does:
            ``randint(max(t_min/Ts, t_max/Ts - T, T - t_max/Ts, 1))``.
          binning_mode: ``"OR"`` or ``"SUM"``.
          rng: ``numpy.random.Generator`` or int seed for ``random_shift``
            (default: a fresh unseeded generator).

        Returns:
          A numpy array of the shape of ``empty_tensor``.

        Raises:
          ValueError: bad shape for the event dimension, bad
            ``sampling_time`` or ``binning_mode``.
        """
        where = "Event.to_spike_tensor"
        sampling_time = _sampling_time(sampling_time, where)
        mode = _binning_mode(binning_mode, where)
        base = np.asarray(empty_tensor)
        dtype = base.dtype if np.issubdtype(base.dtype, np.floating) else np.dtype(np.float32)
        out = np.array(base, dtype=dtype, copy=True)
        if out.ndim == 3 and self.dim == 1:
            view = out.reshape(out.shape[0], 1, out.shape[1], out.shape[2])
        elif out.ndim == 4 and (self.dim == 2 or out.shape[1] == 1):
            view = out
        else:
            want = "(C, H, W, T)" if self.dim == 2 else "(C, N, T) or (C, 1, N, T)"
            raise ValueError(f"{where}: empty_tensor must have shape {want} for {self.dim}-D events, "
                             f"got shape {out.shape}")
        shift = 0
        if random_shift:
            gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
            t_n = view.shape[3]
            if len(self):
                t_min = int(self.t.min() / sampling_time)
                t_max = int(self.t.max() / sampling_time)
                shift = int(gen.integers(max(t_min, t_max - t_n, t_n - t_max, 1)))
        c, h, w, t = self._bin(view.shape, sampling_time, shift)
        value = dtype.type(1.0 / sampling_time)
        if mode == "OR":
            view[c, h, w, t] = value
        else:
            np.add.at(view, (c, h, w, t), value)
        return out

    def to_spike_array(self, sampling_time=1, dim=None, binning_mode="OR"):
        """Dense SLAYER-layout spike array: ``(C, H, W, T)`` (2-D) or ``(C, N, T)`` (1-D).

        Follows SLAYER's ``event.toSpikeArray(samplingTime, dim)``: spikes have
        value ``1 / sampling_time`` (a Dirac train sampled at ``Ts``), time bin
        ``round(t / sampling_time)``; events outside ``dim`` are dropped. Without
        ``dim`` the array just fits the events: ``(max p + 1, max y + 1,
        max x + 1, round(max t / Ts + 1))``.

        Args:
          sampling_time: bin width in ms (> 0).
          dim: ``(C, H, W, T)`` for 2-D events, ``(C, N, T)`` for 1-D ones.
          binning_mode: ``"OR"`` (SLAYER's default: one spike per bin) or
            ``"SUM"`` (``k`` events in a bin give ``k / sampling_time``).

        Returns:
          float32 numpy array of shape ``dim``.

        Raises:
          ValueError: bad ``dim``, ``sampling_time`` or ``binning_mode``, or
            an empty event stream without ``dim``.
        """
        where = "Event.to_spike_array"
        sampling_time = _sampling_time(sampling_time, where)
        n_axes = 3 if self.dim == 1 else 4
        dim = self._default_dim(sampling_time, where) if dim is None else _shape(dim, n_axes, where)
        return self.to_spike_tensor(np.zeros(dim, np.float32), sampling_time, binning_mode=binning_mode)

    def to_dense(self, sampling_time=1, shape=None, binning_mode="OR", dtype=np.uint8):
        """Dense spyxlike-layout spikes: ``(T, H, W, C)`` (2-D) or ``(T, N, C)`` (1-D).

        The same binning as :meth:`to_spike_array` (SLAYER's rounding, events
        outside ``shape`` dropped) but time-first and channels-last, holding
        spike *counts* (``"SUM"``) or 0/1 (``"OR"``) instead of SLAYER's
        ``1 / sampling_time``. Stack samples on a new axis 0 for spyxlike's
        ``(B, T, H, W, C)``.

        Args:
          sampling_time: bin width in ms (> 0).
          shape: ``(T, H, W, C)`` for 2-D events, ``(T, N, C)`` for 1-D ones;
            default: just fitting the events, as :meth:`to_spike_array`.
          binning_mode: ``"OR"`` or ``"SUM"``.
          dtype: numpy dtype of the result (``uint8`` by default).

        Returns:
          numpy array of shape ``shape`` and dtype ``dtype``.

        Raises:
          ValueError: bad ``shape``, ``sampling_time``, ``binning_mode``, or
            ``"SUM"`` counts that do not fit an integer ``dtype``.
        """
        where = "Event.to_dense"
        sampling_time = _sampling_time(sampling_time, where)
        mode = _binning_mode(binning_mode, where)
        dtype = np.dtype(dtype)
        if self.dim == 1:
            if shape is None:
                c_n, n_n, t_n = self._default_dim(sampling_time, where)
            else:
                t_n, n_n, c_n = _shape(shape, 3, where, "shape")
            chwt = (c_n, 1, n_n, t_n)
        else:
            if shape is None:
                c_n, h_n, w_n, t_n = self._default_dim(sampling_time, where)
            else:
                t_n, h_n, w_n, c_n = _shape(shape, 4, where, "shape")
            chwt = (c_n, h_n, w_n, t_n)
        c, h, w, t = self._bin(chwt, sampling_time, 0)
        counts = np.zeros((chwt[3], chwt[1], chwt[2], chwt[0]), np.int64)
        if mode == "OR":
            counts[t, h, w, c] = 1
        else:
            np.add.at(counts, (t, h, w, c), 1)
            if np.issubdtype(dtype, np.integer) and counts.size and counts.max() > np.iinfo(dtype).max:
                raise ValueError(f"{where}: up to {counts.max()} events share a bin, more than dtype "
                                 f"{dtype} holds; pass a wider dtype")
        if self.dim == 1:
            counts = counts[:, 0, :, :]
        return counts.astype(dtype)


def _events_from_indices(idx, dim, sampling_time):
    """Build a time-sorted Event from ``argwhere`` rows in SLAYER's axis order."""
    t_col = idx[:, -1]
    order = np.argsort(t_col, kind="stable")
    idx = idx[order]
    if dim == 1:  # (C, N, T)
        return Event(idx[:, 1], None, idx[:, 0], idx[:, 2] * sampling_time)
    return Event(idx[:, 2], idx[:, 1], idx[:, 0], idx[:, 3] * sampling_time)


def spike_array_to_event(spike_mat, sampling_time=1):
    """Events from a SLAYER-layout spike array (inverse of :meth:`Event.to_spike_array`).

    Follows SLAYER's ``spikeArrayToEvent(spikeMat, samplingTime)``: every
    entry ``> 0`` is one event at time ``bin * sampling_time`` ms. A
    ``(C, N, T)`` array gives 1-D events, ``(C, H, W, T)`` 2-D ones. Unlike
    SLAYER (array order) the events come sorted by time.

    Args:
      spike_mat: numpy or jax array of rank 3 ``(C, N, T)`` or 4 ``(C, H, W, T)``.
      sampling_time: bin width in ms (> 0).

    Returns:
      An :class:`Event`.

    Raises:
      ValueError: another rank, or bad ``sampling_time``.
    """
    where = "spike_array_to_event"
    sampling_time = _sampling_time(sampling_time, where)
    a = np.asarray(spike_mat)
    if a.ndim not in (3, 4):
        raise ValueError(f"{where}: spike_mat must be (C, N, T) or (C, H, W, T), got shape {a.shape}")
    return _events_from_indices(np.argwhere(a > 0), 1 if a.ndim == 3 else 2, sampling_time)


def dense_to_event(spikes, sampling_time=1):
    """Events from a spyxlike-layout spike array (inverse of :meth:`Event.to_dense`).

    Every entry ``> 0`` of a ``(T, H, W, C)`` array (2-D events) or ``(T, N, C)``
    array (1-D events) is one event at ``t = step * sampling_time`` ms;
    counts above 1 give one event. Events are sorted by time.

    Args:
      spikes: numpy or jax array of rank 3 or 4 (one sample, no batch axis).
      sampling_time: bin width in ms (> 0).

    Returns:
      An :class:`Event`.

    Raises:
      ValueError: another rank, or bad ``sampling_time``.
    """
    where = "dense_to_event"
    sampling_time = _sampling_time(sampling_time, where)
    a = np.asarray(spikes)
    if a.ndim == 3:
        return spike_array_to_event(np.transpose(a, (2, 1, 0)), sampling_time)  # -> (C, N, T)
    if a.ndim == 4:
        return spike_array_to_event(np.transpose(a, (3, 1, 2, 0)), sampling_time)
    raise ValueError(f"{where}: spikes must be (T, N, C) or (T, H, W, C) for one sample, got shape {a.shape}")


# --------------------------------------------------------------------------
# binary files
# --------------------------------------------------------------------------

def _read_records(filename, record_bytes, where, what):
    path = os.fspath(filename)
    with open(path, "rb") as f:
        data = f.read()
    if len(data) % record_bytes:
        raise ValueError(
            f"{where}: {path!r} holds {len(data)} bytes, not a multiple of the "
            f"{record_bytes}-byte ({8 * record_bytes}-bit) {what} record: the file is truncated "
            f"or not in this format ({len(data) % record_bytes} trailing bytes)"
        )
    return np.frombuffer(data, np.uint8).reshape(-1, record_bytes).astype(np.int64)


def _write(filename, records):
    with open(os.fspath(filename), "wb") as f:
        f.write(np.ascontiguousarray(records, dtype=np.uint8).tobytes())


def _check_event(event, where, dim):
    if not isinstance(event, Event):
        raise TypeError(f"{where}: expected an spyxlike.io.Event, got {type(event).__name__}")
    if event.dim != dim:
        raise ValueError(f"{where}: expected a {dim}-D event (y {'None' if dim == 1 else 'given'}), "
                         f"got a {event.dim}-D one")


def _time_us(t_ms, where, name, bits):
    """ms -> integer us (SLAYER's ``round(t * 1000)``), range-checked."""
    us = np.round(np.asarray(t_ms, np.float64) * 1000.0)
    if us.size and us.min() < 0:
        i = int(np.argmin(us))
        raise ValueError(f"{where}: {name} (timestamp) must be >= 0 ms; got {t_ms[i]} ms at event {i}")
    hi = (1 << bits) - 1
    if us.size and us.max() > hi:
        i = int(np.argmax(us))
        raise ValueError(
            f"{where}: {name} (timestamp) must fit the format's {bits}-bit microsecond field, i.e. "
            f"<= {hi / 1000} ms; got {t_ms[i]} ms at event {i}"
        )
    return us.astype(np.int64)


def _check_read_shape(where, event_fields, shape):
    for name, values, bound in event_fields:
        if values.size and values.max() >= bound:
            i = int(np.argmax(values))
            raise ValueError(f"{where}: corrupt or foreign file: {name} = {values[i]} at event {i} "
                             f"lies outside the expected sensor shape {shape}")


def _shape_arg(shape, n, where):
    return None if shape is None else _shape(shape, n, where, "shape")


def read_1d_spikes(filename, num_neurons=None):
    """Reads a 1-D binary spike file (SLAYER's ``read1Dspikes``).

    Format: 40-bit big-endian records, bits 39-24 neuron id, bit 23 polarity
    (1 = ON), bits 22-0 timestamp in microseconds.

    Args:
      filename: path of the file.
      num_neurons: optional number of neurons; ids ``>= num_neurons`` are
        reported as corrupt content.

    Returns:
      A 1-D :class:`Event` (``y is None``), ``t`` in ms (``us / 1000``).

    Raises:
      ValueError: a length that is not a multiple of 5 bytes, or ids outside
        ``num_neurons``.
    """
    where = "read_1d_spikes"
    r = _read_records(filename, 5, where, "1D spike")
    x = (r[:, 0] << 8) | r[:, 1]
    p = r[:, 2] >> 7
    t = ((r[:, 2] & 0x7F) << 16) | (r[:, 3] << 8) | r[:, 4]
    if num_neurons is not None:
        (n,) = _shape((num_neurons,), 1, where, "num_neurons")
        _check_read_shape(where, [("x (neuron id)", x, n)], (n,))
    return Event(x, None, p, t / 1000.0)


def encode_1d_spikes(filename, event):
    """Writes a 1-D binary spike file (SLAYER's ``encode1Dspikes``).

    Format as :func:`read_1d_spikes`; ``t`` is written as ``round(t * 1000)``
    microseconds. SLAYER loses the high byte of ids >= 256; spyxlike does not.

    Args:
      filename: path of the file (overwritten).
      event: a 1-D :class:`Event` with ``x < 2**16``, ``p`` in ``{0, 1}``,
        ``0 <= t <= 8388.607`` ms.

    Raises:
      ValueError: a 2-D event or a field out of its bit range (named).
    """
    where = "encode_1d_spikes"
    _check_event(event, where, 1)
    _check_range(where, "x", event.x, 16, "neuron id")
    _check_range(where, "p", event.p, 1, "polarity")
    t = _time_us(event.t, where, "t", 23)
    rec = np.empty((len(event), 5), np.int64)
    rec[:, 0] = event.x >> 8
    rec[:, 1] = event.x & 0xFF
    rec[:, 2] = (event.p << 7) | ((t >> 16) & 0x7F)
    rec[:, 3] = (t >> 8) & 0xFF
    rec[:, 4] = t & 0xFF
    _write(filename, rec)


def read_2d_spikes(filename, shape=None):
    """Reads a 2-D binary spike file: the N-MNIST / N-Caltech101 ``.bin`` format.

    Follows SLAYER's ``read2Dspikes``. Format: 40-bit big-endian records,
    bits 39-32 ``x``, bits 31-24 ``y``, bit 23 polarity (1 = ON, 0 = OFF),
    bits 22-0 timestamp in microseconds. Timestamps are returned in ms
    (``us / 1000``, as SLAYER).

    Args:
      filename: path of the file.
      shape: optional sensor size ``(height, width)`` (N-MNIST: ``(34, 34)``);
        events with ``y >= height`` or ``x >= width`` are reported as corrupt
        content.

    Returns:
      A 2-D :class:`Event`.

    Raises:
      ValueError: a length that is not a multiple of 5 bytes (truncated or
        foreign file), or events outside ``shape``.
    """
    where = "read_2d_spikes"
    r = _read_records(filename, 5, where, "2D spike")
    x, y = r[:, 0], r[:, 1]
    p = r[:, 2] >> 7
    t = ((r[:, 2] & 0x7F) << 16) | (r[:, 3] << 8) | r[:, 4]
    shape = _shape_arg(shape, 2, where)
    if shape is not None:
        _check_read_shape(where, [("y", y, shape[0]), ("x", x, shape[1])], shape)
    return Event(x, y, p, t / 1000.0)


def encode_2d_spikes(filename, event):
    """Writes a 2-D binary spike file (N-MNIST format; SLAYER's ``encode2Dspikes``).

    Format as :func:`read_2d_spikes`; ``t`` is written as ``round(t * 1000)``
    microseconds (SLAYER's conversion), so times on the 1 us grid round-trip
    exactly. SLAYER wraps out-of-range fields silently; spyxlike raises.

    Args:
      filename: path of the file (overwritten).
      event: a 2-D :class:`Event` with ``x, y < 256``, ``p`` in ``{0, 1}``,
        ``0 <= t <= 8388.607`` ms.

    Raises:
      ValueError: a 1-D event or a field out of its bit range (named).
    """
    where = "encode_2d_spikes"
    _check_event(event, where, 2)
    _check_range(where, "x", event.x, 8, "column")
    _check_range(where, "y", event.y, 8, "row")
    _check_range(where, "p", event.p, 1, "polarity")
    t = _time_us(event.t, where, "t", 23)
    rec = np.empty((len(event), 5), np.int64)
    rec[:, 0] = event.x
    rec[:, 1] = event.y
    rec[:, 2] = (event.p << 7) | ((t >> 16) & 0x7F)
    rec[:, 3] = (t >> 8) & 0xFF
    rec[:, 4] = t & 0xFF
    _write(filename, rec)


def read_3d_spikes(filename, shape=None):
    """Reads a 3-D (height, width, channel) binary spike file (SLAYER's ``read3Dspikes``).

    Format: 56-bit big-endian records, bits 55-44 ``x``, bits 43-32 ``y``,
    bits 31-24 channel (returned as ``p``), bits 23-0 timestamp in
    microseconds (24 bits, no polarity bit).

    Args:
      filename: path of the file.
      shape: optional ``(height, width, channels)``; events outside it are
        reported as corrupt content.

    Returns:
      A 2-D :class:`Event` whose ``p`` is the channel, ``t`` in ms.

    Raises:
      ValueError: a length that is not a multiple of 7 bytes, or events
        outside ``shape``.
    """
    where = "read_3d_spikes"
    r = _read_records(filename, 7, where, "3D spike")
    x = (r[:, 0] << 4) | (r[:, 1] >> 4)
    y = ((r[:, 1] & 0x0F) << 8) | r[:, 2]
    c = r[:, 3]
    t = (r[:, 4] << 16) | (r[:, 5] << 8) | r[:, 6]
    shape = _shape_arg(shape, 3, where)
    if shape is not None:
        _check_read_shape(where, [("y", y, shape[0]), ("x", x, shape[1]), ("p (channel)", c, shape[2])],
                          shape)
    return Event(x, y, c, t / 1000.0)


def encode_3d_spikes(filename, event):
    """Writes a 3-D binary spike file (SLAYER's ``encode3Dspikes``, documented layout).

    Format as :func:`read_3d_spikes`. SLAYER's writer refuses its own 2-D
    events and garbles ``y >= 256``; spyxlike writes the documented layout.

    Args:
      filename: path of the file (overwritten).
      event: a 2-D :class:`Event` with ``x, y < 4096``, channel ``p < 256``,
        ``0 <= t <= 16777.215`` ms.

    Raises:
      ValueError: a 1-D event or a field out of its bit range (named).
    """
    where = "encode_3d_spikes"
    _check_event(event, where, 2)
    _check_range(where, "x", event.x, 12, "column")
    _check_range(where, "y", event.y, 12, "row")
    _check_range(where, "p", event.p, 8, "channel")
    t = _time_us(event.t, where, "t", 24)
    rec = np.empty((len(event), 7), np.int64)
    rec[:, 0] = event.x >> 4
    rec[:, 1] = ((event.x & 0x0F) << 4) | (event.y >> 8)
    rec[:, 2] = event.y & 0xFF
    rec[:, 3] = event.p
    rec[:, 4] = (t >> 16) & 0xFF
    rec[:, 5] = (t >> 8) & 0xFF
    rec[:, 6] = t & 0xFF
    _write(filename, rec)


def read_1d_num_spikes(filename):
    """Reads a number-of-spikes file (SLAYER's ``read1DnumSpikes``).

    Format: 80-bit big-endian records, bits 79-64 neuron id, bits 63-40 region
    start in microseconds, bits 39-16 region end in microseconds, bits 15-0
    number of spikes.

    Args:
      filename: path of the file.

    Returns:
      ``(n_id, t_start, t_end, n_spikes)``: int64 arrays ``n_id``,
      ``n_spikes`` and float64 ``t_start``, ``t_end`` in ms (``us / 1000``).

    Raises:
      ValueError: a length that is not a multiple of 10 bytes, or a record
        whose region ends before it starts (corrupt content).
    """
    where = "read_1d_num_spikes"
    r = _read_records(filename, 10, where, "number-of-spikes")
    n_id = (r[:, 0] << 8) | r[:, 1]
    t_st = (r[:, 2] << 16) | (r[:, 3] << 8) | r[:, 4]
    t_en = (r[:, 5] << 16) | (r[:, 6] << 8) | r[:, 7]
    n_sp = (r[:, 8] << 8) | r[:, 9]
    bad = np.flatnonzero(t_en < t_st)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{where}: corrupt file: record {i} has t_end = {t_en[i]} us before "
                         f"t_start = {t_st[i]} us")
    return n_id, t_st / 1000.0, t_en / 1000.0, n_sp


def encode_1d_num_spikes(filename, n_id, t_start, t_end, n_spikes):
    """Writes a number-of-spikes file (SLAYER's ``encode1DnumSpikes``).

    Format as :func:`read_1d_num_spikes`; times given in ms are written as
    ``round(t * 1000)`` microseconds.

    Args:
      filename: path of the file (overwritten).
      n_id: neuron ids, integers in ``[0, 65535]``.
      t_start: region starts in ms, ``0 <= t_start <= 16777.215``.
      t_end: region ends in ms, ``t_start <= t_end <= 16777.215``.
      n_spikes: numbers of spikes, integers in ``[0, 65535]``.

    Raises:
      ValueError: arrays of different lengths, a field out of its range, or
        ``t_end < t_start`` (each named).
    """
    where = "encode_1d_num_spikes"
    n_id = _int_field("n_id", np.atleast_1d(n_id), where)
    n_sp = _int_field("n_spikes", np.atleast_1d(n_spikes), where)
    t_start = np.atleast_1d(np.asarray(t_start, np.float64))
    t_end = np.atleast_1d(np.asarray(t_end, np.float64))
    lengths = {"n_id": n_id.shape, "t_start": t_start.shape, "t_end": t_end.shape, "n_spikes": n_sp.shape}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"{where}: n_id, t_start, t_end and n_spikes must be 1-D of one length, got {lengths}")
    for name, arr in (("t_start", t_start), ("t_end", t_end)):
        if arr.size and not np.all(np.isfinite(arr)):
            raise ValueError(f"{where}: {name} must be finite")
    _check_range(where, "n_id", n_id, 16, "neuron id")
    _check_range(where, "n_spikes", n_sp, 16, "number of spikes")
    t_st = _time_us(t_start, where, "t_start", 24)
    t_en = _time_us(t_end, where, "t_end", 24)
    bad = np.flatnonzero(t_en < t_st)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{where}: t_end must be >= t_start; record {i} has t_start={t_start[i]} ms, "
                         f"t_end={t_end[i]} ms")
    rec = np.empty((n_id.shape[0], 10), np.int64)
    rec[:, 0], rec[:, 1] = n_id >> 8, n_id & 0xFF
    rec[:, 2], rec[:, 3], rec[:, 4] = (t_st >> 16) & 0xFF, (t_st >> 8) & 0xFF, t_st & 0xFF
    rec[:, 5], rec[:, 6], rec[:, 7] = (t_en >> 16) & 0xFF, (t_en >> 8) & 0xFF, t_en & 0xFF
    rec[:, 8], rec[:, 9] = n_sp >> 8, n_sp & 0xFF
    _write(filename, rec)
