"""Plots people look at: spike rasters (training curves live in ``train.History.plot``).

Figures are drawn on matplotlib's Agg canvas and saved as PNG without touching
the global backend, so they work headless and inside notebooks alike.
"""

from __future__ import annotations

import numpy as np


def _figure(figsize):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def spike_raster(spikes, path=None, *, title=None, labels=None, ax=None):
    """Draws spike rasters: one panel per layer, neurons vs time steps.

    Args:
      spikes: a ``(T, N)`` array (one layer of one sample) or a list of them,
        one per layer (non-zero entries are spikes; extra feature axes are
        flattened into N).
      path: save the figure as PNG here when given.
      title: figure title.
      labels: one panel title per layer.
      ax: draw a single ``(T, N)`` raster into this matplotlib Axes instead.

    Returns:
      The matplotlib ``Figure`` (or ``ax.figure``).
    """
    layers = spikes if isinstance(spikes, (list, tuple)) else [spikes]
    arrays = []
    for i, layer in enumerate(layers):
        a = np.asarray(layer)
        if a.ndim < 2:
            raise ValueError(f"spike_raster: spikes[{i}] must be (T, N, ...), got shape {a.shape}")
        arrays.append(a.reshape(a.shape[0], -1))
    if labels is not None and len(labels) != len(arrays):
        raise ValueError(f"spike_raster: labels must have one entry per layer ({len(arrays)}), got {len(labels)}")
    if ax is not None:
        if len(arrays) != 1:
            raise ValueError("spike_raster: ax draws exactly one layer")
        axes, fig = [ax], ax.figure
    else:
        fig = _figure((7, 2.2 * len(arrays) + 0.6))
        axes = [fig.add_subplot(len(arrays), 1, i + 1) for i in range(len(arrays))]
    for i, (a, axis) in enumerate(zip(arrays, axes)):
        t, n = np.nonzero(a)
        axis.scatter(t, n, s=2, marker="|", color="black")
        axis.set_xlim(-0.5, a.shape[0] - 0.5)
        axis.set_ylim(-0.5, a.shape[1] - 0.5)
        axis.set_ylabel("neuron")
        rate = a.astype(bool).mean()
        name = labels[i] if labels is not None else f"layer {i + 1}"
        axis.set_title(f"{name}: {int(a.astype(bool).sum())} spikes, rate {rate:.3f}", fontsize=9)
    axes[-1].set_xlabel("time step")
    if title:
        fig.suptitle(title)
    if ax is None:
        fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
