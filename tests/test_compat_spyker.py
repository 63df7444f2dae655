"""spyxlike.compat.spyker: Spyker spellings and layouts over the core (and Spyker's own STDP results)."""

import pathlib

import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike import canny as core_canny
from spyxlike import competition, filters, inhibition, layout, sparse, spikeconv, spikewave
from spyxlike import spiketime
from spyxlike.compat import spyker as sp
from spyxlike.filter_kernels import DoGFilter
from spyxlike.sparse_spikes import SparseSpikes
from spyxlike.winners import Winners

RNG = np.random.default_rng(11)
FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def _waves(batch=2, T=5, C=3, H=8, W=8, p=0.4):
    times = RNG.integers(0, T + 1, (batch, C, H, W))
    return (times[:, None] <= np.arange(T)[None, :, None, None, None]).astype(np.float32)


def test_elementwise_ops_match_core_and_take_dtype_strings():
    x = RNG.random((2, 1, 4, 4)).astype(np.float32)
    c = sp.code(x, 5)
    assert c.dtype == jnp.uint8 and c.shape == (2, 5, 1, 4, 4)
    np.testing.assert_array_equal(np.asarray(c), np.asarray(spikewave.code(x, 5, dtype=jnp.uint8)))
    p = RNG.normal(size=(2, 4, 6)).astype(np.float32).cumsum(axis=1)
    np.testing.assert_array_equal(np.asarray(sp.fire(p, 0.5, dtype="f32")),
                                  np.asarray(spikewave.spyker_fire(p, 0.5)))
    g = sp.gather(p, 0.5, dtype="i32")
    assert g.dtype == jnp.int32
    np.testing.assert_array_equal(np.asarray(g), np.asarray(spiketime.gather(p, 0.5)))
    np.testing.assert_array_equal(np.asarray(sp.scatter(np.array([[0, 2, 4]]), 3, "u8")),
                                  [[[1, 0, 0], [1, 0, 0], [1, 1, 0]]])
    np.testing.assert_array_equal(np.asarray(sp.threshold(p, 0.2, -1.0)), np.where(p > 0.2, p, -1.0))
    np.testing.assert_array_equal(np.asarray(sp.quantize(np.array([[0.1, 0.5, 0.9]]), 0.0, 0.5, 1.0)),
                                  [[0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(np.asarray(sp.infinite(np.array([[1.0, np.inf, 3.0]]), 7.0)),
                                  [[7.0, 7.0, 3.0]])   # every step but the last
    np.testing.assert_array_equal(np.asarray(sp.labelize(p, 0.5)), np.asarray(spiketime.labelize(p, 0.5)))
    with pytest.raises(ValueError, match="dtype"):
        sp.code(x, 5, dtype="u7")


def test_pad_is_top_left_bottom_right_on_the_last_two_axes():
    x = np.ones((1, 1, 2, 3), np.float32)
    y = np.asarray(sp.pad(x, (1, 2, 3, 4)))
    assert y.shape == (1, 1, 2 + 1 + 3, 3 + 2 + 4)
    np.testing.assert_array_equal(y[0, 0, 1:3, 2:5], 1)
    assert y.sum() == 6
    assert np.asarray(sp.pad(x, (1, 2))).shape == (1, 1, 4, 7)   # (vertical, horizontal)


def test_conv_fc_pool_inhibit_match_core_after_layout_conversion():
    x = _waves()
    k = RNG.random((4, 3, 3, 2)).astype(np.float32)                 # OIHW
    got = np.asarray(sp.conv(x, k, stride=(2, 1), pad=(1, 0, 1, 1)))
    ref = spikeconv.conv(layout.from_spyker(x), k.transpose(2, 3, 1, 0), (2, 1), (1, 0, 1, 1))
    np.testing.assert_allclose(got, np.asarray(layout.to_spyker(ref)), rtol=1e-6)
    # a hand value: output (b, t, o, 0, 0) with pad (1, 0, ...) sees input rows -1..1
    manual = np.einsum("chw,chw->", x[0, 2, :, 0:2, 0:2], k[1, :, 1:3, :])
    np.testing.assert_allclose(got[0, 2, 1, 0, 0], manual, rtol=1e-5)

    f = RNG.random((2, 4, 6)).astype(np.float32)
    kf = RNG.random((5, 6)).astype(np.float32)                       # (F_out, F_in)
    np.testing.assert_allclose(np.asarray(sp.fc(f, kf)), f @ kf.T, rtol=1e-5)

    np.testing.assert_array_equal(
        np.asarray(sp.pool(x, 2)), np.asarray(layout.to_spyker(spikeconv.pool(layout.from_spyker(x), 2))))
    rates = RNG.random((2, 3, 8, 8)).astype(np.float32)
    ref = spikeconv.pool(layout.from_spyker(x), 2, rates=rates.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(np.asarray(sp.pool(x, 2, rates=rates)),
                                  np.asarray(layout.to_spyker(ref)))
    pot = RNG.normal(size=(2, 4, 3, 5, 5)).astype(np.float32)
    ref = layout.to_spyker(inhibition.inhibit(layout.from_spyker(pot), 0.1))
    np.testing.assert_array_equal(np.asarray(sp.inhibit(pot, 0.1)), np.asarray(ref))
    with pytest.raises(ValueError, match="OIHW|C_out, C_in"):
        sp.conv(x, k[0])


def test_convwta_and_fcwta_give_spyker_winner_lists():
    pot = np.zeros((1, 3, 2, 4, 4), np.float32)
    pot[0, 1:, 0, 2, 3] = 2.0          # feature 0 fires at t = 1
    pot[0, :, 1, 0, 0] = 1.0           # feature 1 fires at t = 0
    wl = sp.convwta(pot, 0, 2, 0.5)
    assert [(w.t, w.z, w.y, w.x) for w in wl[0]] == [(0, 1, 0, 0), (1, 0, 2, 3)]
    core = competition.convwta(layout.from_spyker(pot), 0, 2, 0.5).to_list()[0]
    assert [(w.z, w.y, w.x) for w in wl[0]] == core
    fcp = np.zeros((1, 3, 5), np.float32)
    fcp[0, 2:, 4] = 3.0
    fcp[0, 1:, 1] = 1.0
    wl = sp.fcwta(fcp, 1, 2)
    assert [(w.t, w.z) for w in wl[0]] == [(1, 1), (2, 4)]


def test_winner_list_round_trip():
    win = Winners(jnp.array([[2, 0, -1]]), jnp.array([[1, 3, -1]]), jnp.array([[4, 0, -1]]),
                  jnp.array([[True, True, False]]))
    lists = sp.to_winner_lists(win, times=np.array([[3, 1, 0]]), config=np.array([[1, 0, 0]]))
    assert lists == [[sp.Winner(1, 3, 2, 1, 4), sp.Winner(0, 1, 0, 3, 0)]]
    back, cfg = sp.from_winner_lists(lists)
    np.testing.assert_array_equal(np.asarray(back.feature), [[2, 0]])
    np.testing.assert_array_equal(np.asarray(back.row), [[1, 3]])
    np.testing.assert_array_equal(np.asarray(cfg), [[1, 0]])
    empty, _ = sp.from_winner_lists([[], []])
    assert empty.feature.shape == (2, 1) and not np.asarray(empty.valid).any()


@pytest.mark.parametrize("case", ["conv_basic", "conv_stride_pad", "conv_nostab_bounds",
                                  "conv_configs"])
def test_conv_stdp_reproduces_spyker(case):
    """Spyker 0.1.0's Conv.stdp results (tests/fixtures/record_spyker_stdp.py), via Spyker's layouts."""
    d = np.load(FIXTURES / "spyker_stdp.npz")
    g = {k.split("/", 1)[1]: d[k] for k in d.files if k.startswith(case + "/")}
    T = int(g["T"])
    w = g["weights"]                                               # HWIO
    conv = sp.Conv(w.shape[2], w.shape[3], w.shape[:2], stride=tuple(g["stride"]),
                   pad=tuple(int(p) for p in g["pad"]))
    conv.kernel = jnp.asarray(w.transpose(3, 2, 0, 1))
    conv.stdpconfig = [sp.STDPConfig(float(c[0]), float(c[1]), bool(c[2]), float(c[3]), float(c[4]))
                       for c in g["configs"]]

    def waves(times):                                              # (B, H, W, C) -> (B, T, C, H, W)
        t = times.transpose(0, 3, 1, 2)
        return (t[:, None] <= np.arange(T)[None, :, None, None, None]).astype(np.float32)

    lists = [[sp.Winner(int(c), 0, int(f), int(r), int(k))
              for f, r, k, c, v in zip(*(g[n][b] for n in ("feature", "row", "col", "config", "valid")))
              if v] for b in range(g["feature"].shape[0])]
    conv.stdp(waves(g["pre"]), lists, waves(g["post"]))
    np.testing.assert_allclose(np.asarray(conv.kernel).transpose(2, 3, 1, 0), g["expected"], atol=1e-5)


def test_stdp_needs_a_config_and_fc_layer_learns():
    conv = sp.Conv(1, 2, 3)
    with pytest.raises(ValueError, match="stdpconfig"):
        conv.stdp(_waves(1, 4, 1, 5, 5), [[sp.Winner()]])
    fcl = sp.FC(4, 2, mean=0.5, std=0.0)
    fcl.stdpconfig = [sp.STDPConfig(0.1, -0.1, False)]
    pre = np.array([[0, 3, 1, 3]])                                 # T = 3: inputs 1, 3 never spike
    x = (pre[:, None] <= np.arange(3)[None, :, None]).astype(np.float32)
    y = np.zeros((1, 3, 2), np.float32)
    y[0, 1:, 1] = 1.0                                              # neuron 1 fires at t = 1
    fcl.stdp(x, [[sp.Winner(z=1)]], y)
    np.testing.assert_allclose(np.asarray(fcl.kernel[1]), [0.6, 0.4, 0.6, 0.4], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(fcl.kernel[0]), 0.5)
    assert fcl(x).shape == (1, 3, 2)


def test_filters_zca_canny_in_spyker_layout():
    img = RNG.random((2, 1, 20, 20)).astype(np.float32)
    dog = sp.DoG(3, [DoGFilter(1.0, 2.0), DoGFilter(2.0, 1.0)], pad=3)
    ref = filters.DoG(3, [DoGFilter(1.0, 2.0), DoGFilter(2.0, 1.0)], pad=3)(img.transpose(0, 2, 3, 1))
    got = np.asarray(dog(img))
    assert got.shape == (2, 2, 20, 20)
    np.testing.assert_allclose(got, np.asarray(ref).transpose(0, 3, 1, 2), rtol=1e-6)
    log = sp.LoG(2, [1.0], pad=2)
    assert np.asarray(log(img)).shape == (2, 2, 20, 20)

    edges = np.asarray(sp.canny(img, 50, 100))
    ref = core_canny.canny(img.transpose(0, 2, 3, 1), 50, 100)
    np.testing.assert_array_equal(edges, np.asarray(ref).transpose(0, 3, 1, 2))

    data = RNG.random((30, 2, 3, 3)).astype(np.float32)
    zca = sp.ZCA().fit(data, 1e-2)
    white = np.asarray(zca(data))
    assert white.shape == data.shape
    parts = np.asarray(zca.split(white[:4]))
    assert parts.shape == (4, 2, 2, 3, 3)
    np.testing.assert_allclose(parts[:, 0] - parts[:, 1], white[:4], rtol=1e-6)
    assert (parts >= 0).all()


def test_sparse_namespace_matches_core_and_dense():
    img = RNG.random((2, 2, 9, 9)).astype(np.float32)
    T = 6
    s = sp.sparse.code(img, T)
    assert isinstance(s, SparseSpikes) and s.shape == (2, T, 9, 9, 2)
    times = np.asarray(sp.sparse.gather(s, "i32"))
    assert times.shape == (2, 2, 9, 9)
    ref = np.asarray(sparse.gather(sparse.code(img.transpose(0, 2, 3, 1), T)))
    np.testing.assert_array_equal(times, ref.transpose(0, 3, 1, 2))

    k = RNG.random((3, 2, 3, 3)).astype(np.float32)
    out = sp.sparse.conv(s, k, 2.0, stride=1, pad=1)
    dense = sp.fire(sp.conv(np.asarray(s.to_dense()).transpose(0, 1, 4, 2, 3), k, 1, 1), 2.0,
                    dtype="f32")
    np.testing.assert_array_equal(np.asarray(out.to_dense()).transpose(0, 1, 4, 2, 3),
                                  np.asarray(dense))
    pooled = sp.sparse.pool(out, 2)
    np.testing.assert_array_equal(np.asarray(pooled.to_dense()),
                                  np.asarray(spikeconv.pool(out.to_dense(), 2)))
    padded = sp.sparse.pad(out, (1, 0, 0, 0))
    assert padded.shape == (2, T, 10, 9, 3)
    inh = sp.sparse.inhibit(out)
    assert np.asarray(inh.to_dense()).sum(axis=-1).max() <= 1
    wl = sp.sparse.convwta(out, 1, 2)
    core = sparse.convwta(out, 1, 2)
    assert [[(w.z, w.y, w.x) for w in items] for items in wl] == core.to_list()
    dense_times = np.asarray(sp.sparse.gather(out, "i32"))
    for b, items in enumerate(wl):
        for w in items:
            assert w.t == dense_times[b, w.z, w.y, w.x] < T
    with pytest.raises(ValueError, match="sort=False"):
        sp.sparse.code(img, T, sort=False)
