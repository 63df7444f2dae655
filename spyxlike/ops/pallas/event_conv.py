"""Pallas kernel of the conv + fire of single-spike inputs.

The spike times are first unfolded (im2col, in plain JAX) into patches
``(B, Ho * Wo, kh * kw * Cin)`` of int32 times, padding taking the value
``T`` (never spikes). The kernel then works per (sample, tile of output
positions), dense in time: for ``t = 0 .. T - 1`` the patch wave
``(patch <= t)`` times the ``(kh * kw * Cin, Cout)`` weight matrix gives the
tile's potentials at ``t`` (a matmul, tensor-core friendly on a GPU), and the
first crossing ``pot > threshold`` is kept. Same results as
:func:`spyxlike.ops.event_conv.conv_fire_reference` up to float summation order.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax
from jax.experimental import pallas as pl

from spyxlike.ops.event_conv import conv_output_size

_TILE = 128


def _patches(pre_times, kh, kw, time_steps, stride, padding):
    """``(B, Ho * Wo, kh * kw * Cin)`` int32 times of each output's receptive field."""
    batch, height, width, cin = pre_times.shape
    top, left, bottom, right = padding
    out_h = conv_output_size(height, kh, stride[0], top, bottom)
    out_w = conv_output_size(width, kw, stride[1], left, right)
    padded = jnp.pad(pre_times, ((0, 0), (top, bottom), (left, right), (0, 0)),
                     constant_values=time_steps)
    cols = []
    for ky in range(kh):
        for kx in range(kw):
            cols.append(padded[:, ky: ky + (out_h - 1) * stride[0] + 1: stride[0],
                               kx: kx + (out_w - 1) * stride[1] + 1: stride[1], :])
    patches = jnp.stack(cols, axis=3)  # (B, Ho, Wo, kh * kw, Cin), HWIO row order
    return patches.reshape(batch, out_h * out_w, kh * kw * cin), out_h, out_w


def _fire_kernel(thr_ref, patch_ref, w_ref, post_ref, fire_ref, final_ref, *, time_steps):
    patch = patch_ref[0]
    weights = w_ref[...]
    threshold = thr_ref[0, 0]
    tile = patch.shape[0]
    cout = weights.shape[1]

    def step(t, carry):
        post, fire, _ = carry
        wave = (patch <= t).astype(jnp.float32)
        pot = jnp.dot(wave, weights, precision=lax.Precision.HIGHEST,
                      preferred_element_type=jnp.float32)
        now = (post == time_steps) & (pot > threshold)
        return jnp.where(now, t, post), jnp.where(now, pot, fire), pot

    init = (jnp.full((tile, cout), time_steps, jnp.int32), jnp.zeros((tile, cout), jnp.float32),
            jnp.zeros((tile, cout), jnp.float32))
    post, fire, pot = lax.fori_loop(0, time_steps, step, init)
    post_ref[0] = post
    fire_ref[0] = fire
    final_ref[0] = pot


@functools.partial(jax.jit, static_argnames=("time_steps", "stride", "padding", "with_final",
                                             "interpret"))
def conv_fire_pallas(pre_times, kernel, threshold, time_steps: int, stride, padding,
                     with_final: bool, *, interpret=None):
    """Pallas conv + fire; arguments as :func:`spyxlike.ops.event_conv.conv_fire_reference`.

    Args:
      pre_times: int32 ``(B, H, W, Cin)`` spike times in ``[0, T]``.
      kernel: float32 ``(kh, kw, Cin, Cout)``.
      threshold: float32 scalar array.
      time_steps: ``T``.
      stride: ``(sh, sw)``.
      padding: ``(top, left, bottom, right)``.
      with_final: also return the potentials at ``T - 1``.
      interpret: run the Pallas interpreter; default: unless the backend is a GPU.

    Returns:
      ``(post_times, fire_potentials, final_potentials or None)``, each ``(B, Ho, Wo, Cout)``.
    """
    if interpret is None:
        interpret = jax.default_backend() != "gpu"
    kh, kw, cin, cout = kernel.shape
    batch = pre_times.shape[0]
    patches, out_h, out_w = _patches(pre_times, kh, kw, time_steps, stride, padding)
    rows = out_h * out_w
    tile = min(_TILE, -(-rows // 8) * 8)
    padded_rows = -(-rows // tile) * tile
    if padded_rows != rows:
        patches = jnp.pad(patches, ((0, 0), (0, padded_rows - rows), (0, 0)),
                          constant_values=time_steps)
    depth = kh * kw * cin
    weights = kernel.reshape(depth, cout)
    thr = jnp.reshape(threshold, (1, 1)).astype(jnp.float32)
    out_block = pl.BlockSpec((1, tile, cout), lambda b, m: (b, m, 0))
    out_sds = jax.ShapeDtypeStruct((batch, padded_rows, cout), jnp.float32)
    post, fire, final = pl.pallas_call(
        functools.partial(_fire_kernel, time_steps=time_steps),
        out_shape=(jax.ShapeDtypeStruct((batch, padded_rows, cout), jnp.int32), out_sds, out_sds),
        grid=(batch, padded_rows // tile),
        in_specs=[
            pl.BlockSpec((1, 1), lambda b, m: (0, 0)),
            pl.BlockSpec((1, tile, depth), lambda b, m: (b, m, 0)),
            pl.BlockSpec((depth, cout), lambda b, m: (0, 0)),
        ],
        out_specs=(out_block, out_block, out_block),
        interpret=interpret,
    )(thr, patches, weights)

    def unflatten(x):
        return x[:, :rows].reshape(batch, out_h, out_w, cout)

    return unflatten(post), unflatten(fire), (unflatten(final) if with_final else None)
