"""Data parallelism: `jit` over a 1-D device `Mesh` with `NamedSharding`.

The runner state is a pytree with a leading seed axis. Leaves that carry an
environment axis (axis 1: environment state, observations, episode counters) are
split over the mesh's `data` axis; everything else (parameters, optimizer state,
keys) is replicated. XLA then partitions the whole rollout-and-update program:
each device steps its share of the environments, and the loss, a mean over the
global batch, has its gradient all-reduced, i.e. averaged over devices. The
global batch and the random streams are the same for any number of devices, so
the results agree up to floating-point reduction order.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def make_mesh(num_devices: int = 0) -> Mesh:
  """A 1-D mesh over the first `num_devices` devices (0 = all)."""
  devices = jax.devices()
  if num_devices < 0 or num_devices > len(devices):
    raise ValueError(f"num_devices={num_devices}: allowed 0 (all) to {len(devices)} on this host")
  if num_devices:
    devices = devices[:num_devices]
  return Mesh(np.array(devices), (DATA_AXIS,))


def runner_shardings(runner, mesh: Mesh, env_axis_fields: tuple[str, ...]):
  """A pytree of `NamedSharding` matching `runner` (a struct.dataclass)."""
  replicated = NamedSharding(mesh, PartitionSpec())
  split_envs = NamedSharding(mesh, PartitionSpec(None, DATA_AXIS))

  def for_field(name, value):
    spec = split_envs if name in env_axis_fields else replicated
    return jax.tree.map(lambda _: spec, value)

  fields = {f: for_field(f, getattr(runner, f)) for f in runner.__dataclass_fields__}
  return runner.replace(**fields)


def check_divisible(num_envs: int, mesh: Mesh) -> None:
  n = mesh.devices.size
  if num_envs % n:
    raise ValueError(
      f"config.ppo.num_envs={num_envs} must be divisible by the number of devices ({n})"
    )
