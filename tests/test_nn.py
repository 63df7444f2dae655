"""Haiku neuron cores and layer helpers: parameters, clipping, state layout,
conv feature maps, validation, and jit / vmap / grad."""

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from spyxlike import neurons, nn

CORES = {
    "IF": lambda s, **k: nn.IF(s, **k),
    "LIF": lambda s, **k: nn.LIF(s, **k),
    "ALIF": lambda s, **k: nn.ALIF(s, **k),
    "LI": lambda s, **k: nn.LI(s, **k),
    "RIF": lambda s, **k: nn.RIF(s, **k),
    "RLIF": lambda s, **k: nn.RLIF(s, **k),
    "CuBaLIF": lambda s, **k: nn.CuBaLIF(s, **k),
    "RCuBaLIF": lambda s, **k: nn.RCuBaLIF(s, **k),
}
TWO_VAR = {"ALIF", "CuBaLIF", "RCuBaLIF"}
# Learnable parameters and their shapes for hidden_shape (H, W, C).
PARAMS = {
    "IF": {}, "LIF": {"beta": "hidden"}, "ALIF": {"gamma": "hidden",
                                                  "beta": "hidden"},
    "LI": {"beta": "hidden"}, "RIF": {"w": "cc"},
    "RLIF": {"w": "cc", "beta": "hidden"},
    "CuBaLIF": {"alpha": "hidden", "beta": "hidden"},
    "RCuBaLIF": {"w": "cc", "alpha": "hidden", "beta": "hidden"},
}


def _construct(make):
    """Build a module inside hk.transform (Haiku requires it)."""
    hk.transform(make).init(None)


def _unroll(make, x):
    """Transform: unroll a core over x of shape (B, T, ...)."""
    def f(x):
        core = make()
        return hk.dynamic_unroll(core, x, core.initial_state(x.shape[0]),
                                 time_major=False)
    return hk.without_apply_rng(hk.transform(f))


@pytest.mark.parametrize("name", sorted(CORES))
def test_conv_feature_maps_state_layout_and_params(name):
    shape = (3, 3, 2)
    x = jnp.asarray(np.random.RandomState(0).normal(size=(2, 5) + shape) + .4,
                    jnp.float32)
    net = _unroll(lambda: CORES[name](shape), x)
    params = net.init(jax.random.PRNGKey(0), x)
    (out, final) = jax.jit(net.apply)(params, x)
    assert out.shape == (2, 5) + shape
    c = 2 * shape[-1] if name in TWO_VAR else shape[-1]
    assert final.shape == (2, 3, 3, c)
    got = {k: v.shape for k, v in params.get(name, {}).items()}
    want = {k: (shape if v == "hidden" else (2, 2))
            for k, v in PARAMS[name].items()}
    assert got == want
    if name != "LI":
        assert set(np.unique(np.asarray(out))) <= {0.0, 1.0}
        assert np.asarray(out).sum() > 0  # some neurons fire


def test_conv_core_equals_per_pixel_core():
    # With shared (scalar) decays, a core on (B, H, W, C) is the same as the
    # core on the (B*H*W, C) pixels: the recurrence mixes channels only.
    rng = np.random.RandomState(1)
    x = jnp.asarray(rng.normal(size=(2, 6, 2, 2, 3)) + 0.4, jnp.float32)
    conv = _unroll(lambda: nn.RCuBaLIF((2, 2, 3), alpha=0.5, beta=0.8,
                                       name="c"), x)
    params = conv.init(jax.random.PRNGKey(0), x)
    out, _ = conv.apply(params, x)
    flat_x = jnp.moveaxis(x, 1, -2).reshape(8, 6, 3)
    flat = _unroll(lambda: nn.RCuBaLIF((3,), alpha=0.5, beta=0.8, name="c"),
                   flat_x)
    out_flat, _ = flat.apply(params, flat_x)
    np.testing.assert_allclose(
        jnp.moveaxis(out, 1, -2).reshape(8, 6, 3), out_flat, atol=1e-6)


def _state(make, batch_size):
    return hk.transform(lambda: make().initial_state(batch_size)).apply(
        {}, None)


def test_initial_state_batch_and_unbatched():
    assert _state(lambda: nn.LIF((4,)), 3).shape == (3, 4)
    assert _state(lambda: nn.LIF((4,)), None).shape == (4,)
    assert _state(lambda: nn.ALIF((5, 5, 4)), 2).shape == (2, 5, 5, 8)
    assert _state(lambda: nn.CuBaLIF((4,)), None).shape == (8,)
    s = _state(lambda: nn.RCuBaLIF((4,)), 1)
    assert s.shape == (1, 8)
    assert s.dtype == jnp.float32 and float(jnp.abs(s).sum()) == 0.0
    with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
        _state(lambda: nn.LIF((4,)), 0)


def test_fixed_and_learnable_initialisers():
    x = jnp.zeros((2, 3, 4))
    p = _unroll(lambda: nn.LIF((4,), beta=0.0), x).init(jax.random.PRNGKey(0), x)
    # beta=0.0 is a fixed decay (a scalar parameter), not a learnable vector.
    assert p["LIF"]["beta"].shape == () and float(p["LIF"]["beta"]) == 0.0
    p = _unroll(lambda: nn.LI((4,)), x).init(jax.random.PRNGKey(0), x)
    np.testing.assert_array_equal(p["LI"]["beta"], np.full(4, 0.8, np.float32))
    p = _unroll(lambda: nn.LIF((4000,)), jnp.zeros((1, 1, 4000))).init(
        jax.random.PRNGKey(0), jnp.zeros((1, 1, 4000)))
    beta = np.asarray(p["LIF"]["beta"])
    # TruncatedNormal(stddev=0.25, mean=0.5): within 2 stddev of the mean.
    assert beta.min() >= 0.0 and beta.max() <= 1.0
    assert abs(beta.mean() - 0.5) < 0.02 and 0.18 < beta.std() < 0.25


def test_beta_zero_means_no_memory():
    x = jnp.asarray([[[0.25], [0.5], [0.125]]])
    out, _ = _unroll(lambda: nn.LI((1,), beta=0.0), x).apply(
        {"LI": {"beta": jnp.asarray(0.0)}}, x)
    np.testing.assert_array_equal(out, x)


def _lif_one_step(params, v0, x):
    def f(x, v):
        return nn.LIF((2,), threshold=1.0)(x, v)
    net = hk.without_apply_rng(hk.transform(f))
    return net.apply(params, x, v0)


def test_decays_are_clipped_at_every_call():
    v0 = jnp.asarray([[0.5, 0.5]])
    x = jnp.zeros((1, 2))
    _, v = _lif_one_step({"LIF": {"beta": jnp.asarray([1.7, -0.3])}}, v0, x)
    np.testing.assert_array_equal(v, [[0.5, 0.0]])  # effective beta = (1, 0)


def test_optimizer_step_past_one_is_clipped():
    """Train beta upward with a big SGD step; its raw value leaves [0, 1]
    but the potential it produces uses beta = 1."""
    v0 = jnp.asarray([[0.5, 0.25]])
    x = jnp.zeros((1, 2))
    params = {"LIF": {"beta": jnp.asarray([0.9, 0.9])}}

    def loss(p):
        _, v = _lif_one_step(p, v0, x)
        return -jnp.sum(v)  # wants the largest beta

    opt = optax.sgd(1.0)
    state = opt.init(params)
    grads = jax.grad(loss)(params)
    np.testing.assert_allclose(grads["LIF"]["beta"], [-0.5, -0.25])
    updates, state = opt.update(grads, state, params)
    params = optax.apply_updates(params, updates)
    raw = np.asarray(params["LIF"]["beta"])
    assert raw[0] > 1.0 and raw[1] > 1.0
    _, v = _lif_one_step(params, v0, x)
    np.testing.assert_array_equal(v, v0)  # beta_eff = 1
    # Outside [0, 1] the clip passes no gradient.
    np.testing.assert_array_equal(jax.grad(loss)(params)["LIF"]["beta"], [0, 0])


def test_grad_flows_to_every_parameter_and_input():
    rng = np.random.RandomState(2)
    x = jnp.asarray(rng.normal(size=(2, 8, 3)) + 0.5, jnp.float32)
    net = _unroll(lambda: nn.RCuBaLIF((3,)), x)
    params = net.init(jax.random.PRNGKey(3), x)

    def loss(p, x):
        out, _ = net.apply(p, x)
        return jnp.sum(out)

    gp, gx = jax.jit(jax.grad(loss, argnums=(0, 1)))(params, x)
    for k in ("w", "alpha", "beta"):
        assert np.abs(np.asarray(gp["RCuBaLIF"][k])).sum() > 0, k
    assert np.abs(np.asarray(gx)).sum() > 0


def test_vmap_over_unbatched_core_matches_batched():
    rng = np.random.RandomState(4)
    x = jnp.asarray(rng.normal(size=(3, 6, 4)) + 0.5, jnp.float32)

    def single(x):  # x: (T, 4), state without a batch axis
        core = nn.ALIF((4,), beta=0.9, gamma=0.8)
        return hk.dynamic_unroll(core, x, core.initial_state(None))[0]

    net = hk.without_apply_rng(hk.transform(single))
    params = net.init(None, x[0])
    per_sample = jax.vmap(net.apply, in_axes=(None, 0))(params, x)
    batched = _unroll(lambda: nn.ALIF((4,), beta=0.9, gamma=0.8), x)
    np.testing.assert_array_equal(per_sample, batched.apply(params, x)[0])


def test_core_matches_pure_step():
    rng = np.random.RandomState(5)
    x = jnp.asarray(rng.normal(size=(2, 4)) + 0.8, jnp.float32)
    vt = jnp.asarray(rng.uniform(0, 2, size=(2, 8)), jnp.float32)
    net = hk.without_apply_rng(hk.transform(
        lambda x, s: nn.ALIF((4,), beta=0.75, gamma=0.5, threshold=0.9)(x, s)))
    params = net.init(None, x, vt)
    s, new = net.apply(params, x, vt)
    s2, (v2, t2) = neurons.alif_step(x, (vt[:, :4], vt[:, 4:]), beta=0.75,
                                     gamma=0.5, threshold=0.9)
    np.testing.assert_array_equal(s, s2)
    np.testing.assert_array_equal(new, jnp.concatenate([v2, t2], -1))


@pytest.mark.parametrize("make,arg,shown", [
    (lambda: nn.LIF(64), "hidden_shape", "64"),
    (lambda: nn.LIF([64]), "hidden_shape", r"\[64\]"),
    (lambda: nn.LIF((0,)), "hidden_shape", r"\(0,\)"),
    (lambda: nn.LIF(()), "hidden_shape", r"\(\)"),
    (lambda: nn.IF((4, True)), "hidden_shape", r"\(4, True\)"),
    (lambda: nn.LI(10), "layer_shape", "10"),
    (lambda: nn.LIF((4,), beta=1.5), "beta", "1.5"),
    (lambda: nn.LI((4,), beta=-0.1), "beta", "-0.1"),
    (lambda: nn.ALIF((4,), gamma=2.0), "gamma", "2.0"),
    (lambda: nn.CuBaLIF((4,), alpha=-1.0), "alpha", "-1.0"),
    (lambda: nn.RCuBaLIF((4,), beta=1.01), "beta", "1.01"),
    (lambda: nn.IF((4,), threshold=0), "threshold", "0"),
    (lambda: nn.RLIF((4,), threshold=-1.0), "threshold", "-1.0"),
    (lambda: nn.RIF((4,), threshold=float("nan")), "threshold", "nan"),
])
def test_invalid_construction_raises_value_error(make, arg, shown):
    with pytest.raises(ValueError, match=rf"^{arg} must .*got {shown}"):
        _construct(make)


def test_invalid_activation_raises_type_error():
    with pytest.raises(TypeError, match="activation must be callable"):
        _construct(lambda: nn.LIF((4,), activation="superspike"))


def test_shape_mismatch_raises_at_call_time():
    x = jnp.zeros((2, 5))
    f = hk.without_apply_rng(hk.transform(
        lambda x, s: nn.LIF((4,), beta=0.5)(x, s)))
    with pytest.raises(ValueError, match=r"hidden_shape=\(4,\).*\(2, 5\)"):
        f.init(None, x, jnp.zeros((2, 4)))
    g = hk.without_apply_rng(hk.transform(
        lambda x, s: nn.CuBaLIF((4,), alpha=.5, beta=.5)(x, s)))
    with pytest.raises(ValueError, match=r"state must have trailing shape \(8,\)"):
        g.init(None, jnp.zeros((2, 4)), jnp.zeros((2, 4)))
    with pytest.raises(ValueError, match="leading .batch. axes"):
        g.init(None, jnp.zeros((2, 4)), jnp.zeros((3, 8)))


def test_activity_regularization_accumulates_spikes():
    f = hk.transform_with_state(lambda s: nn.ActivityRegularization()(s))
    s = jnp.asarray([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    params, state = f.init(None, s)
    np.testing.assert_array_equal(state["ActReg"]["spike_count"], np.zeros((2, 3)))
    out, state = jax.jit(f.apply)(params, state, None, s)
    np.testing.assert_array_equal(out, s)
    out, state = f.apply(params, state, None, 3 * s)
    np.testing.assert_array_equal(state["ActReg"]["spike_count"], 4 * s)


def test_sum_pool_closed_form():
    x = jnp.arange(2 * 4 * 4 * 2, dtype=jnp.float32).reshape(2, 4, 4, 2)
    out = nn.sum_pool(x, 2, 2, "VALID")
    xn = np.asarray(x)
    expected = xn.reshape(2, 2, 2, 2, 2, 2).sum(axis=(2, 4))
    np.testing.assert_array_equal(out, expected)
    same = nn.sum_pool(x, (3, 3, 1), 1, "SAME")
    assert same.shape == x.shape
    # interior pixel: full 3x3 window
    np.testing.assert_array_equal(same[0, 1, 1], xn[0, :3, :3].sum(axis=(0, 1)))
    # int spikes keep their dtype
    ints = nn.sum_pool(x.astype(jnp.int32), 2, 2, "VALID")
    assert ints.dtype == jnp.int32
    np.testing.assert_array_equal(ints, expected.astype(np.int32))


def test_sum_pool_module_jit_vmap_grad():
    x = jnp.ones((3, 4, 4, 1))
    pool = hk.without_apply_rng(hk.transform(
        lambda x: nn.SumPool((2, 2, 1), (2, 2, 1), "VALID")(x)))
    out = jax.jit(pool.apply)({}, x)
    np.testing.assert_array_equal(out, np.full((3, 2, 2, 1), 4.0))
    per = jax.vmap(lambda v: nn.sum_pool(v, (2, 2, 1), (2, 2, 1), "VALID"))(x)
    np.testing.assert_array_equal(per, out)
    g = jax.grad(lambda v: jnp.sum(nn.sum_pool(v, 2, 2, "VALID") ** 2))(x)
    np.testing.assert_array_equal(g, np.full(x.shape, 8.0))


def test_sum_pool_validation():
    x = jnp.ones((1, 4, 4, 1))
    with pytest.raises(ValueError, match="padding must be 'SAME' or 'VALID'; got 'same'"):
        nn.sum_pool(x, 2, 2, "same")
    with pytest.raises(ValueError, match="padding must be"):
        _construct(lambda: nn.SumPool(2, 2, "FULL"))
    with pytest.raises(ValueError, match="window_shape has 5 entries"):
        nn.sum_pool(x, (1, 1, 2, 2, 1), 1, "VALID")
    with pytest.raises(ValueError, match=r"strides\[1\] must be an int >= 1"):
        nn.sum_pool(x, (2, 2, 1), (1, 0, 1), "VALID")
    with pytest.raises(ValueError, match="channel_axis must be in"):
        nn.sum_pool(x, 2, 2, "VALID", channel_axis=4)


def test_population_code():
    f = nn.PopulationCode(3)
    x = jnp.arange(2 * 3 * 6, dtype=jnp.float32).reshape(2, 3, 6)
    out = f(x)
    expected = np.asarray(x).reshape(2, 3, 3, 2).sum(-1)
    np.testing.assert_array_equal(out, expected)
    per = jax.vmap(f)(x)
    np.testing.assert_array_equal(per, out)
    g = jax.grad(lambda v: jnp.sum(f(v) * jnp.asarray([1.0, 2.0, 3.0])))(x[0, 0])
    np.testing.assert_array_equal(g, [1, 1, 2, 2, 3, 3])
    with pytest.raises(ValueError, match=r"multiple of num_classes=4; got x.shape=\(2, 3, 6\)"):
        nn.PopulationCode(4)(x)
    with pytest.raises(ValueError, match="num_classes must be an int >= 1; got 0"):
        nn.PopulationCode(0)


@pytest.mark.parametrize("impl", ["reference", "auto"])
@pytest.mark.parametrize("name,shape", [("IF", (3,)), ("LIF", (2, 2, 3)),
                                        ("LI", (3,))])
def test_fused_unroll_matches_dynamic_unroll(name, shape, impl):
    rng = np.random.RandomState(6)
    x = jnp.asarray(rng.normal(size=(2, 7) + shape) + 0.4, jnp.float32)
    make = lambda: CORES[name](shape, impl=impl)

    def fused(x):
        core = make()
        return core.unroll(x, core.initial_state(x.shape[0]))

    fused_net = hk.without_apply_rng(hk.transform(fused))
    step_net = _unroll(make, x)
    params = step_net.init(jax.random.PRNGKey(0), x)
    fparams = fused_net.init(jax.random.PRNGKey(0), x)
    jax.tree_util.tree_map(np.testing.assert_array_equal, params, fparams)
    out_f, v_f = fused_net.apply(params, x)
    out_s, v_s = step_net.apply(params, x)
    np.testing.assert_allclose(out_f, out_s, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(v_f, v_s, rtol=1e-5, atol=1e-5)

    def loss(net):
        return lambda p, x: jnp.sum(net.apply(p, x)[0] * x)

    g_f = jax.grad(loss(fused_net), argnums=(0, 1))(params, x)
    g_s = jax.grad(loss(step_net), argnums=(0, 1))(params, x)
    for a, b in zip(jax.tree_util.tree_leaves(g_f), jax.tree_util.tree_leaves(g_s)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_unroll_and_impl_validation():
    with pytest.raises(ValueError, match="impl must be one of"):
        _construct(lambda: nn.LIF((3,), impl="cuda"))
    f = hk.transform(lambda x, s: nn.LIF((3,), beta=0.5).unroll(x, s))
    with pytest.raises(ValueError, match=r"unroll expects x_seq of shape"):
        f.init(None, jnp.zeros((2, 3)), jnp.zeros((2, 3)))
