"""Tests for spyxlike.feature_viz (SpykeTorch's visualization module)."""

import numpy as np
import pytest

from spyxlike.feature_viz import (
    get_deep_feature, get_deep_receptive_field, plot_features, plot_tensor_in_image, show_tensor,
)


def test_receptive_field_of_kheradpisheh_stack():
    # conv 5 s1 -> pool 2 s2 -> conv 3 s1 -> pool 3 s3
    field, stride = get_deep_receptive_field((5, 1), (2, 2), (3, 1), (3, 3))
    assert field == (14, 14)  # 5, +1*1, +2*2, +2*2
    assert stride == (6, 6)


def test_deep_feature_places_weighted_pre_features():
    pre = np.zeros((2, 1, 1))
    pre[0, 0, 0], pre[1, 0, 0] = 1.0, -1.0  # on / off pixel channels
    w = np.zeros((2, 2, 2, 1))
    w[0, 0, 0, 0] = 0.5   # top-left: on channel
    w[1, 1, 1, 0] = 0.25  # bottom-right: off channel
    feat, stride = get_deep_feature(pre, 1, 2, 1, w)
    np.testing.assert_allclose(feat[0], [[0.5, 0.0], [0.0, -0.25]])
    assert stride == (1, 1)
    # The next layer sees layer-1 units 1 pixel apart; stride 2 spreads them.
    feat2, stride2 = get_deep_feature(feat, 2, 2, 1, np.ones((2, 2, 1, 1)))
    assert feat2.shape == (1, 4, 4) and stride2 == (2, 2)
    np.testing.assert_allclose(feat2[0, :2, :2], feat[0])
    np.testing.assert_allclose(feat2[0, 2:, 2:], feat[0])


def test_deep_feature_pooling_takes_max():
    pre = np.array([[[1.0, 0.0], [0.0, 2.0]]])
    feat, stride = get_deep_feature(pre, 1, 2, 2)
    assert feat.shape == (1, 3, 3) and stride == (2, 2)
    np.testing.assert_allclose(feat[0], [[1, 1, 0], [1, 2, 2], [0, 2, 2]])


@pytest.mark.parametrize("kwargs, match", [
    ({"pre_feature": np.zeros((2, 2))}, "pre_feature"),
    ({"weights": np.zeros((3, 3, 2, 4))}, "weights"),
    ({"window_size": 0}, "window_size"),
])
def test_deep_feature_errors(kwargs, match):
    args = {"pre_feature": np.zeros((2, 1, 1)), "feature_stride": 1, "window_size": 2, "stride": 1,
            "weights": np.zeros((2, 2, 2, 4))}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        get_deep_feature(**args)


def test_receptive_field_errors():
    with pytest.raises(ValueError, match="layer 0"):
        get_deep_receptive_field((5,))


def test_plots_save_png(tmp_path):
    path = tmp_path / "t.png"
    plot_tensor_in_image(str(path), np.arange(12.0).reshape(3, 4))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = plot_features(np.random.default_rng(0).normal(size=(12, 5, 5)), tmp_path / "f.png",
                        columns=5, symmetric=True, title="features")
    assert len(fig.axes) == 12 and (tmp_path / "f.png").stat().st_size > 0
    with pytest.raises(ValueError, match="2-D"):
        show_tensor(np.zeros((2, 2, 2)))
