"""Data helpers: spike encoders, augmentation, shuffling (Spyx 0.1.20 ``spyx.data``).

All are higher-order functions: they validate hyperparameters and return a
jitted function. Arrays are batch-first, time-second: ``(N, T, ...)``.
Random functions take a ``jax.random`` key as their last argument and give
the same bits as Spyx for the same key (``rate_code`` for inputs with a
singleton axis 1, see its docstring).
"""

import jax
import jax.numpy as jnp

from .axn import _check_int, _check_real
from .datasets import load_digits  # the bundled digits, re-exported beside the coders

__all__ = ["rate_code", "angle_code", "shift_augment", "shuffler", "load_digits"]


def rate_code(num_steps, max_r=0.75):
    """Bernoulli rate coding of intensities in ``[0, 1]`` (Spyx).

    Each output element is an independent draw

    .. math:: s[n, t, \\ldots] \\sim \\mathrm{Bernoulli}(\\mathrm{max\\_r}
              \\cdot x[n, \\ldots]), \\qquad t = 0 \\ldots T-1

    with the probability computed in float16, as in Spyx (so probabilities
    are quantised to float16). Output dtype ``uint8``.

    Shapes: ``data`` of shape ``(N, 1, *F)`` (a singleton time axis) gives
    ``(N, T, *F)`` with exactly Spyx's bits for the same key; ``data`` of
    any other shape ``(N, *F)`` gets a new time axis at position 1, giving
    ``(N, T, *F)``. (Spyx's ``jnp.repeat(data, T, axis=1)`` on such data
    interleaves time into the feature axis, ``(N, F1*T, ...)``; that is the
    one difference. For a feature of size 1, ``(N, 1)`` is read as a time
    axis and gives ``(N, T)``.)

    :param num_steps: number of time steps ``T >= 1``.
    :param max_r: maximum spike probability per step, in ``[0, 1]``.
    :return: ``f(data, key) -> spikes``; ``data`` must have ``ndim >= 1``.
    """
    num_steps = _check_int("num_steps", num_steps, lo=1)
    max_r = _check_real("max_r", max_r, lo=0.0, hi=1.0)

    def _call(data, key):
        data = jnp.asarray(data, dtype=jnp.float16)
        if data.ndim < 1:
            raise ValueError(f"rate_code: data must have a batch axis; got "
                             f"shape {data.shape}")
        if data.ndim == 1 or data.shape[1] != 1:
            data = data[:, None]
        shape = data.shape[:1] + (num_steps,) + data.shape[2:]
        probs = jnp.broadcast_to(data, shape) * max_r
        return jax.random.bernoulli(key, probs).astype(jnp.uint8)

    return jax.jit(_call)


def angle_code(neuron_count, min_val, max_val):
    """One-hot "angle" code of a continuous value (Spyx, behaviour kept).

    With edges ``e = linspace(min_val, max_val, neuron_count)``, the value
    ``v`` activates neuron ``i = digitize(v, e)``, i.e. ``e[i-1] <= v < e[i]``:

    * ``v < min_val`` -> neuron 0;
    * ``min_val <= v < max_val`` -> neurons ``1 .. neuron_count-1``;
    * ``v >= max_val`` -> no neuron (an all-zero vector).

    :param neuron_count: number of output channels, ``>= 2``.
    :param min_val: lower bound.
    :param max_val: upper bound, ``> min_val``.
    :return: ``f(obs) -> (*obs.shape, neuron_count)`` float32 one-hot.
    """
    neuron_count = _check_int("neuron_count", neuron_count, lo=2)
    min_val = _check_real("min_val", min_val)
    max_val = _check_real("max_val", max_val)
    if not max_val > min_val:
        raise ValueError(f"max_val must be greater than min_val={min_val!r}; "
                         f"got max_val={max_val!r}")
    edges = jnp.linspace(min_val, max_val, neuron_count)

    def _call(obs):
        return jax.nn.one_hot(jnp.digitize(obs, edges), neuron_count)

    return jax.jit(_call)


def shift_augment(max_shift=10, axes=(-1,)):
    """Random roll of the data along ``axes`` (Spyx).

    One integer shift per axis is drawn with
    ``jax.random.randint(key, (len(axes),), -max_shift, max_shift)``, i.e.
    uniformly from ``[-max_shift, max_shift)`` (upper bound excluded, as in
    Spyx), and the whole array is rolled by it (the same shift for every
    sample of a batch; ``jax.vmap`` over keys for per-sample shifts).

    :param max_shift: int ``>= 0``.
    :param axes: non-empty tuple of distinct int axes (negative allowed).
    :return: ``f(data, key) -> rolled data`` of the same shape and dtype.
    """
    max_shift = _check_int("max_shift", max_shift, lo=0)
    if isinstance(axes, int) or not isinstance(axes, (tuple, list)) or (
            len(axes) == 0):
        raise ValueError(f"axes must be a non-empty tuple of ints, e.g. (-1,);"
                         f" got {axes!r}")
    axes = tuple(_check_int(f"axes[{i}]", a) for i, a in enumerate(axes))

    def _shift(data, rng):
        ndim = jnp.ndim(data)
        if any(not -ndim <= a < ndim for a in axes) or len(
                {a % ndim for a in axes}) != len(axes):
            raise ValueError(f"shift_augment: axes={axes} must be distinct "
                             f"axes of data with shape {jnp.shape(data)}")
        shift = jax.random.randint(rng, (len(axes),), -max_shift, max_shift)
        return jnp.roll(data, shift, axes)

    return jax.jit(_shift)


def shuffler(dataset, batch_size):
    """Build a function that shuffles a data set into batches (Spyx).

    ``dataset = (x, y)`` with ``x`` of shape ``(N, ...)`` and ``y`` of shape
    ``(N,)``. The returned ``f((x, y), key)`` draws a permutation of the
    ``N`` samples, keeps the first ``(N // batch_size) * batch_size`` of it
    and returns ``(x', y')`` of shapes ``(N // batch_size, batch_size, ...)``
    and ``(N // batch_size, batch_size)``. Only the shapes of ``dataset`` are
    used here; ``f`` must be called with arrays of those shapes.

    :param dataset: pair ``(x, y)`` of arrays with equal first axis.
    :param batch_size: int, ``1 <= batch_size <= N``.
    """
    if not (isinstance(dataset, (tuple, list)) and len(dataset) == 2):
        raise ValueError(f"dataset must be a pair (x, y); got "
                         f"{type(dataset).__name__}")
    xshape, yshape = jnp.shape(dataset[0]), jnp.shape(dataset[1])
    if len(xshape) < 1 or len(yshape) < 1 or xshape[0] != yshape[0]:
        raise ValueError(f"dataset x and y must share their first (sample) "
                         f"axis; got x.shape={xshape}, y.shape={yshape}")
    n = yshape[0]
    batch_size = _check_int("batch_size", batch_size, lo=1)
    if batch_size > n:
        raise ValueError(f"batch_size must be <= the number of samples {n}; "
                         f"got {batch_size}")
    cutoff = (n // batch_size) * batch_size
    data_shape = (-1, batch_size) + tuple(xshape[1:])
    label_shape = (-1, batch_size) + tuple(yshape[1:])

    def _shuffle(dataset, shuffle_rng):
        x, y = dataset
        if jnp.shape(x) != xshape or jnp.shape(y) != yshape:
            raise ValueError(f"shuffler was built for x.shape={xshape}, "
                             f"y.shape={yshape}; got {jnp.shape(x)}, "
                             f"{jnp.shape(y)}")
        indices = jax.random.permutation(shuffle_rng, n)[:cutoff]
        return (jnp.reshape(x[indices], data_shape),
                jnp.reshape(y[indices], label_shape))

    return jax.jit(_shuffle)
