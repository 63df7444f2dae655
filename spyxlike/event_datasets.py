"""An embedded neuromorphic data set: N-MNIST-style event digits, made offline.

N-MNIST (Orchard et al., 2015) recorded MNIST digits shown on a monitor with
an ATIS event camera moved in three straight saccades (an isosceles
triangle, ~100 ms each), giving ~300 ms of ON/OFF events on a 34x34 sensor,
stored in the 2D binary format of :func:`spyxlike.io.read_2d_spikes`.
Nothing can be downloaded here, so :func:`make_event_digits` simulates that
recording for scikit-learn's bundled 8x8 digits
(:func:`spyxlike.datasets.load_digits`):

1. **Image.** The 8x8 digit (intensities ``pixels / 16``) is upsampled
   bilinearly to a 20x20 box centred in a 28x28 frame, as MNIST centres its
   digits, and shown bright on a dark screen:
   ``I = background + (1 - background) * digit``.
2. **Saccades.** The 28x28 frame moves over the 34x34 sensor along the
   triangle ``(3, 0) -> (6, 6) -> (0, 6) -> (3, 0)`` (column, row offsets in
   pixels), one straight constant-velocity movement per
   ``saccade_ms = 100`` ms; sub-pixel positions are rendered bilinearly.
   (The camera moves, so the image moves the opposite way; only relative
   motion matters.)
3. **Event camera.** Every pixel keeps a reference log intensity ``L_ref``
   (initially the first frame's). Whenever ``log I - L_ref`` reaches
   ``+C_on`` it emits an ON event (``p = 1``) and raises ``L_ref`` by
   ``C_on``; at ``-C_off`` an OFF event (``p = 0``) and lowers ``L_ref`` by
   ``C_off``; several crossings in one simulation step give several events.
   Crossing times are interpolated linearly inside the ``dt_ms`` step and
   rounded to whole microseconds. Thresholds vary per pixel (Gaussian
   mismatch around ``contrast``), and sparse background-activity events
   (uniform in space, time and polarity, ``noise_hz`` per pixel) are added,
   as on a real sensor.

Everything random (which digits are taken, threshold mismatch, noise) comes
from ``numpy.random.default_rng(seed)``, so the same arguments always write
byte-identical files. Samples are written the way SLAYER's N-MNIST example
reads them: ``<out_dir>/<id>.bin`` plus ``train.txt`` / ``test.txt`` label
lists (``#sample #class`` header, one ``id label`` pair per line; SLAYER's
``np.loadtxt`` reads them), and ``meta.json`` with the generation settings.
"""

from __future__ import annotations

import json
import math
import numbers
import os

import numpy as np

from spyxlike import io as _io

__all__ = ["make_event_digits", "load_event_digits", "simulate_saccade_events", "SENSOR_SIZE"]

SENSOR_SIZE = 34            # N-MNIST's 34x34 sensor
_FRAME = 28                 # MNIST frame
_BOX = 20                   # MNIST digit box
_VERTICES = np.array([[3.0, 0.0], [6.0, 6.0], [0.0, 6.0], [3.0, 0.0]])  # (col, row) offsets


def _interp_matrix(n_out, n_in):
    """Bilinear resampling matrix ``(n_out, n_in)`` with pixel-centre alignment."""
    src = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    src = np.clip(src, 0, n_in - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    w = src - lo
    m = np.zeros((n_out, n_in))
    m[np.arange(n_out), lo] += 1 - w
    m[np.arange(n_out), hi] += w
    return m


def _frames(images8):
    """(N, 8, 8) intensities in [0, 1] -> (N, 28, 28) MNIST-style frames."""
    m = _interp_matrix(_BOX, images8.shape[1])
    box = np.einsum("ij,njk,lk->nil", m, images8, m)
    pad = (_FRAME - _BOX) // 2
    out = np.zeros((images8.shape[0], _FRAME, _FRAME))
    out[:, pad:pad + _BOX, pad:pad + _BOX] = np.clip(box, 0.0, 1.0)
    return out


def _offset(t_ms, saccade_ms):
    """Frame offset (col, row) at time ``t_ms`` along the saccade triangle."""
    k = min(int(t_ms // saccade_ms), 2)
    f = min(max(t_ms / saccade_ms - k, 0.0), 1.0)
    return _VERTICES[k] + f * (_VERTICES[k + 1] - _VERTICES[k])


def _render(padded, ox, oy):
    """Frames (zero-padded by one pixel on each side) placed at a sub-pixel offset on the sensor."""
    n = padded.shape[0]
    span = _FRAME + 1
    top = SENSOR_SIZE - span                       # largest integer offset that fits
    ix, iy = min(int(math.floor(ox)), top), min(int(math.floor(oy)), top)
    fx, fy = ox - ix, oy - iy
    # S(r, c) = sum of the four neighbours of (r - fy, c - fx) in the frame
    shifted = ((1 - fy) * ((1 - fx) * padded[:, 1:, 1:] + fx * padded[:, 1:, :-1])
               + fy * ((1 - fx) * padded[:, :-1, 1:] + fx * padded[:, :-1, :-1]))
    canvas = np.zeros((n, SENSOR_SIZE, SENSOR_SIZE))
    canvas[:, iy:iy + span, ix:ix + span] = shifted
    return canvas


def simulate_saccade_events(images, seed=0, *, saccade_ms=100.0, dt_ms=1.0, contrast=0.25,
                            contrast_std=0.02, background=0.1, noise_hz=0.05):
    """Simulates an event camera watching digits during N-MNIST's three saccades.

    See the module docstring for the model. Vectorised over the samples: one
    numpy pass over all images per ``dt_ms`` step.

    Args:
      images: ``(N, 8, 8)`` or ``(N, 8, 8, 1)`` intensities in ``[0, 1]``
        (or any ``(N, h, w)`` image; it is resampled to the 20x20 box).
      seed: non-negative int seeding the threshold mismatch and the noise.
      saccade_ms: duration of each of the three saccades in ms (> 0).
      dt_ms: simulation step in ms (> 0, at most ``saccade_ms``).
      contrast: mean log-intensity contrast threshold ``C`` (> 0).
      contrast_std: per-pixel standard deviation of the thresholds (>= 0).
      background: screen intensity outside the digit, in ``(0, 1)``.
      noise_hz: background-activity rate per pixel in Hz (>= 0).

    Returns:
      A list of ``N`` 2-D :class:`spyxlike.io.Event` (``x``/``y`` in
      ``[0, 34)``, ``p`` 1 = ON / 0 = OFF, ``t`` in ms on a 1 us grid,
      sorted by time, all within ``[0, 3 * saccade_ms]``).

    Raises:
      ValueError: a bad shape or parameter (named).
    """
    where = "simulate_saccade_events"
    imgs = np.asarray(images, np.float64)
    if imgs.ndim == 4 and imgs.shape[-1] == 1:
        imgs = imgs[..., 0]
    if imgs.ndim != 3 or min(imgs.shape[1:]) < 1:
        raise ValueError(f"{where}: images must be (N, h, w) or (N, h, w, 1), got shape {np.shape(images)}")
    if imgs.size and (not np.all(np.isfinite(imgs)) or imgs.min() < 0 or imgs.max() > 1):
        raise ValueError(f"{where}: images must hold finite intensities in [0, 1]")
    seed = _seed(seed, where)
    saccade_ms = _positive(saccade_ms, "saccade_ms", where)
    dt_ms = _positive(dt_ms, "dt_ms", where)
    if dt_ms > saccade_ms:
        raise ValueError(f"{where}: dt_ms must be <= saccade_ms ({saccade_ms}), got {dt_ms}")
    contrast = _positive(contrast, "contrast", where)
    contrast_std = _non_negative(contrast_std, "contrast_std", where)
    background = _positive(background, "background", where)
    if background >= 1:
        raise ValueError(f"{where}: background must be in (0, 1), got {background}")
    noise_hz = _non_negative(noise_hz, "noise_hz", where)
    total_ms = 3 * saccade_ms
    if total_ms * 1000 > (1 << 23) - 1:
        raise ValueError(f"{where}: 3 * saccade_ms must fit the 2D format's 23-bit microseconds "
                         f"(<= 8388.607 ms), got {total_ms} ms")

    rng = np.random.default_rng(seed)
    n = imgs.shape[0]
    shape = (n, SENSOR_SIZE, SENSOR_SIZE)
    c_on = np.clip(rng.normal(contrast, contrast_std, shape), 0.4 * contrast, None)
    c_off = np.clip(rng.normal(contrast, contrast_std, shape), 0.4 * contrast, None)
    frames = background + (1 - background) * _frames(imgs)
    padded = np.pad(frames, ((0, 0), (1, 1), (1, 1)), constant_values=background)
    # outside the frame the screen is background too: render intensity minus background
    padded -= background

    def log_intensity(t):
        ox, oy = _offset(t, saccade_ms)
        return np.log(background + _render(padded, ox, oy))

    chunks = []
    pixels = SENSOR_SIZE * SENSOR_SIZE
    c_on, c_off = c_on.ravel(), c_off.ravel()
    l_ref = log_intensity(0.0).ravel()
    l_prev = l_ref.copy()
    steps = int(math.ceil(total_ms / dt_ms - 1e-9))
    for step in range(1, steps + 1):
        t0, t1 = (step - 1) * dt_ms, min(step * dt_ms, total_ms)
        l_now = log_intensity(t1).ravel()
        diff = l_now - l_ref
        idx = np.flatnonzero((diff >= c_on) | (diff <= -c_off))
        if idx.size:
            d = diff[idx]
            on = d > 0
            thr = np.where(on, c_on[idx], c_off[idx])
            sign = np.where(on, 1.0, -1.0)
            k_n = np.floor(np.abs(d) / thr).astype(np.int64)       # crossings per pixel, >= 1
            rep = np.repeat(np.arange(idx.size), k_n)
            k = np.arange(rep.size) - np.repeat(np.cumsum(k_n) - k_n, k_n) + 1
            level = l_ref[idx][rep] + sign[rep] * k * thr[rep]
            lp, ln = l_prev[idx][rep], l_now[idx][rep]
            frac = np.clip((level - lp) / (ln - lp), 0.0, 1.0)
            t_us = np.round((t0 + frac * (t1 - t0)) * 1000.0).astype(np.int64)
            flat = idx[rep]
            sample, pixel = np.divmod(flat, pixels)
            row, col = np.divmod(pixel, SENSOR_SIZE)
            chunks.append((sample, col, row, on[rep].astype(np.int64), t_us))
            l_ref[idx] += sign * k_n * thr
        l_prev = l_now

    if noise_hz > 0:
        lam = noise_hz * SENSOR_SIZE * SENSOR_SIZE * total_ms / 1000.0
        m = rng.poisson(lam, n)
        tot = int(m.sum())
        chunks.append((np.repeat(np.arange(n), m), rng.integers(0, SENSOR_SIZE, tot),
                       rng.integers(0, SENSOR_SIZE, tot), rng.integers(0, 2, tot),
                       rng.integers(0, int(round(total_ms * 1000)) + 1, tot)))

    if chunks:
        s, x, y, p, t = (np.concatenate(parts) for parts in zip(*chunks))
    else:
        s = x = y = p = t = np.zeros(0, np.int64)
    order = np.lexsort((t, s))
    s, x, y, p, t = s[order], x[order], y[order], p[order], t[order]
    bounds = np.searchsorted(s, np.arange(n + 1))
    return [_io.Event(x[a:b], y[a:b], p[a:b], t[a:b] / 1000.0) for a, b in zip(bounds[:-1], bounds[1:])]


# --------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------

def _seed(seed, where):
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{where}: seed must be a non-negative int, got {seed!r}")
    if seed < 0:
        raise ValueError(f"{where}: seed must be >= 0, got {seed}")
    return int(seed)


def _real(value, name, where):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{where}: {name} must be finite, got {value}")
    return value


def _positive(value, name, where):
    value = _real(value, name, where)
    if value <= 0:
        raise ValueError(f"{where}: {name} must be > 0, got {value}")
    return value


def _non_negative(value, name, where):
    value = _real(value, name, where)
    if value < 0:
        raise ValueError(f"{where}: {name} must be >= 0, got {value}")
    return value


def _count(value, name, where, lo):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be an int, got {value!r}")
    if value < lo:
        raise ValueError(f"{where}: {name} must be >= {lo}, got {value}")
    return int(value)


# --------------------------------------------------------------------------
# writing and loading
# --------------------------------------------------------------------------

_LABEL_HEADER = "#sample #class"


def make_event_digits(out_dir, n_per_class=30, seed=0, *, test_fraction=0.2, **simulation):
    """Writes the event-digits data set: N-MNIST-style ``.bin`` files and label lists.

    Source images come from :func:`spyxlike.datasets.load_digits` with its
    fixed stratified split (``test_fraction=0.2, seed=0``): training samples
    are made only from its training images and test samples only from its
    test images, so no digit image is in both. Per class,
    ``n_test = max(1, round(n_per_class * test_fraction))`` test and
    ``n_per_class - n_test`` training samples are drawn (without replacement,
    by ``seed``), simulated with :func:`simulate_saccade_events` and written
    with :func:`spyxlike.io.encode_2d_spikes`. Training samples get ids
    ``0 .. n_train - 1`` (classes shuffled), test samples the following ids.
    ~300 samples take a few seconds on one CPU core; each file holds a few
    thousand 5-byte events.

    Args:
      out_dir: directory to write into (created if missing; existing files of
        the same names are overwritten).
      n_per_class: samples per class, train and test together (>= 2; at most
        ~140 training and ~35 test images per class exist).
      seed: non-negative int; same seed, same bytes.
      test_fraction: share of each class in the test set, in ``(0, 1)``.
      **simulation: keyword arguments for :func:`simulate_saccade_events`
        (``saccade_ms``, ``dt_ms``, ``contrast``, ``contrast_std``,
        ``background``, ``noise_hz``).

    Returns:
      dict (also written as ``meta.json``): ``n_train``, ``n_test``,
      ``n_events`` (total), ``seed``, ``n_per_class``, ``test_fraction``,
      ``sample_length_ms``, ``sensor`` and the simulation settings.

    Raises:
      ValueError: ``n_per_class`` too small or larger than the source images
        allow, a bad ``test_fraction`` or simulation setting (named).
    """
    where = "make_event_digits"
    n_per_class = _count(n_per_class, "n_per_class", where, 2)
    seed = _seed(seed, where)
    test_fraction = _real(test_fraction, "test_fraction", where)
    if not 0 < test_fraction < 1:
        raise ValueError(f"{where}: test_fraction must be in (0, 1), got {test_fraction}")
    unknown = set(simulation) - {"saccade_ms", "dt_ms", "contrast", "contrast_std", "background",
                                 "noise_hz"}
    if unknown:
        raise TypeError(f"{where}: unknown simulation argument(s) {sorted(unknown)}")
    n_test = max(1, int(round(n_per_class * test_fraction)))
    n_train = n_per_class - n_test
    if n_train < 1:
        raise ValueError(f"{where}: n_per_class={n_per_class} with test_fraction={test_fraction} "
                         f"leaves no training sample per class")

    from spyxlike.datasets import load_digits

    (x_tr, y_tr), (x_te, y_te) = load_digits(test_fraction=0.2, seed=0, as_images=True)
    rng = np.random.default_rng(seed)
    picks = []
    for split, xs, ys, k in (("train", x_tr, y_tr, n_train), ("test", x_te, y_te, n_test)):
        chosen = []
        for label in range(10):
            pool = np.flatnonzero(ys == label)
            if k > pool.size:
                raise ValueError(
                    f"{where}: n_per_class={n_per_class} needs {k} {split} images of class {label}, "
                    f"but the bundled digits' {split} split has only {pool.size}"
                )
            chosen.append(rng.choice(pool, size=k, replace=False))
        idx = rng.permutation(np.concatenate(chosen))
        picks.append((split, xs[idx, :, :, 0], ys[idx]))

    images = np.concatenate([p[1] for p in picks])
    labels = np.concatenate([p[2] for p in picks]).astype(np.int64)
    events = simulate_saccade_events(images, seed=seed, **simulation)

    os.makedirs(out_dir, exist_ok=True)
    for i, ev in enumerate(events):
        _io.encode_2d_spikes(os.path.join(out_dir, f"{i}.bin"), ev)
    start = 0
    for split, _, ys in picks:
        rows = "".join(f"{start + j}\t{int(lbl)}\n" for j, lbl in enumerate(ys))
        with open(os.path.join(out_dir, f"{split}.txt"), "w") as f:
            f.write(_LABEL_HEADER + "\n" + rows)
        start += len(ys)

    saccade_ms = float(simulation.get("saccade_ms", 100.0))
    meta = {
        "format": "spyxlike event digits: N-MNIST 2D spike files (spyxlike.io.read_2d_spikes)",
        "n_train": int(n_train * 10),
        "n_test": int(n_test * 10),
        "n_events": int(sum(len(ev) for ev in events)),
        "seed": seed,
        "n_per_class": n_per_class,
        "test_fraction": test_fraction,
        "sample_length_ms": 3 * saccade_ms,
        "sensor": [SENSOR_SIZE, SENSOR_SIZE],
        "simulation": {k: float(v) for k, v in sorted(simulation.items())},
    }
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def _read_label_list(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_event_digits: label list {path!r} not found; write the data set "
                                f"with make_event_digits(dir) first")
    ids, labels = [], []
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            parts = text.split()
            try:
                if len(parts) != 2:
                    raise ValueError
                sample, label = int(parts[0]), int(parts[1])
            except ValueError:
                raise ValueError(f"load_event_digits: {path!r} line {line_no}: expected '<sample id> "
                                 f"<class>' (two integers), got {line.rstrip()!r}") from None
            if sample < 0 or not 0 <= label <= 9:
                raise ValueError(f"load_event_digits: {path!r} line {line_no}: sample id must be >= 0 "
                                 f"and class in 0..9, got {sample} {label}")
            ids.append(sample)
            labels.append(label)
    return np.array(ids, np.int64), np.array(labels, np.int32)


def load_event_digits(path, sampling_time=1, sample_length=300):
    """Loads the event digits written by :func:`make_event_digits` as spike tensors.

    Reads every sample with :func:`spyxlike.io.read_2d_spikes` and bins it as
    SLAYER's N-MNIST example does (``toSpikeTensor`` of a ``(2, 34, 34, T)``
    tensor: bin ``round(t / sampling_time)``, events at or beyond
    ``sample_length`` dropped, one spike per bin), but in spyxlike's layout
    and as 0/1 spikes: ``x[n, t, y, x, p]``, channel 0 = OFF, 1 = ON.
    Memory: ``N * T * 34 * 34 * 2`` bytes (~0.7 MB per sample at ``T = 300``).

    Args:
      path: directory holding ``train.txt``, ``test.txt`` and ``<id>.bin``.
      sampling_time: bin width in ms (SLAYER's ``Ts``, > 0).
      sample_length: length of a sample in ms (SLAYER's ``tSample``); must
        be a whole multiple of ``sampling_time``.

    Returns:
      ``((x_train, y_train), (x_test, y_test))``: ``x_*`` uint8 of shape
      ``(N, T, 34, 34, 2)`` with ``T = sample_length / sampling_time``,
      ``y_*`` int32 of shape ``(N,)``.

    Raises:
      FileNotFoundError: a missing label list or sample file.
      ValueError: malformed label lists, corrupt or truncated sample files,
        or ``sampling_time`` not dividing ``sample_length``.
    """
    where = "load_event_digits"
    sampling_time = _positive(sampling_time, "sampling_time", where)
    sample_length = _positive(sample_length, "sample_length", where)
    ratio = sample_length / sampling_time
    t_bins = int(round(ratio))
    if t_bins < 1 or abs(ratio - t_bins) > 1e-9 * max(1.0, ratio):
        raise ValueError(f"{where}: sampling_time ({sampling_time} ms) must divide sample_length "
                         f"({sample_length} ms) into a whole number of bins")
    out = []
    for split in ("train", "test"):
        ids, labels = _read_label_list(os.path.join(path, f"{split}.txt"))
        x = np.zeros((ids.size, t_bins, SENSOR_SIZE, SENSOR_SIZE, 2), np.uint8)
        for n, sample in enumerate(ids):
            file = os.path.join(path, f"{sample}.bin")
            if not os.path.isfile(file):
                raise FileNotFoundError(f"{where}: sample file {file!r} listed in {split}.txt not found")
            ev = _io.read_2d_spikes(file, shape=(SENSOR_SIZE, SENSOR_SIZE))
            t = np.round(ev.t / sampling_time).astype(np.int64)
            keep = t < t_bins
            x[n, t[keep], ev.y[keep], ev.x[keep], ev.p[keep]] = 1
        out.append((x, labels))
    return tuple(out)
