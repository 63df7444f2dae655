"""spyxlike.compat.spyketorch: SpykeTorch spellings and layouts over the core."""

import numpy as np
import pytest

from spyxlike import coding, competition, feature_viz, filters, inhibition, intensity_inhibition
from spyxlike import layout, spikeconv, spikewave, stdp
from spyxlike.compat import spyketorch as st
from spyxlike.winners import winners_from_list

RNG = np.random.default_rng(7)


def _core(x):
    return layout.from_spyketorch(np.asarray(x))


def test_namespaces_hold_the_spyketorch_names():
    for name in ("fire", "fire_", "threshold", "threshold_", "feature_inhibition",
                 "feature_inhibition_", "get_k_winners", "intensity_lateral_inhibition",
                 "local_normalization", "pad", "pointwise_inhibition", "pooling"):
        assert callable(getattr(st.functional, name))
    for name in ("Convolution", "Pooling", "STDP"):
        assert callable(getattr(st.snn, name))
    for name in ("DoGKernel", "GaborKernel", "FilterKernel", "Filter", "Intensity2Latency",
                 "LateralIntencityInhibition", "generate_inhibition_kernel", "to_pair"):
        assert callable(getattr(st.utils, name))
    for name in ("get_deep_feature", "get_deep_receptive_field", "plot_tensor_in_image",
                 "show_tensor"):
        assert callable(getattr(st.visualization, name))


def test_fire_and_threshold_match_core_and_spykertorch_rules():
    p = RNG.normal(size=(5, 3, 4, 4)).astype(np.float32)
    spikes, thr = st.fire(p, 0.3, return_thresholded_potentials=True)
    ref_s, ref_t = spikewave.fire(p[None], 0.3, True)
    np.testing.assert_array_equal(np.asarray(spikes), np.asarray(ref_s[0]))
    np.testing.assert_array_equal(np.asarray(thr), np.asarray(ref_t[0]))
    np.testing.assert_array_equal(np.asarray(st.fire_(p, 0.3)), np.asarray(spikes))
    # threshold=None: only the last step can fire
    last = np.asarray(st.fire(np.abs(p)))
    assert last[:-1].sum() == 0 and last[-1].sum() == (np.abs(p[-1]) > 0).sum()
    t = np.asarray(st.threshold(p, 0.5))
    np.testing.assert_array_equal(t, np.where(p > 0.5, p, 0))
    np.testing.assert_array_equal(np.asarray(st.threshold_(p, 0.5)), t)
    t_none = np.asarray(st.threshold(p))
    assert (t_none[:-1] == 0).all() and np.array_equal(t_none[-1], p[-1])


def test_pad_takes_left_right_top_bottom():
    x = np.arange(6, dtype=np.float32).reshape(1, 1, 2, 3) + 1
    y = np.asarray(st.pad(x, (1, 2, 3, 4), value=-1))
    assert y.shape == (1, 1, 2 + 3 + 4, 3 + 1 + 2)
    np.testing.assert_array_equal(y[0, 0, 3:5, 1:4], x[0, 0])
    assert (y[0, 0, :3] == -1).all() and (y[0, 0, 5:] == -1).all()
    assert (y[0, 0, :, :1] == -1).all() and (y[0, 0, :, 4:] == -1).all()
    with pytest.raises(ValueError, match="left, right, top, bottom"):
        st.pad(x, (1, 2))
    with pytest.raises(ValueError, match="rank >= 2"):
        st.pad(np.ones(3), (1, 1, 1, 1))


def test_pooling_and_pooling_object_match_core():
    w = (RNG.random((4, 2, 6, 6)) > 0.6).astype(np.float32)
    ref = layout.to_spyketorch(spikeconv.pool(_core(w), 2, 2, 1))
    np.testing.assert_array_equal(np.asarray(st.pooling(w, 2, 2, 1)), np.asarray(ref))
    np.testing.assert_array_equal(np.asarray(st.Pooling(2, 2, 1)(w)), np.asarray(ref))
    with pytest.raises(ValueError, match=r"\(T, C, H, W\)"):
        st.pooling(w[0], 2)


def test_get_k_winners_hand_case():
    p = np.zeros((2, 2, 3, 3), np.float32)
    p[1, 0, 0, 0] = 9.0           # feature 0 fires late with a large potential
    p[:, 1, 1, 1] = 5.0           # feature 1 fires at t = 0
    assert st.get_k_winners(p, kwta=2) == [(1, 1, 1), (0, 0, 0)]
    # radius 1 around (1, 1) inhibits (0, 0) in every other map
    assert st.get_k_winners(p, kwta=2, inhibition_radius=1) == [(1, 1, 1)]
    core = competition.get_k_winners(_core(p), 2).to_list()[0]
    assert core == [(1, 1, 1), (0, 0, 0)]


def test_inhibitions_and_normalisation_match_core():
    p = np.maximum(RNG.normal(size=(4, 3, 5, 5)), 0).astype(np.float32)
    ref = layout.to_spyketorch(inhibition.pointwise_inhibition(_core(p)))
    np.testing.assert_array_equal(np.asarray(st.pointwise_inhibition(p)), np.asarray(ref))
    fi = np.asarray(st.feature_inhibition(p, [0, 2]))
    assert (fi[:, [0, 2]] == 0).all() and np.array_equal(fi[:, 1], p[:, 1])
    np.testing.assert_array_equal(np.asarray(st.feature_inhibition_(p, [1])[:, 1]), 0)

    img = RNG.random((1, 2, 7, 7)).astype(np.float32)
    kernel = st.generate_inhibition_kernel([0.15, 0.12])
    ref = intensity_inhibition.intensity_lateral_inhibition(img.transpose(0, 2, 3, 1), kernel)
    got = st.intensity_lateral_inhibition(img, kernel)
    np.testing.assert_allclose(np.asarray(got), np.asarray(ref).transpose(0, 3, 1, 2), rtol=1e-6)
    obj = st.LateralIntencityInhibition([0.15, 0.12])
    np.testing.assert_allclose(np.asarray(obj(img[0])), np.asarray(got[0]), rtol=1e-6)

    ref = filters.local_normalization(img.transpose(0, 2, 3, 1), 2)
    np.testing.assert_allclose(np.asarray(st.local_normalization(img, 2)),
                               np.asarray(ref).transpose(0, 3, 1, 2), rtol=1e-6)


def test_convolution_is_a_stride_1_valid_cross_correlation():
    conv = st.Convolution(2, 3, (3, 2))
    w = RNG.random((3, 2, 3, 2)).astype(np.float32)
    conv.load_weight(w)
    x = (RNG.random((4, 2, 5, 6)) > 0.5).astype(np.float32)
    y = np.asarray(conv(x))
    assert y.shape == (4, 3, 3, 5)
    expected = np.zeros_like(y)
    for i in range(3):
        for j in range(5):
            expected[:, :, i, j] = np.einsum("tchw,ochw->to", x[:, :, i:i + 3, j:j + 2], w)
    np.testing.assert_allclose(y, expected, rtol=1e-5)
    conv.reset_weight(0.8, 0.02)
    assert conv.weight.shape == (3, 2, 3, 2)
    assert abs(float(conv.weight.mean()) - 0.8) < 0.03
    with pytest.raises(ValueError, match="load_weight"):
        conv.load_weight(np.ones((2, 2, 3, 2)))


def _stdp_case():
    """One 3x3 input map, a 3x3 kernel (1x1 output), output spike at t = 1 in feature 0."""
    T = 3
    pre = np.array([[0, 2, 3], [0, 1, 2], [3, 3, 0]])      # spike times, 3 = never
    x = (pre[None] <= np.arange(T)[:, None, None]).astype(np.float32)[:, None]  # (T, 1, 3, 3)
    out = np.zeros((T, 2, 1, 1), np.float32)
    out[1:, 0] = 1.0
    pot = out * 10.0
    return x, pot, out


def test_stdp_hand_values_without_stabilizer():
    x, pot, out = _stdp_case()
    conv = st.Convolution(1, 2, 3)
    conv.load_weight(np.full((2, 1, 3, 3), 0.5, np.float32))
    rule = st.STDP(conv, (0.1, -0.05), use_stabilizer=False)
    rule(x, pot, out, winners=[(0, 0, 0)])
    pre = np.array([[0, 2, 3], [0, 1, 2], [3, 3, 0]])
    expected = np.where(pre <= 1, 0.6, 0.45)
    np.testing.assert_allclose(np.asarray(conv.weight[0, 0]), expected, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(conv.weight[1]), 0.5)
    order = rule.get_pre_post_ordering(x, out, [(0, 0, 0)])
    assert len(order) == 1 and order[0].shape == (1, 3, 3)
    np.testing.assert_array_equal(np.asarray(order[0][0]), pre <= 1)


def test_stdp_matches_core_and_finds_winners():
    x, pot, out = _stdp_case()
    conv = st.Convolution(1, 2, 3, seed=3)
    w0 = np.asarray(conv.weight)
    rule = st.STDP(conv, [(0.004, -0.003), (0.01, -0.02)], lower_bound=0.0, upper_bound=1.0)
    rule(x, pot, out, kwta=1)          # winners from get_k_winners: feature 0
    core = stdp.stdp_conv(w0.transpose(2, 3, 1, 0), coding.waves_to_times(_core(x)),
                          coding.waves_to_times(_core(out)), winners_from_list([[(0, 0, 0)]], 1),
                          [(0.004, -0.003), (0.01, -0.02)], time_steps=3)
    np.testing.assert_allclose(np.asarray(conv.weight), np.asarray(core).transpose(3, 2, 0, 1),
                               rtol=1e-6)
    assert not np.allclose(np.asarray(conv.weight), w0)


def test_stdp_learning_rate_updates():
    rule = st.STDP(st.Convolution(1, 3, 3), (0.004, -0.003))
    assert rule.learning_rate.shape == (3, 2)
    rule.update_learning_rate(1, 0.1, -0.2)
    np.testing.assert_allclose(np.asarray(rule.learning_rate[1]), [0.1, -0.2])
    np.testing.assert_allclose(np.asarray(rule.learning_rate[0]), [0.004, -0.003])
    rule.update_all_learning_rate(0.5, -0.5)
    np.testing.assert_allclose(np.asarray(rule.learning_rate), [[0.5, -0.5]] * 3)
    with pytest.raises(ValueError, match="learning_rate"):
        st.STDP(st.Convolution(1, 3, 3), [(0.1, -0.1)] * 2)


def test_intensity2latency_is_rank_code():
    img = np.array([[[4.0, 3.0], [2.0, 1.0]]], np.float32)     # (1, 2, 2): squeezed
    spikes = np.asarray(st.Intensity2Latency(4, to_spike=True)(img))
    assert spikes.shape == (4, 2, 2)
    times = np.argmax(spikes, axis=0)
    np.testing.assert_array_equal(times, [[0, 1], [2, 3]])
    assert (np.diff(spikes, axis=0) >= 0).all()                 # cumulative
    vals = np.asarray(st.Intensity2Latency(4)(img))
    np.testing.assert_allclose(vals[-1], img[0])
    np.testing.assert_allclose(vals[1], [[4.0, 3.0], [0.0, 0.0]])
    ref = coding.rank_code(img, 4, output="intensities")[0]
    np.testing.assert_allclose(np.asarray(st.Intensity2Latency(4).intensity_to_latency(img)),
                               np.asarray(ref))


def test_filter_is_channels_first():
    kernels = [st.DoGKernel(7, 1.0, 2.0), st.DoGKernel(7, 2.0, 1.0)]
    img = RNG.random((2, 1, 16, 16)).astype(np.float32)
    got = np.asarray(st.Filter(kernels, padding=3, thresholds=0.05)(img))
    ref = np.asarray(filters.Filter(kernels, padding=3, thresholds=0.05)(img.transpose(0, 2, 3, 1)))
    assert got.shape == (2, 2, 16, 16)
    np.testing.assert_allclose(got, ref.transpose(0, 3, 1, 2), rtol=1e-6)


def test_utils_and_visualization():
    assert st.to_pair(3) == (3, 3)
    assert st.to_pair((1, 2, 5)) == (1, 2)
    pre = RNG.random((2, 3, 3))
    w = RNG.random((4, 2, 5, 5))
    got, stride = st.get_deep_feature(pre, 1, 5, 2, w)
    ref, ref_stride = feature_viz.get_deep_feature(pre, 1, 5, 2, w.transpose(2, 3, 1, 0))
    np.testing.assert_allclose(got, ref)
    assert stride == ref_stride == (2, 2)
    assert st.get_deep_receptive_field((5, 1), (2, 2)) == ((6, 6), (2, 2))
