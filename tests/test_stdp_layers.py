"""spyxlike.stdp_layers: init, parity with the functional ops, pure updates, learning."""

import re

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike import event_conv, spikeconv
from spyxlike import stdp_layers as sl
from spyxlike.competition import k_winners_from_times
from spyxlike.rstdp import rstdp_conv, rstdp_fc
from spyxlike.stdp import stdp_conv, stdp_fc
from spyxlike.stdp_config import STDPConfig
from spyxlike.winners import Winners

T = 6
KEY = jax.random.PRNGKey(0)


def _times(key, shape, t=T):
    return jax.random.randint(key, shape, 0, t + 1, dtype=jnp.int32)


def _waves(times, t=T):
    steps = jnp.arange(t).reshape((1, t) + (1,) * (times.ndim - 1))
    return (times[:, None] <= steps).astype(jnp.float32)


def _conv_net(times):
    return sl.Convolution(6, (3, 2), stride=(2, 1), padding=(1, 0, 0, 1), stdp=(0.1, -0.05),
                          name="conv")(_waves(times))


def _two_layer(times):
    c = sl.Convolution(4, 3, padding=1, stdp=STDPConfig(0.2, -0.1, lower=0.1, upper=0.9),
                       name="c")
    f = sl.FC(5, weight_mean=0.5, weight_std=0.1, stdp=[(0.1, -0.1)] * 5, name="f")
    t1, v1 = c.fire_times(times, 1.5, T)
    flat = t1.reshape(t1.shape[0], -1)
    t2, v2 = f.fire_times(flat, 2.0, T)
    return t1, v1, flat, t2, v2


def _init(f, *args):
    return hk.without_apply_rng(hk.transform(f)).init(KEY, *args)


# --------------------------------------------------------------------------- init and shapes

def test_init_distribution_and_shapes():
    x = _times(KEY, (2, 9, 8, 3))
    params = _init(_conv_net, x)
    w = params["conv"]["w"]
    assert w.shape == (3, 2, 3, 6) and w.dtype == jnp.float32

    def big(x):
        return sl.Conv(64, 5, weight_mean=0.5, weight_std=0.1)(x)

    w = np.asarray(_init(big, jnp.zeros((1, 2, 8, 8, 16)))["convolution"]["w"])
    assert w.shape == (5, 5, 16, 64)
    assert abs(w.mean() - 0.5) < 0.005 and abs(w.std() - 0.1) < 0.005
    w = np.asarray(_init(lambda x: sl.FC(300)(x), jnp.zeros((1, 2, 100)))["fc"]["w"])
    assert w.shape == (100, 300)
    assert abs(w.mean() - 0.8) < 0.001 and abs(w.std() - 0.02) < 0.001  # SpykeTorch defaults


def test_conv_call_equals_spikeconv_conv():
    x = _times(KEY, (2, 9, 8, 3))
    model = hk.without_apply_rng(hk.transform(_conv_net))
    params = model.init(KEY, x)
    out = model.apply(params, x)
    expected = spikeconv.conv(_waves(x), params["conv"]["w"], stride=(2, 1), padding=(1, 0, 0, 1))
    assert out.shape == (2, T, 4, 8, 6)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))


def test_fc_and_pooling_call():
    waves = _waves(_times(KEY, (3, 7)))
    model = hk.without_apply_rng(hk.transform(lambda x: sl.FC(4, name="fc")(x)))
    params = model.init(KEY, waves)
    np.testing.assert_array_equal(np.asarray(model.apply(params, waves)),
                                  np.asarray(spikeconv.fc(waves, params["fc"]["w"])))
    img = _waves(_times(KEY, (2, 7, 6, 3)))
    pool = hk.without_apply_rng(hk.transform(lambda x: sl.Pooling(3, 2, 1)(x)))
    out = pool.apply(pool.init(KEY, img), img)
    assert pool.init(KEY, img) == {}
    np.testing.assert_array_equal(np.asarray(out), np.asarray(spikeconv.pool(img, 3, 2, 1)))
    times = _times(KEY, (2, 7, 6, 3))
    pt = hk.without_apply_rng(hk.transform(lambda t: sl.Pooling((2, 3)).pool_times(t)))
    np.testing.assert_array_equal(np.asarray(pt.apply({}, times)),
                                  np.asarray(event_conv.pool_times(times, (2, 3))))


@pytest.mark.parametrize("impl", ["reference", "native"])
def test_fire_times_equal_event_conv(impl):
    x = _times(KEY, (2, 6, 6, 2))
    model = hk.without_apply_rng(hk.transform(_two_layer))
    params = model.init(KEY, x)

    def conv_only(t):
        return sl.Convolution(4, 3, padding=1, name="c").fire_times(t, 1.5, T, True, impl=impl)

    post, fire, final = hk.without_apply_rng(hk.transform(conv_only)).apply(params, x)
    e_post, e_fire, e_final = event_conv.conv_fire(x, params["c"]["w"], 1.5, T, padding=1,
                                                   return_final=True, impl=impl)
    np.testing.assert_array_equal(np.asarray(post), np.asarray(e_post))
    np.testing.assert_array_equal(np.asarray(fire), np.asarray(e_fire))
    np.testing.assert_array_equal(np.asarray(final), np.asarray(e_final))
    t1, _, flat, t2, v2 = model.apply(params, x)
    np.testing.assert_array_equal(np.asarray(t1), np.asarray(e_post))
    f_post, f_fire = event_conv.fc_fire(flat, params["f"]["w"], 2.0, T)
    np.testing.assert_array_equal(np.asarray(t2), np.asarray(f_post))
    np.testing.assert_allclose(np.asarray(v2), np.asarray(f_fire), rtol=1e-6)
    assert params["f"]["w"].shape == (6 * 6 * 4, 5)


def test_stdp_layers_reads_configs_outside_transform():
    x = _times(KEY, (1, 6, 6, 2))
    specs = sl.stdp_layers(_two_layer, x)
    assert list(specs) == ["c", "f"]
    assert specs["c"] == sl.STDPLayerSpec("conv", STDPConfig(0.2, -0.1, lower=0.1, upper=0.9),
                                          (1, 1), (1, 1, 1, 1), 0.8, 0.02)
    assert specs["f"].kind == "fc" and specs["f"].stdp == [(0.1, -0.1)] * 5
    assert specs["f"].weight_mean == 0.5 and specs["f"].weight_std == 0.1
    assert list(sl.stdp_layers(_conv_net, x)) == ["conv"]
    assert sl.stdp_layers(lambda t: sl.Pooling(2).pool_times(t), x) == {}


# --------------------------------------------------------------------------- pure updates

def _winners(b, k, cout, ho, wo, seed=1):
    rng = np.random.default_rng(seed)
    return Winners(jnp.asarray(rng.integers(0, cout, (b, k)), jnp.int32),
                   jnp.asarray(rng.integers(0, ho, (b, k)), jnp.int32),
                   jnp.asarray(rng.integers(0, wo, (b, k)), jnp.int32),
                   jnp.asarray(rng.random((b, k)) < 0.8))


def test_stdp_update_conv_equals_stdp_conv_and_leaves_rest():
    x = _times(KEY, (3, 6, 6, 2))
    model = hk.without_apply_rng(hk.transform(_two_layer))
    params = model.init(KEY, x)
    t1, *_ = model.apply(params, x)
    win = _winners(3, 2, 4, 6, 6)
    specs = sl.stdp_layers(_two_layer, x)
    new = sl.stdp_update(params, "c", x, t1, win, specs["c"], time_steps=T)
    expected = stdp_conv(params["c"]["w"], x, t1, win, (0.2, -0.1), padding=1, lower_bound=0.1,
                         upper_bound=0.9, time_steps=T)
    np.testing.assert_array_equal(np.asarray(new["c"]["w"]), np.asarray(expected))
    assert not np.array_equal(np.asarray(new["c"]["w"]), np.asarray(params["c"]["w"]))
    assert new["f"] is params["f"] and new["f"]["w"] is params["f"]["w"]
    assert params["c"]["w"] is not new["c"]["w"]  # input params untouched
    # plain rates + explicit geometry, sequential accumulation
    new2 = sl.stdp_update(params, "c", x, t1, win, [(0.3, -0.2)] * 4, padding=1,
                          use_stabilizer=False, accumulate="sequential")
    expected2 = stdp_conv(params["c"]["w"], x, t1, win, (0.3, -0.2), padding=1,
                          use_stabilizer=False, accumulate="sequential")
    np.testing.assert_array_equal(np.asarray(new2["c"]["w"]), np.asarray(expected2))


def test_stdp_update_fc_and_rstdp_update():
    x = _times(KEY, (3, 6, 6, 2))
    model = hk.without_apply_rng(hk.transform(_two_layer))
    params = model.init(KEY, x)
    t1, _, flat, t2, _ = model.apply(params, x)
    win = _winners(3, 2, 5, 1, 1, seed=3)
    new = sl.stdp_update(params, "f", flat, t2, win, (0.1, -0.1))
    np.testing.assert_array_equal(np.asarray(new["f"]["w"]),
                                  np.asarray(stdp_fc(params["f"]["w"], flat, t2, win, (0.1, -0.1))))
    assert new["c"] is params["c"]
    reward = jnp.asarray([1.0, -1.0, 0.0])
    new = sl.rstdp_update(params, "f", flat, t2, win, reward, (0.004, -0.003), (-0.004, 0.0005))
    expected = rstdp_fc(params["f"]["w"], flat, t2, win, reward, (0.004, -0.003),
                        (-0.004, 0.0005))
    np.testing.assert_array_equal(np.asarray(new["f"]["w"]), np.asarray(expected))
    cwin = _winners(3, 2, 4, 6, 6)
    new = sl.rstdp_update(params, "c", x, t1, cwin, reward, (0.2, -0.1), (-0.2, 0.1), padding=1)
    expected = rstdp_conv(params["c"]["w"], x, t1, cwin, reward, (0.2, -0.1), (-0.2, 0.1),
                          padding=1)
    np.testing.assert_array_equal(np.asarray(new["c"]["w"]), np.asarray(expected))
    assert new["f"] is params["f"]


def test_reset_weight():
    x = _times(KEY, (1, 6, 6, 2))
    params = _init(_two_layer, x)
    new = sl.reset_weight(params, jax.random.PRNGKey(5), 0.3, 0.05, module_name="f")
    assert new["c"] is params["c"]
    w = np.asarray(new["f"]["w"])
    assert w.shape == params["f"]["w"].shape and w.dtype == np.float32
    assert abs(w.mean() - 0.3) < 0.01 and abs(w.std() - 0.05) < 0.01
    both = sl.reset_weight(params, jax.random.PRNGKey(5))
    for name in ("c", "f"):
        w = np.asarray(both[name]["w"])
        assert not np.array_equal(w, np.asarray(params[name]["w"]))
        assert abs(w.mean() - 0.8) < 0.01
    assert not np.array_equal(np.asarray(both["c"]["w"]).ravel()[:20],
                              np.asarray(both["f"]["w"]).ravel()[:20])
    # deterministic in the key; a list of names
    again = sl.reset_weight(params, jax.random.PRNGKey(5), module_name=["c", "f"])
    np.testing.assert_array_equal(np.asarray(again["c"]["w"]), np.asarray(both["c"]["w"]))
    # other modules (no 'w' of rank 2/4) are left alone when module_name is None
    mixed = {**params, "other": {"b": jnp.ones(3)}}
    assert sl.reset_weight(mixed, KEY)["other"] is mixed["other"]


# --------------------------------------------------------------------------- transforms

def test_jit_and_vmap_of_applied_functions():
    x = _times(KEY, (2, 6, 6, 2))
    model = hk.without_apply_rng(hk.transform(_two_layer))
    params = model.init(KEY, x)
    eager = model.apply(params, x)
    jitted = jax.jit(model.apply)(params, x)
    for a, b in zip(eager, jitted):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)
    xs = _times(jax.random.PRNGKey(7), (3, 2, 6, 6, 2))
    batched = jax.vmap(model.apply, in_axes=(None, 0))(params, xs)
    for i in range(3):
        single = model.apply(params, xs[i])
        for a, b in zip(batched, single):
            np.testing.assert_allclose(np.asarray(a[i]), np.asarray(b), rtol=1e-6)
    conv = hk.without_apply_rng(hk.transform(_conv_net))
    cp = conv.init(KEY, x)
    np.testing.assert_allclose(np.asarray(jax.vmap(conv.apply, in_axes=(None, 0))(cp, xs)[1]),
                               np.asarray(conv.apply(cp, xs[1])), rtol=1e-6)

    @jax.jit
    def step(params, x):
        t1, v1, *_ = model.apply(params, x)
        win = k_winners_from_times(t1, v1, 2, 1, T)
        return sl.stdp_update(params, "c", x, t1, win, STDPConfig(0.2, -0.1, lower=0.1,
                                                                  upper=0.9), padding=1)

    t1, v1, *_ = eager
    win = k_winners_from_times(t1, v1, 2, 1, T)
    expected = stdp_conv(params["c"]["w"], x, t1, win, (0.2, -0.1), padding=1, lower_bound=0.1,
                         upper_bound=0.9)
    np.testing.assert_allclose(np.asarray(step(params, x)["c"]["w"]), np.asarray(expected),
                               rtol=1e-6)


def test_docstring_example_runs():
    src = re.search(r"```python\n(.*?)```", sl.__doc__, re.S).group(1)
    ns = {}
    exec(compile(src, "stdp_layers_example", "exec"), ns)
    before = ns["model"].init(ns["key"], ns["x"])
    for name in ("conv1", "conv2"):
        assert ns["params"][name]["w"].shape == before[name]["w"].shape
        assert not np.array_equal(np.asarray(ns["params"][name]["w"]),
                                  np.asarray(before[name]["w"]))


# --------------------------------------------------------------------------- errors

def _apply(f, *args):
    return hk.without_apply_rng(hk.transform(f)).init(KEY, *args)


def test_constructor_errors():
    x = jnp.zeros((1, 2, 6, 6, 1))
    with pytest.raises(ValueError, match=r"Convolution: kernel_size entries must be >= 1, got 0"):
        _apply(lambda x: sl.Convolution(2, 0)(x), x)
    with pytest.raises(ValueError, match=r"Convolution: kernel_size must be an int or a sequence"):
        _apply(lambda x: sl.Convolution(2, (3, 3, 3))(x), x)
    with pytest.raises(TypeError, match=r"Convolution: kernel_size must hold integers"):
        _apply(lambda x: sl.Convolution(2, 2.5)(x), x)
    with pytest.raises(ValueError, match=r"Convolution: padding entries must be >= 0, got -1"):
        _apply(lambda x: sl.Convolution(2, 3, padding=-1)(x), x)
    with pytest.raises(ValueError, match=r"Convolution: stride entries must be >= 1"):
        _apply(lambda x: sl.Convolution(2, 3, stride=0)(x), x)
    with pytest.raises(ValueError, match=r"Convolution: out_channels must be >= 1, got 0"):
        _apply(lambda x: sl.Convolution(0, 3)(x), x)
    with pytest.raises(ValueError, match=r"FC: weight_std must be >= 0, got -0.1"):
        _apply(lambda x: sl.FC(3, weight_std=-0.1)(x), jnp.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match=r"Convolution: stdp must be one \(a_LTP, a_LTD\) pair "
                                         r"or one pair per feature map \(2\), got 3 pairs"):
        _apply(lambda x: sl.Convolution(2, 3, stdp=[(0.1, -0.1)] * 3)(x), x)
    with pytest.raises(ValueError, match=r"got a list of 2 STDPConfigs"):
        _apply(lambda x: sl.Convolution(2, 3, stdp=[STDPConfig(0.1, -0.1)] * 2)(x), x)
    with pytest.raises(ValueError, match=r"Pooling: kernel_size entries must be >= 1"):
        _apply(lambda x: sl.Pooling(0)(x), x)
    with pytest.raises(ValueError, match=r"Pooling: padding entries must be >= 0"):
        _apply(lambda x: sl.Pooling(2, padding=(0, -1))(x), x)


def test_input_errors():
    with pytest.raises(ValueError, match=r"Convolution: waves must be \(B, T, H, W, Cin\) "
                                         r"\(rank 5\), got shape \(1, 6, 6, 1\)"):
        _apply(lambda x: sl.Convolution(2, 3)(x), jnp.zeros((1, 6, 6, 1)))
    with pytest.raises(ValueError, match=r"Convolution.fire_times: pre_times must be "
                                         r"\(B, H, W, Cin\) \(rank 4\), "
                                         r"got shape \(1, 2, 6, 6, 1\)"):
        _apply(lambda t: sl.Convolution(2, 3).fire_times(t, 1.0, T),
               jnp.zeros((1, 2, 6, 6, 1), jnp.int32))
    with pytest.raises(ValueError, match=r"FC: waves must be \(B, T, Fin\)"):
        _apply(lambda x: sl.FC(2)(x), jnp.zeros((1, 4)))
    with pytest.raises(ValueError, match=r"FC.fire_times: pre_times must be \(B, Fin\)"):
        _apply(lambda t: sl.FC(2).fire_times(t, 1.0, T), jnp.zeros((1, 2, 4), jnp.int32))
    with pytest.raises(ValueError, match=r"Pooling: waves must be \(B, T, H, W, C\)"):
        _apply(lambda x: sl.Pooling(2)(x), jnp.zeros((1, 6, 6, 1)))
    with pytest.raises(ValueError, match=r"conv: kernel height 7 is larger"):
        _apply(lambda x: sl.Convolution(2, 7)(x), jnp.zeros((1, 2, 6, 6, 1)))


def test_update_errors():
    x = _times(KEY, (1, 6, 6, 2))
    model = hk.without_apply_rng(hk.transform(_two_layer))
    params = model.init(KEY, x)
    t1, _, flat, t2, _ = model.apply(params, x)
    win = _winners(1, 1, 4, 6, 6)
    with pytest.raises(ValueError, match=r"stdp_update: unknown module_name 'conv9'; "
                                         r"params hold \['c', 'f'\]"):
        sl.stdp_update(params, "conv9", x, t1, win, (0.1, -0.1))
    with pytest.raises(ValueError, match=r"rstdp_update: unknown module_name 'x'"):
        sl.rstdp_update(params, "x", x, t1, win, jnp.ones(1), (0.1, -0.1), (-0.1, 0.1))
    with pytest.raises(ValueError, match=r"reset_weight: unknown module_name 'nope'"):
        sl.reset_weight(params, KEY, module_name="nope")
    with pytest.raises(TypeError, match=r"stdp_update: module_name must be a str"):
        sl.stdp_update(params, 3, x, t1, win, (0.1, -0.1))
    with pytest.raises(ValueError, match=r"stdp_update: module 'c' has no STDP config"):
        sl.stdp_update(params, "c", x, t1, win, sl.STDPLayerSpec("conv", None, (1, 1),
                                                                 (1, 1, 1, 1), 0.8, 0.02))
    with pytest.raises(ValueError, match=r"lower_bound given both as argument and in the "
                                         r"STDPConfig"):
        sl.stdp_update(params, "c", x, t1, win, STDPConfig(0.1, -0.1), padding=1, lower_bound=0.2)
    with pytest.raises(ValueError, match=r"stdp_update: an FC layer takes no stride or padding"):
        sl.stdp_update(params, "f", flat, t2, win, (0.1, -0.1), padding=1)
    with pytest.raises(ValueError, match=r"stdp_conv: learning_rates must be one"):
        sl.stdp_update(params, "c", x, t1, win, [(0.1, -0.1)] * 3, padding=1)
    with pytest.raises(ValueError, match=r"reset_weight: weight_std must be >= 0"):
        sl.reset_weight(params, KEY, weight_std=-1.0)
    with pytest.raises(ValueError, match=r"stdp_update: module 'b' has no parameter 'w'"):
        sl.stdp_update({"b": {"bias": jnp.ones(2)}}, "b", x, t1, win, (0.1, -0.1))
    with pytest.raises(TypeError, match=r"stdp_layers: f must be the network function"):
        sl.stdp_layers("net", x)


# --------------------------------------------------------------------------- learning

def _bars(k):
    bars = np.zeros((4, k, k), np.float32)
    bars[0, k // 2, :] = 1
    bars[1, :, k // 2] = 1
    bars[2] = np.eye(k)
    bars[3] = np.fliplr(np.eye(k))
    return bars


def _shifted(template, dy, dx):
    k = template.shape[0]
    out = np.zeros_like(template)
    src = template[max(0, -dy):k - max(0, dy), max(0, -dx):k - max(0, dx)]
    out[max(0, dy):max(0, dy) + src.shape[0], max(0, dx):max(0, dx) + src.shape[1]] = src
    return out


def test_stdp_kwta_learns_oriented_bars():
    """4 features, STDP + 1-WTA on bars (4 orientations) at random positions in 7x7 images.

    After 600 single-image steps each orientation is matched (correlation > 0.9 with the bar
    or a shifted copy of it inside the 5x5 window) by its own feature.
    """
    t, k, size = 8, 5, 7
    bars = _bars(k)
    rng = np.random.default_rng(0)
    n = 600
    orient = rng.integers(0, 4, n)
    pos = rng.integers(0, size - k + 1, (n, 2))
    imgs = np.full((n, size, size, 1), t, np.int32)
    for i in range(n):
        y, x = pos[i]
        imgs[i, y:y + k, x:x + k, 0] = np.where(bars[orient[i]] > 0, 0, t)

    def net(times):
        return sl.Convolution(4, k, stdp=(0.05, -0.05), name="conv").fire_times(times, 2.0, t)

    model = hk.without_apply_rng(hk.transform(net))
    params = model.init(jax.random.PRNGKey(1), imgs[:1])
    spec = sl.stdp_layers(net, imgs[:1])["conv"]

    @jax.jit
    def train(params, imgs):
        def step(p, x):
            x = x[None]
            post, pot = model.apply(p, x)
            win = k_winners_from_times(post, pot, 1, 0, t)
            return sl.stdp_update(p, "conv", x, post, win, spec, time_steps=t), None
        return jax.lax.scan(step, params, imgs)[0]

    w = np.asarray(train(params, jnp.asarray(imgs))["conv"]["w"])[:, :, 0, :]
    corr = np.zeros((4, 4))
    for o in range(4):
        for f in range(4):
            corr[o, f] = max(np.corrcoef(_shifted(bars[o], dy, dx).ravel(), w[..., f].ravel())[0, 1]
                             for dy in range(-2, 3) for dx in range(-2, 3)
                             if _shifted(bars[o], dy, dx).sum() >= 3)
    best = corr.argmax(axis=1)
    assert corr.max(axis=1).min() > 0.9, corr
    assert len(set(best.tolist())) == 4, corr
    # untrained weights match nothing
    w0 = np.asarray(params["conv"]["w"])[:, :, 0, :]
    assert max(abs(np.corrcoef(bars[o].ravel(), w0[..., f].ravel())[0, 1])
               for o in range(4) for f in range(4)) < 0.6
