"""The exact event-driven training example learns the bundled digits (reduced run)."""

import dataclasses

import numpy as np

from spyxlike import evsim_train as E


def test_latency_encode():
    x = np.array([[0.0, 1.0, 0.5, 0.25], [0.0, 0.0, 0.0, 0.0]], np.float32)
    idx, t, c = E.latency_encode(x, t_max=4.0)
    np.testing.assert_array_equal(c, [3, 0])
    assert idx.shape == t.shape == (2, 3)
    np.testing.assert_array_equal(idx[0], [1, 2, 3])  # brighter -> earlier
    np.testing.assert_allclose(t[0], [0.0, 2.0, 3.0])
    assert np.all(np.isinf(t[1])) and np.all(idx[1] == 0)


def test_reduced_training_run_learns():
    """720 training images, 4 epochs, 64 hidden neurons: well above the 10 % chance level."""
    config = dataclasses.replace(E.EvsimTrainConfig(), hidden=64, epochs=4)
    result = E.run(config, progress=False, verbose=False, train_limit=720)
    assert result["test_accuracy"] >= 0.6, result["test_accuracy"]
    assert result["losses"][-1] < result["losses"][0]
    assert set(result["params"]) == {"w1", "w2"}
