"""The SLAYER-style demo learns the event digits (reduced run) and writes SLAYER's files.

The full run (``spyxlike slayer-demo``: 800 training / 200 test event digits,
15 epochs) reaches about 95 % held-out accuracy in about three minutes on two
CPU cores; the reduced run here (240 / 60 digits, 5 epochs, ~20 s) must
reach 60 % (chance: 10 %).
"""

import dataclasses
import re
import subprocess
import sys

import numpy as np
import pytest

from spyxlike.learning_stats import LearningStats
from spyxlike.netconfig import NetParams
from spyxlike.slayer_demo import (SlayerDemoConfig, ensure_event_digits, network_description,
                                  plot_output_spikes, run)

PNG = b"\x89PNG\r\n\x1a\n"
REDUCED = SlayerDemoConfig(n_per_class=30, epochs=5)


@pytest.fixture(scope="module")
def reduced(tmp_path_factory):
    out = tmp_path_factory.mktemp("slayer_demo")
    return out, run(str(out), REDUCED, progress=False, verbose=False)


def test_reduced_run_learns(reduced):
    _, result = reduced
    assert result["n_train"] == 240 and result["n_test"] == 60
    # reduced run: ~78 %; the full run ~95 %
    assert result["test_accuracy"] >= 0.60, result["test_accuracy"]
    assert result["train_accuracy"] >= 0.60, result["train_accuracy"]
    stats = result["stats"]
    assert len(stats.training.loss_log) == 5
    assert stats.training.loss_log[-1] < 0.5 * stats.training.loss_log[0]
    assert result["best_test_accuracy"] >= result["test_accuracy"]
    assert result["predictions"].shape == (60,)


def test_written_files_load_back(reduced):
    out, result = reduced
    names = sorted(p.rsplit("/", 1)[-1] for p in result["files"])
    assert names == ["accuracy.txt", "learning_curves.png", "loss.txt", "network.yaml",
                     "output_spikes.png"]
    # network.yaml round-trips through NetParams (yaml.safe_load) and builds the same net
    loaded = NetParams(str(out / "network.yaml"))
    assert loaded == result["net_params"] == network_description(REDUCED)
    assert loaded["training"]["error"]["tgtSpikeCount"] == {True: 20.0, False: 4.0}
    assert loaded.num_steps == 60 and loaded["neuron"]["tauRef"] == loaded.Ts
    assert [s.dim for s in loaded.layers] == list(REDUCED.layers)
    # SLAYER's loss.txt / accuracy.txt
    stats = LearningStats.load(str(out) + "/")
    np.testing.assert_allclose(stats.training.loss_log, result["stats"].training.loss_log,
                               rtol=1e-5)
    np.testing.assert_allclose(stats.testing.accuracy_log, result["stats"].testing.accuracy_log,
                               rtol=1e-5)
    assert stats.testing.accuracy_log[-1] == pytest.approx(result["test_accuracy"], rel=1e-5)
    for name in ("learning_curves.png", "output_spikes.png"):
        assert (out / name).read_bytes()[:8] == PNG
    # the data set went through SLAYER's 2D spike-file format
    data = out / "event_digits"
    assert (data / "train.txt").is_file() and (data / "test.txt").is_file()
    assert len(list(data.glob("*.bin"))) == 300


def test_existing_event_digits_are_reused(reduced):
    out, _ = reduced
    data = out / "event_digits"
    stamp = (data / "0.bin").stat().st_mtime_ns
    meta = ensure_event_digits(str(data), 30, 0)
    assert meta["n_train"] == 240 and (data / "0.bin").stat().st_mtime_ns == stamp


def test_config_validation():
    with pytest.raises(ValueError, match="epochs"):
        SlayerDemoConfig(epochs=0)
    with pytest.raises(TypeError, match="batch_size"):
        SlayerDemoConfig(batch_size=2.5)
    with pytest.raises(ValueError, match="layers"):
        SlayerDemoConfig(layers=())
    with pytest.raises(ValueError, match="simulation.Ts"):
        network_description(dataclasses.replace(REDUCED, Ts=7.0))
    with pytest.raises(TypeError, match="SlayerDemoConfig"):
        run(".", {"epochs": 1})


def test_plot_output_spikes(tmp_path):
    s = np.zeros((3, 6, 10))
    s[0, [1, 2], 4] = 1
    fig = plot_output_spikes(s, np.array([4, 1, 2]), tmp_path / "o.png", Ts=5.0)
    assert (tmp_path / "o.png").read_bytes()[:8] == PNG
    assert fig.axes[0].get_title() == "digit 4 -> 4"
    with pytest.raises(ValueError, match=r"\(n, T, classes\)"):
        plot_output_spikes(s[0], np.array([4]))


def test_cli_slayer_demo(tmp_path):
    out = tmp_path / "cli"
    proc = subprocess.run(
        [sys.executable, "-m", "spyxlike.cli", "slayer-demo", "--out", str(out), "--epochs", "1",
         "--n-per-class", "5", "--no-progress"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    match = re.search(r"held-out test accuracy: ([\d.]+) % \(10 event digits\)", proc.stdout)
    assert match, proc.stdout
    assert 0.0 <= float(match.group(1)) <= 100.0
    assert re.search(r"Epoch +0, .* \| train: loss .* \| test: loss", proc.stdout), proc.stdout
    for name in ("network.yaml", "loss.txt", "accuracy.txt"):
        assert (out / name).is_file()
    assert (out / "learning_curves.png").read_bytes()[:8] == PNG


def test_cli_rejects_bad_arguments():
    proc = subprocess.run([sys.executable, "-m", "spyxlike.cli", "slayer-demo", "--epochs", "0"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--epochs must be >= 1, got 0" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "spyxlike.cli", "slayer-demo", "--n-per-class",
                           "1"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--n-per-class must be >= 2, got 1" in proc.stderr
