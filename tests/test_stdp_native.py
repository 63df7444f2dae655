"""STDP: native and Pallas kernels against the reference, jit, vmap, out-of-range winners under jit."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyxlike import stdp
from spyxlike.winners import Winners


def _problem(rng, batch, height, width, cin, cout, kernel, stride, pad, steps, slots):
    kh, kw = kernel
    top, left, bottom, right = pad
    ho = (height + top + bottom - kh) // stride[0] + 1
    wo = (width + left + right - kw) // stride[1] + 1
    w = rng.uniform(0.0, 1.0, (kh, kw, cin, cout)).astype(np.float32)
    pre = rng.integers(0, steps + 1, (batch, height, width, cin)).astype(np.int32)
    post = rng.integers(0, steps + 1, (batch, ho, wo, cout)).astype(np.int32)
    valid = rng.random((batch, slots)) < 0.8
    feature = np.where(valid, rng.integers(0, cout, (batch, slots)), -1).astype(np.int32)
    row = np.where(valid, rng.integers(0, ho, (batch, slots)), -1).astype(np.int32)
    col = np.where(valid, rng.integers(0, wo, (batch, slots)), -1).astype(np.int32)
    rates = rng.uniform(-0.3, 0.3, (cout, 2)).astype(np.float32)
    return w, pre, post, Winners(feature, row, col, valid), rates


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 3), size=st.tuples(st.integers(3, 8), st.integers(3, 8)),
    cin=st.integers(1, 3), cout=st.integers(1, 4),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    pad=st.tuples(*[st.integers(0, 2)] * 4), steps=st.integers(1, 6), slots=st.integers(1, 4),
    stabilize=st.booleans(), accumulate=st.sampled_from(["sum", "sequential"]),
    with_t=st.booleans(), seed=st.integers(0, 2**31 - 1),
)
def test_native_matches_reference(batch, size, cin, cout, kernel, stride, pad, steps, slots,
                                  stabilize, accumulate, with_t, seed):
    rng = np.random.default_rng(seed)
    w, pre, post, win, rates = _problem(rng, batch, *size, cin, cout, kernel, stride, pad, steps, slots)
    kw = dict(stride=stride, padding=pad, use_stabilizer=stabilize, accumulate=accumulate,
              time_steps=steps if with_t else None, lower_bound=0.1, upper_bound=0.9)
    ref = stdp.stdp_conv(w, pre, post, win, rates, impl="reference", **kw)
    nat = stdp.stdp_conv(w, pre, post, win, rates, impl="native", **kw)
    np.testing.assert_allclose(np.asarray(nat), np.asarray(ref), rtol=0, atol=1e-6)
    assert nat.dtype == ref.dtype == jnp.float32


@pytest.mark.parametrize("accumulate", ["sum", "sequential"])
@pytest.mark.parametrize("case", [
    dict(size=(7, 6), kernel=(3, 2), stride=(2, 1), pad=(1, 0, 2, 1)),
    dict(size=(5, 5), kernel=(5, 5), stride=(1, 1), pad=(0, 0, 0, 0)),
    dict(size=(6, 4), kernel=(1, 1), stride=(2, 2), pad=(0, 1, 0, 1)),
])
def test_pallas_matches_reference(accumulate, case):
    rng = np.random.default_rng(3)
    w, pre, post, win, rates = _problem(rng, 3, *case["size"], 2, 3, case["kernel"],
                                        case["stride"], case["pad"], 5, 4)
    kw = dict(stride=case["stride"], padding=case["pad"], accumulate=accumulate, time_steps=5)
    ref = stdp.stdp_conv(w, pre, post, win, rates, impl="reference", **kw)
    pal = stdp.stdp_conv(w, pre, post, win, rates, impl="pallas", **kw)
    np.testing.assert_allclose(np.asarray(pal), np.asarray(ref), rtol=0, atol=1e-6)


def test_larger_layer_native_matches_reference():
    rng = np.random.default_rng(7)
    w, pre, post, win, rates = _problem(rng, 16, 28, 28, 2, 30, (5, 5), (1, 1), (0, 0, 0, 0), 15, 5)
    for accumulate in ("sum", "sequential"):
        ref = stdp.stdp_conv(w, pre, post, win, rates, impl="reference", accumulate=accumulate)
        nat = stdp.stdp_conv(w, pre, post, win, rates, impl="native", accumulate=accumulate)
        np.testing.assert_allclose(np.asarray(nat), np.asarray(ref), rtol=0, atol=1e-6)
        assert np.abs(np.asarray(ref) - w).max() > 0.01


@pytest.mark.parametrize("impl", ["reference", "native", "pallas", "auto"])
def test_jit_and_out_of_range_winners_are_skipped(impl):
    rng = np.random.default_rng(11)
    w, pre, post, win, rates = _problem(rng, 2, 6, 6, 2, 3, (3, 3), (1, 1), (0, 0, 0, 0), 5, 3)
    expected = stdp.stdp_conv(w, pre, post, win, rates, impl="reference")
    fn = jax.jit(lambda *a: stdp.stdp_conv(*a, rates, impl=impl))
    np.testing.assert_allclose(np.asarray(fn(w, pre, post, win)), np.asarray(expected), atol=1e-6)
    # traced winners are not checked at the call; slots outside the layer change nothing
    bad = Winners(
        np.concatenate([win.feature, np.array([[3], [0]], np.int32)], 1),
        np.concatenate([win.row, np.array([[0], [-1]], np.int32)], 1),
        np.concatenate([win.col, np.array([[0], [9]], np.int32)], 1),
        np.concatenate([win.valid, np.ones((2, 1), bool)], 1),
    )
    np.testing.assert_allclose(np.asarray(fn(w, pre, post, bad)), np.asarray(expected), atol=1e-6)


@pytest.mark.parametrize("impl", ["reference", "native", "pallas"])
def test_vmap_over_a_leading_axis(impl):
    rng = np.random.default_rng(5)
    problems = [_problem(rng, 2, 6, 5, 2, 3, (3, 2), (1, 2), (1, 0, 0, 1), 4, 3) for _ in range(3)]
    w = np.stack([p[0] for p in problems])
    pre = np.stack([p[1] for p in problems])
    post = np.stack([p[2] for p in problems])
    win = Winners(*(np.stack([p[3][i] for p in problems]) for i in range(4)))
    rates = np.stack([p[4] for p in problems])
    kw = dict(stride=(1, 2), padding=(1, 0, 0, 1), accumulate="sequential")

    def one(w_, pre_, post_, win_, rates_):
        return stdp.stdp_conv(w_, pre_, post_, win_, rates_, impl=impl, **kw)

    out = jax.vmap(one)(w, pre, post, win, rates)
    for i, p in enumerate(problems):
        expected = stdp.stdp_conv(*p, impl="reference", **kw)
        np.testing.assert_allclose(np.asarray(out[i]), np.asarray(expected), atol=1e-6)
    # only the spikes batched: the same weights are updated from three problems
    out2 = jax.vmap(one, in_axes=(None, 0, 0, 0, None))(w[0], pre, post, win, rates[0])
    for i, p in enumerate(problems):
        expected = stdp.stdp_conv(w[0], p[1], p[2], p[3], rates[0], impl="reference", **kw)
        np.testing.assert_allclose(np.asarray(out2[i]), np.asarray(expected), atol=1e-6)


def test_fc_native_and_pallas_match_reference():
    rng = np.random.default_rng(9)
    w = rng.uniform(0, 1, (20, 7)).astype(np.float32)
    pre = rng.integers(0, 9, (5, 20)).astype(np.int32)
    post = rng.integers(0, 9, (5, 7)).astype(np.int32)
    feature = rng.integers(0, 7, (5, 2)).astype(np.int32)
    win = Winners(feature, np.zeros_like(feature), np.zeros_like(feature), np.ones((5, 2), bool))
    for accumulate in ("sum", "sequential"):
        ref = stdp.stdp_fc(w, pre, post, win, (0.05, -0.04), accumulate=accumulate, impl="reference")
        for impl in ("native", "pallas"):
            out = stdp.stdp_fc(w, pre, post, win, (0.05, -0.04), accumulate=accumulate, impl=impl)
            np.testing.assert_allclose(np.asarray(out), np.asarray(ref), atol=1e-6)


@pytest.mark.parametrize("impl", ["native", "pallas"])
def test_config_index_outside_the_tables_skips_the_slot_under_jit(impl):
    from spyxlike.stdp_config import STDPConfig

    rng = np.random.default_rng(13)
    w, pre, post, win, _ = _problem(rng, 2, 6, 6, 2, 3, (3, 3), (1, 1), (0, 0, 0, 0), 5, 3)
    configs = [STDPConfig(0.2, -0.1), STDPConfig(-0.1, 0.05)]
    index = np.array([[0, 5, 1], [-1, 1, 2]], np.int32)

    def run(i, idx):
        return jax.jit(lambda ix: stdp.stdp_spyker(w, pre, post, win, configs, config_index=ix, impl=i))(idx)

    expected = run("reference", index)
    np.testing.assert_allclose(np.asarray(run(impl, index)), np.asarray(expected), atol=1e-6)
    # slots with index 5, -1 and 2 contribute nothing: same as marking them invalid
    keep = Winners(win.feature, win.row, win.col, win.valid & (index >= 0) & (index < 2))
    clean = stdp.stdp_spyker(w, pre, post, keep, configs, config_index=np.clip(index, 0, 1),
                             impl="reference")
    np.testing.assert_allclose(np.asarray(expected), np.asarray(clean), atol=1e-7)
