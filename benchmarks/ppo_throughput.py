r"""PPO throughput on CartPole-v1: alignment_rl's PPO against rejax's PPO.

Measures environment steps per second (all vmapped seeds together) of one whole
training run compiled as one program, with compilation timed apart from the run
(`jit(...).lower(...).compile()`, then one execution of the executable). Both
sides use the same hyperparameters, number of seeds (vmapped), envs, steps per
rollout, epochs, minibatches, 64x64 tanh actor and critic and total env steps.
rejax's periodic evaluation is replaced by a no-op during the timed run; its
final return is measured afterwards (untimed) with `rejax.evaluate.evaluate`.
A third row times `trainer.train` end to end (chunks, metrics, checkpoints):
a cold call (compile + run) and then a warm call on a fresh workdir.

Every measurement runs in its own subprocess (rejax's in its own interpreter,
which needs `rejax==0.1.3` and `gymnax==0.0.9`), alternating ours, rejax, ours,
rejax, ...; the table reports medians. Both sides get the same XLA_FLAGS: the
workers inherit the parent's environment (alignment_rl leaves XLA_FLAGS alone).
Run from the repository root:

  python benchmarks/ppo_throughput.py --rejax_python=PATH/TO/venv/bin/python --runs=3

Without `--rejax_python` (or if rejax does not import there) rejax is skipped.
Two execution variants, applied to both sides alike: `--pin_cpu=C` runs every
worker on CPU C only (so XLA's thread pool has one core), and `--seed_devices=N`
gives each worker N host CPU devices and splits the vmapped seeds over them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

# setting -> static structure; hyperparameters come from ppo_config() (runlocal).
SETTINGS = {
  "runlocal": dict(num_seeds=4, num_envs=4, num_steps=128, total_timesteps=500_000),
  "large": dict(num_seeds=4, num_envs=64, num_steps=128, total_timesteps=1_000_000),
}


def make_spec(setting: str) -> dict:
  """The full run description shared by both sides (read from our defaults)."""
  from configs.common import ppo_config

  c = ppo_config()
  s = SETTINGS[setting]
  steps_per_update = s["num_envs"] * s["num_steps"]
  return dict(
    setting=setting,
    **s,
    num_updates=s["total_timesteps"] // steps_per_update,
    update_epochs=c.ppo.update_epochs,
    num_minibatches=c.ppo.num_minibatches,
    anneal_lr=c.ppo.anneal_lr,
    hidden_sizes=list(c.network_kwargs.hidden_sizes),
    activation=c.network_kwargs.activation,
    hparams=c.hparams.to_dict(),
  )


def _ours_config(spec: dict):
  from configs.common import ppo_config

  config = ppo_config()
  config.num_seeds = spec["num_seeds"]
  for k in ("num_envs", "num_steps", "total_timesteps", "update_epochs", "num_minibatches"):
    config.ppo[k] = spec[k]
  config.ppo.anneal_lr = spec["anneal_lr"]
  config.network_kwargs.hidden_sizes = tuple(spec["hidden_sizes"])
  config.network_kwargs.activation = spec["activation"]
  config.hparams.update(spec["hparams"])
  config.training.progress = False
  config.split_over = spec.get("split_over", "envs")  # "seeds" with --seed_devices.
  return config


def split_seeds(num_seed_args: int, num_shared_args: int = 0) -> dict:
  """With --seed_devices: jit kwargs that split the seed axis over all CPU devices.

  The same for both sides: every device runs its share of the vmapped seeds
  (seeds are independent, so no communication); shared arguments are replicated.
  Ours' trainer does the same with `config.split_over="seeds"` (the train row uses
  it); rejax has no such option, but its vmapped `train` splits the same way.
  """
  import jax
  import numpy as np
  from jax.sharding import Mesh, NamedSharding, PartitionSpec

  if len(jax.devices()) == 1:
    return {}
  mesh = Mesh(np.array(jax.devices()), ("seeds",))
  split, shared = NamedSharding(mesh, PartitionSpec("seeds")), NamedSharding(mesh, PartitionSpec())
  return dict(
    in_shardings=(split,) * num_seed_args + (shared,) * num_shared_args, out_shardings=split
  )


def worker_ours(spec: dict) -> dict:
  """One compiled run of vmap(init + loop.run(all updates)) over the seeds."""
  import jax

  from alignment_rl.training import trainer

  config = _ours_config(spec)
  program = trainer.get_program(config)
  loop, n = program.loop, program.num_updates
  # As trainer.train runs it: env params are a traced input, shared by the seeds.
  train = jax.jit(
    jax.vmap(lambda k, h, p: loop.run(loop.init(k, h, p), n, p), in_axes=(0, 0, None)),
    **split_seeds(2, 1),
  )
  args = (trainer._seed_keys(0, config.num_seeds), trainer._hparams(config), program.env_params)
  t0 = time.perf_counter()
  compiled = train.lower(*args).compile()
  t1, c1 = time.perf_counter(), time.process_time()
  _, metrics = jax.block_until_ready(compiled(*args))
  t2, c2 = time.perf_counter(), time.process_time()
  ret = float(metrics["episode_return"][:, -1].mean())
  steps = config.num_seeds * n * program.steps_per_update
  return dict(compile_s=t1 - t0, run_s=t2 - t1, cpu_s=c2 - c1, env_steps=steps, final_return=ret)


def worker_ours_train(spec: dict) -> dict:
  """trainer.train twice in one process: cold (compiles) and warm (cached programs)."""
  from alignment_rl.training import trainer

  config = _ours_config(spec)
  walls, cpus = [], []
  with tempfile.TemporaryDirectory() as tmp:
    for name in ("cold", "warm"):
      t0, c0 = time.perf_counter(), time.process_time()
      result = trainer.train(config, os.path.join(tmp, name))
      walls.append(time.perf_counter() - t0)
      cpus.append(time.process_time() - c0)
  steps = config.num_seeds * result.num_updates * result.env_steps_per_update
  ret = float(result.history[-1]["episode_return"])
  return dict(
    compile_s=walls[0] - walls[1], run_s=walls[1], cpu_s=cpus[1], env_steps=steps, final_return=ret
  )


def worker_rejax(spec: dict) -> dict:
  """One compiled run of vmap(PPO.train) over the seeds; evaluation disabled."""
  import jax
  import optax
  from rejax import PPO
  from rejax.evaluate import evaluate

  hp, n = spec["hparams"], spec["num_updates"]
  steps_per_seed = n * spec["num_envs"] * spec["num_steps"]
  lr = hp["learning_rate"]
  if spec["anneal_lr"]:  # Ours anneals linearly to 0 over the updates; so does this.
    lr = optax.linear_schedule(lr, 0.0, n * spec["update_epochs"] * spec["num_minibatches"])
  algo = PPO.create(
    env="CartPole-v1",
    agent_kwargs=dict(hidden_layer_sizes=spec["hidden_sizes"], activation=spec["activation"]),
    num_envs=spec["num_envs"],
    num_steps=spec["num_steps"],
    num_epochs=spec["update_epochs"],
    num_minibatches=spec["num_minibatches"],
    total_timesteps=steps_per_seed,
    eval_freq=steps_per_seed,  # One block of exactly n train iterations ...
    skip_initial_evaluation=True,
    learning_rate=lr,
    max_grad_norm=hp["max_grad_norm"],
    gamma=hp["gamma"],
    gae_lambda=hp["gae_lambda"],
    clip_eps=hp["clip_eps"],
    ent_coef=hp["ent_coef"],
    vf_coef=hp["vf_coef"],
    normalize_observations=False,
    normalize_rewards=False,
  )
  algo = algo.replace(eval_callback=lambda algo, ts, rng: ())  # ... and no evaluation.
  keys = jax.random.split(jax.random.PRNGKey(0), spec["num_seeds"])
  train = jax.jit(jax.vmap(algo.train), **split_seeds(1))
  t0 = time.perf_counter()
  compiled = train.lower(keys).compile()
  t1, c1 = time.perf_counter(), time.process_time()
  ts, _ = jax.block_until_ready(compiled(keys))
  t2, c2 = time.perf_counter(), time.process_time()

  def final_return(ts, key):  # 128 episodes of rejax's own evaluation, untimed.
    return evaluate(algo.make_act(ts), key, algo.env, algo.env_params, 128, 500)[1].mean()

  ret = float(jax.jit(jax.vmap(final_return))(ts, keys).mean())
  steps = spec["num_seeds"] * steps_per_seed
  return dict(compile_s=t1 - t0, run_s=t2 - t1, cpu_s=c2 - c1, env_steps=steps, final_return=ret)


WORKERS = {"ours": worker_ours, "ours_train": worker_ours_train, "rejax": worker_rejax}


def run_worker(
  python: str, side: str, spec: dict, timeout_s: float, pin_cpu: int | None = None
) -> dict:
  """Runs one measurement in a fresh process; retries once if it hangs (see below).

  With `pin_cpu`, the process (and so XLA's thread pool) may run on that CPU only.
  """
  cmd = [python, os.path.abspath(__file__), f"--worker={side}", f"--spec={json.dumps(spec)}"]
  pin = None if pin_cpu is None else (lambda: os.sched_setaffinity(0, {pin_cpu}))
  for attempt in (1, 2):
    try:
      proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, preexec_fn=pin)
    except subprocess.TimeoutExpired:
      # XLA:CPU in jax 0.10 can wedge (0% CPU, never returns) on some vmapped programs.
      print(f"{side}: no result in {timeout_s:.0f}s (attempt {attempt}/2)", file=sys.stderr)
      continue
    if proc.returncode:
      raise RuntimeError(f"{side} worker failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
  raise RuntimeError(f"{side} worker hung twice")


def rejax_importable(python: str | None) -> bool:
  if not python:
    print("rejax: skipped (no --rejax_python given)", file=sys.stderr)
    return False
  cmd = [python, "-c", "import rejax, gymnax, jax, flax, optax; print(jax.__version__)"]
  proc = subprocess.run(cmd, capture_output=True, text=True)
  if proc.returncode:
    print(f"rejax: skipped (does not import with {python}):\n{proc.stderr[-800:]}", file=sys.stderr)
    return False
  return True


def versions(python: str) -> str:
  code = "import jax, flax, optax; print(jax.__version__, flax.__version__, optax.__version__)"
  out = subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.split()
  return "jax {} / flax {} / optax {}".format(*out) if len(out) == 3 else "unknown"


def summarise(runs: list[dict]) -> dict:
  steps = runs[0]["env_steps"]
  med = lambda k: statistics.median(r[k] for r in runs)
  return dict(
    sps=steps / med("run_s"),
    cpu_sps=steps / med("cpu_s"),  # Per CPU-second: less sensitive to other jobs.
    compile_s=med("compile_s"),
    final_return=med("final_return"),
    all_sps=[round(steps / r["run_s"]) for r in runs],
    env_steps=steps,
  )


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--rejax_python", default=None, help="interpreter with rejax installed")
  parser.add_argument("--runs", type=int, default=3, help="runs of each side per setting")
  parser.add_argument("--settings", default=",".join(SETTINGS), help="comma-separated")
  parser.add_argument("--no_train_row", action="store_true", help="skip timing trainer.train")
  parser.add_argument("--timeout_s", type=float, default=400, help="per measurement process")
  parser.add_argument(
    "--pin_cpu", type=int, default=None, help="run every worker (both sides) on this CPU only"
  )
  parser.add_argument(
    "--seed_devices",
    type=int,
    default=1,
    help="both sides: N host CPU devices, the vmapped seeds split over them",
  )
  parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
  parser.add_argument("--spec", help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.worker:
    print(json.dumps(WORKERS[args.worker](json.loads(args.spec))))
    return

  if args.seed_devices > 1:  # Inherited by every worker, on both sides.
    flags = f"{os.environ.get('XLA_FLAGS', '')} "
    flags += f"--xla_force_host_platform_device_count={args.seed_devices}"
    os.environ["XLA_FLAGS"] = flags.strip()
  with_rejax = rejax_importable(args.rejax_python)
  sides = [("ours", sys.executable)] + ([("rejax", args.rejax_python)] if with_rejax else [])
  if not args.no_train_row:
    sides.append(("ours_train", sys.executable))
  results = {}
  load = [os.getloadavg()]
  for setting in args.settings.split(","):
    spec = make_spec(setting)
    spec["split_over"] = "seeds" if args.seed_devices > 1 else "envs"
    for i in range(args.runs):  # Alternate: ours, rejax, [train], ours, rejax, ...
      for side, python in sides:
        r = run_worker(python, side, spec, args.timeout_s, args.pin_cpu)
        results.setdefault((setting, side), []).append(r)
        print(f"[{setting} run {i + 1}/{args.runs}] {side}: {json.dumps(r)}", file=sys.stderr)
        load.append(os.getloadavg())

  # Every worker inherited the parent's XLA_FLAGS.
  print(f"\nXLA_FLAGS (both sides): {os.environ.get('XLA_FLAGS', '')!r}")
  if args.seed_devices > 1:
    print(f"seeds split over {args.seed_devices} host CPU devices (both sides)")
  if args.pin_cpu is not None:
    print(f"every worker pinned to CPU {args.pin_cpu} (sched_setaffinity)")
  one_min = [x[0] for x in load]  # The machine may be shared: report its load.
  print(
    f"load average (1 min) during the runs: median {statistics.median(one_min):.1f}, "
    f"range {min(one_min):.1f}-{max(one_min):.1f} ({os.cpu_count()} CPUs)"
  )
  print(f"ours: {versions(sys.executable)}")
  if with_rejax:
    print(f"rejax side: {versions(args.rejax_python)}")
  print(
    "\n| setting | ours steps/s | rejax steps/s | ours/rejax (wall) | ours/rejax (CPU time) "
    "| compile s (ours / rejax) | final return (ours / rejax) | each run, steps/s (ours; rejax) |"
  )
  print("|---|---|---|---|---|---|---|---|")
  for setting in args.settings.split(","):
    o = summarise(results[(setting, "ours")])
    x = summarise(results[(setting, "rejax")]) if with_rejax else None
    if x:
      xs = (
        f"{x['sps']:,.0f}",
        f"{o['sps'] / x['sps']:.2f}x",
        f"{o['cpu_sps'] / x['cpu_sps']:.2f}x",
      )
      xs += (f"{x['compile_s']:.1f}", f"{x['final_return']:.1f}", x["all_sps"])
    else:
      xs = ("skipped", "n/a", "n/a", "-", "-", "-")
    print(
      f"| {setting} ({o['env_steps']:,} steps) | {o['sps']:,.0f} | {xs[0]} | {xs[1]} | {xs[2]} "
      f"| {o['compile_s']:.1f} / {xs[3]} | {o['final_return']:.1f} / {xs[4]} "
      f"| {o['all_sps']}; {xs[5]} |"
    )
    if (setting, "ours_train") in results:
      t = summarise(results[(setting, "ours_train")])
      print(
        f"| {setting}: ours `trainer.train` (chunks + checkpoints, warm) | {t['sps']:,.0f} "
        f"| - | - | - | {t['compile_s']:.1f} (cold - warm) | {t['final_return']:.1f} / - "
        f"| {t['all_sps']} |"
      )


if __name__ == "__main__":
  main()
