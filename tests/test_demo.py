"""The demo learns (reduced run), the CLI writes its PNGs, rasters draw."""

import re
import subprocess
import sys

import numpy as np
import pytest

from spyxlike import viz
from spyxlike.demo import DemoConfig, build_model, run

PNG = b"\x89PNG\r\n\x1a\n"


def test_reduced_demo_learns(tmp_path):
    result = run(str(tmp_path), DemoConfig(epochs=8), progress=False, verbose=False)
    # full run (40 epochs) reaches ~97.8 %; 8 epochs must already be well past chance
    assert result["test_accuracy"] >= 0.90, result["test_accuracy"]
    assert result["train_accuracy"] >= 0.90
    history = result["history"]
    assert history.epochs == list(range(1, 9))
    assert history["loss"][-1] < history["loss"][0]
    for path in result["files"]:
        with open(path, "rb") as fh:
            assert fh.read(8) == PNG


def test_cli_demo_prints_accuracy_and_writes_pngs(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "spyxlike.cli", "demo", "--out", str(out), "--epochs", "3", "--no-progress"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    match = re.search(r"held-out test accuracy: ([\d.]+) %", proc.stdout)
    assert match, proc.stdout
    assert 30.0 < float(match.group(1)) <= 100.0
    assert (out / "training_curves.png").read_bytes()[:8] == PNG
    assert (out / "spike_raster.png").read_bytes()[:8] == PNG


def test_cli_rejects_bad_epochs():
    proc = subprocess.run([sys.executable, "-m", "spyxlike.cli", "demo", "--epochs", "0"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--epochs must be >= 1, got 0" in proc.stderr


def test_demo_model_shapes():
    import jax
    import jax.numpy as jnp

    model = build_model(hidden=16, classes=10)
    x = jnp.zeros((3, 5, 64), jnp.uint8)
    params = model.init(jax.random.PRNGKey(0), x)
    traces, (h1, h2) = model.apply(params, x)
    assert traces.shape == (3, 5, 10) and h1.shape == h2.shape == (3, 5, 16)


def test_spike_raster(tmp_path):
    spikes = np.zeros((10, 4))
    spikes[[1, 3, 3], [0, 2, 3]] = 1
    fig = viz.spike_raster([spikes, spikes[:, :2]], tmp_path / "r.png", labels=["a", "b"])
    assert (tmp_path / "r.png").read_bytes()[:8] == PNG
    assert [ax.get_title() for ax in fig.axes] == ["a: 3 spikes, rate 0.075", "b: 1 spikes, rate 0.050"]
    with pytest.raises(ValueError, match=r"spikes\[0\] must be \(T, N, ...\)"):
        viz.spike_raster(np.zeros(5))
    with pytest.raises(ValueError, match="labels must have one entry per layer"):
        viz.spike_raster([spikes], labels=["a", "b"])
