r"""The conv encoder's length buckets, measured alone: one PPO update of the main job's
conv arm with and without them, in one process.

Both programs are compiled in the same process and called alternately (`--calls`
rounds), so that the machine's drift touches both alike; seeds run in turn
(`seed_batching="map"`, as the trainer runs the conv encoder on a CPU), and
`network_kwargs.length_buckets` is 0 (off) or each of `--buckets`. Also printed: each
program's first call (compilation included), the largest difference of the parameters
after one update from the same state (float order only), the ratio of the medians,
and the machine's matmul ceiling (a float32 `jnp.dot`, as in `ppo_profile.py`) with the
fraction of it each update reaches in FLOPs (XLA's cost analysis of the vmapped
update, loop bodies counted once).

  python benchmarks/length_buckets_ab.py                    # runlocal: 4 seeds x 256 x 4
  python benchmarks/length_buckets_ab.py --scale=full --num_seeds=8 --calls=5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ppo_profile  # noqa: E402


def _max_diff(x, y) -> float:
  return float(jnp.max(jnp.abs(x - y)))


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--scale", default="runlocal", choices=("runlocal", "full"))
  p.add_argument("--num_seeds", type=int, default=4)
  p.add_argument("--buckets", default="4", help="comma-separated bucket counts to compare with 0")
  p.add_argument("--calls", type=int, default=9)
  p.add_argument("--matmul_n", type=int, default=1024)
  args = p.parse_args()
  from alignment_rl.training import trainer

  counts = [0] + [int(b) for b in args.buckets.split(",")]
  programs = {}
  for buckets in counts:
    c = ppo_profile.run_config("conv", args.num_seeds, args.scale, "map")
    c.network_kwargs.length_buckets = buckets
    programs[buckets] = trainer.get_program(c)
  first = programs[0]
  runner = first.init(trainer._seed_keys(0, args.num_seeds), trainer._hparams(c))
  env = first.env_params
  updates, compiled = {}, {}
  for b, prog in programs.items():
    updates[b] = jax.jit(prog._over_seeds(lambda r, e, prog=prog: prog.train_loop.run(r, 1, e)))
    t0 = time.perf_counter()
    jax.block_until_ready(updates[b](runner, env))
    compiled[b] = time.perf_counter() - t0
  times = {b: [] for b in updates}
  for _ in range(args.calls):
    for b, fn in updates.items():
      t0 = time.perf_counter()
      jax.block_until_ready(fn(runner, env))
      times[b].append(time.perf_counter() - t0)
  after = {b: fn(runner, env)[0].ppo.params for b, fn in updates.items()}
  update_vmap = jax.jit(jax.vmap(lambda r, e: first.loop.run(r, 1, e), in_axes=(0, None)))
  flops = ppo_profile.flops_of(update_vmap, runner, env)
  ceiling = ppo_profile.matmul_ceiling(args.matmul_n, 5)
  turns = c.ppo.num_envs * c.ppo.num_steps * args.num_seeds
  rows = {
    str(b): dict(
      first_call_s=compiled[b],
      median_s=float(np.median(t)),
      min_s=float(np.min(t)),
      turns_per_s=turns / float(np.median(t)),
      ceiling_fraction=flops / float(np.median(t)) / ceiling,
    )
    for b, t in times.items()
  }
  out = dict(
    scale=args.scale,
    num_seeds=args.num_seeds,
    calls=args.calls,
    rows=rows,
    speedup_median={str(b): rows["0"]["median_s"] / rows[str(b)]["median_s"] for b in counts[1:]},
    params_max_abs_diff=max(
      max(jax.tree.leaves(jax.tree.map(_max_diff, after[0], after[b]))) for b in counts[1:]
    ),
    ceiling_gflops=ceiling / 1e9,
    machine=dict(cpus=os.cpu_count(), platform=platform.platform(), jax=jax.__version__),
  )
  print(json.dumps(out, indent=1))


if __name__ == "__main__":
  main()
