"""Pure neuron steps against hand-computed sequences (leak, integrate, fire,
reset order), their surrogate gradients, and jit / vmap / grad.

All numbers below are dyadic fractions, so float32 arithmetic is exact and
the sequences are compared with ``assert_array_equal``.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spyxlike import axn, neurons

SS = axn.superspike()  # Spyx's default activation


def _run(step, xs, state, **params):
    outs, states = [], []
    for x in xs:
        out, state = step(jnp.asarray(x, jnp.float32), state, **params)
        outs.append(out)
        states.append(state)
    return outs, states


def _f(*a):
    return jnp.asarray(a if len(a) > 1 else a[0], jnp.float32)


def test_if_sequence():
    # Spikes come from the OLD potential; reset subtracts the threshold.
    outs, vs = _run(neurons.if_step, [0.75, 0.5, 0.0, 0.25], _f(0.0),
                    threshold=1.0)
    np.testing.assert_array_equal(outs, [0, 0, 1, 0])
    np.testing.assert_array_equal(vs, [0.75, 1.25, 0.25, 0.5])


def test_lif_sequence():
    outs, vs = _run(neurons.lif_step, [1.5, 0.0, 0.0, 0.25], _f(0.0),
                    beta=0.5, threshold=1.0)
    # t1: V=0.5*0+1.5; t2: s=1 (1.5>1), V=0.75-1; t3: V=-0.125; t4: +0.25
    np.testing.assert_array_equal(outs, [0, 1, 0, 0])
    np.testing.assert_array_equal(vs, [1.5, -0.25, -0.125, 0.1875])


def test_lif_threshold_is_strict():
    out, v = neurons.lif_step(_f(0.0), _f(1.0), beta=1.0, threshold=1.0)
    assert float(out) == 0.0 and float(v) == 1.0


def test_alif_sequence():
    outs, states = _run(neurons.alif_step, [3.0, 0.0, 0.0, 0.0],
                        (_f(0.0), _f(0.0)), beta=1.0, gamma=0.5,
                        threshold=1.0)
    v = [s[0] for s in states]
    t = [s[1] for s in states]
    # t2: thresh 1, spike, V=3-1, T=0.5; t3: thresh 1.5, spike, V=2-1.5,
    # T=0.25+0.5; t4: thresh 1.75, no spike, T=0.375
    np.testing.assert_array_equal(outs, [0, 1, 1, 0])
    np.testing.assert_array_equal(v, [3.0, 2.0, 0.5, 0.5])
    np.testing.assert_array_equal(t, [0.0, 0.5, 0.75, 0.375])


def test_li_sequence():
    outs, vs = _run(neurons.li_step, [1.0, 1.0, 1.0, -2.0], _f(0.0), beta=0.5)
    np.testing.assert_array_equal(outs, [1.0, 1.5, 1.75, -1.125])
    np.testing.assert_array_equal(vs, outs)


W = np.array([[0.0, 0.5], [0.25, 0.0]], np.float32)


def test_rif_sequence():
    xs = [[1.5, 0.0], [0.0, 0.0], [0.0, 0.0]]
    outs, vs = _run(neurons.rif_step, xs, _f(0.0, 0.0), w=W, threshold=1.0)
    # t2: s=(1,0) from V=(1.5,0); feedback s@W=(0,0.5)
    np.testing.assert_array_equal(outs, [[0, 0], [1, 0], [0, 0]])
    np.testing.assert_array_equal(vs, [[1.5, 0], [0.5, 0.5], [0.5, 0.5]])


def test_rlif_sequence():
    xs = [[3.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    outs, vs = _run(neurons.rlif_step, xs, _f(0.0, 0.0), beta=0.5, w=W,
                    threshold=1.0)
    # t2: s=(1,0), V=(1.5+0+0-1, 0+1+0.5)=(0.5,1.5)
    # t3: s=(0,1), feedback=(0.25,0), V=(0.25+0.25, 0.75-1)
    np.testing.assert_array_equal(outs, [[0, 0], [1, 0], [0, 1]])
    np.testing.assert_array_equal(vs, [[3, 0], [0.5, 1.5], [0.5, -0.25]])


def test_cuba_lif_sequence_single_reset():
    outs, states = _run(neurons.cuba_lif_step, [2.0, 0.0, 0.0, 0.0],
                        (_f(0.0), _f(0.0)), alpha=0.5, beta=0.5,
                        threshold=1.0)
    v = [s[0] for s in states]
    i = [s[1] for s in states]
    # t2: s=1, I=1, V=0.5*2+1-1=1 (Spyx 0.1.20 would give 0.5*(2-1)+1-1=0.5)
    # t3: s=0 (V=1 is not > 1), I=0.5, V=0.5+0.5=1; t4: I=.25, V=.75
    np.testing.assert_array_equal(outs, [0, 1, 0, 0])
    np.testing.assert_array_equal(i, [2.0, 1.0, 0.5, 0.25])
    np.testing.assert_array_equal(v, [2.0, 1.0, 1.0, 0.75])


def test_rcuba_lif_sequence():
    xs = [[2.0, 0.0], [0.0, 0.0], [0.0, 0.0]]
    outs, states = _run(neurons.rcuba_lif_step, xs, (_f(0, 0), _f(0, 0)),
                        alpha=0.5, beta=0.5, w=W, threshold=1.0)
    v = [s[0] for s in states]
    i = [s[1] for s in states]
    # t2: s=(1,0), I=(1, 0+0.5), V=(1+1-1, 0+0.5); t3: s=0,
    # I=(0.5,0.25), V=(0.5+0.5, 0.25+0.25)
    np.testing.assert_array_equal(outs, [[0, 0], [1, 0], [0, 0]])
    np.testing.assert_array_equal(i, [[2, 0], [1, 0.5], [0.5, 0.25]])
    np.testing.assert_array_equal(v, [[2, 0], [1, 0.5], [1, 0.5]])


def test_recurrence_acts_on_last_axis_of_conv_maps():
    rng = np.random.RandomState(0)
    v = jnp.asarray(rng.uniform(0, 2, size=(2, 3, 3, 4)), jnp.float32)
    x = jnp.asarray(rng.normal(size=(2, 3, 3, 4)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(4, 4)), jnp.float32)
    s, v2 = neurons.rif_step(x, v, w=w, threshold=1.0)
    sn = (np.asarray(v) > 1).astype(np.float32)
    fb = np.einsum("bhwc,cd->bhwd", sn, np.asarray(w))
    np.testing.assert_allclose(v2, np.asarray(v) + np.asarray(x) + fb - sn,
                               rtol=1e-6, atol=1e-6)


def _g(z):  # SuperSpike(25) surrogate derivative
    return 1 / (1 + 25 * np.abs(z)) ** 2


def test_surrogate_gradient_through_spike_and_reset():
    v = _f(0.9, 1.2, -0.3)
    # d sum(s)/dV = g(V - theta)
    ds = jax.grad(lambda v: jnp.sum(neurons.lif_step(
        jnp.zeros(3), v, beta=0.5, threshold=1.0)[0]))(v)
    np.testing.assert_allclose(ds, _g(np.asarray(v) - 1.0), rtol=1e-6)
    # d sum(V')/dV = beta - theta * g(V - theta)  (reset is not detached)
    dv = jax.grad(lambda v: jnp.sum(neurons.lif_step(
        jnp.zeros(3), v, beta=0.5, threshold=1.0)[1]))(v)
    np.testing.assert_allclose(dv, 0.5 - _g(np.asarray(v) - 1.0), rtol=1e-6)
    # ALIF: d s / d T = -g(V - theta - T)
    dt = jax.grad(lambda t: jnp.sum(neurons.alif_step(
        jnp.zeros(3), (v, t), beta=0.5, gamma=0.5, threshold=1.0)[0]))(
        _f(0.1, 0.1, 0.1))
    np.testing.assert_allclose(dt, -_g(np.asarray(v) - 1.1), rtol=1e-5)


def test_gradient_wrt_decay_and_weights():
    v, x = _f(0.5, 2.0), _f(0.25, 0.25)
    dbeta = jax.grad(lambda b: jnp.sum(neurons.lif_step(
        x, v, beta=b, threshold=1.0)[1]))(0.5)
    assert float(dbeta) == pytest.approx(2.5)  # sum of V
    dw = jax.grad(lambda w: jnp.sum(neurons.rif_step(
        x, v, w=w, threshold=1.0)[1]))(jnp.asarray(W))
    # d sum_j (s W)_j / dW_ij = s_i ; s = (0, 1)
    np.testing.assert_array_equal(dw, [[0, 0], [1, 1]])


ALL = {
    "if": (neurons.if_step, {}, False),
    "lif": (neurons.lif_step, {"beta": 0.75}, False),
    "alif": (neurons.alif_step, {"beta": 0.75, "gamma": 0.5}, True),
    "li": (neurons.li_step, {"beta": 0.75}, False),
    "rif": (neurons.rif_step, {"w": W}, False),
    "rlif": (neurons.rlif_step, {"beta": 0.75, "w": W}, False),
    "cuba": (neurons.cuba_lif_step, {"alpha": 0.5, "beta": 0.75}, True),
    "rcuba": (neurons.rcuba_lif_step, {"alpha": 0.5, "beta": 0.75, "w": W},
              True),
}


@pytest.mark.parametrize("name", sorted(ALL))
def test_jit_vmap_grad_of_every_step(name):
    step, params, pair = ALL[name]
    rng = np.random.RandomState(1)
    x = jnp.asarray(rng.normal(size=(3, 2)) + 0.5, jnp.float32)
    v0 = jnp.asarray(rng.uniform(0, 2, size=(3, 2)), jnp.float32)
    state = (v0, 0.5 * v0) if pair else v0

    eager = step(x, state, **params)
    jitted = jax.jit(lambda x, s: step(x, s, **params))(x, state)
    vmapped = jax.vmap(lambda x, s: step(x, s, **params))(x, state)
    for a, b in zip(jax.tree_util.tree_leaves(eager),
                    jax.tree_util.tree_leaves(jitted)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    for a, b in zip(jax.tree_util.tree_leaves(eager),
                    jax.tree_util.tree_leaves(vmapped)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)

    def loss(x):
        out, new = step(x, state, **params)
        return jnp.sum(out) + sum(jnp.sum(l) for l in
                                  jax.tree_util.tree_leaves(new))

    gx = jax.grad(loss)(x)
    # Output and new state depend on x only additively this step (the
    # spikes come from the old state): d/dx = number of state arrays that
    # integrate x (+1 for LI, whose output is V').
    per_x = {"li": 2.0, "cuba": 2.0, "rcuba": 2.0, "alif": 1.0}.get(name, 1.0)
    np.testing.assert_array_equal(gx, np.full((3, 2), per_x, np.float32))


def test_two_variable_state_must_be_a_pair():
    with pytest.raises(TypeError, match="alif_step expects state as a pair"):
        neurons.alif_step(_f(0.0), _f(0.0), beta=0.5, gamma=0.5)
    with pytest.raises(TypeError, match="cuba_lif_step expects state"):
        neurons.cuba_lif_step(_f(0.0), (_f(0.0),), alpha=0.5, beta=0.5)


def test_custom_activation_is_used():
    act = axn.custom(bwd=lambda z: 2 * jnp.ones_like(z), fwd=axn.heaviside)
    g = jax.grad(lambda v: jnp.sum(neurons.if_step(
        _f(0.0), v, threshold=1.0, activation=act)[0]))(_f(0.3))
    assert float(g) == 2.0
