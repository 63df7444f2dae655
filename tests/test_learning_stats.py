"""LearningStats: accumulation, best-value tracking, the one-line print, PNG
plot without touching the global backend, SLAYER-format save/load."""

import io
import math

import matplotlib
import numpy as np
import pytest

from spyxlike.learning_stats import LearningStat, LearningStats


def _epoch(stat, losses, correct, n):
    stat.reset()
    for loss in losses:
        stat.loss_sum += loss
    stat.correct_samples += correct
    stat.num_samples += n
    stat.update()


def test_stat_accumulation_and_best_values():
    st = LearningStat()
    assert st.loss() is None and st.accuracy() is None
    _epoch(st, [2.0, 4.0], 3, 10)
    assert st.loss() == pytest.approx(0.6) and st.accuracy() == pytest.approx(0.3)
    assert st.min_loss == pytest.approx(0.6) and st.max_accuracy == pytest.approx(0.3)
    assert st.best_loss and st.best_accuracy
    _epoch(st, [1.0], 2, 10)  # loss 0.1 better, accuracy 0.2 worse
    assert st.best_loss and not st.best_accuracy
    assert st.min_loss == pytest.approx(0.1) and st.max_accuracy == pytest.approx(0.3)
    _epoch(st, [5.0], 0, 10)  # zero correct is accuracy 0, not None
    assert st.accuracy() == 0.0 and not st.best_loss and not st.best_accuracy
    st.reset()
    st.update()  # an empty session logs nan and changes no best value
    assert math.isnan(st.loss_log[-1]) and st.min_loss == pytest.approx(0.1)
    assert st.loss_log[:3] == pytest.approx([0.6, 0.1, 0.5])
    assert st.accuracy_log[:3] == pytest.approx([0.3, 0.2, 0.0])
    # SLAYER's camelCase attributes are aliases
    st.lossSum += 3.0
    st.numSamples += 2
    assert st.loss_sum == 3.0 and st.loss() == 1.5 and st.minloss == st.min_loss
    with pytest.raises(AttributeError):
        st.nothing


def test_stats_update_resets_both():
    stats = LearningStats()
    stats.training.loss_sum, stats.training.num_samples = 4.0, 2
    stats.testing.loss_sum, stats.testing.num_samples = 1.0, 1
    stats.update()
    assert stats.training.loss_log == [2.0] and stats.testing.loss_log == [1.0]
    assert stats.training.num_samples == 0 and stats.testing.num_samples == 0


def test_print_rewrites_one_line():
    stats = LearningStats()
    buf = io.StringIO()
    stats.training.loss_sum, stats.training.num_samples = 12.5, 5
    stats.training.correct_samples = 4
    stats.print(3, iter=7, time_elapsed=0.25, header="run A", file=buf)
    first = buf.getvalue()
    assert first.startswith("\r") and "\n" not in first
    assert "run A" in first and "Epoch     3" in first and "i =      7" in first
    assert "250.00 ms" in first and "loss 2.5" in first and "accuracy 0.8" in first
    assert "test" not in first  # no testing samples yet
    stats.print(3, file=buf)
    second = buf.getvalue()[len(first):]
    # the shorter line is padded to cover the previous one
    assert second.startswith("\r") and len(second) == len(first)
    stats.testing.loss_sum, stats.testing.num_samples = 1.0, 1
    stats.print(4, file=buf, final=True)
    assert buf.getvalue().endswith("\n") and "test: loss 1" in buf.getvalue()
    assert buf.getvalue().count("\n") == 1
    with pytest.raises(TypeError, match="epoch"):
        stats.print(1.5, file=buf)


def _filled():
    stats = LearningStats()
    for e, (tr, te) in enumerate([(1.0, 1.2), (0.5, 0.8), (0.25, 0.9)]):
        stats.training.loss_sum, stats.training.num_samples = tr * 10, 10
        stats.training.correct_samples = 5 + e
        stats.testing.loss_sum, stats.testing.num_samples = te * 4, 4
        stats.testing.correct_samples = 1 + e
        stats.update()
    return stats


def test_plot_png_without_backend_change(tmp_path):
    backend = matplotlib.get_backend()
    path = tmp_path / "curves.png"
    _filled().plot(path, title="demo")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.get_backend() == backend
    with pytest.raises(ValueError, match="nothing logged"):
        LearningStats().plot(tmp_path / "x.png")


def test_save_and_load_round_trip(tmp_path):
    stats = _filled()
    prefix = str(tmp_path / "run1-")
    stats.save(prefix)
    text = (tmp_path / "run1-loss.txt").read_text()
    assert text.splitlines()[0] == "#      Train        Test"
    assert text.splitlines()[1] == "%12.6g %12.6g" % (1.0, 1.2)
    assert (tmp_path / "run1-accuracy.txt").exists()
    back = LearningStats.load(prefix)
    for a, b in ((back.training, stats.training), (back.testing, stats.testing)):
        np.testing.assert_allclose(a.loss_log, b.loss_log, rtol=1e-6)
        np.testing.assert_allclose(a.accuracy_log, b.accuracy_log, rtol=1e-6)
        assert a.min_loss == pytest.approx(b.min_loss)
        assert a.max_accuracy == pytest.approx(b.max_accuracy)
    assert LearningStats.load(prefix, num_epochs=1).training.loss_log == [1.0]


def test_load_slayer_files_and_errors(tmp_path):
    # SLAYER writes \r\n line ends and a trailing space; one epoch
    (tmp_path / "loss.txt").write_bytes(b"#      Train        Test\r\n"
                                        b"         0.5         0.7 \r\n")
    (tmp_path / "accuracy.txt").write_bytes(b"#      Train        Test\r\n"
                                            b"         0.9        0.85 \r\n")
    st = LearningStats.load(str(tmp_path) + "/")
    assert st.training.loss_log == [0.5] and st.testing.max_accuracy == 0.85
    (tmp_path / "bad-loss.txt").write_text("# Train Test\n1 2 3\n")
    (tmp_path / "bad-accuracy.txt").write_text("# Train Test\n1 2\n")
    with pytest.raises(ValueError, match="two columns"):
        LearningStats.load(str(tmp_path / "bad-"))
    (tmp_path / "bad-loss.txt").write_text("# Train Test\nfoo bar\n")
    with pytest.raises(ValueError, match="learning-statistics"):
        LearningStats.load(str(tmp_path / "bad-"))
