"""STDP: hand-computed updates, SpykeTorch equivalence, Spyker fixtures, learning-rate helpers, errors."""

from pathlib import Path

import numpy as np
import pytest

from spyxlike import stdp
from spyxlike.coding import times_to_waves
from spyxlike.stdp_config import (
    STDPConfig,
    learning_rate_table,
    update_all_learning_rate,
    update_learning_rate,
)
from spyxlike.winners import Winners, winners_from_list

IMPLS = ["reference", "native", "pallas"]
FIXTURES = Path(__file__).parent / "fixtures" / "spyker_stdp.npz"

T = 4
PRE = np.array([[0, 2, 4], [1, 3, 4], [4, 0, 2]], np.int32)[None, :, :, None]  # (1, 3, 3, 1)


def _post(values):
    """(1, 2, 2, 2) post times: T everywhere except the given {(r, c, f): t}."""
    post = np.full((1, 2, 2, 2), T, np.int32)
    for (r, c, f), t in values.items():
        post[0, r, c, f] = t
    return post


@pytest.mark.parametrize("impl", IMPLS)
def test_hand_computed_without_stabilizer(impl):
    w = np.full((2, 2, 1, 2), 0.5, np.float32)
    # feature 1 wins at (1, 0) with t_post = 2: patch [[1, 3], [4, 0]] -> LTP, LTD / LTD, LTP
    # feature 0 wins at (0, 1) with t_post = 2: patch [[2, 4], [3, 4]] -> LTP (tie), LTD / LTD, LTD
    post = _post({(1, 0, 1): 2, (0, 1, 0): 2})
    win = winners_from_list([[(1, 1, 0), (0, 0, 1)]], 3)
    out = np.asarray(stdp.stdp_conv(w, PRE, post, win, (0.25, -0.125), use_stabilizer=False, impl=impl))
    np.testing.assert_allclose(out[..., 0, 1], [[0.75, 0.375], [0.375, 0.75]])
    np.testing.assert_allclose(out[..., 0, 0], [[0.75, 0.375], [0.375, 0.375]])


@pytest.mark.parametrize("impl", IMPLS)
def test_hand_computed_with_stabilizer_and_clamp(impl):
    w = np.array([0.5, 0.9, 0.1, 0.5], np.float32).reshape(2, 2, 1, 1)
    post = np.full((1, 2, 2, 1), T, np.int32)
    post[0, 1, 0, 0] = 2
    win = winners_from_list([[(0, 1, 0)]], 1)
    # patch [[1, 3], [4, 0]]: rates [[a, d], [d, a]] with a = 2, d = -4
    out = np.asarray(stdp.stdp_conv(w, PRE, post, win, (2.0, -4.0), impl=impl))[..., 0, 0]
    expected = np.clip(
        np.array([[0.5 + 2 * 0.25, 0.9 - 4 * 0.09], [0.1 - 4 * 0.09, 0.5 + 2 * 0.25]]), 0, 1
    )
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    # bounds: stabiliser (W - 0.2)(0.6 - W), clamp to [0.2, 0.6]
    out = np.asarray(
        stdp.stdp_conv(w, PRE, post, win, (2.0, -4.0), lower_bound=0.2, upper_bound=0.6, impl=impl)
    )[..., 0, 0]
    stab = (w[..., 0, 0] - 0.2) * (0.6 - w[..., 0, 0])
    rate = np.array([[2.0, -4.0], [-4.0, 2.0]])
    np.testing.assert_allclose(out, np.clip(w[..., 0, 0] + rate * stab, 0.2, 0.6), rtol=1e-6)


@pytest.mark.parametrize("impl", IMPLS)
def test_no_pre_spike_is_later_and_both_silent_is_ltp(impl):
    pre = np.array([[[T, 1]]], np.int32)[..., None].reshape(1, 1, 2, 1)
    w = np.full((1, 2, 1, 1), 0.5, np.float32)
    win = winners_from_list([[(0, 0, 0)]], 1)
    rates = (0.1, -0.1)
    spiking = stdp.stdp_conv(w, pre, np.full((1, 1, 1, 1), 2, np.int32), win, rates,
                             use_stabilizer=False, impl=impl)
    np.testing.assert_allclose(np.asarray(spiking)[0, :, 0, 0], [0.4, 0.6])
    silent = stdp.stdp_conv(w, pre, np.full((1, 1, 1, 1), T, np.int32), win, rates,
                            use_stabilizer=False, impl=impl)
    np.testing.assert_allclose(np.asarray(silent)[0, :, 0, 0], [0.6, 0.6])


@pytest.mark.parametrize("impl", IMPLS)
def test_stride_and_padding(impl):
    pre = np.arange(16, dtype=np.int32).reshape(1, 4, 4, 1) % 5  # T = 5
    w = np.full((3, 3, 1, 1), 0.5, np.float32)
    # padding (top, left, bottom, right) = (1, 1, 0, 0), stride 2 -> output 2x2
    post = np.full((1, 2, 2, 1), 3, np.int32)
    win = winners_from_list([[(0, 0, 0)]], 1)
    kw = dict(stride=2, padding=(1, 1, 0, 0), use_stabilizer=False, impl=impl)
    out = np.asarray(stdp.stdp_conv(w, pre, post, win, (0.1, -0.1), **kw))[..., 0, 0]
    # window rows -1..1, cols -1..1: padding never spikes (LTD), inside [[0, 1], [4, 0]] vs t_post 3
    expected = np.array([[0.4, 0.4, 0.4], [0.4, 0.6, 0.6], [0.4, 0.4, 0.6]])
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    # with time_steps the padding spikes at T: a winner with t_post = T potentiates it
    post_silent = np.full((1, 2, 2, 1), 5, np.int32)
    out = np.asarray(stdp.stdp_conv(w, pre, post_silent, win, (0.1, -0.1), time_steps=5, **kw))
    np.testing.assert_allclose(out[..., 0, 0], np.full((3, 3), 0.6), rtol=1e-6)
    out = np.asarray(stdp.stdp_conv(w, pre, post_silent, win, (0.1, -0.1), **kw))
    np.testing.assert_allclose(out[0, :, 0, 0], [0.4, 0.4, 0.4], rtol=1e-6)


@pytest.mark.parametrize("impl", IMPLS)
def test_batch_sums_updates_from_the_same_weights(impl):
    w = np.full((2, 2, 1, 2), 0.3, np.float32)
    post = _post({(1, 0, 1): 2})
    pre = np.concatenate([PRE, PRE])
    post = np.concatenate([post, post])
    win = winners_from_list([[(1, 1, 0)], [(1, 1, 0), (1, 1, 0)]], 2)
    summed = np.asarray(stdp.stdp_conv(w, pre, post, win, (0.2, -0.2), impl=impl))[..., 0, 1]
    stab = 0.3 * 0.7
    np.testing.assert_allclose(summed, 0.3 + 3 * stab * np.array([[0.2, -0.2], [-0.2, 0.2]]), rtol=1e-6)
    seq = np.asarray(stdp.stdp_conv(w, pre, post, win, (0.2, -0.2), impl=impl, accumulate="sequential"))
    v = np.full((2, 2), 0.3)
    for _ in range(3):
        v = np.clip(v + np.array([[0.2, -0.2], [-0.2, 0.2]]) * (v * (1 - v)), 0, 1)
    np.testing.assert_allclose(seq[..., 0, 1], v, rtol=1e-6)
    np.testing.assert_allclose(seq[..., 0, 0], 0.3)


@pytest.mark.parametrize("impl", IMPLS)
def test_fc(impl):
    w = np.full((4, 3), 0.5, np.float32)
    pre = np.array([[0, 2, 3, 5]], np.int32)
    post = np.array([[5, 2, 1]], np.int32)
    win = winners_from_list([[(1, 0, 0), (2, 0, 0)]], 3)
    out = np.asarray(stdp.stdp_fc(w, pre, post, win, [(0.1, -0.1), (0.2, -0.2), (0.4, -0.4)],
                                  use_stabilizer=False, impl=impl))
    np.testing.assert_allclose(out[:, 0], 0.5)
    np.testing.assert_allclose(out[:, 1], [0.7, 0.7, 0.3, 0.3], rtol=1e-6)
    np.testing.assert_allclose(out[:, 2], [0.9, 0.1, 0.1, 0.1], rtol=1e-6)


# --------------------------------------------------------------------- SpykeTorch equivalence


def _spyketorch_ordering(in_waves, out_waves, winners, kernel):
    """SpykeTorch's get_pre_post_ordering for one sample, (T, H, W, C) waves, no padding."""
    in_lat = in_waves.sum(0)
    out_lat = out_waves.sum(0)
    result = []
    for f, r, c in winners:
        out_tensor = np.ones(kernel) * out_lat[r, c, f]
        in_tensor = in_lat[r:r + kernel[0], c:c + kernel[1], :]
        result.append(in_tensor >= out_tensor[..., None])
    return result


def _spyketorch_stdp(w, pairings, winners, rates, stabilizer, lower, upper):
    """SpykeTorch's STDP.forward weight update (HWIO layout), written from its documented rule."""
    lr = np.zeros_like(w)
    for (f, _, _), pairing in zip(winners, pairings):
        lr[..., f] = np.where(pairing, rates[f][0], rates[f][1])
    w = w + lr * ((w - lower) * (upper - w) if stabilizer else 1.0)
    return np.clip(w, lower, upper)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("stabilizer", [True, False])
def test_equals_spyketorch_on_batch_one(seed, stabilizer):
    rng = np.random.default_rng(seed)
    steps, cout, cin, k = 6, 5, 3, (3, 2)
    pre = rng.integers(0, steps + 1, (1, 8, 7, cin)).astype(np.int32)
    post = rng.integers(0, steps + 1, (1, 6, 6, cout)).astype(np.int32)
    w = rng.uniform(0.1, 0.9, k + (cin, cout)).astype(np.float32)
    feats = rng.permutation(cout)[:3]  # one winner per feature, like SpykeTorch's k-WTA
    wl = [(int(f), int(rng.integers(6)), int(rng.integers(6))) for f in feats]
    rates = [(float(a), float(-d)) for a, d in rng.uniform(0.001, 0.3, (cout, 2))]
    in_waves = np.asarray(times_to_waves(pre, steps))
    out_waves = np.asarray(times_to_waves(post, steps))
    win = winners_from_list([wl], 4)

    ordering = np.asarray(stdp.get_pre_post_ordering(in_waves, out_waves, win, k))
    expected_ordering = _spyketorch_ordering(in_waves[0], out_waves[0], wl, k)
    for i in range(len(wl)):
        np.testing.assert_array_equal(ordering[0, i], expected_ordering[i])
    assert not ordering[0, len(wl):].any()

    expected = _spyketorch_stdp(w.astype(np.float64), expected_ordering, wl, rates, stabilizer, 0.0, 1.0)
    for impl in IMPLS:
        out = stdp.stdp_conv(w, pre, post, win, rates, use_stabilizer=stabilizer, impl=impl)
        np.testing.assert_allclose(np.asarray(out), expected, atol=1e-6)


def test_pre_post_ordering_with_padding_and_stride():
    pre = np.array([[1, 3], [0, 2]], np.int32).reshape(1, 2, 2, 1)
    post = np.full((1, 1, 1, 1), 1, np.int32)
    win = winners_from_list([[(0, 0, 0)]], 1)
    ordering = stdp.get_pre_post_ordering(
        times_to_waves(pre, 4), times_to_waves(post, 4), win, 3, stride=2, padding=(1, 1, 0, 0)
    )
    # window rows -1..1, cols -1..1; padding has latency 0 -> LTD
    np.testing.assert_array_equal(
        np.asarray(ordering)[0, 0, :, :, 0], [[0, 0, 0], [0, 1, 0], [0, 1, 0]]
    )


# --------------------------------------------------------------------- Spyker fixtures


def _fixture_cases(prefix):
    data = np.load(FIXTURES)
    names = sorted({k.split("/")[0] for k in data.files if k.startswith(prefix)})
    return [(n, {k.split("/")[1]: data[k] for k in data.files if k.startswith(n + "/")}) for n in names]


def _configs(table):
    return [STDPConfig(float(p), float(n), bool(s), float(lo), float(hi)) for p, n, s, lo, hi in table]


@pytest.mark.parametrize("impl", IMPLS)
def test_spyker_conv_fixtures(impl):
    cases = _fixture_cases("conv")
    assert len(cases) == 4
    for name, c in cases:
        win = Winners(c["feature"], c["row"], c["col"], c["valid"])
        out = stdp.stdp_spyker(
            c["weights"], c["pre"], c["post"], win, _configs(c["configs"]), config_index=c["config"],
            stride=tuple(int(s) for s in c["stride"]), padding=tuple(int(p) for p in c["pad"]),
            time_steps=int(c["T"]), impl=impl,
        )
        assert np.abs(c["expected"] - c["weights"]).max() > 0.1, name
        np.testing.assert_allclose(np.asarray(out), c["expected"], atol=2e-6, err_msg=name)


def test_spyker_sequential_differs_from_summed_batches():
    _, c = _fixture_cases("conv_basic")[0]
    win = Winners(c["feature"], c["row"], c["col"], c["valid"])
    rates = tuple(float(v) for v in c["configs"][0][:2])
    summed = stdp.stdp_conv(c["weights"], c["pre"], c["post"], win, rates, time_steps=int(c["T"]))
    assert np.abs(np.asarray(summed) - c["expected"]).max() > 1e-3
    seq = stdp.stdp_conv(c["weights"], c["pre"], c["post"], win, rates, time_steps=int(c["T"]),
                         accumulate="sequential")
    np.testing.assert_allclose(np.asarray(seq), c["expected"], atol=2e-6)


@pytest.mark.parametrize("impl", IMPLS)
def test_spyker_fc_fixture_ignores_post_times(impl):
    # Spyker 0.1.0's FC.stdp behaves as if every post-synaptic time were 0
    (name, c), = _fixture_cases("fc")
    win = Winners(c["feature"], c["row"], c["col"], c["valid"])
    cfg = _configs(c["configs"])
    out = stdp.stdp_spyker_fc(c["weights"], c["pre"], np.zeros_like(c["post"]), win, cfg,
                              config_index=c["config"], impl=impl)
    np.testing.assert_allclose(np.asarray(out), c["expected"], atol=2e-6)
    with_post = stdp.stdp_spyker_fc(c["weights"], c["pre"], c["post"], win, cfg, impl=impl)
    assert np.abs(np.asarray(with_post) - c["expected"]).max() > 1e-3


# --------------------------------------------------------------------- learning rates


def test_learning_rate_tables():
    np.testing.assert_allclose(learning_rate_table((0.1, -0.2), 3), [[0.1, -0.2]] * 3)
    np.testing.assert_allclose(learning_rate_table(STDPConfig(0.3, -0.1), 2), [[0.3, -0.1]] * 2)
    table = learning_rate_table([(0.1, -0.1), (0.2, -0.2)], 2)
    new = update_learning_rate(table, 1, 0.5, -0.5)
    np.testing.assert_allclose(new, [[0.1, -0.1], [0.5, -0.5]])
    np.testing.assert_allclose(table, [[0.1, -0.1], [0.2, -0.2]])  # not in place
    np.testing.assert_allclose(update_all_learning_rate(new, 0.01, -0.02), [[0.01, -0.02]] * 2)
    assert STDPConfig(0.1, -0.1) == STDPConfig(0.1, -0.1, True, 0.0, 1.0)


def test_learning_rate_errors():
    with pytest.raises(ValueError, match="learning_rates must be one .* pair per feature map \\(3\\), got 2 pairs"):
        learning_rate_table([(0.1, -0.1), (0.2, -0.2)], 3)
    with pytest.raises(ValueError, match="learning_rates must be an .* got shape \\(3,\\)"):
        learning_rate_table((0.1, 0.2, 0.3), 3)
    with pytest.raises(ValueError, match="feature must be in \\[0, 2\\), got 2"):
        update_learning_rate(np.zeros((2, 2)), 2, 0.1, 0.1)
    with pytest.raises(ValueError, match="rates must have shape \\(Cout, 2\\)"):
        update_all_learning_rate(np.zeros((2, 3)), 0.1, 0.1)


# --------------------------------------------------------------------- errors


def _good():
    w = np.full((2, 2, 1, 2), 0.5, np.float32)
    post = _post({(1, 0, 1): 2})
    win = winners_from_list([[(1, 1, 0)]], 2)
    return w, PRE, post, win


def test_errors_name_the_argument():
    w, pre, post, win = _good()
    call = stdp.stdp_conv
    with pytest.raises(ValueError, match="stdp_conv: weights must have shape \\(kh, kw, Cin, Cout\\)"):
        call(w[0], pre, post, win, (0.1, -0.1))
    with pytest.raises(TypeError, match="stdp_conv: weights must be a float array"):
        call(w.astype(np.int32), pre, post, win, (0.1, -0.1))
    with pytest.raises(ValueError, match="stdp_conv: pre_times must have shape \\(B, H, W, Cin\\)"):
        call(w, pre[0], post, win, (0.1, -0.1))
    with pytest.raises(TypeError, match="stdp_conv: pre_times must be integer spike times"):
        call(w, pre.astype(np.float32), post, win, (0.1, -0.1))
    with pytest.raises(ValueError, match="stdp_conv: post_times must have shape .* = \\(1, 2, 2, 2\\)"):
        call(w, pre, post[:, :1], win, (0.1, -0.1))
    with pytest.raises(ValueError, match="stdp_conv: learning_rates must be one .* \\(2\\), got 3 pairs"):
        call(w, pre, post, win, [(0.1, -0.1)] * 3)
    with pytest.raises(ValueError, match="lower_bound must be < upper_bound"):
        call(w, pre, post, win, (0.1, -0.1), lower_bound=1.0, upper_bound=1.0)
    with pytest.raises(ValueError, match="pre_times must be spike times >= 0, got minimum -1"):
        call(w, pre - 1, post, win, (0.1, -0.1))
    with pytest.raises(ValueError, match="post_times must be spike times in \\[0, time_steps=3\\]"):
        call(w, pre.clip(0, 3), post, win, (0.1, -0.1), time_steps=3)
    with pytest.raises(ValueError, match="pre_times must be spike times in \\[0, time_steps=3\\]"):
        call(w, pre, post.clip(0, 3), win, (0.1, -0.1), time_steps=3)
    with pytest.raises(ValueError, match="winner \\(1, 2, 0\\) .* lies outside the layer"):
        call(w, pre, post, winners_from_list([[(1, 2, 0)]], 1), (0.1, -0.1))
    with pytest.raises(ValueError, match="winner \\(2, 0, 0\\)"):
        call(w, pre, post, winners_from_list([[(2, 0, 0)]], 1), (0.1, -0.1))
    with pytest.raises(ValueError, match="winners must have one row per sample"):
        call(w, pre, post, winners_from_list([[], []], 1), (0.1, -0.1))
    with pytest.raises(TypeError, match="winners must be a spyxlike.winners.Winners"):
        call(w, pre, post, [(1, 1, 0)], (0.1, -0.1))
    with pytest.raises(ValueError, match="kernel 4x4 is larger than the padded input 3x3"):
        call(np.ones((4, 4, 1, 2), np.float32), pre, post, win, (0.1, -0.1))
    with pytest.raises(ValueError, match="accumulate must be one of"):
        call(w, pre, post, win, (0.1, -0.1), accumulate="mean")
    with pytest.raises(ValueError, match="impl must be one of"):
        call(w, pre, post, win, (0.1, -0.1), impl="cuda")
    with pytest.raises(ValueError, match="stride entries must be >= 1"):
        call(w, pre, post, win, (0.1, -0.1), stride=0)
    with pytest.raises(ValueError, match="time_steps must be >= 1"):
        call(w, pre, post, win, (0.1, -0.1), time_steps=0)
    # invalid slots may hold anything
    ok = Winners(*(np.asarray(a) for a in win))
    ok = ok._replace(feature=np.array([[1, 99]], np.int32))
    call(w, pre, post, ok, (0.1, -0.1))


def test_fc_and_spyker_errors():
    w = np.full((4, 3), 0.5, np.float32)
    pre = np.zeros((1, 4), np.int32)
    post = np.zeros((1, 3), np.int32)
    win = winners_from_list([[(1, 0, 0)]], 1)
    with pytest.raises(ValueError, match="stdp_fc: weights must have shape \\(Fin, Fout\\)"):
        stdp.stdp_fc(w[None], pre, post, win, (0.1, -0.1))
    with pytest.raises(ValueError, match="stdp_fc: post_times must have shape \\(B, Fout\\)"):
        stdp.stdp_fc(w, pre, post[0], win, (0.1, -0.1))
    with pytest.raises(ValueError, match="stdp_fc: learning_rates"):
        stdp.stdp_fc(w, pre, post, win, [(0.1, -0.1)] * 2)
    with pytest.raises(ValueError, match="stdp_fc: pre_times has 5 input channels, weights expect Cin=4"):
        stdp.stdp_fc(w, np.zeros((1, 5), np.int32), post, win, (0.1, -0.1))
    with pytest.raises(ValueError, match="all configs must share stabilize, lower and upper"):
        stdp.stdp_spyker_fc(w, pre, post, win, [STDPConfig(0.1, -0.1), STDPConfig(0.1, -0.1, upper=0.5)])
    with pytest.raises(TypeError, match="config must be an STDPConfig"):
        stdp.stdp_spyker_fc(w, pre, post, win, (0.1, -0.1))
    with pytest.raises(ValueError, match="config_index must be in \\[0, 1\\)"):
        stdp.stdp_spyker_fc(w, pre, post, win, STDPConfig(0.1, -0.1), config_index=np.ones((1, 1), np.int32))
    with pytest.raises(ValueError, match="config_index must be integers of shape \\(1, 1\\)"):
        stdp.stdp_spyker_fc(w, pre, post, win, STDPConfig(0.1, -0.1), config_index=np.zeros((2,), np.int32))
    with pytest.raises(ValueError, match="get_pre_post_ordering: input_spikes must be \\(B, T, H, W, Cin\\)"):
        stdp.get_pre_post_ordering(np.zeros((1, 2, 3, 3)), np.zeros((1, 2, 2, 2, 1)), win, 2)
