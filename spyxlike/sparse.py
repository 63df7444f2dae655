"""Sparse spike workflows on :class:`~spyxlike.sparse_spikes.SparseSpikes` (Spyker's ``sparse`` namespace).

Spyker's ``spyker.sparse`` keeps single-spike activity as lists of events
and runs ``code``, ``conv``, ``pad``, ``pool``, ``inhibit``, ``convwta`` and
``gather`` on them without densifying. spyxlike does the same on the padded,
fixed-capacity :class:`SparseSpikes` container (batch-first, channels-last
events ``(batch, time, row, col, channel)``), so every op jits and vmaps.
Work grows with the number of events: ``conv`` touches ``kh*kw*Cout``
potentials per input event, ``pool`` ``ceil(kh/sh)*ceil(kw/sw)`` outputs per
event; no op loops over ``T x H x W``. Emitting ops return at most one event
per output neuron (its first spike), in canonical order
``(batch, time, row, col, channel)``.

Semantics follow Spyker 0.1.0 (checked against it with recorded fixtures):
cumulative spike-wave reading of events, strict ``potential > threshold``,
Expand2/Expand4 spellings of stride/padding (``(top, left, bottom, right)``).
Deliberate differences are listed per function. ``conv``, ``pool`` and
``gather`` have native C++ kernels (``impl="native"``); ``code``, ``pad``,
``inhibit`` and ``convwta`` are pure JAX.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.coding import rank_code
from spyxlike.expand import expand2, expand4
from spyxlike.ops import sparse_ops
from spyxlike.ops.dispatch import use_native
from spyxlike.sparse_spikes import SparseSpikes, _check_capacity, _is_tracer, _raise_overflow
from spyxlike.winners import Winners

__all__ = ["code", "conv", "pad", "pool", "inhibit", "convwta", "gather"]


def _check_spikes(fn: str, spikes, image: bool = True) -> SparseSpikes:
    if not isinstance(spikes, SparseSpikes):
        raise TypeError(f"{fn}: spikes must be a SparseSpikes container, got {type(spikes).__name__}")
    if image and len(spikes.shape) != 5:
        raise ValueError(f"{fn}: spikes must have an image layout (B, T, H, W, C), got shape {spikes.shape}")
    if spikes.events.ndim != 2:
        raise ValueError(
            f"{fn}: spikes.events must be (capacity, {len(spikes.shape)}); for stacks of "
            f"containers use jax.vmap, got events of shape {spikes.events.shape}"
        )
    return spikes


def _finish(fn: str, events, count, overflow, shape, upstream) -> SparseSpikes:
    """Wraps op outputs; adds the input's overflow; raises on a concrete overflow."""
    out = SparseSpikes(events, count, overflow + upstream, shape)
    if not _is_tracer(out.overflow):
        _raise_overflow(fn, out.overflow, out.capacity)
    return out


def code(x, time_steps: int, *, capacity=None, impl: str = "auto") -> SparseSpikes:
    """Rank-order coding of dense intensities straight into sparse events (Spyker's ``sparse.code``).

    Each positive input spikes once, at ``spyxlike.coding.rank_code`` time
    ``floor(r T / n)`` (``r`` inputs strictly greater, ``n`` positive inputs
    of the sample); zero/negative inputs never spike.

    Args:
      x: intensities ``(B, H, W, C)`` or ``(B, F)``.
      time_steps: ``T >= 1``.
      capacity: event slots (default ``x.size``, one per input).
      impl: implementation of the rank coding (see :func:`spyxlike.coding.rank_code`).

    Returns:
      SparseSpikes of dense shape ``(B, T, H, W, C)`` / ``(B, T, F)``.

    Raises:
      ValueError: ``x`` not 2-D/4-D, bad ``time_steps``/``capacity``, overflow.

    Differences from Spyker: Spyker's rank code gives equal inputs different
    bins and never lets a sample's minimum spike when it is positive;
    ``rank_code`` gives ties one bin and spikes every positive input (the two
    agree on tie-free inputs whose minimum is 0). Spyker's ``sort`` flag does
    not exist (spyxlike always sorts).
    """
    fn = "sparse.code"
    if not hasattr(x, "shape"):
        x = np.asarray(x)
    if x.ndim not in (2, 4):
        raise ValueError(f"{fn}: x must be (B, H, W, C) or (B, F), got shape {x.shape}")
    capacity = _check_capacity(fn, capacity, math.prod(x.shape))
    times = rank_code(x, time_steps, output="times", impl=impl)
    ev, count, overflow = sparse_ops.compact_times(times, time_steps, capacity)
    shape = (int(x.shape[0]), int(time_steps)) + tuple(int(d) for d in x.shape[1:])
    return _finish(fn, ev, count, overflow, shape, 0)


def conv(spikes: SparseSpikes, kernel, threshold, *, stride=1, padding=0, capacity=None,
         impl: str = "auto") -> SparseSpikes:
    r"""Dense kernels on sparse input with a firing threshold (Spyker's ``sparse.conv``).

    With input events read as cumulative spike-waves ``s`` (1 from the event
    on) and the input padded by ``padding``, the potential of output neuron
    ``(b, ro, co, o)`` at time ``t`` is

    .. math::

        V_t = \sum_{i,j,c} s_{b,t}[ro\,s_h + i - p_t,\ co\,s_w + j - p_l,\ c]\; K[i, j, c, o],

    and the neuron emits ONE event, at the first ``t`` with ``V_t > threshold``
    (strictly) among the time steps at or after the sample's first input
    event. For ``threshold >= 0`` this is exactly the dense
    ``conv + fire`` of the waves (first crossing); for a negative threshold
    Spyker's rule makes untouched neurons (``V = 0``) fire with the sample's
    first input event, and samples without events emit nothing.

    Args:
      spikes: input events, image layout ``(B, T, H, W, C)``.
      kernel: float ``(kh, kw, C, Cout)`` (HWIO).
      threshold: firing threshold (a Python/NumPy scalar).
      stride: int or ``(vertical, horizontal)``, ``>= 1``.
      padding: Expand4 padding: int, ``(vertical, horizontal)`` or
        ``(top, left, bottom, right)``.
      capacity: output event slots (default ``B*Ho*Wo*Cout``: never overflows).
      impl: ``"auto"``, ``"reference"`` or ``"native"``.

    Returns:
      SparseSpikes of shape ``(B, T, Ho, Wo, Cout)``; at most one event per neuron.

    Raises:
      TypeError: ``spikes`` not SparseSpikes, non-float kernel, non-scalar threshold.
      ValueError: bad kernel rank/channels, stride/padding, capacity, a kernel
        larger than the padded input, or an overflow (concrete outputs).

    Differences from Spyker: Spyker's sparse conv only supports stride 1;
    spyxlike supports any stride. If a neuron had several input events, each
    counts (the potential sums all events up to ``t``).
    """
    fn = "sparse.conv"
    spikes = _check_spikes(fn, spikes)
    if not hasattr(kernel, "shape"):
        kernel = np.asarray(kernel)
    if not jnp.issubdtype(kernel.dtype, jnp.floating):
        raise TypeError(f"{fn}: kernel must be a float array (kh, kw, C, Cout), got dtype {kernel.dtype}")
    batch, time_steps, height, width, channels = spikes.shape
    if kernel.ndim != 4 or kernel.shape[2] != channels:
        raise ValueError(
            f"{fn}: kernel must be (kh, kw, C={channels}, Cout), got shape {kernel.shape}"
        )
    if isinstance(threshold, bool) or np.ndim(threshold) != 0 or _is_tracer(threshold):
        raise TypeError(f"{fn}: threshold must be a Python/NumPy scalar, got {threshold!r}")
    threshold = float(threshold)
    stride = expand2(stride, f"{fn}: stride", minimum=1)
    padding = expand4(padding, f"{fn}: padding")
    kh, kw, _, cout = (int(d) for d in kernel.shape)
    if height + padding[0] + padding[2] < kh or width + padding[1] + padding[3] < kw:
        raise ValueError(
            f"{fn}: kernel {kh}x{kw} is larger than the padded input "
            f"{height + padding[0] + padding[2]}x{width + padding[1] + padding[3]}"
        )
    ho, wo = sparse_ops.conv_output_hw(height, width, (kh, kw), stride, padding)
    capacity = _check_capacity(fn, capacity, batch * ho * wo * cout)
    kernel = jnp.asarray(kernel, jnp.float32)
    if use_native(impl, fn):
        run = sparse_ops.sparse_conv_native
    else:
        run = sparse_ops.sparse_conv_reference
    ev, count, overflow = run(spikes.events, spikes.count, spikes.shape, kernel, threshold,
                              stride, padding, capacity)
    return _finish(fn, ev, count, overflow, (batch, time_steps, ho, wo, cout), spikes.overflow)


def pad(spikes: SparseSpikes, padding) -> SparseSpikes:
    """Spatial zero (no-spike) padding of sparse events (Spyker's ``sparse.pad``).

    Shifts every event by ``(top, left)`` and grows the dense shape to
    ``(B, T, H + top + bottom, W + left + right, C)``; padded neurons never
    spike. Events, count and capacity are kept.

    Args:
      spikes: image-layout events.
      padding: Expand4 padding: int, ``(vertical, horizontal)`` or ``(top, left, bottom, right)``.

    Returns:
      The padded SparseSpikes.

    Raises:
      TypeError: ``spikes`` not SparseSpikes or padding not integers.
      ValueError: bad padding.
    """
    fn = "sparse.pad"
    spikes = _check_spikes(fn, spikes)
    top, left, bottom, right = expand4(padding, f"{fn}: padding")
    b, t, h, w, c = spikes.shape
    shift = jnp.array([0, 0, top, left, 0], jnp.int32)
    ev = jnp.where(spikes.valid[:, None], spikes.events + shift, -1)
    return SparseSpikes(ev, spikes.count, spikes.overflow, (b, t, h + top + bottom, w + left + right, c))


def pool(spikes: SparseSpikes, kernel_size, stride=None, padding=0, *, capacity=None,
         impl: str = "auto") -> SparseSpikes:
    """Max pooling of spikes = earliest spike per window (Spyker's ``sparse.pool``).

    Output neuron ``(b, ro, co, c)`` spikes at the earliest event time of input
    neurons ``(b, ro*sh - top + i, co*sw - left + j, c)``, ``0 <= i < kh``,
    ``0 <= j < kw`` (padding never spikes); ``Ho = (H + top + bottom - kh) // sh + 1``.

    Args:
      spikes: image-layout events.
      kernel_size: int or ``(kh, kw)``.
      stride: int or ``(sh, sw)``; None (default) means ``kernel_size`` (Spyker).
      padding: Expand4 padding.
      capacity: output slots (default ``B*Ho*Wo*C``: never overflows).
      impl: ``"auto"``, ``"reference"`` or ``"native"``.

    Returns:
      SparseSpikes ``(B, T, Ho, Wo, C)``, one event per spiking output neuron.

    Raises:
      TypeError: ``spikes`` not SparseSpikes, non-integer sizes.
      ValueError: bad sizes/capacity, window larger than the padded input, overflow.

    Differences from Spyker: Spyker's sparse pool requires ``stride == kernel_size``;
    spyxlike allows any stride (overlapping windows).
    """
    fn = "sparse.pool"
    spikes = _check_spikes(fn, spikes)
    kernel_size = expand2(kernel_size, f"{fn}: kernel_size", minimum=1)
    stride = kernel_size if stride is None else expand2(stride, f"{fn}: stride", minimum=1)
    padding = expand4(padding, f"{fn}: padding")
    batch, time_steps, height, width, channels = spikes.shape
    if height + padding[0] + padding[2] < kernel_size[0] or width + padding[1] + padding[3] < kernel_size[1]:
        raise ValueError(f"{fn}: kernel_size {kernel_size} is larger than the padded input")
    ho, wo = sparse_ops.conv_output_hw(height, width, kernel_size, stride, padding)
    capacity = _check_capacity(fn, capacity, batch * ho * wo * channels)
    run = sparse_ops.sparse_pool_native if use_native(impl, fn) else sparse_ops.sparse_pool_reference
    ev, count, overflow = run(spikes.events, spikes.count, spikes.shape, kernel_size, stride,
                              padding, capacity)
    return _finish(fn, ev, count, overflow, (batch, time_steps, ho, wo, channels), spikes.overflow)


def _earliest_channel(times, time_steps):
    """Per position, the first channel with the earliest time; -1 where nothing spikes."""
    first = jnp.argmin(times, axis=-1).astype(jnp.int32)
    return jnp.where(jnp.min(times, axis=-1) < time_steps, first, -1)


def inhibit(spikes: SparseSpikes, *, capacity=None) -> SparseSpikes:
    """Pointwise lateral inhibition across channels (Spyker's ``sparse.inhibit``).

    At every position ``(b, row, col)`` only the channel that spikes first
    keeps its spike (ties: the lowest channel, as Spyker's sparse inhibit);
    all other channels at that position are silenced for the whole window.

    Args:
      spikes: image-layout events.
      capacity: output slots (default: the input capacity; the output never
        has more events than spiking neurons).

    Returns:
      SparseSpikes of the same dense shape, one event per surviving neuron.

    Raises:
      TypeError: ``spikes`` not SparseSpikes.
      ValueError: bad capacity, overflow.

    Differences: SpykeTorch's/Spyker's dense ``pointwise_inhibition`` break
    ties by the larger potential; sparse events carry no potentials, so ties
    go to the lowest channel (what Spyker's sparse inhibit does).
    """
    fn = "sparse.inhibit"
    spikes = _check_spikes(fn, spikes)
    capacity = _check_capacity(fn, capacity, spikes.capacity)
    time_steps = spikes.time_steps
    times = gather(spikes, impl="reference")
    winner = _earliest_channel(times, time_steps)
    keep = jnp.arange(times.shape[-1], dtype=jnp.int32) == winner[..., None]
    ev, count, overflow = sparse_ops.compact_times(jnp.where(keep, times, time_steps),
                                                   time_steps, capacity)
    return _finish(fn, ev, count, overflow, spikes.shape, spikes.overflow)


def convwta(spikes: SparseSpikes, radius, count: int) -> Winners:
    """Winner-take-all on sparse conv activity (Spyker's ``sparse.convwta``).

    Repeats ``count`` times per sample: the winner is the not yet inhibited
    neuron with the earliest spike; ties go to the lowest channel, then the
    lowest row, then the lowest column (Spyker's sparse order). The winner
    inhibits its whole feature map and every channel within ``radius`` of
    its position (``|row - r| <= rv and |col - c| <= rh``). Stops early when
    no spiking neuron is left.

    Args:
      spikes: image-layout events.
      radius: int or ``(vertical, horizontal)``, ``>= 0``.
      count: number of winners per sample, ``>= 1``.

    Returns:
      :class:`spyxlike.winners.Winners` ``(B, count)``; missing winners invalid.

    Raises:
      TypeError: ``spikes`` not SparseSpikes, non-integer ``count``.
      ValueError: bad ``radius`` or ``count``.

    Differences: Spyker returns ``List[List[Winner]]`` with the spike time;
    spyxlike returns fixed-size :class:`Winners` (use
    :func:`gather` for times). Dense SpykeTorch/Spyker WTA break ties by
    potential; sparse events have none.
    """
    fn = "sparse.convwta"
    spikes = _check_spikes(fn, spikes)
    rv, rh = expand2(radius, f"{fn}: radius")
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)):
        raise TypeError(f"{fn}: count must be an int, got {type(count).__name__}")
    if count < 1:
        raise ValueError(f"{fn}: count must be >= 1, got {count}")
    times = gather(spikes, impl="reference")
    items, ok = _convwta_select(times, spikes.time_steps, rv, rh, int(count))
    return Winners(items[..., 0], items[..., 1], items[..., 2], ok)


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def _convwta_select(times, time_steps, rv, rh, count):
    """Sequential WTA on spike times ``(B, H, W, C)``; returns items ``(B, count, 3)`` and valid."""
    _, height, width, channels = times.shape
    # Selection order (t, c, h, w): transpose to (B, C, H, W) so a flat argmin breaks ties right.
    key = jnp.transpose(times, (0, 3, 1, 2)).reshape(times.shape[0], -1)
    rows = jnp.arange(height, dtype=jnp.int32)
    cols = jnp.arange(width, dtype=jnp.int32)
    chans = jnp.arange(channels, dtype=jnp.int32)

    def one(sample_key):
        def pick(alive, _):
            masked = jnp.where(alive, sample_key, time_steps)
            best = jnp.argmin(masked).astype(jnp.int32)
            ok = masked[best] < time_steps
            f = best // (height * width)
            r = (best // width) % height
            c = best % width
            near = (jnp.abs(rows - r)[:, None] <= rv) & (jnp.abs(cols - c)[None, :] <= rh)
            dead = (chans == f)[:, None, None] | near[None]
            alive = jnp.where(ok, alive & ~dead.reshape(-1), alive)
            item = jnp.where(ok, jnp.stack([f, r, c]), -1)
            return alive, (item, ok)

        alive = jnp.ones(sample_key.shape, bool)
        _, (items, ok) = jax.lax.scan(pick, alive, None, length=count)
        return items, ok

    return jax.vmap(one)(key)


def gather(spikes: SparseSpikes, dtype=jnp.int32, *, out=None, impl: str = "auto"):
    """Sparse events -> dense spike times (Spyker's ``sparse.gather``).

    ``times[b, ...] = min(t for events (b, t, ...))``, ``T`` where a neuron has
    no event: the single-spike "gathered" frame Spyker returns.

    Args:
      spikes: events, image or flat layout.
      dtype: output dtype (Spyker's ``dtype`` string such as ``"u8"`` is not
        accepted; pass a NumPy/JAX dtype). Must hold ``T``.
      out: optional array whose dtype and shape the result takes (Spyker's
        preallocated output; JAX arrays are immutable, so a new array is
        returned). Overrides ``dtype``.
      impl: ``"auto"``, ``"reference"`` or ``"native"``.

    Returns:
      ``(B, H, W, C)`` or ``(B, F)`` spike times of ``dtype``.

    Raises:
      TypeError: ``spikes`` not SparseSpikes.
      ValueError: ``out`` of the wrong shape, or an integer ``dtype`` too small for ``T``.
    """
    fn = "sparse.gather"
    spikes = _check_spikes(fn, spikes, image=False)
    dense = (spikes.shape[0],) + tuple(spikes.shape[2:])
    if out is not None:
        if tuple(out.shape) != dense:
            raise ValueError(f"{fn}: out must have shape {dense}, got {tuple(out.shape)}")
        dtype = out.dtype
    dtype = jnp.dtype(dtype)
    if jnp.issubdtype(dtype, jnp.integer) and jnp.iinfo(dtype).max < spikes.time_steps:
        raise ValueError(f"{fn}: dtype {dtype} cannot hold T={spikes.time_steps}")
    if use_native(impl, fn):
        times = sparse_ops.sparse_gather_native(spikes.events, spikes.count, spikes.shape)
    else:
        times = sparse_ops.sparse_gather_reference(spikes.events, spikes.count, spikes.shape)
    return times.astype(dtype)
