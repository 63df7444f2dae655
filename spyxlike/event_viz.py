"""Pictures and animations of event streams (SLAYER's ``showTD`` / ``animTD``).

Frames follow SLAYER's ``spikeFileIO.showTD``: time is cut into windows of
``1000 / frame_rate`` ms; in each window a pixel is red where it had an ON
event (``p == 1``), blue for OFF (``p == 0``), green for ``p == 2``, black
otherwise. 1-D events are drawn as a one-pixel-high strip per frame.

Everything draws on matplotlib's Agg canvas (``matplotlib.figure.Figure``
with ``FigureCanvasAgg``) without touching pyplot's global backend, so it
works headless. SLAYER's ``showTD`` opens a window (``plt.show()``);
spyxlike's :func:`show_td` returns a static figure of the frames (and saves
it as PNG), and :func:`anim_td` builds the animation and saves it with the
best writer available: GIF through Pillow, MP4 through ffmpeg, or one PNG per
frame otherwise. The writer used is reported in the result.
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from typing import NamedTuple

import numpy as np
from matplotlib import animation as _animation

from spyxlike.io import Event

__all__ = ["td_frames", "show_td", "anim_td", "AnimationResult"]

_COLOUR_CHANNEL = {1: 0, 0: 2, 2: 1}   # polarity -> RGB channel (SLAYER: ON red, OFF blue, 2 green)


def _figure(figsize):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _frame_rate(frame_rate, where):
    if isinstance(frame_rate, (bool, np.bool_)) or not isinstance(frame_rate, numbers.Real):
        raise TypeError(f"{where}: frame_rate must be a positive number (frames per second of event "
                        f"time), got {frame_rate!r}")
    frame_rate = float(frame_rate)
    if not math.isfinite(frame_rate) or frame_rate <= 0:
        raise ValueError(f"{where}: frame_rate must be a positive finite number, got {frame_rate}")
    return frame_rate


def td_frames(event, frame_rate=24, shape=None):
    """RGB frames of an event stream, SLAYER's ``showTD`` colouring.

    Frame ``i`` covers event times ``[(i + i0) * dt, (i + i0 + 1) * dt)`` ms
    with ``dt = 1000 / frame_rate`` and ``i0 = floor(t_min / dt)``; unlike
    SLAYER (``ceil(t_max / dt) - i0`` frames) the last event always gets a
    frame.

    Args:
      event: a :class:`spyxlike.io.Event` (1-D or 2-D).
      frame_rate: frames per second of event time (> 0).
      shape: ``(height, width)`` of the frames; default ``(max y + 1, max x + 1)``
        (1-D events: ``(1, max x + 1)``). Events outside are not drawn.

    Returns:
      ``(frames, t_start)``: float32 array ``(F, height, width, 3)`` with
      values in ``{0, 1}`` and the start time of each frame in ms ``(F,)``.

    Raises:
      ValueError: an empty event stream, bad ``frame_rate`` or ``shape``.
      TypeError: ``event`` is not an :class:`~spyxlike.io.Event`.
    """
    where = "td_frames"
    if not isinstance(event, Event):
        raise TypeError(f"{where}: event must be a spyxlike.io.Event, got {type(event).__name__}")
    if len(event) == 0:
        raise ValueError(f"{where}: the event stream is empty, there is nothing to draw")
    interval = 1000.0 / _frame_rate(frame_rate, where)
    y = np.zeros_like(event.x) if event.y is None else event.y
    if shape is None:
        shape = (int(y.max()) + 1, int(event.x.max()) + 1)
    elif (len(shape) != 2 or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1
                                 for s in shape)):
        raise ValueError(f"{where}: shape must be (height, width) positive ints, got {shape!r}")
    h, w = int(shape[0]), int(shape[1])
    first = int(math.floor(event.t.min() / interval))
    index = np.floor(event.t / interval).astype(np.int64) - first
    n_frames = int(index.max()) + 1
    frames = np.zeros((n_frames, h, w, 3), np.float32)
    for polarity, channel in _COLOUR_CHANNEL.items():
        m = (event.p == polarity) & (y < h) & (event.x < w)
        frames[index[m], y[m], event.x[m], channel] = 1.0
    return frames, (np.arange(n_frames) + first) * interval


def show_td(event, path=None, frame_rate=24, *, max_frames=16, columns=8, shape=None):
    """A static overview of an event stream: its frames side by side (SLAYER's ``showTD``).

    SLAYER's ``showTD(TD, fig, frameRate, ...)`` plays the animation in a
    window; headless, spyxlike draws up to ``max_frames`` evenly spaced frames
    of :func:`td_frames` into one figure (ON red, OFF blue), each titled with
    its time window. Use :func:`anim_td` for the animation itself.

    Args:
      event: a :class:`spyxlike.io.Event`.
      path: save the figure as PNG here when given.
      frame_rate: frames per second of event time (> 0).
      max_frames: most panels to draw (>= 1).
      columns: panels per row (>= 1).
      shape: ``(height, width)`` of the frames (see :func:`td_frames`).

    Returns:
      The matplotlib ``Figure``.

    Raises:
      ValueError: an empty stream or a bad argument (named).
    """
    for name, value in (("max_frames", max_frames), ("columns", columns)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"show_td: {name} must be a positive int, got {value!r}")
    frames, starts = td_frames(event, frame_rate, shape)
    interval = 1000.0 / float(frame_rate)
    picks = np.unique(np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).round().astype(int))
    cols = min(columns, len(picks))
    rows = int(math.ceil(len(picks) / cols))
    fig = _figure((1.6 * cols + 0.4, 1.7 * rows + 0.6))
    for k, i in enumerate(picks):
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.imshow(frames[i], interpolation="nearest", aspect="auto" if frames.shape[1] == 1 else "equal")
        ax.set_title(f"{starts[i]:.0f}-{starts[i] + interval:.0f} ms", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{len(event)} events, ON red / OFF blue", fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


class _PngFrames(_animation.AbstractMovieWriter):
    """A matplotlib movie writer that writes one PNG per frame into the directory ``outfile``."""

    def __init__(self, fps):
        super().__init__(fps=fps)
        self.files = []

    def setup(self, fig, outfile, dpi=None):
        os.makedirs(os.fspath(outfile), exist_ok=True)
        super().setup(fig, outfile, dpi)

    def grab_frame(self, **savefig_kwargs):
        file = os.path.join(os.fspath(self.outfile), f"frame_{len(self.files):05d}.png")
        self.fig.savefig(file, dpi=self.dpi, **savefig_kwargs)
        self.files.append(file)

    def finish(self):
        """Nothing to flush: every frame is already a file."""


class AnimationResult(NamedTuple):
    """What :func:`anim_td` made.

    Attributes:
      animation: the ``matplotlib.animation.FuncAnimation``.
      frames: the RGB frames ``(F, H, W, 3)`` it shows.
      writer: ``"pillow"`` (GIF), ``"ffmpeg"`` (MP4/GIF), ``"png"`` (one PNG
        per frame) or ``None`` when nothing was saved.
      files: paths written (one animation file, or the PNG frames).
    """

    animation: object
    frames: np.ndarray
    writer: object
    files: list


def _writer_available(name):
    from matplotlib import animation

    return animation.writers.is_available(name)


def _choose_writer(path, writer, where):
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if writer not in ("auto", "pillow", "ffmpeg", "png"):
        raise ValueError(f"{where}: writer must be 'auto', 'pillow', 'ffmpeg' or 'png', got {writer!r}")
    if writer == "png":
        return "png"
    if writer != "auto":
        if not _writer_available(writer):
            raise RuntimeError(f"{where}: matplotlib's {writer!r} animation writer is not available here")
        if writer == "pillow" and suffix != ".gif":
            raise ValueError(f"{where}: the pillow writer writes GIF; give a path ending in .gif, "
                             f"got {os.fspath(path)!r}")
        return writer
    wanted = {".gif": ("pillow", "ffmpeg"), ".mp4": ("ffmpeg",)}.get(suffix, ())
    for name in wanted:
        if _writer_available(name):
            return name
    if wanted:
        warnings.warn(f"{where}: no animation writer for {suffix} files is available "
                      f"({' / '.join(wanted)}); writing PNG frames instead", RuntimeWarning,
                      stacklevel=3)
    return "png"


def anim_td(event, path=None, frame_rate=24, *, repeat=True, writer="auto", shape=None, dpi=80,
            scale=4.0, fig=None):
    """Animates an event stream (SLAYER's ``animTD``) and saves it when ``path`` is given.

    Frames are those of :func:`td_frames` (ON red, OFF blue), played at
    ``frame_rate`` frames per second, i.e. in real time (one frame per
    ``1000 / frame_rate`` ms of events), as SLAYER does. The figure is on the
    Agg canvas, never pyplot. Saving, with ``writer="auto"``:

    * ``*.gif``: Pillow's writer if available, else ffmpeg's, else PNG frames;
    * ``*.mp4``: ffmpeg if available, else PNG frames;
    * any other path: PNG frames.

    PNG frames go into the directory ``path`` with its suffix removed
    (``digit.gif`` -> ``digit/frame_00000.png``, ...), with a
    ``RuntimeWarning`` when an animation format was asked for.

    Args:
      event: a :class:`spyxlike.io.Event` (1-D or 2-D).
      path: where to save; ``None`` only builds the animation.
      frame_rate: frames per second of event time (> 0).
      repeat: whether the animation loops (GIF loops either way).
      writer: ``"auto"``, ``"pillow"``, ``"ffmpeg"`` or ``"png"``.
      shape: ``(height, width)`` of the frames (see :func:`td_frames`).
      dpi: resolution of saved frames.
      scale: figure inches per 34 pixels of the event frame's width.
      fig: a matplotlib ``Figure`` to draw into (cleared first), as SLAYER's
        ``fig`` argument; by default a new Agg figure. A pyplot figure is
        fine in notebooks; headless code should leave the default.

    Returns:
      An :class:`AnimationResult` ``(animation, frames, writer, files)``;
      ``writer`` names the writer used.

    Raises:
      ValueError: an empty stream or a bad argument (named).
      RuntimeError: an explicitly requested writer is not available.
    """
    from matplotlib import animation

    where = "anim_td"
    frames, starts = td_frames(event, frame_rate, shape)
    chosen = None if path is None else _choose_writer(path, writer, where)
    interval = 1000.0 / float(frame_rate)
    h, w = frames.shape[1:3]
    width = max(2.0, scale * w / 34.0)
    height = max(1.0, width * h / w) if h > 1 else 1.2
    if fig is None:
        fig = _figure((width, height + 0.3))
    else:
        fig.clear()
    ax = fig.add_axes((0.0, 0.0, 1.0, height / (height + 0.3)))
    ax.set_axis_off()
    image = ax.imshow(frames[0], interpolation="nearest", aspect="auto")
    title = fig.text(0.5, 1.0 - 0.15 / (height + 0.3), "", ha="center", va="center", fontsize=8)

    def draw(i):
        image.set_data(frames[i])
        title.set_text(f"{starts[i]:.0f}-{starts[i] + interval:.0f} ms")
        return image, title

    draw(0)
    anim = animation.FuncAnimation(fig, draw, frames=len(frames), interval=interval, repeat=repeat,
                                   blit=False)
    if path is None:
        return AnimationResult(anim, frames, None, [])
    if chosen == "png":
        movie = _PngFrames(frame_rate)
        anim.save(os.path.splitext(os.fspath(path))[0], writer=movie, dpi=dpi)
        return AnimationResult(anim, frames, "png", movie.files)
    parent = os.path.dirname(os.path.abspath(os.fspath(path)))
    os.makedirs(parent, exist_ok=True)
    if chosen == "pillow":
        movie = animation.PillowWriter(fps=frame_rate)
    else:
        movie = animation.FFMpegWriter(fps=frame_rate)
    anim.save(os.fspath(path), writer=movie, dpi=dpi)
    return AnimationResult(anim, frames, chosen, [os.fspath(path)])
