"""The STDP pipelines learn: Kheradpisheh-style features and the R-STDP decision layer.

Reduced size (400 training images, fewer epochs) so the suite stays fast; the
full protocol (1200/597) is ``spyxlike stdp-demo`` / notebooks/stdp_digits.ipynb
(96.5 % linear SVM, 86.9 % R-STDP on the development machine).
"""

import dataclasses
import json

import jax
import numpy as np
import pytest

from spyxlike.datasets import load_digits_upsampled
from spyxlike.rstdp_readout import RSTDPConfig, RSTDPReadout
from spyxlike.stdp_features import (
    KheradpishehConfig, encode, extract_features, init_weights, linear_readout, train_extractor,
)

CONFIG = dataclasses.replace(KheradpishehConfig(), epochs1=3, epochs2=4)


@pytest.fixture(scope="module")
def trained():
    (x_tr, y_tr), (x_te, y_te) = load_digits_upsampled()
    x_tr, y_tr = x_tr[:400], y_tr[:400]
    weights, history = train_extractor(CONFIG, x_tr, progress=False)
    f_tr = extract_features(CONFIG, weights, x_tr)
    f_te = extract_features(CONFIG, weights, x_te)
    return weights, history, (f_tr, y_tr, f_te, y_te), (x_tr, x_te)


def test_encoding_is_rank_coded_on_off_dog():
    (x, _), _ = load_digits_upsampled(n_train=4)
    t = np.asarray(encode(CONFIG, x[:4]))
    assert t.shape == (4, 28, 28, 2) and t.dtype == np.int32
    assert t.min() == 0 and t.max() == CONFIG.time_steps
    # on and off channels never both fire at a pixel (a DoG response has one sign)
    assert not np.any((t[..., 0] < CONFIG.time_steps) & (t[..., 1] < CONFIG.time_steps))


def test_stdp_converges_and_features_beat_untrained(trained):
    weights, history, (f_tr, y_tr, f_te, y_te), (x_tr, x_te) = trained
    # Kheradpisheh's convergence measure falls as the weights saturate towards 0 or 1.
    assert history["convergence1"][-1] < history["convergence1"][0] - 0.02
    # Both kernels moved far from their normal(0.8, 0.02) initialisation.
    assert float(np.std(weights["conv1"])) > 0.2 and float(np.std(weights["conv2"])) > 0.1
    assert f_tr.shape == (400, CONFIG.readout_grid ** 2 * CONFIG.conv2_features)
    acc, _, _ = linear_readout(f_tr, y_tr, f_te, y_te)
    w0 = init_weights(CONFIG, jax.random.PRNGKey(CONFIG.seed))
    acc0, _, _ = linear_readout(extract_features(CONFIG, w0, x_tr), y_tr,
                                extract_features(CONFIG, w0, x_te), y_te)
    assert acc >= 0.88, acc
    assert acc >= acc0 + 0.1, (acc, acc0)


def test_rstdp_decision_layer_learns(trained):
    _, _, (f_tr, y_tr, f_te, y_te), _ = trained
    readout = RSTDPReadout(dataclasses.replace(RSTDPConfig(), epochs=15)).fit(f_tr, y_tr, progress=False)
    assert readout.history[-1] > readout.history[0]
    assert readout.score(f_te, y_te) >= 0.45  # chance is 0.10; full size reaches ~87 %
    pred = readout.predict(f_te[:5])
    assert pred.shape == (5,) and pred.dtype == np.int32


def test_rstdp_readout_errors():
    r = RSTDPReadout()
    with pytest.raises(ValueError, match="call fit first"):
        r.predict(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="labels must be in"):
        r.fit(np.zeros((3, 4)), np.array([0, 1, 12]), progress=False)
    with pytest.raises(ValueError, match="features must be"):
        r.fit(np.zeros((3,)), np.array([0, 1, 2]), progress=False)


def test_stdp_demo_cli_small(tmp_path, capsys):
    from spyxlike.cli import main
    from spyxlike.stdp_demo import StdpDemoConfig, run

    cfg = StdpDemoConfig(n_train=60, n_test=40,
                         features=dataclasses.replace(KheradpishehConfig(), epochs1=1, epochs2=1),
                         rstdp=dataclasses.replace(RSTDPConfig(), epochs=2))
    results = run(str(tmp_path), cfg, progress=False)
    out = capsys.readouterr().out
    assert "held-out accuracy" in out and "R-STDP" in out
    for name in ("stdp_features_layer1.png", "stdp_features_layer2.png", "stdp_convergence.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    saved = json.loads((tmp_path / "stdp_results.json").read_text())
    assert saved["n_train"] == 60 and saved["n_test"] == 40
    assert 0.0 <= results["svm_test_accuracy"] <= 1.0
    with pytest.raises(SystemExit):
        main(["stdp-demo", "--n-train", "5"])
