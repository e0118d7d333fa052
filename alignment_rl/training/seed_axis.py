"""How a compiled program runs its seeds: side by side (`vmap`) or in turn (`lax.map`).

Seeds are independent, so a program over seeds may run them as one vectorized batch
(`jax.vmap`: every operation is S times larger) or one after another inside the same
compiled program (`jax.lax.map`: every operation has one seed's size). The maths is
the same; results agree up to floating-point reduction order (about 1e-7 per update,
tested in `tests/training/test_seed_axis.py`).

Which is faster depends on the machine. On a CPU, one seed's arrays stay in cache:
the conv encoder's five per-tap lookups of [N, L, D] rows, written out and read back
by the gradient, cost far more vmapped over 4 seeds than one seed at a time (the
main job's PPO update 1.2-1.5x faster mapped, `benchmarks/RESULTS.md`), and the
bag of tokens is the same either way. On an accelerator, larger operations fill the
device. `seed_batching="auto"` is therefore "map" on a CPU and "vmap" elsewhere.

With the seeds split over a device mesh (`split_over="seeds"`), "map" keeps the
split: the seed axis S is viewed as [devices, S / devices], vmapped over the first
(sharded) axis and mapped over the second, so each device runs its own seeds in turn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax

SEED_BATCHING = ("auto", "vmap", "map")


def check_seed_batching(mode: str) -> None:
  if mode not in SEED_BATCHING:
    raise ValueError(f"config.seed_batching={mode!r}; allowed: {', '.join(SEED_BATCHING)}")


def resolve(mode: str) -> str:
  """ "vmap" or "map": `mode`, with "auto" resolved for the default backend."""
  check_seed_batching(mode)
  if mode == "auto":
    return "map" if jax.default_backend() == "cpu" else "vmap"
  return mode


def over_seeds(fn: Callable, mode: str, in_axes: Sequence[int | None], groups: int = 1) -> Callable:
  """`fn` of one seed, applied to every seed of its arguments.

  Args:
    fn: a function of one seed's arguments.
    mode: "vmap", "map" or "auto" (`resolve`).
    in_axes: per positional argument, 0 (it has a leading seed axis S) or None
      (shared by every seed), as in `jax.vmap`; at least one argument has 0.
    groups: with "map", the number of devices the seed axis is split over (S is a
      multiple of it); each group's seeds are mapped, the groups vmapped.

  Returns:
    A function of the batched arguments whose outputs carry a leading seed axis S,
    equal to `jax.vmap(fn, in_axes)` up to floating-point reduction order.
  """
  if resolve(mode) == "vmap":
    return jax.vmap(fn, in_axes=tuple(in_axes))
  if groups < 1:
    raise ValueError(f"over_seeds: groups={groups}; allowed: 1 or more")

  def mapped(*args):
    if len(args) != len(in_axes):
      raise ValueError(f"over_seeds: {len(args)} arguments but {len(in_axes)} in_axes")
    seeded = [a for a, ax in zip(args, in_axes, strict=True) if ax == 0]
    num_seeds = jax.tree.leaves(seeded)[0].shape[0]
    if num_seeds % groups:
      raise ValueError(f"over_seeds: {num_seeds} seeds do not split into {groups} groups")

    def split(x):  # [S, ...] -> [groups, S / groups, ...]
      return x.reshape((groups, num_seeds // groups) + x.shape[1:])

    def one_group(group):
      def one_seed(row):
        it = iter(row)
        full = [next(it) if ax == 0 else a for a, ax in zip(args, in_axes, strict=True)]
        return fn(*full)

      return jax.lax.map(one_seed, group)

    out = jax.vmap(one_group)(jax.tree.map(split, seeded))
    return jax.tree.map(lambda x: x.reshape((num_seeds,) + x.shape[2:]), out)

  return mapped
