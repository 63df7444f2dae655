"""spyxlike.event_viz: SLAYER-style frames, figures and animations of events (Agg, headless)."""

import os

import numpy as np
import pytest

from spyxlike import event_viz
from spyxlike.io import Event


def _event():
    # ON at (x=1, y=2) in frame 0, OFF at (3, 0) in frame 1, p=2 at (0, 0) in frame 2 (24 fps: 41.67 ms)
    return Event([1, 3, 0], [2, 0, 0], [1, 0, 2], [10.0, 50.0, 90.0])


def test_td_frames_colours_and_windows():
    frames, starts = event_viz.td_frames(_event())
    assert frames.shape == (3, 3, 4, 3)
    np.testing.assert_allclose(starts, np.arange(3) * 1000 / 24)
    assert frames[0, 2, 1].tolist() == [1, 0, 0]      # ON red
    assert frames[1, 0, 3].tolist() == [0, 0, 1]      # OFF blue
    assert frames[2, 0, 0].tolist() == [0, 1, 0]      # p == 2 green
    assert frames.sum() == 3
    late = Event([0, 0], [0, 0], [1, 1], [100.0, 1000.0])
    f, s = event_viz.td_frames(late, frame_rate=10, shape=(2, 2))
    assert f.shape == (10, 2, 2, 3) and s[0] == 100.0 and f[-1].sum() == 1   # last event kept


def test_td_frames_1d_and_errors():
    f, _ = event_viz.td_frames(Event([0, 4], None, [1, 0], [0.0, 0.0]))
    assert f.shape == (1, 1, 5, 3)
    with pytest.raises(ValueError, match="empty"):
        event_viz.td_frames(Event([], [], [], []))
    with pytest.raises(ValueError, match="frame_rate"):
        event_viz.td_frames(_event(), frame_rate=0)
    with pytest.raises(TypeError, match="Event"):
        event_viz.td_frames(np.zeros((3, 4)))


def test_show_td_writes_png(tmp_path):
    path = tmp_path / "show.png"
    fig = event_viz.show_td(_event(), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes) == 3


def test_anim_td_gif_or_fallback(tmp_path):
    result = event_viz.anim_td(_event(), tmp_path / "ev.gif", frame_rate=24)
    assert result.writer in ("pillow", "ffmpeg", "png")
    assert result.frames.shape == (3, 3, 4, 3)
    for f in result.files:
        assert os.path.getsize(f) > 0
    if result.writer == "png":
        assert len(result.files) == 3
    else:
        assert result.files == [str(tmp_path / "ev.gif")]
        assert (tmp_path / "ev.gif").read_bytes()[:3] == b"GIF"


def test_anim_td_png_frames_really_written(tmp_path):
    result = event_viz.anim_td(_event(), tmp_path / "frames", writer="png")
    assert result.writer == "png"
    assert [os.path.basename(f) for f in result.files] == [f"frame_{i:05d}.png" for i in range(3)]
    for f in result.files:
        with open(f, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_anim_td_mp4_without_ffmpeg_falls_back(tmp_path):
    from matplotlib import animation

    if animation.writers.is_available("ffmpeg"):
        result = event_viz.anim_td(_event(), tmp_path / "ev.mp4")
        assert result.writer == "ffmpeg" and os.path.getsize(result.files[0]) > 0
    else:
        with pytest.warns(RuntimeWarning, match="PNG frames"):
            result = event_viz.anim_td(_event(), tmp_path / "ev.mp4")
        assert result.writer == "png" and len(result.files) == 3
        assert os.path.isdir(tmp_path / "ev")


def test_anim_td_arguments(tmp_path):
    result = event_viz.anim_td(_event())
    assert result.writer is None and result.files == []
    result.animation.save(tmp_path / "own.gif", writer="pillow")   # the caller renders it
    assert (tmp_path / "own.gif").stat().st_size > 0
    with pytest.raises(ValueError, match="writer"):
        event_viz.anim_td(_event(), "x.gif", writer="imagemagick-ish")


def test_anim_td_into_given_figure(tmp_path):
    fig = event_viz._figure((3, 3))
    result = event_viz.anim_td(_event(), tmp_path / "f.gif", fig=fig, writer="pillow")
    assert len(fig.axes) == 1 and (tmp_path / "f.gif").stat().st_size > 0
