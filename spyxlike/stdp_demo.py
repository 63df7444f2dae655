"""Single-spike STDP example: unsupervised features + linear and R-STDP read-outs.

``spyxlike stdp-demo`` runs :func:`run` on the bundled digits upsampled to
28x28, with the protocol the SpykeTorch figures are quoted on (first 1200
images train, the remaining 597 test; :func:`spyxlike.datasets.load_digits_upsampled`):

1. :func:`spyxlike.stdp_features.train_extractor` learns the two conv layers
   with STDP (Kheradpisheh et al. 2018), one image at a time, with progress
   bars;
2. :func:`spyxlike.stdp_features.extract_features` gives each image the
   pooled final potentials of layer 2, read out by a linear SVM
   (scikit-learn) — at least 93 % held out with the defaults, against
   about 91 % for a linear SVM on the raw pixels;
3. :class:`spyxlike.rstdp_readout.RSTDPReadout` learns a decision layer on
   the same features with R-STDP (Mozafari et al. 2019) — at least 80 %;
4. the learned layer-1 and layer-2 features are reconstructed in pixel
   space (:mod:`spyxlike.feature_viz`) and saved as PNG, with the
   convergence curves.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time

import numpy as np

from spyxlike.datasets import load_digits_upsampled
from spyxlike.feature_viz import get_deep_feature, plot_features
from spyxlike.rstdp_readout import RSTDPConfig, RSTDPReadout
from spyxlike.stdp_features import (
    KheradpishehConfig, dog_filter, extract_features, linear_readout, train_extractor,
)
from spyxlike.viz import _figure


@dataclasses.dataclass(frozen=True)
class StdpDemoConfig:
    """What :func:`run` does: the data size and both configs."""

    n_train: int = 1200
    n_test: int | None = None
    features: KheradpishehConfig = KheradpishehConfig()
    rstdp: RSTDPConfig = RSTDPConfig()


def reconstruct_features(config: KheradpishehConfig, weights):
    """Pixel-space reconstructions ``(layer1 (30, h, w), layer2 (100, h, w))`` of the learned maps."""
    pre = np.asarray(dog_filter(config).kernels)  # (2, K, K): the on and off DoG kernels
    f1, s1 = get_deep_feature(pre, 1, config.conv1_kernel, 1, np.asarray(weights["conv1"]))
    fp, sp = get_deep_feature(f1, s1, config.pool1_kernel, config.pool1_stride)
    f2, _ = get_deep_feature(fp, sp, config.conv2_kernel, 1, np.asarray(weights["conv2"]))
    return f1, f2


def run(out_dir: str = ".", config: StdpDemoConfig = StdpDemoConfig(), *, progress: bool = True):
    """Trains and evaluates everything; returns a dict of the figures it printed.

    Writes ``stdp_features_layer1.png``, ``stdp_features_layer2.png``,
    ``stdp_convergence.png`` and ``stdp_results.json`` into ``out_dir``.
    """
    os.makedirs(out_dir, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = load_digits_upsampled(n_train=config.n_train)
    if config.n_test is not None:
        x_test, y_test = x_test[: config.n_test], y_test[: config.n_test]
    start = time.perf_counter()
    weights, history = train_extractor(config.features, x_train, progress=progress)
    train_s = time.perf_counter() - start
    f_train = extract_features(config.features, weights, x_train)
    f_test = extract_features(config.features, weights, x_test)
    svm_test, svm_train, _ = linear_readout(f_train, y_train, f_test, y_test)
    print(f"STDP features + linear SVM: held-out accuracy {100 * svm_test:.2f} % "
          f"(train {100 * svm_train:.2f} %), {len(y_train)} train / {len(y_test)} test images, "
          f"STDP training {train_s:.1f} s", flush=True)
    readout = RSTDPReadout(config.rstdp).fit(f_train, y_train, progress=progress)
    rstdp_test = readout.score(f_test, y_test)
    print(f"R-STDP decision layer: held-out accuracy {100 * rstdp_test:.2f} % "
          f"(train {100 * readout.score(f_train, y_train):.2f} %)", flush=True)

    f1, f2 = reconstruct_features(config.features, weights)
    plot_features(f1, os.path.join(out_dir, "stdp_features_layer1.png"), columns=10,
                  symmetric=True, title="layer 1 features (on - off DoG)")
    plot_features(f2[:40], os.path.join(out_dir, "stdp_features_layer2.png"), columns=10,
                  symmetric=True, title="layer 2 features (first 40)")
    fig = _figure((8, 3))
    ax = fig.add_subplot(1, 2, 1)
    ax.plot(range(1, len(history["convergence1"]) + 1), history["convergence1"], "o-", label="layer 1")
    ax.plot(range(1, len(history["convergence2"]) + 1), history["convergence2"], "s-", label="layer 2")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean W(1-W)")
    ax.legend()
    ax = fig.add_subplot(1, 2, 2)
    ax.plot(range(1, len(readout.history) + 1), readout.history)
    ax.set_xlabel("R-STDP epoch")
    ax.set_ylabel("train accuracy")
    fig.savefig(os.path.join(out_dir, "stdp_convergence.png"), format="png", bbox_inches="tight")
    results = {"svm_test_accuracy": svm_test, "svm_train_accuracy": svm_train,
               "rstdp_test_accuracy": rstdp_test, "stdp_train_seconds": train_s,
               "n_train": int(len(y_train)), "n_test": int(len(y_test)), **history}
    with open(os.path.join(out_dir, "stdp_results.json"), "w") as f:
        json.dump(results, f, indent=1)
    return results
