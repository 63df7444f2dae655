"""Pallas kernel of the conv STDP update (same arguments and result as the reference).

One program per output feature ``f`` owns the weights ``W[..., f]`` (stored as
a ``(1, kh, kw, Cin)`` block of the kernel moved to ``(Cout, kh, kw, Cin)``)
and walks over all winner slots in (sample, slot) order; a slot of feature
``f`` reads its receptive field from the padded input with a dynamic
``(kh, kw, Cin)`` window. ``sequential=False`` sums the rates and applies
them once; ``sequential=True`` updates and clamps after every winner.
The per-winner gathers of the post-synaptic time and the window origin are
done in plain JAX before the call. On the CPU the kernel runs in interpret mode.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.experimental import pallas as pl

from spyxlike.ops import stdp as _ops


def _kernel(w_ref, pre_ref, feat_ref, sample_ref, y_ref, x_ref, tpost_ref, rates_ref, out_ref, *,
            kh, kw, stabilize, lower, upper, sequential):
    f = pl.program_id(0)
    n = feat_ref.shape[0]
    w0 = w_ref[0]

    def stab(w):
        return (w - lower) * (upper - w) if stabilize else jnp.ones_like(w)

    def rates_of(i):
        patch = pre_ref[sample_ref[i], pl.ds(y_ref[i], kh), pl.ds(x_ref[i], kw), :]
        return jnp.where(patch <= tpost_ref[i], rates_ref[i, 0], rates_ref[i, 1])

    if sequential:
        def body(i, w):
            new = jnp.clip(w + rates_of(i) * stab(w), lower, upper)
            return jnp.where(feat_ref[i] == f, new, w)

        out_ref[0] = jax.lax.fori_loop(0, n, body, w0)
    else:
        def body(i, acc):
            return jnp.where(feat_ref[i] == f, acc + rates_of(i), acc)

        acc = jax.lax.fori_loop(0, n, body, jnp.zeros_like(w0))
        out_ref[0] = jnp.clip(w0 + acc * stab(w0), lower, upper)


@functools.partial(jax.jit, static_argnames=_ops._STATIC + ("interpret",))
def stdp_conv_pallas(
    weights, pre_times, post_times, feature, row, col, valid, rate_index, tables, *,
    stride, pad, pad_time, stabilize, lower, upper, sequential, interpret=None,
):
    """Pallas version of :func:`spyxlike.ops.stdp.stdp_conv_reference`."""
    if interpret is None:
        interpret = jax.default_backend() != "gpu"
    kh, kw, cin, cout = weights.shape
    batch, _, _, _ = pre_times.shape
    _, ho, wo, _ = post_times.shape
    k = feature.shape[1]
    top, left, bottom, right = pad
    padded = jnp.pad(
        pre_times, ((0, 0), (top, bottom), (left, right), (0, 0)),
        constant_values=jnp.asarray(pad_time, jnp.int32),
    )
    rates, active = _ops.winner_rates(feature, valid, rate_index, tables)
    mask = active & _ops.winner_mask(feature, row, col, cout, ho, wo)
    feat = jnp.where(mask, feature, -1).reshape(-1).astype(jnp.int32)
    y0 = (jnp.clip(row, 0, ho - 1) * stride[0]).reshape(-1).astype(jnp.int32)
    x0 = (jnp.clip(col, 0, wo - 1) * stride[1]).reshape(-1).astype(jnp.int32)
    sample = jnp.repeat(jnp.arange(batch, dtype=jnp.int32), k)
    t_post = _ops.winner_post_times(post_times, feature, row, col).reshape(-1).astype(jnp.int32)
    flat_rates = rates.reshape(-1, 2).astype(jnp.float32)
    per_feature = jnp.moveaxis(weights, -1, 0)
    n = feat.shape[0]

    def full(shape):
        return pl.BlockSpec(shape, lambda f, _s=len(shape): (0,) * _s)

    kernel = functools.partial(
        _kernel, kh=kh, kw=kw, stabilize=bool(stabilize), lower=float(lower),
        upper=float(upper), sequential=bool(sequential),
    )
    if n == 0:
        feat = jnp.full((1,), -1, jnp.int32)
        sample = y0 = x0 = t_post = jnp.zeros((1,), jnp.int32)
        flat_rates = jnp.zeros((1, 2), jnp.float32)
        padded = jnp.full((1,) + padded.shape[1:], pad_time, jnp.int32)
        n = 1
    out = pl.pallas_call(
        kernel,
        out_shape=jax.ShapeDtypeStruct(per_feature.shape, jnp.float32),
        grid=(cout,),
        in_specs=[
            pl.BlockSpec((1, kh, kw, cin), lambda f: (f, 0, 0, 0)),
            full(padded.shape),
            full((n,)), full((n,)), full((n,)), full((n,)), full((n,)),
            full((n, 2)),
        ],
        out_specs=pl.BlockSpec((1, kh, kw, cin), lambda f: (f, 0, 0, 0)),
        interpret=interpret,
    )(per_feature, padded, feat, sample, y0, x0, t_post, flat_rates)
    return jnp.moveaxis(out, 0, -1)
