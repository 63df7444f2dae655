"""Mozafari et al. (2019) style R-STDP decision layer on single-spike features.

Features (e.g. from :mod:`spyxlike.stdp_features`) are standardised and
rank-order coded into spike times; a fully connected layer of
``neurons_per_class * classes`` single-spike neurons fires at its first
threshold crossing (:func:`spyxlike.event_conv.fc_fire`), and the decision
is the class of the first neuron to fire (earliest spike, then highest
potential: :func:`spyxlike.competition.k_winners_from_times` with k = 1).

Learning, one sample at a time as in SpykeTorch's Mozafari example: if the
winner's class is the label the synapses of the winner get STDP (reward),
otherwise anti-STDP (punishment), :func:`spyxlike.stdp.rstdp_fc` with
weights bounded in ``[lower, upper]`` and no stabiliser. After each epoch
the rates are rescaled by the training error (reward) and accuracy
(punishment), Mozafari's adaptive learning rates, so learning slows as the
layer improves.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.coding import rank_code
from spyxlike.competition import k_winners_from_times
from spyxlike.event_conv import fc_fire
from spyxlike.rstdp import rstdp_fc


@dataclasses.dataclass(frozen=True)
class RSTDPConfig:
    """Hyperparameters of the R-STDP decision layer (SpykeTorch's Mozafari example rates)."""

    classes: int = 10
    neurons_per_class: int = 20
    time_steps: int = 15
    threshold: float = 100.0
    epochs: int = 30
    stdp_rates: tuple = (0.004, -0.002)
    anti_stdp_rates: tuple = (-0.004, 0.0005)
    lower_bound: float = 0.2
    upper_bound: float = 0.8
    weight_mean: float = 0.5
    weight_std: float = 0.05
    seed: int = 0


class RSTDPReadout:
    """A decision layer trained with R-STDP: ``fit(features, labels)``, ``predict(features)``.

    ``fit`` stores the feature standardisation (mean, std of the training
    features) and the weights ``(F, classes * neurons_per_class)``; neuron
    ``n`` votes for class ``n // neurons_per_class``.
    """

    def __init__(self, config: RSTDPConfig = RSTDPConfig()):
        self.config = config
        self.weights = None
        self.mean = None
        self.std = None
        self.history = []

    def _times(self, features):
        z = (np.asarray(features, np.float32) - self.mean) / self.std
        return rank_code(jnp.asarray(z), self.config.time_steps)

    def fit(self, features, labels, *, progress: bool = True):
        """Trains on ``features`` ``(N, F)`` and int ``labels`` ``(N,)``; returns self."""
        from tqdm.auto import tqdm

        c = self.config
        features = np.asarray(features, np.float32)
        labels = np.asarray(labels)
        if features.ndim != 2 or labels.shape != (features.shape[0],):
            raise ValueError(
                f"RSTDPReadout.fit: features must be (N, F) and labels (N,), got {features.shape} "
                f"and {labels.shape}"
            )
        if labels.min() < 0 or labels.max() >= c.classes:
            raise ValueError(f"RSTDPReadout.fit: labels must be in [0, {c.classes}), got "
                             f"[{labels.min()}, {labels.max()}]")
        self.mean = features.mean(0)
        self.std = features.std(0) + 1e-6
        times = self._times(features)
        key = jax.random.PRNGKey(c.seed)
        n = c.classes * c.neurons_per_class
        w = c.weight_mean + c.weight_std * jax.random.normal(key, (features.shape[1], n))
        w = jnp.clip(w, c.lower_bound, c.upper_bound)
        reward_scale, punish_scale = 1.0, 1.0
        rng = np.random.default_rng(c.seed)
        for _ in tqdm(range(c.epochs), desc="R-STDP epochs", disable=not progress):
            order = rng.permutation(len(labels))
            stdp = jnp.asarray(c.stdp_rates, jnp.float32) * reward_scale
            anti = jnp.asarray(c.anti_stdp_rates, jnp.float32) * punish_scale
            w, correct = _rstdp_epoch(w, times[order], jnp.asarray(labels[order]), stdp, anti, c)
            accuracy = float(jnp.mean(correct))
            self.history.append(accuracy)
            # Mozafari et al.: scale reward by the error rate and punishment by the accuracy.
            reward_scale, punish_scale = 4.0 * (1.0 - accuracy), accuracy
        self.weights = w
        return self

    def predict(self, features):
        """Predicted classes ``(N,)`` (int32); -1 where no neuron fired."""
        if self.weights is None:
            raise ValueError("RSTDPReadout.predict: call fit first")
        features = np.asarray(features, np.float32)
        if features.ndim != 2 or features.shape[1] != self.weights.shape[0]:
            raise ValueError(
                f"RSTDPReadout.predict: features must be (N, {self.weights.shape[0]}), got {features.shape}"
            )
        return np.asarray(_decide(self.weights, self._times(features), self.config)[0])

    def score(self, features, labels) -> float:
        """Accuracy of :meth:`predict` on ``(features, labels)``."""
        return float(np.mean(self.predict(features) == np.asarray(labels)))


def _decide(w, times, c):
    post, value = fc_fire(times, w, c.threshold, c.time_steps)
    winners = k_winners_from_times(post[:, None, None, :], value[:, None, None, :], 1, 0, c.time_steps)
    neuron = winners.feature[:, 0]
    cls = jnp.where(winners.valid[:, 0], neuron // c.neurons_per_class, -1)
    return cls, post, winners


@partial(jax.jit, static_argnames=("c",))
def _rstdp_epoch(w, times, labels, stdp, anti, c):
    def step(w, xy):
        t, y = xy
        cls, post, winners = _decide(w, t[None], c)
        correct = cls[0] == y
        reward = jnp.where(winners.valid[0, 0], jnp.where(correct, 1.0, -1.0), 0.0)[None]
        # FC winners are (feature, 0, 0); rstdp_fc reads the feature as the output neuron.
        w = rstdp_fc(w, t[None], post, winners, reward, stdp, anti, use_stabilizer=False,
                     lower_bound=c.lower_bound, upper_bound=c.upper_bound)
        return w, correct

    return jax.lax.scan(step, w, (times, labels))
