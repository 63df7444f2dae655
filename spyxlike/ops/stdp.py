"""STDP weight update of a single-spike conv layer: pure-JAX reference and native call.

Arguments are validated by :mod:`spyxlike.stdp`; here:

* ``weights`` float32 ``(kh, kw, Cin, Cout)`` (HWIO);
* ``pre_times`` int32 ``(B, H, W, Cin)``, ``post_times`` int32 ``(B, Ho, Wo, Cout)``;
* ``feature``, ``row``, ``col`` int32 and ``valid`` bool ``(B, k)``: the winners;
* ``tables`` float32 ``(R, Cout, 2)``: ``R`` learning-rate tables
  (``(a_LTP, a_LTD)`` per feature);
* ``rate_index`` int32 ``(B, k)``: the table of each winner slot, ``< 0`` (or ``>= R``) to
  skip the slot (R-STDP's "no reward", Spyker's ``Winner.c``), or shape
  ``(0,)`` for table 0 everywhere;
* ``stride = (sh, sw)``, ``pad = (top, left, bottom, right)``;
* ``pad_time``: spike time of the padding (``T`` = never spiked).

Winner ``(b, f, r, c)`` sees the pre-synaptic neuron of weight
``W[ky, kx, ci, f]`` at input position ``(r*sh + ky - top, c*sw + kx - left, ci)``
(``pad_time`` outside the input). Its change is ``a_LTP`` when
``t_pre <= t_post = post_times[b, r, c, f]`` and ``a_LTD`` otherwise, times
the stabiliser ``(W - lower)(upper - W)`` when ``stabilize``.

``sequential=False`` (spyxlike's batch rule): the changes of all winners are
computed from the same weights, summed, added once, and the whole kernel is
clamped to ``[lower, upper]``. ``sequential=True`` (Spyker 0.1.0's order): the
winners are applied one after another in ``(b, slot)`` order, each from the
weights left by the previous one, clamping the winner's feature after each.
Winners whose feature or position lies outside the layer are skipped.
``vmap`` of the native call broadcasts every operand (``broadcast_all``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

NEVER = np.int32(2**31 - 1)  # spike time of padding when T is not known: later than any post spike


def winner_mask(feature, row, col, cout: int, out_h: int, out_w: int):
    """True for winner slots that address a neuron of the layer."""
    return (
        (feature >= 0) & (feature < cout) & (row >= 0) & (row < out_h) & (col >= 0) & (col < out_w)
    )


def winner_patches(pre_times, row, col, kernel_size, stride, pad, pad_time):
    """Pre-synaptic spike times of each winner's receptive field, int32 ``(B, k, kh, kw, Cin)``.

    Out-of-range rows/columns are clamped (their slots must be masked by the caller).
    """
    kh, kw = kernel_size
    sh, sw = stride
    top, left, bottom, right = pad
    padded = jnp.pad(
        pre_times,
        ((0, 0), (top, bottom), (left, right), (0, 0)),
        constant_values=jnp.asarray(pad_time, pre_times.dtype),
    )
    cin = pre_times.shape[-1]
    max_r = max((padded.shape[1] - kh) // sh, 0)
    max_c = max((padded.shape[2] - kw) // sw, 0)
    r = jnp.clip(row, 0, max_r) * sh
    c = jnp.clip(col, 0, max_c) * sw

    def one_sample(img, rs, cs):
        return jax.vmap(lambda y, x: jax.lax.dynamic_slice(img, (y, x, 0), (kh, kw, cin)))(rs, cs)

    return jax.vmap(one_sample)(padded, r, c)


def winner_post_times(post_times, feature, row, col):
    """``post_times[b, row, col, feature]`` for each winner slot (indices clamped), ``(B, k)``."""
    _, ho, wo, cout = post_times.shape
    f = jnp.clip(feature, 0, cout - 1)
    r = jnp.clip(row, 0, ho - 1)
    c = jnp.clip(col, 0, wo - 1)
    b = jnp.arange(post_times.shape[0])[:, None]
    return post_times[b, r, c, f]


def winner_rates(feature, valid, rate_index, tables):
    """``(B, k, 2)`` rates of each slot and the mask of slots that use a table."""
    cout = tables.shape[1]
    f = jnp.clip(feature, 0, cout - 1)
    if rate_index.size == 0:
        return tables[0][f], valid
    r = jnp.clip(rate_index, 0, tables.shape[0] - 1)
    return tables[r, f], valid & (rate_index >= 0) & (rate_index < tables.shape[0])


def winner_changes(weights, pre_times, post_times, feature, row, col, valid, rate_index, tables,
                   stride, pad, pad_time):
    """Per-winner rate tables ``(B, k, kh, kw, Cin)`` (0 for skipped slots) and the slot mask."""
    kh, kw, _, cout = weights.shape
    _, ho, wo, _ = post_times.shape
    rates, active = winner_rates(feature, valid, rate_index, tables)
    mask = active & winner_mask(feature, row, col, cout, ho, wo)
    patches = winner_patches(pre_times, row, col, (kh, kw), stride, pad, pad_time)
    t_post = winner_post_times(post_times, feature, row, col)
    ltp = patches <= t_post[:, :, None, None, None]
    a = rates[:, :, 0][:, :, None, None, None]
    d = rates[:, :, 1][:, :, None, None, None]
    lr = jnp.where(ltp, a, d)
    return jnp.where(mask[:, :, None, None, None], lr, 0.0).astype(jnp.float32), mask


def _stabilizer(w, stabilize, lower, upper):
    if not stabilize:
        return jnp.ones_like(w)
    return (w - lower) * (upper - w)


_STATIC = ("stride", "pad", "pad_time", "stabilize", "lower", "upper", "sequential")


@functools.partial(jax.jit, static_argnames=_STATIC)
def stdp_conv_reference(
    weights, pre_times, post_times, feature, row, col, valid, rate_index, tables, *,
    stride, pad, pad_time, stabilize, lower, upper, sequential,
):
    """Pure-JAX reference of the conv STDP update (see the module docstring)."""
    lower = jnp.float32(lower)
    upper = jnp.float32(upper)
    lr, mask = winner_changes(
        weights, pre_times, post_times, feature, row, col, valid, rate_index, tables,
        stride, pad, pad_time,
    )
    kh, kw, cin, cout = weights.shape
    if not sequential:
        onehot = jax.nn.one_hot(jnp.where(mask, feature, -1), cout, dtype=jnp.float32)
        dw = jnp.einsum("bkyxi,bkf->yxif", lr, onehot, precision=jax.lax.Precision.HIGHEST)
        new = weights + dw * _stabilizer(weights, stabilize, lower, upper)
        return jnp.clip(new, lower, upper)

    per_feature = jnp.moveaxis(weights, -1, 0)  # (Cout, kh, kw, Cin)
    flat_f = jnp.clip(feature, 0, cout - 1).reshape(-1)
    flat_m = mask.reshape(-1)
    flat_lr = lr.reshape((-1, kh, kw, cin))

    def step(w, item):
        f, m, change = item
        old = w[f]
        new = jnp.clip(old + change * _stabilizer(old, stabilize, lower, upper), lower, upper)
        return w.at[f].set(jnp.where(m, new, old)), None

    per_feature, _ = jax.lax.scan(step, per_feature, (flat_f, flat_m, flat_lr))
    return jnp.moveaxis(per_feature, 0, -1)


def stdp_conv_native(
    weights, pre_times, post_times, feature, row, col, valid, rate_index, tables, *,
    stride, pad, pad_time, stabilize, lower, upper, sequential,
):
    """The C++ kernel ``spyxlike_stdp_conv`` (winners bucketed by feature, features in parallel)."""
    call = jax.ffi.ffi_call(
        "spyxlike_stdp_conv",
        jax.ShapeDtypeStruct(weights.shape, jnp.float32),
        vmap_method="broadcast_all",
    )
    return call(
        weights, pre_times, post_times, feature, row, col, valid, rate_index, tables,
        stride_h=np.int64(stride[0]), stride_w=np.int64(stride[1]),
        pad_top=np.int64(pad[0]), pad_left=np.int64(pad[1]),
        pad_time=np.int64(pad_time), stabilize=bool(stabilize),
        lower=np.float32(lower), upper=np.float32(upper), sequential=bool(sequential),
    )
