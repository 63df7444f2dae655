"""Event-driven conv/FC + fire and earliest-spike pooling for single-spike networks.

In rank-order (single-spike) networks every input spikes at most once, so a
layer can work on spike *times* (int32, ``T`` = no spike) instead of
cumulative spike-waves ``(B, T, ...)``. :func:`conv_fire` and :func:`fc_fire`
compute exactly what SpykeTorch's dense ``conv`` over all time steps followed
by ``fire`` computes, and return the output spike times; :func:`pool_times`
is max pooling of spike-waves on times (earliest spike wins).

The native kernel adds each input spike's kernel weights once, in time order,
and records each output's first threshold crossing: about ``T`` times fewer
multiply-adds than the dense formulation.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from spyxlike.expand import expand2, expand4
from spyxlike.ops.dispatch import check_impl, use_native
from spyxlike.ops.event_conv import conv_fire_native, conv_fire_reference

__all__ = [
    "conv_fire", "conv_fire_pointwise", "conv_fire_winners", "fc_fire", "pool_times",
    "winner_time_map",
]

# pool_times windows up to this many entries are a minimum of strided slices
_UNROLLED_WINDOW = 16


def _check_time_steps(fn: str, time_steps) -> int:
    if isinstance(time_steps, bool) or not isinstance(time_steps, (int, np.integer)):
        raise TypeError(f"{fn}: time_steps must be an int, got {type(time_steps).__name__}")
    if time_steps < 1:
        raise ValueError(f"{fn}: time_steps must be >= 1, got {time_steps}")
    if time_steps > 2**30:
        raise ValueError(f"{fn}: time_steps must be <= 2**30, got {time_steps}")
    return int(time_steps)


def _as_array(fn: str, name: str, value):
    if not hasattr(value, "shape") or not hasattr(value, "dtype"):
        try:
            value = np.asarray(value)
        except Exception as err:  # ragged lists and the like
            raise TypeError(f"{fn}: {name} must be an array, got {type(value).__name__}") from err
    return value


def _check_times(fn: str, name: str, times, ndim: int, layout: str, time_steps=None):
    times = _as_array(fn, name, times)
    if not jnp.issubdtype(times.dtype, jnp.integer):
        raise TypeError(f"{fn}: {name} must be integer spike times, got dtype {times.dtype}")
    if times.ndim != ndim:
        raise ValueError(f"{fn}: {name} must be {layout}, got shape {tuple(times.shape)}")
    if time_steps is not None and not isinstance(times, jax.core.Tracer) and times.size:
        arr = np.asarray(times)
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > time_steps:
            raise ValueError(
                f"{fn}: {name} must lie in [0, time_steps] = [0, {time_steps}] "
                f"(time_steps = no spike), got values in [{lo}, {hi}]"
            )
    return jnp.asarray(times, jnp.int32)


def _check_threshold(fn: str, threshold):
    if isinstance(threshold, bool):
        raise TypeError(f"{fn}: threshold must be a real scalar, got bool")
    threshold = _as_array(fn, "threshold", threshold)
    if threshold.ndim != 0:
        raise ValueError(f"{fn}: threshold must be a scalar, got shape {tuple(threshold.shape)}")
    if not (jnp.issubdtype(threshold.dtype, jnp.floating)
            or jnp.issubdtype(threshold.dtype, jnp.integer)):
        raise TypeError(f"{fn}: threshold must be a real scalar, got dtype {threshold.dtype}")
    if not isinstance(threshold, jax.core.Tracer) and not np.isfinite(float(threshold)):
        raise ValueError(f"{fn}: threshold must be finite, got {float(threshold)}")
    return jnp.asarray(threshold, jnp.float32)


def _check_weights(fn: str, name: str, weights, ndim: int, layout: str):
    weights = _as_array(fn, name, weights)
    if not (jnp.issubdtype(weights.dtype, jnp.floating)
            or jnp.issubdtype(weights.dtype, jnp.integer)):
        raise TypeError(f"{fn}: {name} must be a real array, got dtype {weights.dtype}")
    if weights.ndim != ndim:
        raise ValueError(f"{fn}: {name} must be {layout}, got shape {tuple(weights.shape)}")
    return jnp.asarray(weights, jnp.float32)


def _dispatch(fn: str, impl: str, pre_times, kernel, threshold, time_steps, stride, padding,
              with_final: bool, with_fire: bool = True):
    impl = check_impl(impl, fn, has_pallas=True)
    if impl == "pallas":
        from spyxlike.ops.pallas.event_conv import conv_fire_pallas

        return conv_fire_pallas(pre_times, kernel, threshold, time_steps, stride, padding,
                                with_final)
    if use_native(impl, fn):
        # the native kernel skips the fire potentials entirely when unwanted
        return conv_fire_native(pre_times, kernel, threshold, time_steps, stride, padding,
                                with_final, with_fire=with_fire)
    return conv_fire_reference(pre_times, kernel, threshold, time_steps, stride, padding,
                               with_final)


def _check_flag(fn: str, name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{fn}: {name} must be a bool, got {type(value).__name__}")
    return bool(value)


def _result(post, fire, final, return_final: bool, return_potentials: bool = True):
    """``post`` alone, or the tuple of post and the requested potentials."""
    out = (post,) + ((fire,) if return_potentials else ()) + ((final,) if return_final else ())
    return out if len(out) > 1 else post


def _check_conv(fn: str, pre_times, kernel, threshold, time_steps, stride, padding):
    """Validated ``(pre_times, kernel, threshold, time_steps, stride, padding)`` of a conv layer."""
    time_steps = _check_time_steps(fn, time_steps)
    pre_times = _check_times(fn, "pre_times", pre_times, 4, "(B, H, W, Cin)", time_steps)
    kernel = _check_weights(fn, "kernel", kernel, 4, "(kh, kw, Cin, Cout) (HWIO)")
    threshold = _check_threshold(fn, threshold)
    stride = expand2(stride, f"{fn}: stride", minimum=1)
    padding = expand4(padding, f"{fn}: padding")
    _, height, width, cin = pre_times.shape
    kh, kw, kcin, _ = kernel.shape
    if kcin != cin:
        raise ValueError(
            f"{fn}: kernel Cin must equal pre_times Cin = {cin}, got kernel shape "
            f"{tuple(kernel.shape)}"
        )
    if kh < 1 or kw < 1:
        raise ValueError(f"{fn}: kernel window must be at least 1x1, got {kh}x{kw}")
    top, left, bottom, right = padding
    if height + top + bottom < kh or width + left + right < kw:
        raise ValueError(
            f"{fn}: kernel {kh}x{kw} is larger than the padded input "
            f"{height + top + bottom}x{width + left + right}"
        )
    return pre_times, kernel, threshold, time_steps, stride, padding


def conv_fire(pre_times, kernel, threshold, time_steps: int, *, stride=1, padding=0,
              return_final: bool = False, return_potentials: bool = True,
              impl: str = "auto"):
    r"""Convolution of single-spike inputs followed by fire, on spike times.

    With the cumulative spike-wave ``s[b, t, y, x, c] = 1`` iff
    ``pre_times[b, y, x, c] <= t`` (SpykeTorch's convention), the potentials are
    SpykeTorch's/Spyker's convolution at every time step,

    .. math::

        V[b, t, i, j, f] = \sum_{k_y, k_x, c} K[k_y, k_x, c, f]\,
            s[b, t, i s_h + k_y - p_{top}, j s_w + k_x - p_{left}, c]

    (zero padding; padded inputs never spike), and each output neuron fires at
    its first threshold crossing,

    .. math::

        t^{post}[b, i, j, f] = \min\{t : V[b, t, i, j, f] > \theta\}
        \quad (T \text{ if there is none}),

    SpykeTorch's ``fire``: a potential equal to the threshold does not fire.
    The result equals SpykeTorch's ``conv2d`` over the spike-wave followed by
    ``fire(potentials, threshold, return_thresholded_potentials=True)``, read
    as spike times (``waves_to_times``) and the potential at the spike. Inputs
    must spike at most once (times, not waves), which is what rank-order
    coding and these layers produce.

    ``impl="native"`` (the default on the CPU) is event-driven: it adds each
    input spike's kernel slice once in time order and tests only the outputs
    that changed, about ``T`` times fewer multiply-adds than the dense
    reference. All implementations agree exactly on the times up to float
    summation order (a potential within rounding of the threshold may cross
    one step apart).

    Args:
      pre_times: int spike times ``(B, H, W, Cin)`` in ``[0, T]``, ``T`` = no spike.
      kernel: HWIO weights ``(kh, kw, Cin, Cout)`` (computed in float32).
      threshold: firing threshold, a finite real scalar (may be traced).
      time_steps: number of time steps ``T >= 1``.
      stride: Spyker ``Expand2``: an int or ``(vertical, horizontal)``, >= 1.
      padding: Spyker ``Expand4``: an int, ``(vertical, horizontal)`` or
        ``(top, left, bottom, right)``, >= 0.
      return_final: also return the potentials at ``t = T - 1`` (the read-out
        features of SpykeTorch pipelines).
      return_potentials: return the potentials at the spikes (SpykeTorch's
        ``return_thresholded_potentials``; default True). With False the
        native kernel does not compute them at all, which saves a third of
        its output traffic when only the spike times are needed.
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      ``(post_times, fire_potentials)``, or ``(post_times, fire_potentials,
      final_potentials)`` with ``return_final``: int32 spike times
      ``(B, Ho, Wo, Cout)`` in ``[0, T]``, float32 potentials at the spike
      (0 where there is none) and float32 potentials at ``T - 1``, where
      ``Ho = (H + top + bottom - kh) // sh + 1`` and likewise ``Wo``. With
      ``return_potentials=False`` the fire potentials are left out:
      ``post_times`` alone, or ``(post_times, final_potentials)``.

    Raises:
      TypeError: non-integer ``pre_times`` or ``time_steps``, non-real
        ``kernel`` or ``threshold``, non-integer stride or padding entries.
      ValueError: wrong ranks, ``Cin`` mismatch, kernel larger than the padded
        input, ``time_steps < 1``, a non-finite or non-scalar ``threshold``,
        ``pre_times`` outside ``[0, T]`` (checked for concrete inputs; inside
        ``jit`` the native kernel raises at run time and the reference treats
        negative times as 0), bad ``stride``/``padding`` or ``impl``.
    """
    fn = "conv_fire"
    return_final = _check_flag(fn, "return_final", return_final)
    return_potentials = _check_flag(fn, "return_potentials", return_potentials)
    pre_times, kernel, threshold, time_steps, stride, padding = _check_conv(
        fn, pre_times, kernel, threshold, time_steps, stride, padding)
    post, fire, final = _dispatch(fn, impl, pre_times, kernel, threshold, time_steps, stride,
                                  padding, return_final, return_potentials)
    return _result(post, fire, final, return_final, return_potentials)


def fc_fire(pre_times, weights, threshold, time_steps: int, *, return_final: bool = False,
            return_potentials: bool = True, impl: str = "auto"):
    r"""Fully connected layer of single-spike inputs followed by fire, on spike times.

    ``V[b, t, o] = sum_i W[i, o] [pre_times[b, i] <= t]`` (SpykeTorch's dense
    ``fc`` of the cumulative spike-wave at every step) and
    ``post_times[b, o] = min{t : V[b, t, o] > threshold}`` (``T`` if none),
    as :func:`conv_fire` with a 1x1 image.

    Args:
      pre_times: int spike times ``(B, Fin)`` in ``[0, T]``, ``T`` = no spike.
      weights: ``(Fin, Fout)`` (computed in float32).
      threshold: firing threshold, a finite real scalar (may be traced).
      time_steps: number of time steps ``T >= 1``.
      return_final: also return the potentials at ``t = T - 1``.
      return_potentials: return the potentials at the spikes (default True;
        False leaves them out, as in :func:`conv_fire`).
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      ``(post_times, fire_potentials)`` or, with ``return_final``, also the
      final potentials; each ``(B, Fout)`` (int32, float32, float32). With
      ``return_potentials=False``: ``post_times`` or ``(post_times,
      final_potentials)``.

    Raises:
      TypeError: non-integer ``pre_times`` or ``time_steps``, non-real
        ``weights`` or ``threshold``.
      ValueError: wrong ranks, ``Fin`` mismatch, ``time_steps < 1``, a
        non-finite ``threshold``, ``pre_times`` outside ``[0, T]`` (when
        concrete), bad ``impl``.
    """
    fn = "fc_fire"
    return_final = _check_flag(fn, "return_final", return_final)
    return_potentials = _check_flag(fn, "return_potentials", return_potentials)
    time_steps = _check_time_steps(fn, time_steps)
    pre_times = _check_times(fn, "pre_times", pre_times, 2, "(B, Fin)", time_steps)
    weights = _check_weights(fn, "weights", weights, 2, "(Fin, Fout)")
    threshold = _check_threshold(fn, threshold)
    batch, fin = pre_times.shape
    if weights.shape[0] != fin:
        raise ValueError(
            f"{fn}: weights must be (Fin, Fout) with Fin = {fin}, got shape {tuple(weights.shape)}"
        )
    fout = weights.shape[1]
    post, fire, final = _dispatch(
        fn, impl, pre_times.reshape(batch, 1, 1, fin), weights.reshape(1, 1, fin, fout),
        threshold, time_steps, (1, 1), (0, 0, 0, 0), return_final, return_potentials)
    post = post.reshape(batch, fout)
    fire = None if fire is None else fire.reshape(batch, fout)
    final = None if final is None else final.reshape(batch, fout)
    return _result(post, fire, final, return_final, return_potentials)


def _check_pool(fn: str, prefix: str, kernel_size, stride, padding, height: int, width: int):
    """Validated ``(kh, kw, sh, sw, top, left, bottom, right)`` of a pooling window."""
    kh, kw = expand2(kernel_size, f"{fn}: {prefix}kernel_size", minimum=1)
    sh, sw = (kh, kw) if stride is None else expand2(stride, f"{fn}: {prefix}stride", minimum=1)
    top, left, bottom, right = expand4(padding, f"{fn}: {prefix}padding")
    if max(top, bottom) >= kh or max(left, right) >= kw:
        raise ValueError(
            f"{fn}: {prefix}padding must be smaller than the window {kh}x{kw} on every side, "
            f"got (top, left, bottom, right) = {(top, left, bottom, right)}"
        )
    if height + top + bottom < kh or width + left + right < kw:
        raise ValueError(
            f"{fn}: window {kh}x{kw} is larger than the padded input "
            f"{height + top + bottom}x{width + left + right}"
        )
    return kh, kw, sh, sw, top, left, bottom, right


def pool_times(times, kernel_size, stride=None, padding=0):
    """Max pooling of spike-waves, on spike times: the earliest spike in each window.

    ``out[b, i, j, c] = min`` of ``times`` over the window starting at
    ``(i * sh - top, j * sw - left)``; padded positions never spike. Equals
    SpykeTorch's ``pooling`` (max pool of the cumulative spike-wave) and
    Spyker's ``pool`` without ``rates``, read as times. Output size
    ``(H + top + bottom - kh) // sh + 1`` (floor mode).

    Args:
      times: int spike times ``(B, H, W, C)`` (``T`` = no spike).
      kernel_size: Spyker ``Expand2``: an int or ``(kh, kw)``, >= 1.
      stride: Spyker ``Expand2``, >= 1; ``None`` (default) means ``kernel_size``
        (SpykeTorch's default).
      padding: Spyker ``Expand4``: an int, ``(vertical, horizontal)`` or
        ``(top, left, bottom, right)``; each side smaller than the window so
        that every window holds a real input.

    Returns:
      int32 ``(B, Ho, Wo, C)`` spike times.

    Raises:
      TypeError: non-integer ``times`` or non-integer size entries.
      ValueError: wrong rank, a window larger than the padded input, padding
        not smaller than the window.
    """
    fn = "pool_times"
    times = _check_times(fn, "times", times, 4, "(B, H, W, C)")
    _, height, width, _ = times.shape
    kh, kw, sh, sw, top, left, bottom, right = _check_pool(
        fn, "", kernel_size, stride, padding, height, width)
    padding = (top, left, bottom, right)
    never = np.iinfo(np.int32).max
    pads = ((0, 0), (top, bottom), (left, right), (0, 0))
    if kh * kw > _UNROLLED_WINDOW:
        return lax.reduce_window(times, jnp.int32(never), lax.min, (1, kh, kw, 1),
                                 (1, sh, sw, 1), pads)
    # small windows: a minimum over kh * kw strided slices (faster on the CPU
    # than reduce_window; the same integers)
    padded = jnp.pad(times, pads, constant_values=never) if any(padding) else times
    out_h = (height + top + bottom - kh) // sh + 1
    out_w = (width + left + right - kw) // sw + 1
    out = None
    for ky in range(kh):
        for kx in range(kw):
            part = padded[:, ky: ky + (out_h - 1) * sh + 1: sh, kx: kx + (out_w - 1) * sw + 1: sw]
            out = part if out is None else jnp.minimum(out, part)
    return out


def _conv_fire_winners_dispatch(fn, impl, *args):
    from spyxlike.ops import conv_fire_winners as _cfw
    from spyxlike.ops import event_conv as _ec
    from spyxlike.ops import kwta as _kw

    impl = check_impl(impl, fn, has_pallas=True)
    if impl == "pallas":
        from spyxlike.ops.pallas.event_conv import conv_fire_pallas
        from spyxlike.ops.pallas.kwta import k_winners_pallas

        return _cfw.conv_fire_winners_composed(conv_fire_pallas, k_winners_pallas, *args)
    if use_native(impl, fn):
        return _cfw.conv_fire_winners_native(*args)
    return _cfw.conv_fire_winners_composed(_ec.conv_fire_reference, _kw.k_winners_reference,
                                           *args)


def conv_fire_winners(pre_times, kernel, threshold, time_steps: int, kwta: int,
                      inhibition_radius: int, *, stride=1, padding=0, impl: str = "auto"):
    """:func:`conv_fire` followed by SpykeTorch's k-WTA, fused: the winners of a conv layer.

    Equals ``post, fire = conv_fire(pre_times, kernel, threshold, time_steps,
    stride=stride, padding=padding)`` then
    ``winners = k_winners_from_times(post, fire, kwta, inhibition_radius,
    time_steps)`` (:func:`spyxlike.competition.k_winners_from_times`:
    earliest spike, then highest potential, then lowest SpykeTorch index
    ``c*Ho*Wo + h*Wo + w``; one winner per feature map; a radius ``r > 0``
    inhibits the ``(2r+1) x (2r+1)`` square in all maps, ``r = 0`` none), and
    returns the winners' spike times and potentials instead of the full
    layer - what an STDP step needs (:func:`winner_time_map` rebuilds the
    ``post_times`` that :func:`spyxlike.stdp.stdp_conv` reads).

    The native kernel runs the event-driven conv step by step and picks the
    winners from each step's new spikes as soon as the step is complete, so
    it never sorts the layer's candidates and stops the conv once ``kwta``
    winners are found (usually after a few of the ``T`` steps). The
    reference and Pallas paths are the unfused composition.

    Args:
      pre_times: int spike times ``(B, H, W, Cin)`` in ``[0, T]``, ``T`` = no spike.
      kernel: HWIO weights ``(kh, kw, Cin, Cout)`` (computed in float32).
      threshold: firing threshold, a finite real scalar (may be traced).
      time_steps: number of time steps ``T >= 1``.
      kwta: number of winners per sample, ``>= 1``.
      inhibition_radius: lateral inhibition radius, ``>= 0``.
      stride: Spyker ``Expand2``: an int or ``(vertical, horizontal)``, >= 1.
      padding: Spyker ``Expand4``: an int, ``(vertical, horizontal)`` or
        ``(top, left, bottom, right)``, >= 0.
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      ``(winners, winner_times, winner_potentials)``:
      :class:`~spyxlike.winners.Winners` with ``kwta`` slots per sample (in
      pick order), int32 ``(B, kwta)`` spike times of the winners (``T`` in
      empty slots) and float32 ``(B, kwta)`` potentials at the spike (0 in
      empty slots).

    Raises:
      TypeError: as :func:`conv_fire`, or non-integer ``kwta`` /
        ``inhibition_radius``.
      ValueError: as :func:`conv_fire`, or ``kwta < 1``, a negative
        ``inhibition_radius``.
    """
    from spyxlike.winners import Winners

    fn = "conv_fire_winners"
    for name, value, minimum in (("kwta", kwta, 1), ("inhibition_radius", inhibition_radius, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{fn}: {name} must be an int, got {type(value).__name__} {value!r}")
        if value < minimum:
            raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value}")
    pre_times, kernel, threshold, time_steps, stride, padding = _check_conv(
        fn, pre_times, kernel, threshold, time_steps, stride, padding)
    r = int(inhibition_radius) if inhibition_radius > 0 else -1  # SpykeTorch: 0 = none
    rows, win_time, win_value = _conv_fire_winners_dispatch(
        fn, impl, pre_times, kernel, threshold, time_steps, stride, padding, int(kwta), r, r)
    rows = rows.astype(jnp.int32)
    winners = Winners(rows[..., 0], rows[..., 1], rows[..., 2], rows[..., 0] >= 0)
    return winners, win_time, win_value


def winner_time_map(winners, winner_times, shape, time_steps: int):
    """Spike times of the winners scattered into a layer: ``T`` everywhere else.

    The ``post_times`` argument of :func:`spyxlike.stdp.stdp_conv` for the
    winners of :func:`conv_fire_winners`: STDP reads the post-synaptic time
    only at the winners, so the update equals the one computed with the full
    ``post_times`` of :func:`conv_fire`.

    Args:
      winners: :class:`~spyxlike.winners.Winners` with ``(B, k)`` fields.
      winner_times: int ``(B, k)`` spike times of the winners.
      shape: ``(Ho, Wo, Cout)`` of the layer.
      time_steps: ``T``, the value of every other neuron.

    Returns:
      int32 ``(B, Ho, Wo, Cout)``.

    Raises:
      ValueError: ``shape`` not 3 positive ints, ``winner_times`` not the
        shape of the winner fields.
    """
    fn = "winner_time_map"
    if len(tuple(shape)) != 3 or any(int(s) < 1 for s in shape):
        raise ValueError(f"{fn}: shape must be (Ho, Wo, Cout) of positive ints, got {shape!r}")
    if tuple(winner_times.shape) != tuple(winners.feature.shape) or winner_times.ndim != 2:
        raise ValueError(f"{fn}: winner_times must have the (B, k) shape of the winner fields "
                         f"{tuple(winners.feature.shape)}, got {tuple(winner_times.shape)}")
    ho, wo, cout = (int(s) for s in shape)
    batch = winner_times.shape[0]
    out = jnp.full((batch, ho, wo, cout), time_steps, jnp.int32)
    b = jnp.broadcast_to(jnp.arange(batch)[:, None], winners.feature.shape)
    row = jnp.where(winners.valid, winners.row, ho)  # invalid slots fall outside: dropped
    return out.at[b, row, winners.col, winners.feature].set(
        jnp.asarray(winner_times, jnp.int32), mode="drop")


def conv_fire_pointwise(pre_times, kernel, threshold, time_steps: int, *, stride=1, padding=0,
                        return_potentials: bool = True, impl: str = "auto"):
    """:func:`conv_fire` followed by SpykeTorch's point-wise inhibition, fused.

    Equals ``pointwise_inhibition_times(*conv_fire(pre_times, kernel,
    threshold, time_steps, stride=stride, padding=padding), time_steps)``
    (:func:`spyxlike.spike_time_inhibition.pointwise_inhibition_times`): at
    each output position ``(b, i, j)`` only the earliest spike survives, ties
    going to the larger potential, then to the lower feature; every other
    feature there gets time ``T`` and potential 0 - SpykeTorch's
    ``pointwise_inhibition`` of the thresholded potentials, read as times.

    The native kernel picks the survivor as soon as a position first fires
    and stops accumulating into it (the other features could only fire later
    and would be inhibited), so most of the conv's additions are skipped. The
    reference and Pallas paths are the unfused composition.

    Args:
      pre_times: int spike times ``(B, H, W, Cin)`` in ``[0, T]``, ``T`` = no spike.
      kernel: HWIO weights ``(kh, kw, Cin, Cout)`` (computed in float32).
      threshold: firing threshold, a finite real scalar (may be traced).
      time_steps: number of time steps ``T >= 1``.
      stride: Spyker ``Expand2``: an int or ``(vertical, horizontal)``, >= 1.
      padding: Spyker ``Expand4``: an int, ``(vertical, horizontal)`` or
        ``(top, left, bottom, right)``, >= 0.
      return_potentials: return the potentials at the spikes (default True;
        False returns the spike times alone and the native kernel skips them).
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      ``(post_times, fire_potentials)``: int32 ``(B, Ho, Wo, Cout)`` spike
      times with at most one spiking feature per position, and float32
      potentials at the spike (0 where there is none); ``post_times`` alone
      with ``return_potentials=False``.

    Raises:
      TypeError: as :func:`conv_fire`.
      ValueError: as :func:`conv_fire`.
    """
    from spyxlike.spike_time_inhibition import pointwise_inhibition_times

    fn = "conv_fire_pointwise"
    return_potentials = _check_flag(fn, "return_potentials", return_potentials)
    pre_times, kernel, threshold, time_steps, stride, padding = _check_conv(
        fn, pre_times, kernel, threshold, time_steps, stride, padding)
    if check_impl(impl, fn, has_pallas=True) != "pallas" and use_native(impl, fn):
        post, fire, _ = conv_fire_native(pre_times, kernel, threshold, time_steps, stride,
                                         padding, False, pointwise=True,
                                         with_fire=return_potentials)
    else:
        post, fire, _ = _dispatch(fn, impl, pre_times, kernel, threshold, time_steps, stride,
                                  padding, False)
        post, fire = pointwise_inhibition_times(post, fire, time_steps)
    return _result(post, fire, None, False, return_potentials)


def conv_fire_pointwise_pool(pre_times, kernel, threshold, time_steps: int, *, stride=1,
                             padding=0, pool_kernel_size, pool_stride=None, pool_padding=0,
                             impl: str = "auto"):
    """:func:`conv_fire_pointwise` then :func:`pool_times`, fused: a whole first STDP layer.

    Equals ``pool_times(conv_fire_pointwise(pre_times, kernel, threshold,
    time_steps, stride=stride, padding=padding, return_potentials=False),
    pool_kernel_size, pool_stride, pool_padding)``: SpykeTorch's conv ->
    fire -> point-wise inhibition -> pooling of the Kheradpisheh et al. (2018)
    network (Spyker: ``conv``, ``fire``, ``inhibit``, ``pool``), on spike times.
    The native kernel writes each surviving spike straight into the pooled
    windows that hold it, so the un-pooled ``(B, Ho, Wo, Cout)`` times are
    never stored; the reference and Pallas paths are the unfused composition.

    Args:
      pre_times: int spike times ``(B, H, W, Cin)`` in ``[0, T]``, ``T`` = no spike.
      kernel: HWIO weights ``(kh, kw, Cin, Cout)`` (computed in float32).
      threshold: firing threshold, a finite real scalar (may be traced).
      time_steps: number of time steps ``T >= 1``.
      stride: of the convolution, as in :func:`conv_fire`.
      padding: of the convolution, as in :func:`conv_fire`.
      pool_kernel_size: the pooling window, as ``kernel_size`` of
        :func:`pool_times`.
      pool_stride: the pooling stride, as ``stride`` of :func:`pool_times`
        (``None``: the window size).
      pool_padding: the pooling padding, as ``padding`` of :func:`pool_times`.
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      int32 ``(B, Hp, Wp, Cout)`` pooled spike times.

    Raises:
      TypeError: as :func:`conv_fire` and :func:`pool_times`.
      ValueError: as :func:`conv_fire` and :func:`pool_times` (for the
        pooling of the conv's ``(Ho, Wo)`` output).
    """
    fn = "conv_fire_pointwise_pool"
    pre_times, kernel, threshold, time_steps, stride, padding = _check_conv(
        fn, pre_times, kernel, threshold, time_steps, stride, padding)
    _, height, width, _ = pre_times.shape
    kh, kw, _, _ = kernel.shape
    out_h = (height + padding[0] + padding[2] - kh) // stride[0] + 1
    out_w = (width + padding[1] + padding[3] - kw) // stride[1] + 1
    pool = _check_pool(fn, "pool_", pool_kernel_size, pool_stride, pool_padding, out_h, out_w)
    if check_impl(impl, fn, has_pallas=True) != "pallas" and use_native(impl, fn):
        post, _, _ = conv_fire_native(pre_times, kernel, threshold, time_steps, stride, padding,
                                      False, pointwise=True, with_fire=False, pool=pool)
        return post
    times = conv_fire_pointwise(pre_times, kernel, threshold, time_steps, stride=stride,
                                padding=padding, return_potentials=False, impl=impl)
    pkh, pkw, psh, psw, ptop, pleft, pbottom, pright = pool
    return pool_times(times, (pkh, pkw), (psh, psw), (ptop, pleft, pbottom, pright))
