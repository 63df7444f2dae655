"""What single-spike conv layers learned: features reconstructed in pixel space.

Follows SpykeTorch's ``visualization`` module (``get_deep_feature``,
``get_deep_receptive_field``, ``plot_tensor_in_image``, ``show_tensor``)
with spyxlike's layouts: conv kernels are HWIO ``(kh, kw, C_in, C_out)`` and
reconstructed features are ``(C, h, w)`` stacks of 2-D images, one per
feature map.

A feature of layer ``l`` is drawn by placing the pixel-space features of the
layer below at every kernel offset and weighting them by the kernel:

.. math::

    F^{l}_f(y, x) = \\sum_{k_y, k_x, c} W[k_y, k_x, c, f]\\,
        F^{l-1}_c(y - k_y s, x - k_x s)

where ``s`` is the distance, in input pixels, between neighbouring units of
layer ``l-1`` (its *feature stride*). A pooling layer (``weights=None``)
keeps each map and takes the element-wise maximum over its window
offsets. The feature stride grows by the layer's stride.
"""

from __future__ import annotations

import numpy as np

from spyxlike.viz import _figure


def _pair(value, name):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        pair = (value[0], value[1])
    else:
        pair = (value, value)
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must hold positive ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def get_deep_receptive_field(*layers_details):
    """Receptive field and feature stride of a stack of layers, in input pixels.

    Args:
      *layers_details: one ``(kernel_size, stride)`` per layer, first layer
        first; each an int or a ``(rows, cols)`` pair (SpykeTorch's spelling).

    Returns:
      ``((field_rows, field_cols), (stride_rows, stride_cols))``: the size of
      the input window one unit of the last layer sees, and the distance in
      input pixels between neighbouring units of the last layer.
    """
    field = [1, 1]
    jump = [1, 1]
    for i, detail in enumerate(layers_details):
        if not isinstance(detail, (tuple, list)) or len(detail) != 2:
            raise ValueError(
                f"get_deep_receptive_field: layer {i} must be (kernel_size, stride), got {detail!r}"
            )
        kernel = _pair(detail[0], f"get_deep_receptive_field: layer {i} kernel_size")
        stride = _pair(detail[1], f"get_deep_receptive_field: layer {i} stride")
        for a in range(2):
            field[a] += (kernel[a] - 1) * jump[a]
            jump[a] *= stride[a]
    return tuple(field), tuple(jump)


def get_deep_feature(pre_feature, feature_stride, window_size, stride, weights=None):
    """Reconstructs the features of one more layer from those of the layer below.

    Args:
      pre_feature: ``(C_in, h, w)`` pixel-space features of the layer below
        (for the first layer, e.g. the input filter kernels, or a ``(C, 1, 1)``
        array of ones for raw pixel channels).
      feature_stride: distance in input pixels between neighbouring units
        of the layer below (int or pair; 1 for the input).
      window_size: this layer's kernel or pooling window (int or pair).
      stride: this layer's stride (int or pair).
      weights: this layer's HWIO kernel ``(kh, kw, C_in, C_out)`` with
        ``(kh, kw) == window_size``, or ``None`` for a max-pooling layer.

    Returns:
      ``(features, new_stride)``: ``(C_out, h + (kh-1) s, w + (kw-1) s)``
      reconstructions (``C_out = C_in`` for pooling) and the feature stride
      of this layer, ``feature_stride * stride``.
    """
    pre = np.asarray(pre_feature, dtype=np.float64)
    if pre.ndim != 3:
        raise ValueError(f"get_deep_feature: pre_feature must be (C, h, w), got shape {pre.shape}")
    fs = _pair(feature_stride, "get_deep_feature: feature_stride")
    kh, kw = _pair(window_size, "get_deep_feature: window_size")
    st = _pair(stride, "get_deep_feature: stride")
    c_in, h, w = pre.shape
    out_h, out_w = h + (kh - 1) * fs[0], w + (kw - 1) * fs[1]
    if weights is None:
        out = np.full((c_in, out_h, out_w), -np.inf)
        for ky in range(kh):
            for kx in range(kw):
                y, x = ky * fs[0], kx * fs[1]
                window = out[:, y : y + h, x : x + w]
                np.maximum(window, pre, out=window)
        out[np.isneginf(out)] = 0.0
    else:
        wt = np.asarray(weights, dtype=np.float64)
        if wt.ndim != 4 or wt.shape[:3] != (kh, kw, c_in):
            raise ValueError(
                f"get_deep_feature: weights must be HWIO ({kh}, {kw}, {c_in}, C_out) to match "
                f"window_size and pre_feature, got shape {wt.shape}"
            )
        out = np.zeros((wt.shape[3], out_h, out_w))
        for ky in range(kh):
            for kx in range(kw):
                y, x = ky * fs[0], kx * fs[1]
                # (C_out, h, w) += sum_c W[ky, kx, c, :] * pre[c]
                out[:, y : y + h, x : x + w] += np.einsum("co,chw->ohw", wt[ky, kx], pre)
    return out, (fs[0] * st[0], fs[1] * st[1])


def show_tensor(a_tensor, _vmin=None, _vmax=None, *, ax=None, title=None):
    """Draws a 2-D array in grey levels (SpykeTorch's ``show_tensor``).

    ``None`` for ``_vmin``/``_vmax`` auto-scales. Returns the matplotlib
    Figure (displayed by notebooks; nothing opens a window on headless machines).
    """
    a = np.asarray(a_tensor, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"show_tensor: a_tensor must be 2-D, got shape {a.shape}")
    fig = ax.figure if ax is not None else _figure((3, 3))
    ax = ax if ax is not None else fig.add_subplot(1, 1, 1)
    ax.imshow(a, cmap="gray", vmin=_vmin, vmax=_vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title, fontsize=8)
    return fig


def plot_tensor_in_image(fname, a_tensor, _vmin=None, _vmax=None):
    """Saves a 2-D array as a grey-level PNG (SpykeTorch's ``plot_tensor_in_image``)."""
    fig = show_tensor(a_tensor, _vmin, _vmax)
    fig.savefig(fname, format="png", bbox_inches="tight")
    return fig


def plot_features(features, path=None, *, columns=10, title=None, symmetric=False):
    """Draws a grid of reconstructed features ``(C, h, w)``, one panel each.

    Args:
      features: ``(C, h, w)`` array (e.g. from :func:`get_deep_feature`).
      path: save the figure as PNG here when given.
      columns: panels per row.
      title: figure title.
      symmetric: scale every panel to ``[-m, m]`` (signed features such as
        on/off filter reconstructions) instead of its own min/max.

    Returns:
      The matplotlib Figure.
    """
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 3:
        raise ValueError(f"plot_features: features must be (C, h, w), got shape {f.shape}")
    count = f.shape[0]
    cols = max(1, min(int(columns), count))
    rows = -(-count // cols)
    fig = _figure((1.2 * cols, 1.2 * rows + (0.4 if title else 0.0)))
    for i in range(count):
        ax = fig.add_subplot(rows, cols, i + 1)
        m = np.abs(f[i]).max() if symmetric else None
        show_tensor(f[i], -m if symmetric else None, m, ax=ax, title=str(i))
    if title:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(path, format="png", bbox_inches="tight")
    return fig
