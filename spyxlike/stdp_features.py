"""Kheradpisheh et al. (2018) style STDP feature extractor on spike times.

DoG on/off filtering -> rank-order coding -> conv layer 1 (STDP, k-WTA) ->
point-wise inhibition -> earliest-spike pooling -> conv layer 2 (STDP,
k-WTA) -> features for a linear read-out. SpykeTorch's
``KheradpishehEtAl`` example builds the same stack from spike-waves; here
every layer is single-spike and event-driven
(:func:`spyxlike.event_conv.conv_fire` gives each neuron its first
threshold crossing and the potential there), which is the same network
computed with far fewer operations.

Training follows SpykeTorch: layers are trained one after the other, one
image at a time; for each image the layer's k winners (earliest spike, then
highest potential, one per feature map, each inhibiting a radius in all
maps) apply STDP to their input windows (``a_LTD = -ltd_ratio * a_LTP``,
stabilised, weights in ``[0, 1]``), and the learning rate doubles after each
epoch up to ``max_rate`` (SpykeTorch's adaptive schedule). Features for
the read-out are the final potentials of layer 2 (the accumulated input of
each neuron after all ``T`` steps, Kheradpisheh's "maximum potential"),
max-pooled over a ``readout_grid x readout_grid`` grid of the map.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from spyxlike.coding import rank_code
from spyxlike.event_conv import (conv_fire, conv_fire_pointwise_pool, conv_fire_winners,
                                 winner_time_map)
from spyxlike.filter_kernels import DoGKernel
from spyxlike.filters import Filter
from spyxlike.stdp import stdp_conv


@dataclasses.dataclass(frozen=True)
class KheradpishehConfig:
    """Hyperparameters of the two-layer STDP feature extractor.

    The defaults reach >= 93 % held-out accuracy with a linear SVM on the
    1200/597 upsampled-digits protocol (see ``notebooks/stdp_digits.ipynb``).
    Layer-1 values follow Kheradpisheh et al. / SpykeTorch (30 maps 5x5,
    threshold 15, k = 5, r = 3; lr 0.004 / -0.003).
    """

    time_steps: int = 15
    dog_window: int = 7
    dog_sigmas: tuple = (1.0, 2.0)
    dog_threshold: float = 0.05
    conv1_features: int = 30
    conv1_kernel: int = 5
    conv1_threshold: float = 15.0
    conv1_kwta: int = 5
    conv1_radius: int = 3
    pool1_kernel: int = 2
    pool1_stride: int = 2
    pool1_padding: int = 1
    conv2_features: int = 100
    conv2_kernel: int = 3
    conv2_padding: int = 1
    conv2_threshold: float = 10.0
    conv2_kwta: int = 8
    conv2_radius: int = 1
    epochs1: int = 5
    epochs2: int = 6
    learning_rate: float = 0.004
    ltd_ratio: float = 0.75
    max_rate: float = 0.15
    weight_mean: float = 0.8
    weight_std: float = 0.02
    readout_grid: int = 3
    seed: int = 0

    def rate(self, epoch: int) -> tuple:
        """``(a_LTP, a_LTD)`` of an epoch: doubled every epoch, capped at ``max_rate``."""
        a = min(self.learning_rate * 2.0 ** epoch, self.max_rate)
        return a, -self.ltd_ratio * a


def dog_filter(config: KheradpishehConfig) -> Filter:
    """The on- and off-centre DoG bank (SpykeTorch ``Filter`` of a ``DoGKernel`` and its negative)."""
    on = DoGKernel(config.dog_window, *config.dog_sigmas)()
    return Filter([on, -on], padding=config.dog_window // 2, thresholds=config.dog_threshold)


def encode(config: KheradpishehConfig, images):
    """Images ``(B, H, W, 1)`` in [0, 1] -> int32 input spike times ``(B, H, W, 2)``."""
    return rank_code(dog_filter(config)(jnp.asarray(images, jnp.float32)), config.time_steps)


def init_weights(config: KheradpishehConfig, key, in_channels: int = 2) -> dict:
    """Normal(weight_mean, weight_std) HWIO kernels of both layers (SpykeTorch's init), clipped to [0, 1]."""
    k1, k2 = jax.random.split(key)

    def normal(k, shape):
        w = config.weight_mean + config.weight_std * jax.random.normal(k, shape, jnp.float32)
        return jnp.clip(w, 0.0, 1.0)

    c = config
    return {
        "conv1": normal(k1, (c.conv1_kernel, c.conv1_kernel, in_channels, c.conv1_features)),
        "conv2": normal(k2, (c.conv2_kernel, c.conv2_kernel, c.conv1_features, c.conv2_features)),
    }


def layer1(config: KheradpishehConfig, w1, input_times):
    """Input spike times -> pooled, point-wise inhibited layer-1 spike times.

    conv -> fire -> point-wise inhibition -> pooling as one fused
    :func:`~spyxlike.event_conv.conv_fire_pointwise_pool` (natively the
    un-pooled times are never stored).
    """
    c = config
    return conv_fire_pointwise_pool(
        input_times, w1, c.conv1_threshold, c.time_steps, pool_kernel_size=c.pool1_kernel,
        pool_stride=c.pool1_stride, pool_padding=c.pool1_padding)


def layer2_potentials(config: KheradpishehConfig, w2, layer1_times):
    """Layer-1 times -> (layer-2 spike times, potentials at the spike, final potentials)."""
    c = config
    t, v, final = conv_fire(layer1_times, w2, c.conv2_threshold, c.time_steps,
                            padding=c.conv2_padding, return_final=True)
    return t, v, final


def readout_features(config: KheradpishehConfig, final_potentials):
    """Final layer-2 potentials ``(B, H, W, C)`` -> ``(B, grid*grid*C)`` max-pooled features."""
    g = config.readout_grid
    h, w = final_potentials.shape[1:3]
    ph, pw = h // g, w // g
    pooled = jax.lax.reduce_window(final_potentials, -jnp.inf, jax.lax.max,
                                   (1, ph, pw, 1), (1, ph, pw, 1), "VALID")
    return pooled.reshape(final_potentials.shape[0], -1)


@partial(jax.jit, static_argnames=("threshold", "kwta", "radius", "padding", "time_steps"))
def _stdp_chunk(weights, inputs, rates, *, threshold, kwta, radius, padding, time_steps):
    """One image at a time over ``inputs`` (a scan): fire, k-WTA, STDP.

    The fused :func:`~spyxlike.event_conv.conv_fire_winners` stops the
    convolution once the winners are known; it equals ``conv_fire`` followed
    by ``k_winners_from_times``, and STDP reads the post-synaptic times only
    at the winners (:func:`~spyxlike.event_conv.winner_time_map`).
    """

    def step(w, x):
        x = x[None]
        winners, times, _ = conv_fire_winners(x, w, threshold, time_steps, kwta, radius,
                                              padding=padding)
        h = x.shape[1] + 2 * padding - w.shape[0] + 1
        wd = x.shape[2] + 2 * padding - w.shape[1] + 1
        post = winner_time_map(winners, times, (h, wd, w.shape[3]), time_steps)
        w = stdp_conv(w, x, post, winners, rates, padding=padding)
        return w, winners.count[0]

    return jax.lax.scan(step, weights, inputs)


def train_layer(config, weights, inputs, layer: int, *, chunk: int = 100, progress: bool = True):
    """Trains one conv layer with STDP, image by image, for its number of epochs.

    Args:
      config: :class:`KheradpishehConfig`.
      weights: the layer's HWIO kernel.
      inputs: int32 spike times ``(N, H, W, C)`` of the layer's input.
      layer: 1 or 2.
      chunk: images per compiled scan (the progress bar advances per chunk).
      progress: show tqdm bars.

    Returns:
      ``(weights, convergence)``: the trained kernel and, per epoch,
      Kheradpisheh's convergence measure ``mean(W (1 - W))`` (-> 0 as the
      weights saturate).
    """
    from tqdm.auto import tqdm

    c = config
    if layer == 1:
        kw = dict(threshold=c.conv1_threshold, kwta=c.conv1_kwta, radius=c.conv1_radius, padding=0)
        epochs = c.epochs1
    elif layer == 2:
        kw = dict(threshold=c.conv2_threshold, kwta=c.conv2_kwta, radius=c.conv2_radius,
                  padding=c.conv2_padding)
        epochs = c.epochs2
    else:
        raise ValueError(f"train_layer: layer must be 1 or 2, got {layer!r}")
    inputs = jnp.asarray(inputs)
    n = inputs.shape[0]
    convergence = []
    for epoch in range(epochs):
        rates = jnp.asarray(c.rate(epoch), jnp.float32)
        bar = tqdm(total=n, desc=f"layer {layer} epoch {epoch + 1}/{epochs}", disable=not progress,
                   leave=False)
        for start in range(0, n, chunk):
            weights, _ = _stdp_chunk(weights, inputs[start:start + chunk], rates,
                                     time_steps=c.time_steps, **kw)
            bar.update(min(chunk, n - start))
        bar.close()
        convergence.append(float(jnp.mean(weights * (1.0 - weights))))
    return weights, convergence


def train_extractor(config: KheradpishehConfig, images, *, progress: bool = True):
    """Trains both layers on ``images`` ``(N, H, W, 1)``; returns ``(weights, history)``."""
    key = jax.random.PRNGKey(config.seed)
    weights = init_weights(config, key)
    times = encode(config, images)
    w1, conv1 = train_layer(config, weights["conv1"], times, 1, progress=progress)
    l1 = jax.jit(partial(layer1, config))(w1, times)
    w2, conv2 = train_layer(config, weights["conv2"], l1, 2, progress=progress)
    return {"conv1": w1, "conv2": w2}, {"convergence1": conv1, "convergence2": conv2}


def extract_features(config: KheradpishehConfig, weights, images, *, batch: int = 256):
    """Read-out features ``(N, grid*grid*conv2_features)`` of ``images`` ``(N, H, W, 1)``."""

    @jax.jit
    def run(x):
        t = encode(config, x)
        l1 = layer1(config, weights["conv1"], t)
        _, _, final = layer2_potentials(config, weights["conv2"], l1)
        return readout_features(config, final)

    images = np.asarray(images, np.float32)
    return np.concatenate([np.asarray(run(images[i:i + batch])) for i in range(0, len(images), batch)])


def linear_readout(train_features, train_labels, test_features, test_labels, *, C: float = 0.01):
    """Standardised features -> scikit-learn ``LinearSVC``; returns ``(test_acc, train_acc, model)``."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    model = make_pipeline(StandardScaler(), LinearSVC(C=C, max_iter=10000))
    model.fit(train_features, train_labels)
    return (float(model.score(test_features, test_labels)),
            float(model.score(train_features, train_labels)), model)
