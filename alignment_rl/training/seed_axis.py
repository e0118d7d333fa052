"""How a compiled program runs its seeds: side by side (`vmap`) or in turn (`lax.map`).

Seeds are independent, so a program over seeds may run them as one vectorized batch
(`jax.vmap`: every operation is S times larger) or one after another inside the same
compiled program (`jax.lax.map`: every operation has one seed's size). The maths is
the same; results agree up to floating-point reduction order (about 1e-7 per update,
tested in `tests/training/test_seed_axis.py`).

Which is faster depends on the machine and the network. On a CPU, the conv encoder's
five per-tap lookups of [N, L, D] rows, written out and read back by the gradient,
cost more vmapped over 4 seeds (batched gathers and scatters, 4x larger arrays) than
one seed at a time: the main job's PPO update is 1.1-1.2x faster mapped, while the
bag of tokens is 1.05-1.3x slower mapped (`benchmarks/RESULTS.md`). On an
accelerator, larger operations fill the device. `seed_batching="auto"` is therefore
"map" on a CPU for the encoders in `MAP_ON_CPU` with the seeds on one device, and
"vmap" otherwise.

With the seeds split over a device mesh (`split_over="seeds"`), "map" keeps the
split: each device maps over its own seeds (`jax.shard_map`), with no communication.
On two host CPU devices that was slower than vmapping each device's seeds (the conv
update 876 vs 536 ms), so "auto" vmaps split seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
from jax.sharding import PartitionSpec as P

from alignment_rl.training import sharding

SEED_BATCHING = ("auto", "vmap", "map")


def check_seed_batching(mode: str) -> None:
  if mode not in SEED_BATCHING:
    raise ValueError(f"config.seed_batching={mode!r}; allowed: {', '.join(SEED_BATCHING)}")


#: Encoders whose programs run faster with their seeds in turn on a CPU (measured,
#: `benchmarks/RESULTS.md`): per-position lookups, written out and read back by the
#: gradient. The bag of tokens (counts times a table) is a little faster vmapped.
MAP_ON_CPU = ("conv",)


#: Length buckets of the response policy's conv encoder when its seeds run in turn
#: (`networks/length_buckets.py`): the rows cut to the length their bucket needs. Under
#: `vmap` a bucket would compute every length, so only in turn. 4 buckets: one PPO update
#: of the main job's conv arm 1.11x faster, of the full-scale arm 1.45x, for 4.4 and
#: 7.3 s more compiling (`benchmarks/length_buckets_ab.py`, `benchmarks/RESULTS.md`).
LENGTH_BUCKETS = 4


def check_length_buckets(buckets) -> None:
  ok = buckets is None or (isinstance(buckets, int) and not isinstance(buckets, bool))
  if not ok or (buckets is not None and not 0 <= buckets <= 64):
    raise ValueError(
      f"config.length_buckets={buckets!r}; allowed: None (automatic) or an integer 0-64"
    )


def network_kwargs(network: str, kwargs: dict, mode: str, buckets: int | None = None) -> dict:
  """The network kwargs a program whose seeds run as `mode` ("vmap" or "map") trains
  with: `kwargs`, plus `length_buckets` for the response policy's conv encoder.

  `buckets` (the config's `length_buckets`): None is `LENGTH_BUCKETS` with the seeds
  in turn and none otherwise; 0 is none; N > 0 is N buckets even under a `vmap` (correct
  but slower there). The parameters are the same either way; the outputs agree up to
  float order."""
  check_length_buckets(buckets)
  kwargs = dict(kwargs)
  if network != "response_policy" or kwargs.get("encoder") != "conv":
    return kwargs
  if buckets is None:
    buckets = LENGTH_BUCKETS if mode == "map" else 0
  if buckets:
    kwargs["length_buckets"] = int(buckets)
  return kwargs


def resolve(mode: str, encoder: str | None = None, seed_devices: int = 1) -> str:
  """ "vmap" or "map": `mode`, with "auto" resolved for the default backend, the
  network's `encoder` and the number of devices the seeds are split over: "map" on a
  CPU for the encoders in `MAP_ON_CPU` with the seeds on one device, else "vmap"."""
  check_seed_batching(mode)
  if mode == "auto":
    cpu = jax.default_backend() == "cpu"
    return "map" if cpu and encoder in MAP_ON_CPU and seed_devices <= 1 else "vmap"
  return mode


def over_seeds(fn: Callable, mode: str, in_axes: Sequence[int | None], mesh=None) -> Callable:
  """`fn` of one seed, applied to every seed of its arguments.

  Args:
    fn: a function of one seed's arguments.
    mode: "vmap", "map" or "auto" (`resolve`).
    in_axes: per positional argument, 0 (it has a leading seed axis S) or None
      (shared by every seed), as in `jax.vmap`; at least one argument has 0.
    mesh: with "map", the device mesh the seed axis is split over (`split_over=
      "seeds"`), or None: each device maps over its own seeds (`jax.shard_map`).

  Returns:
    A function of the batched arguments whose outputs carry a leading seed axis S,
    equal to `jax.vmap(fn, in_axes)` up to floating-point reduction order.
  """
  if resolve(mode) == "vmap":
    return jax.vmap(fn, in_axes=tuple(in_axes))
  in_axes = tuple(in_axes)

  def mapped(*args):
    if len(args) != len(in_axes):
      raise ValueError(f"over_seeds: {len(args)} arguments but {len(in_axes)} in_axes")
    seeded = [a for a, ax in zip(args, in_axes, strict=True) if ax == 0]

    def one_seed(row):
      it = iter(row)
      full = [next(it) if ax == 0 else a for a, ax in zip(args, in_axes, strict=True)]
      return fn(*full)

    # Plain `lax.map`: a vmap around it, even of size 1, batches every gather and
    # scatter inside (operand batching dimensions), which doubled the update's time.
    return jax.lax.map(one_seed, seeded)

  if mesh is None or mesh.devices.size == 1:
    return mapped
  specs = tuple(P(sharding.DATA_AXIS) if ax == 0 else P() for ax in in_axes)
  return jax.shard_map(
    mapped, mesh=mesh, in_specs=specs, out_specs=P(sharding.DATA_AXIS), check_vma=False
  )
