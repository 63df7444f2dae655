"""R-STDP: reward applies the STDP rates, punishment the anti-STDP rates, 0 changes nothing."""

import jax
import numpy as np
import pytest

from spyxlike import rstdp, stdp
from spyxlike.winners import winners_from_list

STDP_RATES = (0.004, -0.003)
ANTI_RATES = (-0.004, 0.0005)


def _fc_problem():
    rng = np.random.default_rng(0)
    w = rng.uniform(0.2, 0.8, (6, 3)).astype(np.float32)
    pre = rng.integers(0, 6, (3, 6)).astype(np.int32)
    post = rng.integers(0, 6, (3, 3)).astype(np.int32)
    win = winners_from_list([[(0, 0, 0)], [(1, 0, 0)], [(2, 0, 0)]], 1)
    return w, pre, post, win


@pytest.mark.parametrize("impl", ["reference", "native", "pallas"])
def test_rstdp_fc_selects_rates_per_sample(impl):
    w, pre, post, win = _fc_problem()
    reward = np.array([1, -1, 0])
    out = np.asarray(rstdp.rstdp_fc(w, pre, post, win, reward, STDP_RATES, ANTI_RATES, impl=impl))
    # sample 0 rewarded (neuron 0), sample 1 punished (neuron 1), sample 2 neutral (neuron 2)
    ltp = pre <= post[np.arange(3), [0, 1, 2]][:, None]
    stab = (w - 0.0) * (1.0 - w)
    np.testing.assert_allclose(out[:, 0], w[:, 0] + np.where(ltp[0], 0.004, -0.003) * stab[:, 0], rtol=1e-6)
    np.testing.assert_allclose(out[:, 1], w[:, 1] + np.where(ltp[1], -0.004, 0.0005) * stab[:, 1], rtol=1e-6)
    np.testing.assert_allclose(out[:, 2], w[:, 2])


def test_rstdp_equals_stdp_with_the_chosen_rates():
    rng = np.random.default_rng(1)
    w = rng.uniform(0, 1, (3, 3, 2, 4)).astype(np.float32)
    pre = rng.integers(0, 5, (2, 6, 6, 2)).astype(np.int32)
    post = rng.integers(0, 5, (2, 4, 4, 4)).astype(np.int32)
    win = winners_from_list([[(0, 1, 1), (3, 2, 0)], [(1, 0, 3)]], 2)
    per_feature = [(0.01 * (f + 1), -0.005) for f in range(4)]
    for reward, rates in ((np.array([2.0, 0.5]), per_feature), (np.array([-1, -3]), ANTI_RATES)):
        got = rstdp.rstdp_conv(w, pre, post, win, reward, per_feature, ANTI_RATES, padding=0)
        want = stdp.stdp_conv(w, pre, post, win, rates)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-7)
    none = rstdp.rstdp_conv(w, pre, post, win, np.zeros(2), per_feature, ANTI_RATES)
    np.testing.assert_allclose(np.asarray(none), np.clip(w, 0, 1))


@pytest.mark.parametrize("impl", ["reference", "native"])
def test_rstdp_jit_and_vmap(impl):
    w, pre, post, win = _fc_problem()
    reward = np.array([1, -1, 1])
    expected = rstdp.rstdp_fc(w, pre, post, win, reward, STDP_RATES, ANTI_RATES, impl="reference")
    fn = jax.jit(lambda r: rstdp.rstdp_fc(w, pre, post, win, r, STDP_RATES, ANTI_RATES, impl=impl))
    np.testing.assert_allclose(np.asarray(fn(reward)), np.asarray(expected), atol=1e-7)
    rewards = np.stack([reward, -reward])
    out = jax.vmap(fn)(rewards)
    np.testing.assert_allclose(np.asarray(out[0]), np.asarray(expected), atol=1e-7)
    flipped = rstdp.rstdp_fc(w, pre, post, win, -reward, STDP_RATES, ANTI_RATES, impl="reference")
    np.testing.assert_allclose(np.asarray(out[1]), np.asarray(flipped), atol=1e-7)


def test_rstdp_errors():
    w, pre, post, win = _fc_problem()
    with pytest.raises(ValueError, match="rstdp_fc: reward must have shape \\(batch,\\) = \\(3,\\)"):
        rstdp.rstdp_fc(w, pre, post, win, np.ones(2), STDP_RATES, ANTI_RATES)
    with pytest.raises(ValueError, match="rstdp_fc: anti_stdp_rates must be one .* \\(3\\), got 2 pairs"):
        rstdp.rstdp_fc(w, pre, post, win, np.ones(3), STDP_RATES, [ANTI_RATES] * 2)
    with pytest.raises(ValueError, match="rstdp_fc: stdp_rates"):
        rstdp.rstdp_fc(w, pre, post, win, np.ones(3), (0.1,), ANTI_RATES)
    with pytest.raises(ValueError, match="rstdp_fc: reward must not hold NaN"):
        rstdp.rstdp_fc(w, pre, post, win, np.array([1.0, np.nan, 0.0]), STDP_RATES, ANTI_RATES)
    with pytest.raises(ValueError, match="rstdp_conv: lower_bound must be < upper_bound"):
        rstdp.rstdp_conv(np.ones((1, 1, 6, 3), np.float32), pre[:, None, None], post[:, None, None],
                         win, np.ones(3), STDP_RATES, ANTI_RATES, lower_bound=2.0)
