"""Multi-process (multi-host) runs: start-up, host reads of global arrays, agreement.

One process runs per host (or per accelerator group); `initialize` joins them with
`jax.distributed.initialize` before anything else uses JAX, after which
`jax.devices()` lists every process's devices and the trainer's mesh spans them all
(`sharding.make_mesh`). Every process runs the same host loop on the same config:

* Host reads of arrays split over processes (metrics, the non-finite checks, the
  final runner) go through `to_host`, which gathers them with
  `multihost_utils.process_allgather`; with one process it is `jax.device_get`, so
  single-process runs are unchanged, bit for bit.
* Orbax checkpoints are collective: every process calls save and restore, each
  writing its own shards into the shared workdir (which must be on a file system that
  every host sees: NFS, GCS, ...). Everything else in the workdir (the lock, config,
  metrics, TensorBoard, digests, moving damaged checkpoints aside) is process 0's;
  `sync` orders its writes after the other processes' reads, and `from_primary`
  hands its decisions to the others.

On CPU, collectives between processes need Gloo (`jax_cpu_collectives_implementation`),
which `initialize` sets; that is how the tests run two processes on one machine.
"""

from __future__ import annotations

import os
import re

import jax
import numpy as np

_ADDRESS = re.compile(r"^\[?[A-Za-z0-9_.:-]+\]?:\d{1,5}$")


def _error(field: str, value, allowed: str) -> ValueError:
  from alignment_rl.errors import ConfigError

  return ConfigError(field, value, allowed)


# Where a launch value not given as a flag is read from (JAX itself reads the first).
ENV_VARS = {
  "coordinator_address": "JAX_COORDINATOR_ADDRESS",
  "num_processes": "JAX_NUM_PROCESSES",
  "process_id": "JAX_PROCESS_ID",
}


def launch_args(
  coordinator_address: str | None = None,
  num_processes: int | None = None,
  process_id: int | None = None,
  environ=None,
) -> dict:
  """The `initialize` arguments: each flag's value, else its environment variable
  (`ENV_VARS`), else None (left to JAX's cluster detection); checked (`check_args`)."""
  environ = os.environ if environ is None else environ
  args = {
    "coordinator_address": coordinator_address,
    "num_processes": num_processes,
    "process_id": process_id,
  }
  for name, var in ENV_VARS.items():
    text = environ.get(var, "").strip()
    if args[name] is not None or not text:
      continue
    if name == "coordinator_address":
      args[name] = text
    elif text.lstrip("-").isdigit():
      args[name] = int(text)
    else:
      raise _error(var, text, "an integer")
  check_args(**args)
  return args


def check_args(
  coordinator_address: str | None, num_processes: int | None, process_id: int | None
) -> None:
  """One-line errors (`field: value — allowed: ...`) for bad launch values. Absent
  values are left to JAX's cluster detection (SLURM, Open MPI, TPU pods); the number of
  processes and this one's index come together, with the coordinator's address."""
  if coordinator_address is not None and not _ADDRESS.match(coordinator_address):
    raise _error("--coordinator_address", coordinator_address, "host:port of process 0")
  if num_processes is not None and num_processes < 1:
    raise _error("--num_processes", num_processes, ">= 1")
  if process_id is not None:
    if process_id < 0:
      raise _error("--process_id", process_id, ">= 0")
    if num_processes is not None and process_id >= num_processes:
      raise _error("--process_id", process_id, f"0 to {num_processes - 1} (--num_processes)")
  if (num_processes is None) != (process_id is None):
    name = "--num_processes" if num_processes is None else "--process_id"
    raise _error(name, None, "given with the other (or neither: detected from the cluster)")
  if num_processes is not None and coordinator_address is None:
    raise _error("--coordinator_address", None, "host:port of process 0 (with --num_processes)")


def initialize(
  coordinator_address: str | None = None,
  num_processes: int | None = None,
  process_id: int | None = None,
) -> None:
  """Joins this process to the others (`jax.distributed.initialize`); must run before
  anything else uses JAX. Values left None are detected by JAX from the environment
  (SLURM, Open MPI, Cloud TPU). On CPU, sets Gloo for cross-process collectives."""
  check_args(coordinator_address, num_processes, process_id)
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(
    coordinator_address=coordinator_address,
    num_processes=num_processes,
    process_id=process_id,
  )


def is_primary() -> bool:
  """Whether this is process 0, the one that writes the workdir's own files."""
  return jax.process_index() == 0


def multiprocess() -> bool:
  return jax.process_count() > 1


def _host(x):
  if isinstance(x, jax.Array) and not x.is_fully_addressable:
    from jax.experimental import multihost_utils

    return multihost_utils.process_allgather(x, tiled=True)  # The global array.
  return jax.device_get(x)


def to_host(tree):
  """A numpy copy of `tree` whole on every process: arrays split over processes are
  gathered (`process_allgather`, collective: every process must call it); with one
  process, exactly `jax.device_get(tree)`."""
  if not multiprocess():
    return jax.device_get(tree)
  return jax.tree.map(_host, tree)


def sync(name: str) -> None:
  """Waits until every process reaches this point (no-op with one process)."""
  if multiprocess():
    from jax.experimental import multihost_utils

    multihost_utils.sync_global_devices(name)


def from_primary(value: int) -> int:
  """Process 0's `value` (an int) on every process (itself with one process)."""
  if not multiprocess():
    return value
  from jax.experimental import multihost_utils

  return int(np.asarray(multihost_utils.broadcast_one_to_all(np.int32(value))))
