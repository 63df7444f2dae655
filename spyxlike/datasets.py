"""Small bundled data sets for examples, tests and notebooks.

Only data that ships with an installed package lives here, so nothing is
downloaded: :func:`load_digits` wraps scikit-learn's bundled copy of the UCI
optical-recognition hand-written digits (1797 grey-scale 8x8 images, 10
classes).  Arrays follow the library convention: batch-first, channels-last.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["load_digits", "load_digits_upsampled"]


def load_digits(test_fraction=0.2, seed=0, dtype=np.float32, as_images=False):
    """Load the scikit-learn hand-written digits, split into train and test.

    The 1797 images of 8x8 pixels with integer intensities ``0..16`` are
    scaled to ``[0, 1]`` by ``x = pixels / 16``.  The split is stratified by
    class and deterministic: it is ``sklearn.model_selection.train_test_split``
    with ``stratify=labels`` and ``random_state=seed``, so the same arguments
    always give the same arrays.  With the defaults the test set holds 360
    images (20 %) and the training set 1437.

    Args:
      test_fraction: fraction of the data in the test set, a float in
        ``(0, 1)``; each of the 10 classes must fit in both parts.
      seed: non-negative integer seed of the split.
      dtype: floating dtype of the images (``np.float32`` by default).
      as_images: if ``False`` (default) images are flat ``(N, 64)`` rows;
        if ``True`` they are ``(N, 8, 8, 1)`` (height, width, channel).

    Returns:
      ``((x_train, y_train), (x_test, y_test))`` numpy arrays: ``x_*`` of
      shape ``(N, 64)`` or ``(N, 8, 8, 1)`` and dtype ``dtype``, ``y_*`` of
      shape ``(N,)`` and dtype ``int32`` with values in ``0..9``.

    Raises:
      ValueError: ``test_fraction`` outside ``(0, 1)`` or too small/large to
        put every class in both parts, ``seed`` negative.
      TypeError: a non-numeric ``test_fraction``, a non-integer ``seed``, a
        non-floating ``dtype`` or a non-bool ``as_images``.
    """
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, numbers.Real):
        raise TypeError(
            f"test_fraction must be a float in (0, 1), got {type(test_fraction).__name__} "
            f"{test_fraction!r}"
        )
    test_fraction = float(test_fraction)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in the open interval (0, 1), got {test_fraction}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be a non-negative int, got {type(seed).__name__} {seed!r}")
    if seed < 0 or seed > 2**32 - 1:
        raise ValueError(f"seed must be an int in [0, 2**32 - 1], got {seed}")
    try:
        dtype = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"dtype must be a numpy floating dtype, got {dtype!r}") from err
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"dtype must be a numpy floating dtype (e.g. np.float32), got {dtype}")
    if not isinstance(as_images, (bool, np.bool_)):
        raise TypeError(f"as_images must be a bool, got {type(as_images).__name__} {as_images!r}")

    from sklearn.datasets import load_digits as _sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = _sk_load_digits()
    pixels = np.asarray(bunch.data, dtype=np.float64)  # (1797, 64), values 0..16
    labels = np.asarray(bunch.target, dtype=np.int32)
    n = labels.shape[0]
    n_classes = int(np.unique(labels).size)
    n_test = int(np.ceil(test_fraction * n))  # sklearn's rounding of the test size
    if n_test < n_classes or n - n_test < n_classes:
        raise ValueError(
            f"test_fraction={test_fraction} gives {n_test} test and {n - n_test} train images; "
            f"a stratified split needs at least {n_classes} (one per class) in each part"
        )

    x = (pixels / 16.0).astype(dtype)
    if as_images:
        x = x.reshape(n, 8, 8, 1)
    x_train, x_test, y_train, y_test = train_test_split(
        x, labels, test_size=test_fraction, random_state=int(seed), stratify=labels
    )
    return (
        (np.ascontiguousarray(x_train), np.ascontiguousarray(y_train, dtype=np.int32)),
        (np.ascontiguousarray(x_test), np.ascontiguousarray(y_test, dtype=np.int32)),
    )


def load_digits_upsampled(size=28, n_train=1200, dtype=np.float32):
    """The bundled digits in dataset order, upsampled to ``size x size`` pixels.

    The protocol of the single-spike (STDP) examples, comparable with the
    figures quoted for SpykeTorch: the first ``n_train`` of the 1797 images
    (scikit-learn's order, no shuffling) are the training set and the rest
    the test set (1200 / 597 by default). Pixels are scaled to ``[0, 1]``
    (``pixels / 16``) and resized with bilinear interpolation
    (``jax.image.resize(..., "linear")``) from 8x8 to ``size x size``.

    Args:
      size: output height and width, an int ``>= 8``.
      n_train: number of leading images in the training set, ``1..1796``.
      dtype: floating dtype of the images.

    Returns:
      ``((x_train, y_train), (x_test, y_test))``: images ``(N, size, size, 1)``
      of dtype ``dtype`` and int32 labels ``(N,)``.

    Raises:
      ValueError: ``size < 8`` or ``n_train`` outside ``1..1796``.
      TypeError: non-integer ``size`` or ``n_train``.
    """
    for name, value in (("size", size), ("n_train", n_train)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"load_digits_upsampled: {name} must be an int, got {value!r}")
    if size < 8:
        raise ValueError(f"load_digits_upsampled: size must be >= 8, got {size}")
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    count = bunch.target.shape[0]
    if not 1 <= n_train < count:
        raise ValueError(f"load_digits_upsampled: n_train must be in [1, {count - 1}], got {n_train}")
    import jax

    images = np.asarray(bunch.images, dtype=np.float32)[..., None] / 16.0
    resized = np.asarray(
        jax.image.resize(images, (count, int(size), int(size), 1), method="linear")
    )
    x = np.clip(resized, 0.0, 1.0).astype(dtype)
    y = np.asarray(bunch.target, dtype=np.int32)
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
