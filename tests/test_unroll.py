"""layered_unroll equals hk.dynamic_unroll(hk.DeepRNN(...)): values, states, params, gradients."""

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike import axn, nn
from spyxlike.spike_linear import SpikeLinear
from spyxlike.unroll import layered_unroll


def _layers(impl, spike_linear):
    w = hk.initializers.RandomNormal(0.8, 0.3)  # strong enough that every layer spikes
    first = SpikeLinear(12, name="linear", impl=impl, w_init=w) if spike_linear else hk.Linear(12, w_init=w)
    return [
        first,
        nn.LIF((12,), impl=impl),
        hk.Linear(9, w_init=w),
        nn.ALIF((9,)),  # no fused loop: goes through hk.dynamic_unroll
        hk.Linear(6, w_init=w),
        nn.LIF((6,), beta=0.7, activation=axn.arctan(), impl=impl),
        hk.Linear(4, w_init=w),
        nn.LI((4,), impl=impl),
    ]


def _models(impl, spike_linear):
    def fast(x):
        return layered_unroll(_layers(impl, spike_linear), x)

    def slow(x):
        core = hk.DeepRNN(_layers(impl, spike_linear))
        return hk.dynamic_unroll(core, x, core.initial_state(x.shape[0]), time_major=False)

    return hk.without_apply_rng(hk.transform(fast)), hk.without_apply_rng(hk.transform(slow))


@pytest.mark.parametrize("impl", ["reference", "native"])
@pytest.mark.parametrize("spike_linear", [False, True])
def test_equals_dynamic_unroll(impl, spike_linear):
    rng = np.random.default_rng(0)
    x = jnp.asarray((rng.random((5, 30, 20)) < 0.3) * 3.0, jnp.float32)
    y = jnp.asarray(rng.integers(0, 4, 5))
    fast, slow = _models(impl, spike_linear)
    pf, ps = fast.init(jax.random.PRNGKey(1), x), slow.init(jax.random.PRNGKey(1), x)
    assert jax.tree.structure(pf) == jax.tree.structure(ps)
    for a, b in zip(jax.tree.leaves(pf), jax.tree.leaves(ps)):
        np.testing.assert_array_equal(a, b)

    (out_f, st_f), (out_s, st_s) = fast.apply(pf, x), slow.apply(pf, x)
    np.testing.assert_allclose(out_f, out_s, rtol=1e-5, atol=1e-5)
    assert len(st_f) == len(st_s) == 4
    for a, b in zip(st_f, st_s):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert float(jnp.abs(out_s).sum()) > 0  # the stack is not silent

    def loss(model):
        def f(p):
            traces = model.apply(p, x)[0]
            return -jnp.mean(jax.nn.log_softmax(traces.sum(1))[jnp.arange(5), y])
        return f

    gf, gs = jax.grad(loss(fast))(pf), jax.grad(loss(slow))(pf)
    for (path, a), b in zip(jax.tree_util.tree_leaves_with_path(gf), jax.tree.leaves(gs)):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6, err_msg=str(path))
    assert float(jnp.abs(gs["LIF"]["beta"]).sum()) > 0


def test_collect_returns_every_layer_and_jit_vmap():
    x = jnp.ones((2, 7, 5))
    f = hk.without_apply_rng(hk.transform(
        lambda x: layered_unroll([hk.Linear(3), nn.LIF((3,)), hk.Linear(2), nn.LI((2,))], x, collect=True)))
    p = f.init(jax.random.PRNGKey(0), x)
    outs, states = jax.jit(f.apply)(p, x)
    assert [o.shape for o in outs] == [(2, 7, 3), (2, 7, 3), (2, 7, 2), (2, 7, 2)]
    np.testing.assert_array_equal(outs[-1][:, -1], states[-1])
    per_sample = jax.vmap(lambda xi: f.apply(p, xi[None])[0][-1][0])(x)
    np.testing.assert_allclose(per_sample, outs[-1], rtol=1e-6)


def test_errors():
    f = hk.transform(lambda x: layered_unroll([hk.Linear(3), nn.LIF((3,))], x, initial_states=[]))
    with pytest.raises(ValueError, match="one state per core"):
        f.init(jax.random.PRNGKey(0), jnp.ones((2, 4, 5)))
    g = hk.transform(lambda x: layered_unroll([], x))
    with pytest.raises(ValueError, match="layers must not be empty"):
        g.init(jax.random.PRNGKey(0), jnp.ones((2, 4, 5)))
    h = hk.transform(lambda x: layered_unroll([hk.Linear(3)], x))
    with pytest.raises(ValueError, match=r"inputs must be \(batch, time, ...\)"):
        h.init(jax.random.PRNGKey(0), jnp.ones((5,)))


def test_activity_regularization_counts_match_dynamic_unroll():
    x = jnp.asarray((np.random.default_rng(4).random((3, 9, 6)) < 0.5) * 2.0, jnp.float32)

    def layers():
        return [hk.Linear(5, w_init=hk.initializers.RandomNormal(1.0)), nn.LIF((5,)),
                nn.ActivityRegularization(), hk.Linear(2), nn.LI((2,))]

    def fast(x):
        return layered_unroll(layers(), x)[0]

    def slow(x):
        core = hk.DeepRNN(layers())
        return hk.dynamic_unroll(core, x, core.initial_state(x.shape[0]), time_major=False)[0]

    f, s = hk.transform_with_state(fast), hk.transform_with_state(slow)
    params, state_f = f.init(jax.random.PRNGKey(0), x)
    _, state_s = s.init(jax.random.PRNGKey(0), x)
    out_f, new_f = f.apply(params, state_f, None, x)
    out_s, new_s = s.apply(params, state_s, None, x)
    np.testing.assert_allclose(out_f, out_s, rtol=1e-5, atol=1e-6)
    count_f, count_s = new_f["ActReg"]["spike_count"], new_s["ActReg"]["spike_count"]
    assert count_f.shape == count_s.shape == (3, 5)
    np.testing.assert_array_equal(count_f, count_s)
    assert float(count_s.sum()) > 0
