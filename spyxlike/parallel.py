"""Data-parallel training with ``jax.sharding``.

The same pure train step as :func:`spyxlike.train.make_train_step` is jitted
with explicit shardings over a 1-D :class:`jax.sharding.Mesh` whose single
axis is named ``"data"``:

* the batch is split along its first (batch) axis, ``PartitionSpec("data")``,
  so each of the ``D`` devices holds ``B / D`` examples;
* params, optimizer state, model state, step and rng are replicated,
  ``PartitionSpec()``.

XLA inserts the cross-device reductions (the batch mean in the loss and the
gradient all-reduce) itself, so the result is the single-device result up to
floating-point summation order.

Multi-host
----------
Run the *same* script on every host after ``jax.distributed.initialize()``
(on Cloud TPU / SLURM it needs no arguments; otherwise pass
``coordinator_address``, ``num_processes`` and ``process_id``).
``jax.devices()`` then lists the devices of all processes, and
:func:`data_mesh` spans all of them.  Each process loads only its own slice
of every global batch (e.g. examples ``[p * B/P, (p+1) * B/P)`` of it, for
process ``p`` of ``P``) and either calls :func:`make_global_batch` on it or
builds the step with ``process_local=True``; both use
``jax.make_array_from_process_local_data`` to assemble one global
``jax.Array`` of batch ``B`` without moving data between hosts.  Params are
replicated from the identical seeded initialisation on every process.
In a single process the local slice is the whole batch, so the same code
also runs (and is tested) on one host.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from spyxlike.train import train_step_fn

__all__ = [
    "DATA_AXIS",
    "data_mesh",
    "replicated_sharding",
    "batch_sharding",
    "replicate",
    "shard_batch",
    "make_global_batch",
    "make_data_parallel_train_step",
]

DATA_AXIS = "data"


def data_mesh(devices=None) -> Mesh:
    """A 1-D mesh with axis ``"data"`` over ``devices``.

    Args:
      devices: sequence of devices; by default ``jax.devices()``, i.e. all
        local devices in a single process and all devices of all processes
        after ``jax.distributed.initialize()``.
    """
    devices = jax.devices() if devices is None else list(devices)
    if not devices:
        raise ValueError("devices must contain at least one device, got an empty sequence")
    return Mesh(np.asarray(devices, dtype=object), (DATA_AXIS,))


def _check_mesh(mesh):
    if not isinstance(mesh, Mesh):
        raise TypeError(f"mesh must be a jax.sharding.Mesh, got {type(mesh).__name__}")
    if DATA_AXIS not in mesh.axis_names:
        raise ValueError(f"mesh must have an axis named {DATA_AXIS!r}, got axes {mesh.axis_names}")
    return mesh


def replicated_sharding(mesh) -> NamedSharding:
    """``NamedSharding(mesh, PartitionSpec())``: a full copy on every device."""
    return NamedSharding(_check_mesh(mesh), PartitionSpec())


def batch_sharding(mesh) -> NamedSharding:
    """``NamedSharding(mesh, PartitionSpec("data"))``: split along axis 0."""
    return NamedSharding(_check_mesh(mesh), PartitionSpec(DATA_AXIS))


def _num_shards(mesh) -> int:
    return int(mesh.shape[DATA_AXIS])


def _check_batch(batch, mesh, what="batch size"):
    """Check that all leaves share a leading axis divisible by the data-axis size."""
    leaves = jax.tree_util.tree_leaves(batch)
    if not leaves:
        raise ValueError("batch must be a pytree of arrays, got no arrays")
    sizes = {int(np.shape(x)[0]) if np.ndim(x) else None for x in leaves}
    if None in sizes or len(sizes) != 1:
        raise ValueError(
            f"batch arrays must share a leading batch axis, got shapes {[np.shape(x) for x in leaves]}"
        )
    size = sizes.pop()
    n_dev = _num_shards(mesh)
    if size % n_dev:
        raise ValueError(
            f"{what} {size} must be divisible by the device count {n_dev} of mesh axis {DATA_AXIS!r}"
        )
    return size


def replicate(tree, mesh):
    """Put a copy of every leaf of ``tree`` (e.g. a ``TrainState``) on every mesh device."""
    return jax.device_put(tree, replicated_sharding(mesh))


def shard_batch(batch, mesh):
    """Split every leaf of ``batch`` along axis 0 over the mesh's ``"data"`` axis.

    For a single process holding the whole global batch.  Raises ValueError
    if the batch size is not divisible by the number of devices.
    """
    _check_batch(batch, mesh)
    return jax.device_put(batch, batch_sharding(mesh))


def make_global_batch(local_batch, mesh):
    """Assemble a global batch from each process's local slice.

    Every process calls this with its own ``local_batch`` (same shapes on
    all processes); the result is a global ``jax.Array`` per leaf, sharded
    along axis 0, with batch size ``local * process_count`` — built with
    ``jax.make_array_from_process_local_data``.  In a single process it is
    equivalent to :func:`shard_batch`.
    """
    sharding = batch_sharding(mesh)
    n_proc = jax.process_count()
    local_size = _check_batch_size_local(local_batch, mesh)
    global_size = local_size * n_proc

    def make(x):
        x = np.asarray(x)
        global_shape = (global_size,) + x.shape[1:]
        return jax.make_array_from_process_local_data(sharding, x, global_shape)

    return jax.tree_util.tree_map(make, local_batch)


def _check_batch_size_local(local_batch, mesh):
    leaves = jax.tree_util.tree_leaves(local_batch)
    if not leaves:
        raise ValueError("local_batch must be a pytree of arrays, got no arrays")
    sizes = {int(np.shape(x)[0]) if np.ndim(x) else None for x in leaves}
    if None in sizes or len(sizes) != 1:
        raise ValueError(
            f"local_batch arrays must share a leading batch axis, got shapes "
            f"{[np.shape(x) for x in leaves]}"
        )
    local = sizes.pop()
    n_local_dev = sum(1 for d in mesh.devices.flat if d.process_index == jax.process_index())
    if n_local_dev == 0 or local % n_local_dev:
        raise ValueError(
            f"local batch size {local} must be divisible by this process's device count "
            f"{n_local_dev} in the mesh"
        )
    total = local * jax.process_count()
    if total % _num_shards(mesh):
        raise ValueError(
            f"global batch size {total} must be divisible by the device count {_num_shards(mesh)}"
        )
    return local


def make_data_parallel_train_step(
    loss_fn, optimizer, mesh=None, has_state=False, process_local=False
):
    """Data-parallel version of :func:`spyxlike.train.make_train_step`.

    Args:
      loss_fn: as for ``make_train_step``; the loss should be a *mean*
        over the batch for the result to match the single-device step.
      optimizer: as for ``make_train_step``.
      mesh: a mesh with a ``"data"`` axis; default :func:`data_mesh` ``()``.
      has_state: as for ``make_train_step``.
      process_local: if ``False`` (default) ``batch`` is the global batch
        (numpy or jax arrays) and is split with :func:`shard_batch`
        semantics; if ``True`` it is this process's slice and is assembled
        with :func:`make_global_batch` (multi-host).

    Returns:
      ``step(train_state, batch) -> (train_state, metrics)``: it replicates
      ``train_state`` on the mesh (a no-op when it already is), checks that
      the batch size is divisible by the device count (ValueError naming
      both), and runs the jitted step with in/out shardings
      ``(replicated, batch-sharded) -> (replicated, replicated)``.  The
      jitted function is available as ``step.jitted`` and the mesh as
      ``step.mesh``.
    """
    mesh = data_mesh() if mesh is None else _check_mesh(mesh)
    repl = replicated_sharding(mesh)
    data = batch_sharding(mesh)
    jitted = jax.jit(
        train_step_fn(loss_fn, optimizer, has_state),
        in_shardings=(repl, data),
        out_shardings=(repl, repl),
    )

    def step(train_state, batch):
        if process_local:
            batch = make_global_batch(batch, mesh)
        else:
            _check_batch(batch, mesh)
        train_state = jax.device_put(train_state, repl)
        return jitted(train_state, batch)

    step.jitted = jitted
    step.mesh = mesh
    return step
