"""Parallelism over devices: `jit` over a 1-D device `Mesh` with `NamedSharding`.

The runner state is a pytree with a leading seed axis. What the mesh's `data`
axis splits is `split_over`:

* "envs" (data parallelism): leaves that carry an environment axis (axis 1:
  environment state, observations, episode counters) are split; everything else
  (parameters, optimizer state, keys) is replicated. XLA partitions the whole
  rollout-and-update program: each device steps its share of the environments,
  and the loss, a mean over the global batch, has its gradient all-reduced, i.e.
  averaged over devices.
* "seeds": every leaf is split on its seed axis. Seeds are independent, so each
  device runs its share of them with no communication at all; on a multi-core CPU
  with one host device per core (`JAX_NUM_CPU_DEVICES=N`) this is the fastest way
  to run several seeds (benchmarks/RESULTS.md).

The global batch and the random streams are the same for any number of devices,
so the results agree up to floating-point reduction order.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def make_mesh(num_devices: int = 0) -> Mesh:
  """A 1-D mesh over `num_devices` devices (0 = all) of every process.

  With one process: its first `num_devices` devices. With several
  (`distributed.initialize`): the first `num_devices / processes` devices of each
  process, so every process holds the same share of the mesh.
  """
  devices = jax.devices()  # Every process's, ordered by process.
  if num_devices < 0 or num_devices > len(devices):
    raise ValueError(f"num_devices={num_devices}: allowed 0 (all) to {len(devices)} on this host")
  processes = jax.process_count()
  if num_devices and processes > 1:
    if num_devices % processes:
      raise ValueError(
        f"num_devices={num_devices}: allowed 0 (all) or a multiple of the {processes} processes"
      )
    per = num_devices // processes
    devices = [
      d for p in range(processes) for d in [d for d in devices if d.process_index == p][:per]
    ]
  elif num_devices:
    devices = devices[:num_devices]
  return Mesh(np.array(devices), (DATA_AXIS,))


SPLIT_OVER = ("envs", "seeds")


def runner_shardings(
  runner, mesh: Mesh, env_axis_fields: tuple[str, ...], split_over: str = "envs"
):
  """A pytree of `NamedSharding` matching `runner` (a struct.dataclass; with
  "seeds", any pytree with a leading seed axis)."""
  check_split_over(split_over)
  if split_over == "seeds":
    split_seeds = NamedSharding(mesh, PartitionSpec(DATA_AXIS))
    return jax.tree.map(lambda _: split_seeds, runner)
  replicated = NamedSharding(mesh, PartitionSpec())
  split_envs = NamedSharding(mesh, PartitionSpec(None, DATA_AXIS))

  def for_field(name, value):
    spec = split_envs if name in env_axis_fields else replicated
    return jax.tree.map(lambda _: spec, value)

  fields = {f: for_field(f, getattr(runner, f)) for f in runner.__dataclass_fields__}
  return runner.replace(**fields)


def split_seeds(tree, split_over: str, num_devices: int = 0):
  """Places a pytree with a leading seed axis: split over the mesh's devices when
  `split_over` is "seeds" (and there is more than one device), else as it is.

  For programs without an environment axis (imitation): "envs" leaves them on one
  device. The seed count must divide over the devices.
  """
  check_split_over(split_over)
  if split_over != "seeds":
    return tree
  mesh = make_mesh(num_devices)
  if mesh.devices.size == 1:
    return tree
  num_seeds = jax.tree.leaves(tree)[0].shape[0]
  check_divisible(0, mesh, num_seeds, split_over)
  return jax.device_put(tree, runner_shardings(tree, mesh, (), split_over))


def check_split_over(split_over: str) -> None:
  if split_over not in SPLIT_OVER:
    raise ValueError(f"config.split_over={split_over!r}; allowed: {', '.join(SPLIT_OVER)}")


def check_divisible(num_envs: int, mesh: Mesh, num_seeds: int = 1, split_over: str = "envs"):
  """The split axis must divide evenly over the mesh's devices."""
  check_split_over(split_over)
  n = mesh.devices.size
  field, size = ("num_seeds", num_seeds) if split_over == "seeds" else ("ppo.num_envs", num_envs)
  if size % n:
    raise ValueError(
      f"config.{field}={size} must be divisible by the number of devices ({n}) "
      f"when config.split_over={split_over!r}"
    )
