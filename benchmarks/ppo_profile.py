r"""Where one PPO update on the conversation world spends its time, per phase.

For each encoder, at the main job's runlocal shapes (`configs/trait_rl_vs_baseline.py`:
256 envs x 4 turns per update, 4 epochs x 4 minibatches, 8-token responses, seeds
as the trainer runs them (`--seed_batching`, `training/seed_axis.py`; "auto" = in turn
on a CPU); `--scale=full`: 512 envs, up to 3-turn episodes), this script times, each
as its own jitted program (median of `--repeats` warm calls, compilation apart):

  update    one whole update (rollout, grading, user model, GAE, shuffles, SGD)
  update_seeds_vmapped  the same with the seeds vmapped (when they run in turn above)
  update_<R>_runs  the same for `--runs` runs in one program (the main job's arms)
  rollout   the rollout alone (policy sampling + environment steps)
  sample    the policy's sampling of one turn's responses
  env_step  the environment alone (grading and user model) for one turn
  gae       bootstrap values and GAE
  shuffle   the minibatch gathers of one update
  forward   the teacher-forced loss of one minibatch
  backward  its loss and gradient (forward included)
  optimizer one Adam step with global-norm clipping

and XLA's cost analysis (FLOPs) of the whole update, reported per graded turn and
as a fraction of the machine's matmul ceiling, measured in the same script with a
plain float32 `jnp.dot` of `--matmul_n` square matrices. XLA counts a while loop's
body once, whatever its trip count, so that figure holds one rollout step and one
of the update's SGD steps; the "every loop iteration counted" figures add the other
(T - 1) rollout steps and (epochs x minibatches - 1) gradient and optimizer steps
from the cost analyses of those pieces.

  python benchmarks/ppo_profile.py --repeats=5
  python benchmarks/ppo_profile.py --repeats=5 --seed_devices=2   # one host device per core

`--seed_devices=N` makes N host CPU devices and splits the seeds over them, as the
trainer does with `split_over="seeds"` (`training/sharding.py`); the matmul ceiling is
still one `jnp.dot` on the default device, whose intra-op threads use every core.
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


def _time(fn, *args, repeats: int):
  t0 = time.perf_counter()
  jax.block_until_ready(fn(*args))
  first = time.perf_counter() - t0
  runs = []
  for _ in range(repeats):
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    runs.append(time.perf_counter() - t0)
  return first, float(np.median(runs))


def _row(fn, *args, repeats: int) -> dict:
  first, s = _time(fn, *args, repeats=repeats)
  return {"first_s": first, "s": s}


def matmul_ceiling(n: int, repeats: int) -> float:
  """FLOP/s of a float32 n x n matmul (2 n^3 FLOPs), median of `repeats`."""
  a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
  b = jax.random.normal(jax.random.PRNGKey(1), (n, n), jnp.float32)
  f = jax.jit(jnp.dot)
  _, s = _time(f, a, b, repeats=repeats)
  return 2 * n**3 / s


def flops_of(jitted, *args) -> float:
  """XLA's FLOP count of a program, all devices together (a program split over the
  seeds reports one device's share: the count is multiplied by the device count)."""
  cost = jitted.lower(*args).compile().cost_analysis()
  if isinstance(cost, list):
    cost = cost[0]
  return len(jax.devices()) * float(cost.get("flops", float("nan")))


def run_config(encoder: str, num_seeds: int, scale: str = "runlocal", seed_batching="auto"):
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  from configs import trait_rl_vs_baseline

  c = trait_rl_vs_baseline.get_config(scale).ppo_run
  c.network_kwargs.encoder = encoder
  c.network_kwargs.max_response_len = 8
  c.num_seeds = num_seeds
  c.seed_batching = seed_batching
  c.training.progress = False
  return c


def profile(
  encoder: str,
  num_seeds: int,
  repeats: int,
  ceiling: float,
  runs: int,
  scale: str = "runlocal",
  seed_batching: str = "auto",
) -> dict:
  from alignment_rl.agents import gae
  from alignment_rl.agents import ppo as ppo_lib
  from alignment_rl.training import trainer

  c = run_config(encoder, num_seeds, scale, seed_batching)
  program = trainer.get_program(c)
  loop, params_env = program.loop, program.env_params
  runner = program.init(trainer._seed_keys(0, num_seeds), trainer._hparams(c))
  if len(jax.devices()) > 1:  # --seed_devices: each device runs its share of the seeds.
    from alignment_rl.training import sharding

    runner = sharding.split_seeds(runner, "seeds")
  p = c.ppo
  turns = p.num_envs * p.num_steps * num_seeds
  rows = {}

  # The update as the trainer runs it: seeds side by side or in turn (`seed_axis`).
  # XLA's cost analysis counts a mapped loop's body (one seed) once, so the FLOPs are
  # those of the vmapped update: the same maths.
  # In turn, `train_loop` has the conv encoder in length buckets (`Program`).
  update = jax.jit(program._over_seeds(lambda r, e: program.train_loop.run(r, 1, e)))
  update_vmap = jax.jit(jax.vmap(lambda r, e: loop.run(r, 1, e), in_axes=(0, None)))
  first, s = _time(update, runner, params_env, repeats=repeats)
  flops = flops_of(update_vmap, runner, params_env)
  rows["update"] = dict(first_s=first, s=s)
  if program.seed_batching != "vmap":
    rows["update_seeds_vmapped"] = _row(update_vmap, runner, params_env, repeats=repeats)
  # The main job's arms: `runs` runs of the program in one call (`training.batched`).
  from alignment_rl.training import batched

  stacked = jax.tree.map(lambda *x: jnp.stack(x), *([runner] * runs))
  env_many, env_axes = batched.stack_shared([params_env] * runs)
  many = (stacked, env_many)
  rows[f"update_{runs}_runs"] = _row(
    lambda r, e: program.run_chunk_many(r, 1, e, env_axes), *many, repeats=repeats
  )

  rollout = jax.jit(jax.vmap(lambda r, e: loop._rollout(r, r.key, e), in_axes=(0, None)))
  rows["rollout"] = _row(rollout, runner, params_env, repeats=repeats)
  _, traj = rollout(runner, params_env)

  policy = loop.policy
  obs0 = traj["obs"][:, 0]  # [S, N, L]
  sample = jax.jit(jax.vmap(policy.sample, in_axes=(0, 0, 0)))
  keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(runner.key)
  rows["sample"] = _row(sample, runner.ppo.params, obs0, keys, repeats=repeats)
  rows["sample"]["s"] *= p.num_steps  # per update

  step_env = jax.vmap(loop.env.step, in_axes=(0, 0, 0, None))
  env_step = jax.jit(jax.vmap(step_env, in_axes=(0, 0, 0, None)))
  env_keys = jax.vmap(lambda k: jax.random.split(k, p.num_envs))(keys)
  a0 = traj["action"][:, 0]
  rows["env_step"] = _row(env_step, env_keys, runner.env_state, a0, params_env, repeats=repeats)
  rows["env_step"]["s"] *= p.num_steps

  def gae_fn(t):
    v_tp1 = jnp.concatenate([t["value"][1:], t["value"][-1:]], axis=0)
    v_next = gae.bootstrap_values(v_tp1, v_tp1, t["terminated"], t["truncated"])
    return gae.gae_advantages(t["reward"], t["value"], v_next, t["done"], 1.0, 0.95)

  rows["gae"] = _row(jax.jit(jax.vmap(gae_fn)), traj, repeats=repeats)

  flat = lambda x: x.reshape((x.shape[0], -1) + x.shape[3:])  # noqa: E731
  batch = ppo_lib.Batch(
    obs=flat(traj["obs"]),
    action=flat(traj["action"]),
    log_prob=flat(traj["log_prob"]),
    value=flat(traj["value"]),
    advantage=flat(traj["reward"]),
    target=flat(traj["reward"]),
    mask=flat(traj["mask"]),
  )
  bsz = p.num_envs * p.num_steps
  mb_size = bsz // p.num_minibatches
  n_mb = p.update_epochs * p.num_minibatches

  def shuffle(b, k):
    ks = jax.random.split(k, p.update_epochs)
    perms = jax.vmap(lambda kk: jax.random.permutation(kk, bsz))(ks)
    idx = perms.reshape(n_mb, mb_size)
    return jax.tree.map(lambda x: jnp.take(x, idx, axis=0), b)

  shuffle_j = jax.jit(jax.vmap(shuffle))
  rows["shuffle"] = _row(shuffle_j, batch, keys, repeats=repeats)
  mb = jax.tree.map(lambda x: x[:, :mb_size], batch)
  hp = runner.ppo.hparams

  def loss(params, m, h):
    return ppo_lib.ppo_loss(params, policy.log_prob_entropy_value, m, h)[0]

  fwd = jax.jit(jax.vmap(loss))
  grad = jax.jit(jax.vmap(jax.value_and_grad(loss)))
  for name, fn in (("forward", fwd), ("backward", grad)):
    rows[name] = _row(fn, runner.ppo.params, mb, hp, repeats=repeats)
    rows[name]["s"] *= n_mb
  grads = grad(runner.ppo.params, mb, hp)[1]
  opt = loop.optimizer

  def opt_step(params, g, st):
    u, st = opt.update(g, st, params)
    return jax.tree.map(jnp.add, params, u), st

  opt_j = jax.jit(jax.vmap(opt_step))
  rows["optimizer"] = _row(opt_j, runner.ppo.params, grads, runner.ppo.opt_state, repeats=repeats)
  rows["optimizer"]["s"] *= n_mb
  # XLA's cost analysis counts a while loop's body once, whatever its trip count, so
  # `flops` (the whole update) holds one rollout step and one SGD step. Add the others:
  # (T - 1) sampling + environment steps and (E * M - 1) gradient + optimizer steps.
  f_sample = flops_of(sample, runner.ppo.params, obs0, keys)
  f_env = flops_of(env_step, env_keys, runner.env_state, a0, params_env)
  f_grad = flops_of(grad, runner.ppo.params, mb, hp)
  f_opt = flops_of(opt_j, runner.ppo.params, grads, runner.ppo.opt_state)
  flops_loops = flops + (p.num_steps - 1) * (f_sample + f_env) + (n_mb - 1) * (f_grad + f_opt)
  upd_s = rows["update"]["s"]
  return dict(
    flops_loops_per_turn=flops_loops / turns,
    ceiling_fraction_loops=flops_loops / upd_s / ceiling,
    grad_flops=f_grad,
    grad_ceiling_fraction=n_mb * f_grad / rows["backward"]["s"] / ceiling,
    encoder=encoder,
    seed_batching=program.seed_batching,
    turns_per_update=turns,
    turns_per_s=turns / upd_s,
    runs=runs,
    turns_per_s_runs=runs * turns / rows[f"update_{runs}_runs"]["s"],
    ceiling_fraction_runs=runs * flops / rows[f"update_{runs}_runs"]["s"] / ceiling,
    flops_per_turn=flops / turns,
    flops_per_s=flops / upd_s,
    ceiling_fraction=flops / upd_s / ceiling,
    phases=rows,
  )


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--encoders", default="bag_of_tokens,conv")
  p.add_argument("--num_seeds", type=int, default=4)
  p.add_argument("--repeats", type=int, default=5)
  p.add_argument("--matmul_n", type=int, default=1024)
  p.add_argument("--runs", type=int, default=5, help="runs vmapped together (the arms)")
  p.add_argument("--scale", default="runlocal", help="the main job's shapes: runlocal or full")
  p.add_argument("--seed_devices", type=int, default=1, help="host devices for the seeds")
  p.add_argument(
    "--seed_batching", default="auto", help="seeds in turn (map) or side by side (vmap)"
  )
  args = p.parse_args()
  if args.seed_devices < 1 or args.num_seeds % args.seed_devices:
    p.error(f"--seed_devices={args.seed_devices}: a divisor of --num_seeds={args.num_seeds}")
  jax.config.update("jax_num_cpu_devices", args.seed_devices)  # Before any backend use.
  ceiling = matmul_ceiling(args.matmul_n, args.repeats)
  print(
    f"backend={jax.default_backend()} devices={len(jax.devices())} jax={jax.__version__} "
    f"python={platform.python_version()}"
    f" matmul ceiling ({args.matmul_n}^2 f32): {ceiling / 1e9:.1f} GFLOP/s"
  )
  out = []
  for enc in args.encoders.split(","):
    r = profile(
      enc, args.num_seeds, args.repeats, ceiling, args.runs, args.scale, args.seed_batching
    )
    out.append(r)
    print(
      f"\n{enc} (seeds: {r['seed_batching']}): {r['turns_per_s']:,.0f} graded turns/s, "
      f"{r['flops_per_turn'] / 1e6:.2f} "
      f"MFLOP/turn, {r['flops_per_s'] / 1e9:.2f} GFLOP/s = "
      f"{100 * r['ceiling_fraction']:.1f}% of the matmul ceiling; {r['runs']} runs together: "
      f"{r['turns_per_s_runs']:,.0f} graded turns/s, "
      f"{100 * r['ceiling_fraction_runs']:.1f}% of the ceiling"
    )
    print(
      f"  with every loop iteration counted (cost analysis counts a loop body once): "
      f"{r['flops_loops_per_turn'] / 1e6:.2f} MFLOP/turn = "
      f"{100 * r['ceiling_fraction_loops']:.1f}% of the ceiling; one minibatch gradient "
      f"{r['grad_flops'] / 1e9:.2f} GFLOP, all of the update's at "
      f"{100 * r['grad_ceiling_fraction']:.1f}% of the ceiling"
    )
    print("| phase | ms per update (median) | share of update | first call s |")
    print("|---|---:|---:|---:|")
    upd = r["phases"]["update"]["s"]
    for name, row in r["phases"].items():
      share = 100 * row["s"] / upd
      print(f"| {name} | {1e3 * row['s']:.1f} | {share:.0f}% | {row['first_s']:.1f} |")
  print(json.dumps(dict(ceiling_flops=ceiling, results=out)))


if __name__ == "__main__":
  main()
