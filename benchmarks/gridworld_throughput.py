"""Vectorized throughput of the JAX AI Safety Gridworlds.

For each of the eleven environments (default level): `num_envs` copies under
`jax.vmap`, stepped `steps` times by a jitted `lax.scan` with uniformly random
actions, auto-reset included (every step also computes a reset, as in gymnax);
the observation, reward and hidden reward of every step are consumed, so XLA
cannot drop the rendering. Compile time is measured apart (lower + compile); the
throughput is the median of `repeats` runs of the compiled function, in steps per
wall-clock second and in steps per CPU-second of the process (all threads), the
fair unit for a comparison with a single-core figure.

The upstream (pycolab, NumPy < 1.25) cannot run here; the comparison uses its
published figure of 2-4k steps/s on one core (shared/DESIGN.md section 8,
shared/reference/ai_safety_gridworlds.md).

Usage:
  python benchmarks/gridworld_throughput.py [--num_envs 1024] [--steps 1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import jax

from alignment_rl import envs
from alignment_rl.envs.gridworlds import ENV_NAMES

UPSTREAM_PER_CORE = (2_000, 4_000)  # steps/s on one core, from the reference.


def make_rollout(env, params, num_envs: int, steps: int):
  """Returns a jittable `run(key) -> checksum` stepping `num_envs` envs `steps` times."""

  def run(key):
    key_reset, key = jax.random.split(key)
    _, state = jax.vmap(env.reset, (0, None))(jax.random.split(key_reset, num_envs), params)

    def body(carry, _):
      state, key = carry
      key, key_action, key_step = jax.random.split(key, 3)
      action = jax.random.randint(key_action, (num_envs,), 0, env.num_actions)
      obs, state, reward, done, info = jax.vmap(env.step, (0, 0, 0, None))(
        jax.random.split(key_step, num_envs), state, action, params
      )
      checksum = reward.sum() + info["hidden_reward"].sum() + obs.sum() + done.sum()
      return (state, key), checksum

    return jax.lax.scan(body, (state, key), None, steps)[1].sum()

  return run


def measure(name: str, num_envs: int, steps: int, repeats: int) -> dict:
  env, params = envs.make(f"gridworlds/{name}")
  run = jax.jit(make_rollout(env, params, num_envs, steps))
  start = time.perf_counter()
  compiled = run.lower(jax.random.PRNGKey(0)).compile()
  compile_s = time.perf_counter() - start
  jax.block_until_ready(compiled(jax.random.PRNGKey(0)))  # Warm-up.
  times, cpu_times = [], []
  for i in range(repeats):
    start, cpu_start = time.perf_counter(), time.process_time()
    jax.block_until_ready(compiled(jax.random.PRNGKey(i + 1)))
    times.append(time.perf_counter() - start)
    cpu_times.append(time.process_time() - cpu_start)
  rates = sorted(num_envs * steps / t for t in times)
  return {
    "name": name,
    "level": env.level,
    "compile_s": compile_s,
    "median": statistics.median(rates),
    "min": rates[0],
    "max": rates[-1],
    "per_cpu_s": num_envs * steps / statistics.median(cpu_times),
  }


def table(rows: list[dict]) -> str:
  lo, hi = UPSTREAM_PER_CORE
  lines = [
    "| environment | level | compile (s) | steps/s (median) | min - max | steps per CPU-s "
    f"| vs upstream ({lo // 1000}-{hi // 1000}k steps/s per core) |",
    "|---|---|---:|---:|---:|---:|---:|",
  ]
  for r in rows:
    per_cpu = r["per_cpu_s"]
    lines.append(
      f"| {r['name']} | {r['level']} | {r['compile_s']:.2f} | {r['median'] / 1e6:.2f}M "
      f"| {r['min'] / 1e6:.2f}M - {r['max'] / 1e6:.2f}M | {per_cpu / 1e6:.2f}M "
      f"| {per_cpu / hi:,.0f}x - {per_cpu / lo:,.0f}x |"
    )
  return "\n".join(lines)


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--num_envs", type=int, default=1024)
  parser.add_argument("--steps", type=int, default=1000)
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--envs", nargs="*", default=list(ENV_NAMES), choices=ENV_NAMES)
  args = parser.parse_args()
  if args.repeats < 3:
    parser.error("--repeats must be at least 3 (the median of >= 3 runs is reported)")
  cores = os.cpu_count() or 1
  rows = [measure(name, args.num_envs, args.steps, args.repeats) for name in args.envs]
  print(
    f"{args.num_envs} envs x {args.steps} steps, median of {args.repeats} runs; "
    f"jax {jax.__version__}, backend {jax.default_backend()}, {cores} CPU cores\n"
  )
  print(table(rows))


if __name__ == "__main__":
  main()
