r"""Conversation-world throughput, against CartPole in the same process.

Measures, on whatever JAX backend is present:

1. environment steps per second at `--num_envs` parallel environments (random
   actions, jitted `lax.scan` of `--steps` steps, auto-reset included) for the
   conversation environment (one step = one graded assistant turn of R tokens)
   and for CartPole-v1 (ours, and gymnax's when installed) as the peer;
2. PPO graded turns per second *including the updates* on the conversation
   environment, for both context encoders (bag-of-tokens and causal transformer).

Compile time is reported apart; throughput is the median of `--repeats` runs.

  python benchmarks/env_throughput.py --num_envs=1024 --repeats=3
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np


def _time(fn, *args, repeats: int):
  t0 = time.perf_counter()
  jax.block_until_ready(fn(*args))
  compile_s = time.perf_counter() - t0
  runs = []
  for _ in range(repeats):
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    runs.append(time.perf_counter() - t0)
  return compile_s, float(np.median(runs))


def env_steps_per_second(env, params, num_envs: int, steps: int, repeats: int, action_fn):
  reset = jax.vmap(env.reset, in_axes=(0, None))
  step = jax.vmap(env.step, in_axes=(0, 0, 0, None))

  @jax.jit
  def run(key):
    obs, state = reset(jax.random.split(key, num_envs), params)

    def body(state, k):
      k_a, k_s = jax.random.split(k)
      out = step(jax.random.split(k_s, num_envs), state, action_fn(k_a, num_envs), params)
      # Consume observations too, or XLA folds a constant reward stream away.
      return out[1], out[2].sum() + jnp.sum(out[0]).astype(jnp.float32)

    state, rewards = jax.lax.scan(body, state, jax.random.split(key, steps))
    return rewards.sum()

  compile_s, run_s = _time(run, jax.random.PRNGKey(0), repeats=repeats)
  return {"compile_s": compile_s, "steps_per_s": num_envs * steps / run_s}


def conversation_env(data_config: str, max_turns: int):
  from alignment_rl import envs

  return envs.make("conversation", data_config=data_config, max_turns=max_turns)


def ppo_turns_per_second(encoder: str, data_config: str, num_envs: int, updates: int, repeats):
  import ml_collections

  from alignment_rl.training import trainer
  from configs.common import ppo_config

  c = ppo_config()
  c.env_name = "conversation"
  c.env_kwargs = ml_collections.ConfigDict({"data_config": data_config, "max_turns": 1})
  c.network = "response_policy"
  c.network_kwargs = ml_collections.ConfigDict({"encoder": encoder})
  c.num_seeds = 1
  c.ppo.num_envs = num_envs
  c.ppo.num_steps = 8
  c.ppo.total_timesteps = num_envs * 8 * updates * (repeats + 1)
  c.hparams.gamma = 1.0
  c.training.progress = False
  program = trainer.get_program(c)
  runner = program.init(trainer._seed_keys(0, 1), trainer._hparams(c))
  compile_s, run_s = _time(lambda r: program.run_chunk(r, updates)[1], runner, repeats=repeats)
  return {"compile_s": compile_s, "turns_per_s": num_envs * 8 * updates / run_s}


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--num_envs", type=int, default=1024)
  p.add_argument("--steps", type=int, default=200)
  p.add_argument("--repeats", type=int, default=3)
  p.add_argument("--data_config", default="full")
  p.add_argument("--ppo_envs", type=int, default=256)
  p.add_argument("--ppo_updates", type=int, default=5)
  p.add_argument("--skip_ppo", action="store_true")
  args = p.parse_args()

  from alignment_rl import envs
  from alignment_rl.language import vocab

  rows = []
  env, params = conversation_env(args.data_config, max_turns=3)

  def response_actions(k, n):
    return jax.random.randint(k, (n, env.response_len), 0, len(vocab.Action))

  r = env_steps_per_second(env, params, args.num_envs, args.steps, args.repeats, response_actions)
  rows.append(("conversation (1 step = 1 graded turn, R=8)", r))

  def binary(k, n):
    return jax.random.randint(k, (n,), 0, 2)

  cp, cp_params = envs.make("CartPole-v1")
  rows.append(
    (
      "CartPole-v1 (ours)",
      env_steps_per_second(cp, cp_params, args.num_envs, args.steps, args.repeats, binary),
    )
  )
  try:
    gx, gx_params = envs.make("gymnax/CartPole-v1")
    rows.append(
      (
        "CartPole-v1 (gymnax)",
        env_steps_per_second(gx, gx_params, args.num_envs, args.steps, args.repeats, binary),
      )
    )
  except ImportError:
    print("gymnax not installed: skipping its CartPole")

  print(
    f"\nbackend={jax.default_backend()} devices={jax.devices()} jax={jax.__version__} "
    f"python={platform.python_version()}"
  )
  print(f"\n| environment ({args.num_envs} envs) | compile s | steps/s |\n|---|---:|---:|")
  for name, r in rows:
    print(f"| {name} | {r['compile_s']:.1f} | {r['steps_per_s']:,.0f} |")

  ppo_rows = []
  for encoder in () if args.skip_ppo else ("bag_of_tokens", "transformer"):
    ppo_rows.append(
      (
        encoder,
        ppo_turns_per_second(
          encoder, args.data_config, args.ppo_envs, args.ppo_updates, args.repeats
        ),
      )
    )
  print(
    f"\n| PPO encoder ({args.ppo_envs} envs x 8 turns/update) | compile s | graded turns/s "
    "incl. updates |\n|---|---:|---:|"
  )
  for name, r in ppo_rows:
    print(f"| {name} | {r['compile_s']:.1f} | {r['turns_per_s']:,.0f} |")
  print(json.dumps({"env": rows, "ppo": ppo_rows}, default=str))


if __name__ == "__main__":
  main()
