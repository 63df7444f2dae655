"""Reward-modulated STDP (R-STDP), as in Mozafari et al. 2019 and SpykeTorch's examples.

SpykeTorch's R-STDP examples keep two ``STDP`` objects on the decision
layer, ``stdp = STDP(layer, (a_r_plus, a_r_minus))`` and ``anti_stdp =
STDP(layer, (a_p_minus, a_p_plus))`` (e.g. ``(0.004, -0.003)`` and
``(-0.004, 0.0005)``), and after each sample call ``stdp`` when the decision
was right (reward) and ``anti_stdp`` when it was wrong (punishment). Here one
call handles a batch: sample ``b`` uses the STDP rates when ``reward[b] > 0``,
the anti-STDP rates when ``reward[b] < 0`` and changes nothing when
``reward[b] == 0``; the update rule, batching (``accumulate``) and bounds are
those of :func:`spyxlike.stdp.stdp_conv`. Adapting the rates during training
(Mozafari's ``apr``/``anr`` schedule) is left to the training loop, with
:func:`spyxlike.stdp_config.update_all_learning_rate`.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from spyxlike.stdp import _ConvProblem, _array, _fc_as_conv
from spyxlike.stdp_config import learning_rate_table

__all__ = ["rstdp_conv", "rstdp_fc"]


def _reward_tables(p: _ConvProblem, reward, stdp_rates, anti_stdp_rates, op: str):
    reward = _array(reward)
    batch = p.feature.shape[0]
    if tuple(reward.shape) != (batch,):
        raise ValueError(f"{op}: reward must have shape (batch,) = ({batch},), got {tuple(reward.shape)}")
    if not (jnp.issubdtype(reward.dtype, jnp.floating) or jnp.issubdtype(reward.dtype, jnp.integer)
            or reward.dtype == jnp.bool_):
        raise TypeError(f"{op}: reward must be numeric, got dtype {reward.dtype}")
    if isinstance(reward, np.ndarray) and np.isnan(reward.astype(np.float64)).any():
        raise ValueError(f"{op}: reward must not hold NaN")
    plus = learning_rate_table(stdp_rates, p.cout, f"{op}: stdp_rates")
    minus = learning_rate_table(anti_stdp_rates, p.cout, f"{op}: anti_stdp_rates")
    # table 0 on reward, table 1 on punishment, no table (-1) on 0
    r = jnp.asarray(reward)
    per_sample = jnp.where(r > 0, 0, jnp.where(r < 0, 1, -1)).astype(jnp.int32)
    index = jnp.broadcast_to(per_sample[:, None], p.feature.shape)
    return jnp.stack([plus, minus]), index


def rstdp_conv(weights, pre_times, post_times, winners, reward, stdp_rates, anti_stdp_rates, *,
               stride=1, padding=0, use_stabilizer=True, lower_bound=0.0, upper_bound=1.0,
               time_steps=None, accumulate="sum", impl="auto"):
    """R-STDP update of a conv layer: STDP on reward, anti-STDP on punishment, per sample.

    Args:
      weights: float ``(kh, kw, Cin, Cout)`` kernel.
      pre_times: int ``(B, H, W, Cin)`` input spike times in ``[0, T]``.
      post_times: int ``(B, Ho, Wo, Cout)`` output spike times.
      winners: :class:`spyxlike.winners.Winners`, ``(B, k)`` fields.
      reward: ``(B,)``; ``> 0`` reward, ``< 0`` punishment, ``0`` no update.
      stdp_rates: ``(a_LTP, a_LTD)`` pair or ``Cout`` pairs used on reward.
      anti_stdp_rates: pair or ``Cout`` pairs used on punishment, e.g. ``(-0.004, 0.0005)``.
      stride: int or pair.
      padding: int, pair or ``(top, left, bottom, right)``.
      use_stabilizer: multiply by ``(W - lower_bound)(upper_bound - W)``.
      lower_bound: lower weight bound.
      upper_bound: upper weight bound.
      time_steps: ``T`` (optional; see :func:`spyxlike.stdp.stdp_conv`).
      accumulate: ``"sum"`` or ``"sequential"``.
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      float32 ``(kh, kw, Cin, Cout)`` new weights.

    Raises:
      ValueError: as :func:`spyxlike.stdp.stdp_conv`, plus ``reward`` not
        ``(B,)`` and rate tables of the wrong count.
      TypeError: wrong dtypes.
    """
    op = "rstdp_conv"
    p = _ConvProblem(op, weights, pre_times, post_times, winners, stride, padding,
                     lower_bound, upper_bound, time_steps, accumulate, impl)
    tables, index = _reward_tables(p, reward, stdp_rates, anti_stdp_rates, op)
    return p.run(tables, use_stabilizer, index)


def rstdp_fc(weights, pre_times, post_times, winners, reward, stdp_rates, anti_stdp_rates, *,
             use_stabilizer=True, lower_bound=0.0, upper_bound=1.0, time_steps=None,
             accumulate="sum", impl="auto"):
    """R-STDP update of a fully connected decision layer ``(Fin, Fout)`` (Mozafari et al. 2019).

    Args:
      weights: float ``(Fin, Fout)``.
      pre_times: int ``(B, Fin)`` input spike times.
      post_times: int ``(B, Fout)`` output spike times.
      winners: :class:`spyxlike.winners.Winners`; ``feature`` is the output neuron.
      reward: ``(B,)``; ``> 0`` reward, ``< 0`` punishment, ``0`` no update.
      stdp_rates: pair or ``Fout`` pairs used on reward.
      anti_stdp_rates: pair or ``Fout`` pairs used on punishment.
      use_stabilizer: multiply by ``(W - lower_bound)(upper_bound - W)``.
      lower_bound: lower weight bound.
      upper_bound: upper weight bound.
      time_steps: ``T`` (optional).
      accumulate: ``"sum"`` or ``"sequential"``.
      impl: ``"auto"``, ``"reference"``, ``"native"`` or ``"pallas"``.

    Returns:
      float32 ``(Fin, Fout)`` new weights.

    Raises:
      ValueError: as :func:`rstdp_conv`.
      TypeError: as :func:`rstdp_conv`.
    """
    op = "rstdp_fc"
    w, pre, post, win = _fc_as_conv(op, weights, pre_times, post_times, winners)
    p = _ConvProblem(op, w, pre, post, win, 1, 0, lower_bound, upper_bound, time_steps,
                     accumulate, impl)
    tables, index = _reward_tables(p, reward, stdp_rates, anti_stdp_rates, op)
    return p.run(tables, use_stabilizer, index)[0, 0]
