"""Training utilities over Optax: train/eval steps, an epoch loop, checkpoints.

Everything here is generic in the model.  The user writes one *loss function*
around a Haiku apply function, in one of two forms that mirror
``hk.transform`` and ``hk.transform_with_state``::

    # stateless (has_state=False), model = hk.transform(f)
    def loss_fn(params, batch, rng):
        x, y = batch
        logits = model.apply(params, rng, x)
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        return loss, {"accuracy": jnp.mean(logits.argmax(-1) == y)}

    # stateful (has_state=True), model = hk.transform_with_state(f)
    def loss_fn(params, model_state, batch, rng):
        logits, model_state = model.apply(params, model_state, rng, batch[0])
        loss = ...
        return loss, (model_state, {"accuracy": ...})

``loss`` is a scalar; the metrics dict holds scalars that are *means over the
batch* (so that :func:`evaluate` and :func:`fit` may average them over
batches).  All training state lives in one pytree, :class:`TrainState`, and
every source of randomness is derived from its ``rng`` with
``jax.random.fold_in``:

* the key handed to ``loss_fn`` at step ``s`` is
  ``fold_in(fold_in(rng, 0), s)``;
* the data permutation of epoch ``e`` in :func:`fit` is drawn with
  ``fold_in(fold_in(rng, 1), e)``.

Because ``rng`` itself never changes and ``step`` is saved in checkpoints,
stopping at any step, saving with :func:`save_checkpoint`, restoring with
:func:`restore_checkpoint` and calling :func:`fit` again gives the same
parameters as never having stopped.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = [
    "TrainState",
    "History",
    "init_train_state",
    "make_train_step",
    "train_step_fn",
    "make_eval_step",
    "evaluate",
    "epoch_batches",
    "fit",
    "save_checkpoint",
    "restore_checkpoint",
]

_STEP_STREAM = 0  # fold_in tag of the per-step loss_fn keys
_DATA_STREAM = 1  # fold_in tag of the per-epoch shuffling keys
_FORMAT_KEY = "__spyxlike_checkpoint_version__"
_FORMAT_VERSION = 1


class TrainState(NamedTuple):
    """Everything that changes during training, as one pytree.

    Attributes:
      params: model parameters (e.g. the Haiku params dict).
      opt_state: the Optax optimizer state for ``params``.
      model_state: Haiku state of ``hk.transform_with_state`` models, or
        ``None`` for stateless models.
      step: int32 scalar, the number of optimizer updates applied so far.
      rng: base PRNG key (typed ``jax.random.key`` or raw ``uint32[2]``);
        constant during training, per-step and per-epoch keys are folded
        from it (see the module docstring).
    """

    params: Any
    opt_state: Any
    model_state: Any
    step: jax.Array
    rng: jax.Array


def init_train_state(params, optimizer, rng, model_state=None) -> TrainState:
    """Build the initial :class:`TrainState`.

    Args:
      params: model parameters, e.g. from ``model.init(...)``.
      optimizer: an ``optax.GradientTransformation``.
      rng: an int seed (turned into ``jax.random.key(rng)``) or a PRNG key.
      model_state: Haiku state for stateful models, else ``None``.

    Returns:
      ``TrainState(params, optimizer.init(params), model_state, step=0, rng)``.
    """
    _check_optimizer(optimizer)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        rng = jax.random.key(int(rng))
    elif not _is_key(rng):
        raise TypeError(
            f"rng must be an int seed or a PRNG key (jax.random.key / PRNGKey), got {rng!r}"
        )
    params = jax.tree_util.tree_map(jnp.asarray, params)
    return TrainState(
        params=params,
        opt_state=optimizer.init(params),
        model_state=model_state,
        step=jnp.zeros((), jnp.int32),
        rng=rng,
    )


def _is_key(x) -> bool:
    if not hasattr(x, "dtype") or not hasattr(x, "shape"):
        return False
    if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
        return x.shape == ()
    return x.dtype == np.uint32 and tuple(x.shape) == (2,)


def _check_optimizer(optimizer):
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise TypeError(
            f"optimizer must be an optax.GradientTransformation (with .init/.update), "
            f"got {type(optimizer).__name__}"
        )


def _check_loss_fn(loss_fn):
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")


def _step_key(state: TrainState):
    return jax.random.fold_in(jax.random.fold_in(state.rng, _STEP_STREAM), state.step)


def _call_loss(loss_fn, has_state, params, state: TrainState, batch, rng):
    """Returns (loss, (model_state, metrics)) for either loss_fn form."""
    if has_state:
        loss, aux = loss_fn(params, state.model_state, batch, rng)
        if not (isinstance(aux, tuple) and len(aux) == 2):
            raise TypeError(
                "with has_state=True, loss_fn must return (loss, (model_state, metrics)); "
                f"got aux of type {type(aux).__name__}"
            )
        model_state, metrics = aux
    else:
        loss, metrics = loss_fn(params, batch, rng)
        model_state = state.model_state
    if metrics is None:
        metrics = {}
    if not isinstance(metrics, dict):
        raise TypeError(f"loss_fn metrics must be a dict of scalars, got {type(metrics).__name__}")
    if "loss" in metrics:
        raise ValueError("loss_fn metrics must not contain the key 'loss' (it is added by the step)")
    return loss, (model_state, metrics)


def train_step_fn(loss_fn, optimizer, has_state=False):
    """The un-jitted pure train step shared by :func:`make_train_step` and
    ``spyxlike.parallel``: ``step(state, batch) -> (state, metrics)``."""
    _check_loss_fn(loss_fn)
    _check_optimizer(optimizer)

    def step(state: TrainState, batch):
        rng = _step_key(state)

        def objective(params):
            return _call_loss(loss_fn, has_state, params, state, batch, rng)

        (loss, (model_state, metrics)), grads = jax.value_and_grad(objective, has_aux=True)(
            state.params
        )
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        new_state = TrainState(params, opt_state, model_state, state.step + 1, state.rng)
        metrics = {"loss": loss, **metrics}
        return new_state, jax.tree_util.tree_map(jnp.asarray, metrics)

    return step


def make_train_step(loss_fn, optimizer, has_state=False):
    """Jitted pure training step.

    One step computes ``(loss, grads) = value_and_grad(loss_fn)(params, ...)``
    with the key ``fold_in(fold_in(rng, 0), step)``, applies
    ``updates, opt_state = optimizer.update(grads, opt_state, params)``,
    ``params <- params + updates`` and ``step <- step + 1``.

    Args:
      loss_fn: ``loss_fn(params, batch, rng) -> (loss, metrics)`` or, with
        ``has_state=True``, ``loss_fn(params, model_state, batch, rng) ->
        (loss, (model_state, metrics))`` (see the module docstring).
      optimizer: an ``optax.GradientTransformation``.
      has_state: whether ``loss_fn`` takes and returns Haiku model state.

    Returns:
      ``step(train_state, batch) -> (train_state, metrics)``, jitted; metrics
      is a dict of scalar arrays with ``"loss"`` first.  ``batch`` is any
      pytree of batch-first arrays.
    """
    return jax.jit(train_step_fn(loss_fn, optimizer, has_state))


def make_eval_step(loss_fn, has_state=False):
    """Jitted evaluation step: ``eval_step(train_state, batch) -> metrics``.

    ``loss_fn`` has the same form as for :func:`make_train_step` (usually one
    built with ``is_training=False``); no gradient is taken, the returned
    model state is discarded, and the key is ``fold_in(rng, 2)`` so that
    evaluation is deterministic.  Metrics are ``{"loss": ..., **metrics}``.
    """
    _check_loss_fn(loss_fn)

    def eval_step(state: TrainState, batch):
        rng = jax.random.fold_in(state.rng, 2)
        loss, (_, metrics) = _call_loss(loss_fn, has_state, state.params, state, batch, rng)
        return jax.tree_util.tree_map(jnp.asarray, {"loss": loss, **metrics})

    return jax.jit(eval_step)


def _num_examples(data) -> int:
    leaves = jax.tree_util.tree_leaves(data)
    if not leaves:
        raise ValueError("data must be a pytree of arrays with a leading example axis, got no arrays")
    sizes = {int(np.shape(leaf)[0]) if np.ndim(leaf) else -1 for leaf in leaves}
    if len(sizes) != 1 or -1 in sizes:
        shapes = [np.shape(leaf) for leaf in leaves]
        raise ValueError(
            f"data arrays must all have the same leading (example) axis, got shapes {shapes}"
        )
    return sizes.pop()


def _check_batch_size(batch_size, n):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError(f"batch_size must be a positive int, got {batch_size!r}")
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be in [1, number of examples = {n}], got {batch_size}")


def evaluate(train_state, eval_step, data, batch_size):
    """Average ``eval_step`` metrics over ``data`` in order, weighted by batch size.

    Args:
      train_state: a :class:`TrainState`.
      eval_step: from :func:`make_eval_step`.
      data: pytree of arrays sharing the leading example axis, e.g. ``(x, y)``.
      batch_size: examples per call; the last batch may be smaller.

    Returns:
      dict of Python floats, ``sum_b n_b * m_b / sum_b n_b`` for each metric.
    """
    n = _num_examples(data)
    _check_batch_size(batch_size, n)
    totals = None
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        batch = jax.tree_util.tree_map(lambda a: a[start:stop], data)
        metrics = eval_step(train_state, batch)
        weighted = {k: v * (stop - start) for k, v in metrics.items()}
        totals = weighted if totals is None else {k: totals[k] + weighted[k] for k in totals}
    return {k: float(v) / n for k, v in totals.items()}


def epoch_batches(data, batch_size, rng, epoch, start_batch=0):
    """Yield the shuffled batches of one epoch, reproducibly.

    The permutation of epoch ``e`` is ``jax.random.permutation(
    fold_in(fold_in(rng, 1), e), N)``; the epoch holds ``N // batch_size``
    full batches (the remainder is dropped, so every step has one shape).

    Args:
      data: pytree of arrays (numpy or jax) sharing the leading axis ``N``.
      batch_size: examples per batch, ``1 <= batch_size <= N``.
      rng: the base key (``TrainState.rng``).
      epoch: epoch index ``e >= 0``.
      start_batch: skip this many batches (to resume inside an epoch).

    Yields:
      pytrees like ``data`` with leading axis ``batch_size`` (numpy arrays).
    """
    n = _num_examples(data)
    _check_batch_size(batch_size, n)
    key = jax.random.fold_in(jax.random.fold_in(rng, _DATA_STREAM), epoch)
    perm = np.asarray(jax.random.permutation(key, n))
    host = jax.tree_util.tree_map(np.asarray, data)
    for b in range(start_batch, n // batch_size):
        idx = perm[b * batch_size : (b + 1) * batch_size]
        yield jax.tree_util.tree_map(lambda a: a[idx], host)


class History:
    """Per-epoch metrics recorded by :func:`fit`.

    ``history.epochs`` is the list of completed epoch numbers (1-based) and
    ``history.metrics[name]`` the matching list of floats: training metrics
    (``"loss"``, ...) are means over the epoch's steps, evaluation metrics
    are stored with a ``"val_"`` prefix.
    """

    def __init__(self, epochs=None, metrics=None):
        self.epochs = list(epochs or [])
        self.metrics = {k: list(v) for k, v in (metrics or {}).items()}

    def append(self, epoch: int, metrics: dict):
        """Record one epoch's metrics (a dict of scalars)."""
        for name in metrics:
            if name not in self.metrics:
                self.metrics[name] = [math.nan] * len(self.epochs)
        self.epochs.append(int(epoch))
        for name, values in self.metrics.items():
            values.append(float(metrics[name]) if name in metrics else math.nan)

    def __getitem__(self, name):
        return self.metrics[name]

    def __len__(self):
        return len(self.epochs)

    def __repr__(self):
        return f"History(epochs={self.epochs}, metrics={self.metrics})"

    def to_dict(self) -> dict:
        """``{"epoch": [...], name: [...], ...}`` of plain Python lists."""
        return {"epoch": list(self.epochs), **{k: list(v) for k, v in self.metrics.items()}}

    def save_json(self, path):
        """Write :meth:`to_dict` as JSON to ``path``."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=1)

    @classmethod
    def load_json(cls, path) -> "History":
        """Read a history written by :meth:`save_json`."""
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        if not isinstance(d, dict) or "epoch" not in d:
            raise ValueError(f"{path} is not a History JSON file (no 'epoch' list)")
        epochs = d.pop("epoch")
        return cls(epochs, d)

    def plot(self, path, title=None):
        """Save training curves as a PNG: one panel per metric, train and
        ``val_`` curves together, against the epoch.  Uses the Agg canvas
        directly, so it never touches the global matplotlib backend."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        if not self.epochs:
            raise ValueError("History is empty: nothing to plot")
        bases = []
        for name in self.metrics:
            base = name[4:] if name.startswith("val_") else name
            if base not in bases:
                bases.append(base)
        fig = Figure(figsize=(4.0 * len(bases), 3.2))
        FigureCanvasAgg(fig)
        for i, base in enumerate(bases):
            ax = fig.add_subplot(1, len(bases), i + 1)
            for name, label in ((base, "train"), ("val_" + base, "eval")):
                if name in self.metrics:
                    ax.plot(self.epochs, self.metrics[name], marker="o", label=label)
            ax.set_xlabel("epoch")
            ax.set_ylabel(base)
            ax.grid(alpha=0.3)
            ax.legend()
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(path, format="png", dpi=100)


def fit(
    train_state,
    train_step,
    data,
    *,
    batch_size,
    epochs,
    eval_fn=None,
    max_steps=None,
    progress=True,
    history=None,
):
    """Train for ``epochs`` epochs in total, resuming from ``train_state.step``.

    Epoch ``e`` (0-based) consists of the ``steps_per_epoch = N // batch_size``
    batches of :func:`epoch_batches` ``(data, batch_size, train_state.rng, e)``.
    Training starts at global step ``s = train_state.step``, i.e. in epoch
    ``s // steps_per_epoch`` at batch ``s % steps_per_epoch``, and stops at
    step ``epochs * steps_per_epoch`` or at ``max_steps``, whichever is first.
    So a run interrupted at any step and resumed from a checkpoint with the
    same arguments sees exactly the same batches as an uninterrupted one.

    Args:
      train_state: a :class:`TrainState`.
      train_step: ``step(state, batch) -> (state, metrics)``, e.g. from
        :func:`make_train_step` or
        ``spyxlike.parallel.make_data_parallel_train_step``.
      data: pytree of arrays sharing the leading example axis, e.g. ``(x, y)``.
      batch_size: examples per step.
      epochs: total number of epochs (not "more epochs").
      eval_fn: optional ``eval_fn(train_state) -> dict`` called after each
        completed epoch; its entries are recorded as ``"val_" + name``.
      max_steps: optional global step at which to stop early.
      progress: show a tqdm progress bar per epoch.
      history: a :class:`History` to append to (a new one if ``None``).

    Returns:
      ``(train_state, history)``; an epoch is recorded in the history when it
      completes (its train metrics are the means over the steps run in this
      call).
    """
    from tqdm.auto import tqdm

    n = _num_examples(data)
    _check_batch_size(batch_size, n)
    for name, value in (("epochs", epochs), ("max_steps", max_steps)):
        if value is None and name == "max_steps":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be a non-negative int, got {type(value).__name__} {value!r}")
        if value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value}")
    if eval_fn is not None and not callable(eval_fn):
        raise TypeError(f"eval_fn must be callable or None, got {type(eval_fn).__name__}")
    history = History() if history is None else history

    steps_per_epoch = n // batch_size
    step = int(train_state.step)
    end = epochs * steps_per_epoch
    if max_steps is not None:
        end = min(end, int(max_steps))
    while step < end:
        epoch, offset = divmod(step, steps_per_epoch)
        n_run = min(steps_per_epoch, end - epoch * steps_per_epoch) - offset
        bar = tqdm(
            total=steps_per_epoch,
            initial=offset,
            desc=f"epoch {epoch + 1}/{epochs}",
            disable=not progress,
            leave=True,
        )
        sums = None
        batches = epoch_batches(data, batch_size, train_state.rng, epoch, start_batch=offset)
        for i in range(n_run):
            train_state, metrics = train_step(train_state, next(batches))
            sums = metrics if sums is None else {k: sums[k] + metrics[k] for k in sums}
            bar.update(1)
            if progress and (i % 10 == 0 or i == n_run - 1):
                bar.set_postfix(loss=f"{float(metrics['loss']):.4f}")
        step += n_run
        if step % steps_per_epoch == 0:
            record = {k: float(v) / n_run for k, v in sums.items()}
            if eval_fn is not None:
                record.update({"val_" + k: float(v) for k, v in eval_fn(train_state).items()})
            history.append(epoch + 1, record)
            if progress:
                bar.set_postfix({k: f"{v:.4f}" for k, v in record.items()})
        bar.close()
    return train_state, history


# --------------------------------------------------------------------------
# checkpoints


def _key_paths(tree):
    leaves_with_path, treedef = jax.tree_util.tree_flatten_with_path(tree)
    keys = [jax.tree_util.keystr(path) for path, _ in leaves_with_path]
    return keys, [leaf for _, leaf in leaves_with_path], treedef


def save_checkpoint(path, train_state):
    """Save a :class:`TrainState` (or any pytree of arrays) to one ``.npz`` file.

    Each leaf is stored under its pytree key path
    (``jax.tree_util.keystr``, e.g. ``".params['linear']['w']"`` or
    ``".opt_state[0].mu['linear']['w']"``), so params, optimizer state, model
    state, step and rng all round-trip.  Typed PRNG keys are stored as their
    ``jax.random.key_data``.  Replicated arrays of a multi-host mesh are
    saved from this process's copy (call it on one process).  No pickle is used; the file is written to a
    temporary name and renamed, so a crash never leaves a half-written
    checkpoint at ``path``.  ``path`` is used as given (no ``.npz`` added).
    """
    keys, leaves, _ = _key_paths(train_state)
    arrays = {_FORMAT_KEY: np.asarray(_FORMAT_VERSION, np.int32)}
    for key, leaf in zip(keys, leaves):
        if hasattr(leaf, "dtype") and jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
            if not leaf.is_fully_replicated:
                raise ValueError(
                    f"checkpoint leaf {key} is sharded across processes; only replicated "
                    "(or single-process) arrays can be saved"
                )
            leaf = leaf.addressable_data(0)  # multi-host: every process holds a full copy
        arr = np.asarray(jax.device_get(leaf))
        if arr.dtype == object:
            raise TypeError(f"checkpoint leaf {key} is not a numeric array (got {type(leaf).__name__})")
        arrays[key] = arr
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".ckpt-", suffix=".npz.tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def restore_checkpoint(path, like):
    """Load a checkpoint written by :func:`save_checkpoint` into the structure of ``like``.

    Args:
      path: the ``.npz`` file.
      like: a template pytree with the expected structure, e.g. a freshly
        initialised :class:`TrainState`; leaves may be arrays or
        ``jax.ShapeDtypeStruct``.  Array leaves that carry a sharding (e.g.
        replicated over a mesh) are restored with that same sharding.

    Returns:
      a pytree with the structure of ``like`` holding the saved values.

    Raises:
      FileNotFoundError: ``path`` does not exist.
      ValueError: the file is truncated, corrupt or not a spyxlike
        checkpoint, or its key paths, shapes or dtypes differ from ``like``
        (the message lists the differences).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            saved = {name: npz[name] for name in npz.files}
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, ValueError, zipfile.LargeZipFile) as err:
        raise ValueError(
            f"checkpoint file {path} is truncated or corrupt ({type(err).__name__}: {err})"
        ) from err
    if _FORMAT_KEY not in saved:
        raise ValueError(f"{path} is not a spyxlike checkpoint (no {_FORMAT_KEY} entry)")
    version = saved.pop(_FORMAT_KEY)
    if version.shape != () or int(version) != _FORMAT_VERSION:
        raise ValueError(
            f"{path}: unsupported checkpoint version {version!r}, expected {_FORMAT_VERSION}"
        )

    keys, leaves, treedef = _key_paths(like)
    problems = []
    missing = [k for k in keys if k not in saved]
    extra = sorted(set(saved) - set(keys))
    if missing:
        problems.append(f"missing from file: {missing}")
    if extra:
        problems.append(f"unexpected in file: {extra}")
    restored = []
    for key, leaf in zip(keys, leaves):
        if key not in saved:
            continue
        arr = saved[key]
        is_key = hasattr(leaf, "dtype") and jnp.issubdtype(leaf.dtype, jax.dtypes.prng_key)
        if is_key:
            impl = jax.random.key_impl(leaf) if isinstance(leaf, jax.Array) else None
            if impl is None:
                problems.append(f"{key}: typed PRNG key templates must be arrays")
                continue
            want_shape = tuple(leaf.shape) + tuple(jax.random.key_data(leaf).shape[leaf.ndim :])
            want_dtype = jax.random.key_data(leaf).dtype
        else:
            want_shape, want_dtype = tuple(np.shape(leaf)), np.dtype(leaf.dtype)
        if arr.shape != want_shape or arr.dtype != want_dtype:
            problems.append(
                f"{key}: expected shape {want_shape} dtype {want_dtype}, "
                f"file has shape {arr.shape} dtype {arr.dtype}"
            )
            continue
        sharding = getattr(leaf, "sharding", None) if isinstance(leaf, jax.Array) else None
        value = jax.device_put(arr, sharding) if sharding is not None else jnp.asarray(arr)
        if is_key:
            value = jax.random.wrap_key_data(value, impl=impl)
        restored.append(value)
    if problems:
        raise ValueError(f"checkpoint {path} does not match the template: " + "; ".join(problems))
    return jax.tree_util.tree_unflatten(treedef, restored)
