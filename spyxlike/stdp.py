r"""STDP for single-spike conv and fully connected layers (SpykeTorch / Spyker).

For every winner ``(feature f, row r, col c)`` of the post-synaptic layer and
every weight ``W[ky, kx, ci, f]`` of that feature (HWIO kernel), the
pre-synaptic neuron is the input at ``(r*sh + ky - top, c*sw + kx - left, ci)``
(outside the input it never spiked) and

.. math::

    \Delta W = \begin{cases} a_{LTP}[f] & t_{pre} \le t_{post} \\
                             a_{LTD}[f] & \text{otherwise} \end{cases}
    \times (W - W_{LB})(W_{UB} - W) \text{ (if stabilised)},

then ``W`` is clamped to ``[W_LB, W_UB]``. Spike times are int32 in ``[0, T]``
with ``T`` meaning "no spike", so a missing pre-synaptic spike counts as
later than any post-synaptic spike (SpykeTorch compares accumulated
spike-wave latencies; Spyker the first non-zero step; both are this rule).

Batches: all winners of all samples see the same current weights, their
changes are summed and added once (``accumulate="sum"``, spyxlike's batch
rule; for batch 1 and one winner per feature it equals SpykeTorch's
``STDP.forward`` exactly), or they are applied one after another
(``accumulate="sequential"``, what Spyker 0.1.0's ``Conv.stdp`` does; see
:func:`stdp_spyker`).

Differences from the seeds (checked against Spyker 0.1.0 and SpykeTorch's code):

* SpykeTorch assigns ``lr[f]`` per winner, so with several winners in one
  feature the last one wins; spyxlike sums them (``"sum"``) or applies them
  in turn (``"sequential"``). SpykeTorch has no batch axis, stride or padding.
* SpykeTorch clamps the whole kernel after an update (so does ``"sum"``);
  Spyker clamps only the winner's feature after each winner (so does
  ``"sequential"``).
* Spyker takes the rates of a winner from ``stdpconfig[Winner.c]``;
  spyxlike takes one rate pair per feature (``learning_rates``) or, in
  :func:`stdp_spyker`, a ``config_index`` per winner slot.
* Spyker 0.1.0's ``FC.stdp`` ignores the output (it acts as if every
  post-synaptic time were 0) and reads the neuron from ``Winner.x`` while
  ``fcwta`` fills ``Winner.z``; :func:`stdp_fc` and :func:`stdp_spyker_fc`
  use the post-synaptic times and ``Winners.feature``.
* Spyker does not check winners and reads out of bounds for rows or columns
  outside the output; spyxlike raises for concrete winners and skips them
  when traced.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.expand import expand2, expand4
from spyxlike.ops import stdp as _ops
from spyxlike.ops.dispatch import check_impl, use_native
from spyxlike.stdp_config import STDPConfig, learning_rate_table
from spyxlike.winners import Winners

__all__ = [
    "get_pre_post_ordering",
    "stdp_conv",
    "stdp_fc",
    "stdp_spyker",
    "stdp_spyker_fc",
]

_ACCUMULATE = ("sum", "sequential")


# --------------------------------------------------------------------------- validation


def _is_concrete(*arrays) -> bool:
    return not any(isinstance(a, jax.core.Tracer) for a in arrays)


def _array(x):
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        x = np.asarray(x)
    return x


def _check_weights(weights, ndim: int, op: str, layout: str):
    weights = _array(weights)
    if not jnp.issubdtype(weights.dtype, jnp.floating):
        raise TypeError(f"{op}: weights must be a float array, got dtype {weights.dtype}")
    if weights.ndim != ndim:
        raise ValueError(f"{op}: weights must have shape {layout}, got shape {tuple(weights.shape)}")
    return jnp.asarray(weights, jnp.float32)


def _check_times(times, ndim: int, op: str, name: str, layout: str, time_steps):
    times = _array(times)
    if not jnp.issubdtype(times.dtype, jnp.integer):
        raise TypeError(f"{op}: {name} must be integer spike times, got dtype {times.dtype}")
    if times.ndim != ndim:
        raise ValueError(f"{op}: {name} must have shape {layout}, got shape {tuple(times.shape)}")
    if _is_concrete(times) and times.size:
        t = np.asarray(times)
        lo, hi = int(t.min()), int(t.max())
        if lo < 0:
            raise ValueError(f"{op}: {name} must be spike times >= 0, got minimum {lo}")
        if time_steps is not None and hi > time_steps:
            raise ValueError(
                f"{op}: {name} must be spike times in [0, time_steps={time_steps}] "
                f"(time_steps = no spike), got maximum {hi}"
            )
        if hi > np.iinfo(np.int32).max:
            raise ValueError(f"{op}: {name} must fit in int32, got maximum {hi}")
    return jnp.asarray(times, jnp.int32)


def _check_winners(winners, batch: int, op: str):
    if not isinstance(winners, Winners):
        if isinstance(winners, tuple) and len(winners) == 4:
            winners = Winners(*winners)
        else:
            raise TypeError(
                f"{op}: winners must be a spyxlike.winners.Winners, got {type(winners).__name__}"
            )
    arrays = [_array(a) for a in winners]
    shape = tuple(arrays[0].shape)
    for field, a in zip(Winners._fields, arrays):
        if tuple(a.shape) != shape or len(shape) != 2:
            raise ValueError(
                f"{op}: winners.{field} must have shape (batch, k) like winners.feature "
                f"{shape}, got {tuple(a.shape)}"
            )
        if field != "valid" and not jnp.issubdtype(a.dtype, jnp.integer):
            raise TypeError(f"{op}: winners.{field} must be integers, got dtype {a.dtype}")
    if shape[0] != batch:
        raise ValueError(
            f"{op}: winners must have one row per sample (batch {batch}), got shape {shape}"
        )
    feature, row, col, valid = arrays
    return (
        jnp.asarray(feature, jnp.int32),
        jnp.asarray(row, jnp.int32),
        jnp.asarray(col, jnp.int32),
        jnp.asarray(valid, bool),
    )


def _check_winner_range(feature, row, col, valid, cout, out_h, out_w, op: str):
    """Concrete winners: every valid slot must address a neuron of the layer."""
    if not _is_concrete(feature, row, col, valid):
        return
    f, r, c, v = (np.asarray(a) for a in (feature, row, col, valid))
    bad = v & ~((f >= 0) & (f < cout) & (r >= 0) & (r < out_h) & (c >= 0) & (c < out_w))
    if bad.any():
        b, s = np.argwhere(bad)[0]
        raise ValueError(
            f"{op}: winner {(int(f[b, s]), int(r[b, s]), int(c[b, s]))} (sample {b}, slot {s}) "
            f"lies outside the layer: feature must be in [0, {cout}), row in [0, {out_h}), "
            f"col in [0, {out_w})"
        )


def _check_bounds(lower, upper, op: str):
    for name, v in (("lower_bound", lower), ("upper_bound", upper)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"{op}: {name} must be a number, got {v!r}")
    if not float(lower) < float(upper):
        raise ValueError(
            f"{op}: lower_bound must be < upper_bound, got lower_bound={lower}, upper_bound={upper}"
        )
    return float(lower), float(upper)


def _check_time_steps(time_steps, op: str):
    if time_steps is None:
        return None
    if isinstance(time_steps, bool) or not isinstance(time_steps, (int, np.integer)):
        raise TypeError(f"{op}: time_steps must be an int or None, got {time_steps!r}")
    if not 1 <= time_steps < 2**31 - 1:
        raise ValueError(f"{op}: time_steps must be >= 1, got {time_steps}")
    return int(time_steps)


def conv_output_size(size: int, kernel: int, stride: int, pad_before: int, pad_after: int) -> int:
    """Output length of a convolution (0 or less when the kernel does not fit)."""
    return (size + pad_before + pad_after - kernel) // stride + 1


class _ConvProblem:
    """Validated and normalised arguments of one conv STDP call."""

    def __init__(self, op, weights, pre_times, post_times, winners, stride, padding,
                 lower_bound, upper_bound, time_steps, accumulate, impl):
        self.impl = check_impl(impl, op, has_pallas=True)
        if accumulate not in _ACCUMULATE:
            raise ValueError(f"{op}: accumulate must be one of {_ACCUMULATE}, got {accumulate!r}")
        self.sequential = accumulate == "sequential"
        self.time_steps = _check_time_steps(time_steps, op)
        self.lower, self.upper = _check_bounds(lower_bound, upper_bound, op)
        self.stride = expand2(stride, f"{op}: stride", minimum=1)
        self.pad = expand4(padding, f"{op}: padding")
        self.weights = _check_weights(weights, 4, op, "(kh, kw, Cin, Cout)")
        kh, kw, cin, cout = self.weights.shape
        self.pre = _check_times(pre_times, 4, op, "pre_times", "(B, H, W, Cin)", self.time_steps)
        self.post = _check_times(post_times, 4, op, "post_times", "(B, Ho, Wo, Cout)", self.time_steps)
        batch, height, width, pre_cin = self.pre.shape
        if pre_cin != cin:
            raise ValueError(
                f"{op}: pre_times has {pre_cin} input channels, weights expect Cin={cin}"
            )
        top, left, bottom, right = self.pad
        out_h = conv_output_size(height, kh, self.stride[0], top, bottom)
        out_w = conv_output_size(width, kw, self.stride[1], left, right)
        if out_h < 1 or out_w < 1:
            raise ValueError(
                f"{op}: kernel {kh}x{kw} is larger than the padded input "
                f"{height + top + bottom}x{width + left + right}"
            )
        expected = (batch, out_h, out_w, cout)
        if tuple(self.post.shape) != expected:
            raise ValueError(
                f"{op}: post_times must have shape (B, Ho, Wo, Cout) = {expected} for this "
                f"input, kernel, stride and padding, got {tuple(self.post.shape)}"
            )
        feature, row, col, valid = _check_winners(winners, batch, op)
        _check_winner_range(feature, row, col, valid, cout, out_h, out_w, op)
        self.feature, self.row, self.col, self.valid = feature, row, col, valid
        self.pad_time = int(_ops.NEVER) if self.time_steps is None else self.time_steps
        self.op = op

    @property
    def cout(self) -> int:
        return int(self.weights.shape[-1])

    def run(self, tables, stabilize: bool, rate_index=None):
        """New weights; ``tables`` ``(R, Cout, 2)``, ``rate_index`` ``(B, k)`` (None: table 0)."""
        kwargs = dict(
            stride=self.stride, pad=self.pad, pad_time=self.pad_time, stabilize=bool(stabilize),
            lower=self.lower, upper=self.upper, sequential=self.sequential,
        )
        if rate_index is None:
            rate_index = jnp.zeros((0,), jnp.int32)
        args = (self.weights, self.pre, self.post, self.feature, self.row, self.col, self.valid,
                jnp.asarray(rate_index, jnp.int32), jnp.asarray(tables, jnp.float32))
        if self.impl == "pallas":
            from spyxlike.ops.pallas.stdp import stdp_conv_pallas

            return stdp_conv_pallas(*args, **kwargs)
        if use_native(self.impl, self.op):
            return _ops.stdp_conv_native(*args, **kwargs)
        return _ops.stdp_conv_reference(*args, **kwargs)


def _fc_as_conv(op, weights, pre_times, post_times, winners):
    """FC arrays viewed as a 1x1 convolution on a 1x1 image (winner row/col set to 0)."""
    weights = _check_weights(weights, 2, op, "(Fin, Fout)")
    viewed = []
    for name, t, layout in (("pre_times", pre_times, "(B, Fin)"),
                            ("post_times", post_times, "(B, Fout)")):
        t = _array(t)
        if t.ndim != 2:
            raise ValueError(f"{op}: {name} must have shape {layout}, got shape {tuple(t.shape)}")
        viewed.append(t[:, None, None, :])
    if not isinstance(winners, (Winners, tuple)) or len(winners) != 4:
        raise TypeError(
            f"{op}: winners must be a spyxlike.winners.Winners, got {type(winners).__name__}"
        )
    winners = Winners(*winners)
    zeros = jnp.zeros(np.shape(winners.feature), jnp.int32)
    return weights[None, None], viewed[0], viewed[1], Winners(winners.feature, zeros, zeros,
                                                              winners.valid)


# --------------------------------------------------------------------------- public API


def get_pre_post_ordering(input_spikes, output_spikes, winners, kernel_size, stride=1, padding=0):
    """SpykeTorch's ``STDP.get_pre_post_ordering`` on batched spike-waves.

    Like SpykeTorch, the latency of a neuron is the number of steps its
    spike-wave is non-zero (``sum`` over time), and a synapse is
    "pre-then-post (or concurrent)" when the input latency is ``>=`` the
    winner's output latency. For cumulative 0/1 waves this is
    ``t_pre <= t_post`` on spike times. Inputs outside the image (padding)
    have latency 0 (never spiked).

    Args:
      input_spikes: input spike-waves ``(B, T, H, W, Cin)``.
      output_spikes: output spike-waves ``(B, T, Ho, Wo, Cout)``.
      winners: :class:`spyxlike.winners.Winners` with ``(B, k)`` fields.
      kernel_size: ``(kh, kw)`` or an int (Spyker's Expand2).
      stride: conv stride (int or pair).
      padding: conv padding (int, ``(vertical, horizontal)`` or ``(top, left, bottom, right)``).

    Returns:
      bool ``(B, k, kh, kw, Cin)``: True for LTP (pre not later than post);
      False for LTD and for unused or out-of-layer winner slots.

    Raises:
      ValueError: wrong ranks or shapes.
      TypeError: winners of the wrong type.
    """
    op = "get_pre_post_ordering"
    kh, kw = expand2(kernel_size, f"{op}: kernel_size", minimum=1)
    stride = expand2(stride, f"{op}: stride", minimum=1)
    pad = expand4(padding, f"{op}: padding")
    input_spikes = jnp.asarray(_array(input_spikes))
    output_spikes = jnp.asarray(_array(output_spikes))
    if input_spikes.ndim != 5:
        raise ValueError(f"{op}: input_spikes must be (B, T, H, W, Cin), got shape {input_spikes.shape}")
    if output_spikes.ndim != 5:
        raise ValueError(
            f"{op}: output_spikes must be (B, T, Ho, Wo, Cout), got shape {output_spikes.shape}"
        )
    batch = input_spikes.shape[0]
    if output_spikes.shape[0] != batch:
        raise ValueError(f"{op}: input_spikes and output_spikes batch sizes differ")
    feature, row, col, valid = _check_winners(winners, batch, op)
    in_lat = jnp.sum(input_spikes != 0, axis=1, dtype=jnp.int32)
    out_lat = jnp.sum(output_spikes != 0, axis=1, dtype=jnp.int32)
    _, ho, wo, cout = out_lat.shape
    mask = valid & _ops.winner_mask(feature, row, col, cout, ho, wo)
    patches = _ops.winner_patches(in_lat, row, col, (kh, kw), stride, pad, 0)
    post = _ops.winner_post_times(out_lat, feature, row, col)
    ordering = patches >= post[:, :, None, None, None]
    return ordering & mask[:, :, None, None, None]


def stdp_conv(weights, pre_times, post_times, winners, learning_rates, *, stride=1, padding=0,
              use_stabilizer=True, lower_bound=0.0, upper_bound=1.0, time_steps=None,
              accumulate="sum", impl="auto"):
    """STDP update of a conv layer's HWIO kernel from spike times (SpykeTorch's ``STDP``).

    See the module docstring for the rule. Returns new weights; nothing is
    changed in place.

    Args:
      weights: float ``(kh, kw, Cin, Cout)`` kernel.
      pre_times: int ``(B, H, W, Cin)`` input spike times in ``[0, T]`` (``T`` = no spike).
      post_times: int ``(B, Ho, Wo, Cout)`` output spike times of the same layer.
      winners: :class:`spyxlike.winners.Winners`, ``(B, k)`` fields; slots
        with ``valid=False`` are ignored.
      learning_rates: an ``(a_LTP, a_LTD)`` pair for every feature or ``Cout``
        pairs (``(Cout, 2)``); ``a_LTD`` is added as given (negative to depress).
      stride: int or ``(sh, sw)`` (Spyker's Expand2).
      padding: int, ``(vertical, horizontal)`` or ``(top, left, bottom, right)``.
      use_stabilizer: multiply the change by ``(W - lower_bound)(upper_bound - W)``.
      lower_bound: lower weight bound ``W_LB``.
      upper_bound: upper weight bound ``W_UB``.
      time_steps: ``T``; when given, concrete times are checked to lie in
        ``[0, T]`` and padding spikes at ``T`` (like Spyker's zero padding, so a
        winner with ``t_post = T`` potentiates padded synapses); when None,
        padding never spikes (always LTD).
      accumulate: ``"sum"`` (all winners from the same weights, summed, one
        clamp of the whole kernel) or ``"sequential"`` (winners applied one
        after another in (sample, slot) order, Spyker 0.1.0).
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      float32 ``(kh, kw, Cin, Cout)`` new weights.

    Raises:
      ValueError: wrong ranks/shapes, ``learning_rates`` of the wrong count,
        ``lower_bound >= upper_bound``, kernel larger than the padded input,
        concrete times ``< 0`` or ``> time_steps``, concrete valid winners
        outside the layer.
      TypeError: wrong dtypes or argument types.
    """
    op = "stdp_conv"
    p = _ConvProblem(op, weights, pre_times, post_times, winners, stride, padding,
                     lower_bound, upper_bound, time_steps, accumulate, impl)
    table = learning_rate_table(learning_rates, p.cout, f"{op}: learning_rates")
    return p.run(table[None], use_stabilizer)


def stdp_fc(weights, pre_times, post_times, winners, learning_rates, *, use_stabilizer=True,
            lower_bound=0.0, upper_bound=1.0, time_steps=None, accumulate="sum", impl="auto"):
    """STDP update of a fully connected layer ``(Fin, Fout)``; the winner's feature is the output neuron.

    The rule of :func:`stdp_conv` with a 1x1 kernel on a 1x1 image: for a
    winner ``j`` of sample ``b``, ``W[i, j]`` changes by ``a_LTP[j]`` if
    ``pre_times[b, i] <= post_times[b, j]`` else ``a_LTD[j]`` (times the
    stabiliser), then the weights are clamped.

    Args:
      weights: float ``(Fin, Fout)``.
      pre_times: int ``(B, Fin)`` input spike times in ``[0, T]``.
      post_times: int ``(B, Fout)`` output spike times.
      winners: :class:`spyxlike.winners.Winners`; ``feature`` is the output
        neuron, ``row``/``col`` are ignored.
      learning_rates: one ``(a_LTP, a_LTD)`` pair or ``Fout`` pairs.
      use_stabilizer: multiply by ``(W - lower_bound)(upper_bound - W)``.
      lower_bound: lower weight bound.
      upper_bound: upper weight bound.
      time_steps: ``T``, to check concrete times against (optional).
      accumulate: ``"sum"`` or ``"sequential"`` (see :func:`stdp_conv`).
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      float32 ``(Fin, Fout)`` new weights.

    Raises:
      ValueError: as :func:`stdp_conv`.
      TypeError: as :func:`stdp_conv`.
    """
    op = "stdp_fc"
    w, pre, post, win = _fc_as_conv(op, weights, pre_times, post_times, winners)
    p = _ConvProblem(op, w, pre, post, win, 1, 0, lower_bound, upper_bound, time_steps,
                     accumulate, impl)
    table = learning_rate_table(learning_rates, p.cout, f"{op}: learning_rates")
    return p.run(table[None], use_stabilizer)[0, 0]


def _spyker_configs(config, op: str):
    configs = [config] if isinstance(config, STDPConfig) else list(config)
    if not configs or not all(isinstance(c, STDPConfig) for c in configs):
        raise TypeError(f"{op}: config must be an STDPConfig or a non-empty list of them")
    first = configs[0]
    for c in configs[1:]:
        if (bool(c.stabilize), float(c.lower), float(c.upper)) != (
            bool(first.stabilize), float(first.lower), float(first.upper)
        ):
            raise ValueError(
                f"{op}: all configs must share stabilize, lower and upper (spyxlike applies "
                f"one stabiliser and one weight range per call), got {first} and {c}"
            )
    return configs


def _spyker_tables(p: _ConvProblem, configs, config_index, op: str):
    """``(len(configs), Cout, 2)`` tables and the ``(B, k)`` config of each winner (or None)."""
    pairs = np.asarray([[c.positive, c.negative] for c in configs], np.float32)
    tables = np.broadcast_to(pairs[:, None, :], (len(configs), p.cout, 2))
    if config_index is None:
        return tables, None
    shape = tuple(p.feature.shape)
    index = _array(config_index)
    if tuple(index.shape) != shape or not jnp.issubdtype(index.dtype, jnp.integer):
        raise ValueError(
            f"{op}: config_index must be integers of shape {shape} (one per winner slot), "
            f"got {index.dtype} {tuple(index.shape)}"
        )
    if _is_concrete(index, p.valid) and index.size:
        used = np.asarray(index)[np.asarray(p.valid)]
        if used.size and (used.min() < 0 or used.max() >= len(configs)):
            raise ValueError(
                f"{op}: config_index must be in [0, {len(configs)}), got values in "
                f"[{used.min()}, {used.max()}]"
            )
    return tables, index


def stdp_spyker(weights, pre_times, post_times, winners, config, *, config_index=None, stride=1,
                padding=0, time_steps=None, impl="auto"):
    """Spyker's ``Conv.stdp``: winners applied one after another with their ``STDPConfig``.

    Spyker 0.1.0 (checked against it, see ``tests/fixtures/record_spyker_stdp.py``):
    the pre- and post-synaptic times are the first non-zero step of the
    input and output waves (``T`` if none), LTP iff ``t_pre <= t_post``,
    padding never spikes (time ``T``), ``negative`` is added as given, and the
    winners of all samples are applied *sequentially* in (sample, slot)
    order, each update using the weights left by the previous one and
    clamping the winner's feature after it. ``Winner.c`` selects the config
    in Spyker; here ``config_index``.

    Args:
      weights: float ``(kh, kw, Cin, Cout)`` kernel (Spyker's ``(Cout, Cin, kh, kw)`` transposed).
      pre_times: int ``(B, H, W, Cin)`` input spike times.
      post_times: int ``(B, Ho, Wo, Cout)`` output spike times.
      winners: :class:`spyxlike.winners.Winners` (Spyker's ``Winner.z/y/x``).
      config: an :class:`STDPConfig` or a list of them sharing
        ``stabilize``, ``lower`` and ``upper``.
      config_index: optional int ``(B, k)``: the config of each winner
        (Spyker's ``Winner.c``); 0 when None.
      stride: int or pair.
      padding: int, pair or ``(top, left, bottom, right)``.
      time_steps: ``T``; padding spikes at ``T`` when given (Spyker's zero padding).
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      float32 ``(kh, kw, Cin, Cout)`` new weights.

    Raises:
      ValueError: as :func:`stdp_conv`, plus configs with different bounds or
        a ``config_index`` out of range.
      TypeError: ``config`` is not an STDPConfig (list).
    """
    op = "stdp_spyker"
    configs = _spyker_configs(config, op)
    c = configs[0]
    p = _ConvProblem(op, weights, pre_times, post_times, winners, stride, padding,
                     c.lower, c.upper, time_steps, "sequential", impl)
    tables, index = _spyker_tables(p, configs, config_index, op)
    return p.run(tables, c.stabilize, index)


def stdp_spyker_fc(weights, pre_times, post_times, winners, config, *, config_index=None,
                   time_steps=None, impl="auto"):
    """Spyker's ``FC.stdp`` rule on ``(Fin, Fout)`` weights: sequential winners, per-winner config.

    The documented rule (post times used). Spyker 0.1.0's own ``FC.stdp``
    ignores the output: it potentiates exactly the inputs that spiked at step
    0, i.e. it behaves like this function with ``post_times`` all 0, and it
    reads the neuron from ``Winner.x`` while ``fcwta`` reports it in
    ``Winner.z``.

    Args:
      weights: float ``(Fin, Fout)`` (Spyker's ``(Fout, Fin)`` kernel transposed).
      pre_times: int ``(B, Fin)`` input spike times.
      post_times: int ``(B, Fout)`` output spike times.
      winners: :class:`spyxlike.winners.Winners`; ``feature`` is the output neuron.
      config: an :class:`STDPConfig` or a list of them sharing the bounds.
      config_index: optional int ``(B, k)`` config of each winner.
      time_steps: ``T``, to check concrete times against (optional).
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      float32 ``(Fin, Fout)`` new weights.

    Raises:
      ValueError: as :func:`stdp_spyker`.
      TypeError: as :func:`stdp_spyker`.
    """
    op = "stdp_spyker_fc"
    configs = _spyker_configs(config, op)
    c = configs[0]
    w, pre, post, win = _fc_as_conv(op, weights, pre_times, post_times, winners)
    p = _ConvProblem(op, w, pre, post, win, 1, 0, c.lower, c.upper, time_steps, "sequential", impl)
    tables, index = _spyker_tables(p, configs, config_index, op)
    return p.run(tables, c.stabilize, index)[0, 0]
