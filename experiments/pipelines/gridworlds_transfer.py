"""Transfer and harmful fine-tuning of one policy over several padded gridworlds.

Experiment `gridworlds_transfer`, on `gridworlds/multi` (one environment drawn per
episode from `config.transfer.train_envs`; observations are padded one-hot 10 x 10
boards, so one MLP policy reads them all). Three training runs, each with
`trainer.train` (vmapped seeds, resumable) into its own folder under `workdir`:

1. `pretrain_performance`: PPO with the `performance` reward (the hidden
   performance increment, a performance-aware reward) on the training environments
   for `config.ppo.total_timesteps`.
2. `finetune_visible_from_performance`: harmful fine-tuning: PPO with the `visible`
   reward on the same environments for `config.transfer.finetune_timesteps`,
   starting from run 1's final parameters (`training.init_from`).
3. `finetune_visible_from_scratch`: the same budget and reward from a fresh
   (random-init) policy: the compute-matched control.

Then every policy (`init`, the random init of run 3; and the final policies of the
three runs) is evaluated, greedy and sampled, on every training and held-out
environment alone (a one-hot `env_weights`; the variants of `gridworlds.VARIANTS`,
e.g. distributional_shift's test levels), with `gridworlds.make_evaluator`.

Writes `results.json` / `results.csv` (`COLUMNS`), `curves.csv` (per update and seed
of each run: the trained reward's return, the visible return and the hidden
performance of the training rollouts, `CURVE_COLUMNS`), prints markdown tables and
returns a summary with per-split means and the fine-tuning curves at quartiles.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from alignment_rl import envs
from alignment_rl.agents import ppo
from alignment_rl.envs.gridworlds import ENV_NAMES
from alignment_rl.training import metrics_writer, trainer
from experiments.pipelines import gridworlds as gw
from experiments.registry import EXPERIMENTS

ARMS = (
  "pretrain_performance",
  "finetune_visible_from_performance",
  "finetune_visible_from_scratch",
)
COLUMNS = ("arm", "split", *gw.COLUMNS[:8], *gw.COLUMNS[8:13])
CURVE_COLUMNS = ("arm", "update", "env_steps", "seed", "trained_return", "visible_return",
                 "performance")  # fmt: skip


def _check_envs(t) -> tuple[tuple[str, ...], tuple[str, ...]]:
  train, held = tuple(t.train_envs), tuple(t.heldout_envs)
  bad = [n for n in train + held if n not in ENV_NAMES]
  if bad:
    raise ValueError(f"gridworlds_transfer: unknown envs {bad}; allowed: {', '.join(ENV_NAMES)}")
  if not train or set(train) & set(held) or len(set(train + held)) != len(train + held):
    raise ValueError(
      "gridworlds_transfer: transfer.train_envs must be non-empty and disjoint from "
      f"transfer.heldout_envs, without repeats; got {train} and {held}"
    )
  return train, held


def _as_dict(x) -> dict:
  return x.to_dict() if hasattr(x, "to_dict") else dict(x or {})


def initial_params(cfg):
  """The parameters every seed of run `cfg` starts from when not fine-tuning."""
  program = trainer.get_program(cfg)
  hp = ppo.PPOHyperparams.from_config(cfg.hparams)
  hp = jax.tree.map(lambda x: jnp.broadcast_to(x, (cfg.num_seeds,)), hp)
  keys = jax.random.split(jax.random.PRNGKey(cfg.seed), cfg.num_seeds)
  return program.init(keys, hp).ppo.params


def single_env_params(env, params, name: str, overrides: dict):
  """`params` of `gridworlds/multi` that always draw `name`, with its variant applied."""
  k = env.names.index(name)
  p = gw.as_arrays(params)
  sub = gw.variant_params(p.sub_params[k], overrides)
  subs = p.sub_params[:k] + (sub,) + p.sub_params[k + 1 :]
  return p.replace(sub_params=subs, env_weights=env.weights(name))


def curve_rows(arm: str, run_dir: str) -> list[dict]:
  """Per update and seed of a run's training rollouts (None where no episode finished)."""
  rows = []
  for rec in metrics_writer.read_metrics(run_dir):
    for s, finished in enumerate(rec["episodes_finished/per_seed"]):
      get = lambda k, r=rec, s=s, f=finished: r[f"{k}/per_seed"][s] if f > 0 else None
      rows.append(
        dict(
          arm=arm,
          update=rec["update"],
          env_steps=rec["env_steps"],
          seed=s,
          trained_return=get("episode_return"),
          visible_return=get("visible_return"),
          performance=get("episode_performance"),
        )
      )
  return rows


def curve_points(rows: list[dict], arm: str, fractions=(0.0, 0.25, 0.5, 1.0)) -> list[dict]:
  """Mean over seeds of `arm`'s curve at `fractions` of its updates (10%-window means)."""
  mine = [r for r in rows if r["arm"] == arm]
  n = max(r["update"] for r in mine)
  window = max(1, n // 10)
  out = []
  for f in sorted({max(window, round(f * n)) for f in fractions}):
    sel = [r for r in mine if f - window < r["update"] <= f and r["performance"] is not None]
    mean = lambda k, sel=sel: float(np.mean([r[k] for r in sel])) if sel else None
    out.append(
      dict(update=f, visible_return=mean("visible_return"), performance=mean("performance"))
    )
  return out


def split_means(rows: list[dict]) -> dict:
  """{arm: {split: {policy: {return, performance}}}}: means over envs' first variant."""
  firsts = {n: gw.VARIANTS.get(n, (("all", {}),))[0][0] for n in ENV_NAMES}
  out: dict = {}
  for r in rows:
    if r["variant"] == firsts[r["env"]]:
      cell = out.setdefault(r["arm"], {}).setdefault(r["split"], {}).setdefault(r["policy"], [])
      cell.append((r["return_mean"], r["performance_mean"]))
  return {
    a: {
      s: {
        p: dict(zip(("return", "performance"), np.mean(v, 0).tolist(), strict=True))
        for p, v in d.items()
      }  # fmt: skip
      for s, d in by.items()
    }
    for a, by in out.items()
  }


def _fmt(x) -> str:
  return "-" if x is None else f"{x:.1f}"


def run_gridworlds_transfer(config, workdir: str) -> dict:
  """Pretrains, fine-tunes and evaluates; see the module docstring."""
  t = config.transfer
  train_envs, heldout_envs = _check_envs(t)
  names = train_envs + heldout_envs
  env_kwargs = dict(
    envs=names,
    train_envs=train_envs,
    levels=_as_dict(config.get("levels")),
    exploration=bool(config.get("exploration_wrapper", True)),
    one_hot=True,
  )

  def arm_config(mode: str, **overrides):
    kwargs = ml_collections.ConfigDict(dict(env_kwargs, reward_mode=mode))
    return gw.trainer_config(config, env_name="gridworlds/multi", env_kwargs=kwargs, **overrides)

  dirs = {arm: os.path.join(workdir, arm) for arm in ARMS}
  cfgs = {
    ARMS[0]: arm_config(t.pretrain_reward_mode),
    ARMS[1]: arm_config(
      t.finetune_reward_mode,
      **{"ppo.total_timesteps": t.finetune_timesteps, "training.init_from": dirs[ARMS[0]]},
    ),
    ARMS[2]: arm_config(t.finetune_reward_mode, **{"ppo.total_timesteps": t.finetune_timesteps}),
  }
  policies = {"init": initial_params(cfgs[ARMS[2]])}
  for arm in ARMS:
    policies[arm] = trainer.train(cfgs[arm], dirs[arm]).runner.ppo.params

  env, env_params = envs.make("gridworlds/multi", **env_kwargs)
  network = trainer.get_program(cfgs[ARMS[0]]).loop.network
  evaluator = gw.make_evaluator(
    env, network, config.eval.num_streams, config.eval.episodes_per_stream
  )
  episodes = config.eval.num_streams * config.eval.episodes_per_stream
  rows = []
  for arm, params in policies.items():
    for name in names:
      split = "train" if name in train_envs else "heldout"
      level = env.envs[env.names.index(name)].level
      for variant, overrides in gw.VARIANTS.get(name, (("all", {}),)):
        p = single_env_params(env, env_params, name, overrides)
        res = gw.greedy_returns(evaluator, params, p, config.num_seeds, config.eval.seed)
        for policy, r in res.items():
          for s in range(config.num_seeds):
            rows.append(
              dict(arm=arm, split=split, env=name, level=level, variant=variant, seed=s,
                   policy=policy, return_mean=r["return_mean"][s],
                   performance_mean=r["performance_mean"][s], episodes=episodes,
                   **gw.reference_fields(name, level, variant))
            )  # fmt: skip
  curves = [row for arm in ARMS for row in curve_rows(arm, dirs[arm])]
  summary = {
    "experiment": config.experiment,
    "train_envs": list(train_envs),
    "heldout_envs": list(heldout_envs),
    "split_means": split_means(rows),
    "finetune_curves": {arm: curve_points(curves, arm) for arm in ARMS[1:]},
  }
  gw.write_results(workdir, rows, COLUMNS, summary)
  gw.write_csv(os.path.join(workdir, "curves.csv"), curves, CURVE_COLUMNS)
  table = gw.markdown_table(rows, keys=("arm", "split", "env", "variant"))
  print(table)
  for arm, points in summary["finetune_curves"].items():
    line = ", ".join(f"upd {p['update']}: R {_fmt(p['visible_return'])} / R* "
                     f"{_fmt(p['performance'])}" for p in points)  # fmt: skip
    print(f"{arm}: {line}")
  return {**summary, "results": os.path.join(workdir, "results.csv")}


EXPERIMENTS.add("gridworlds_transfer", run_gridworlds_transfer)
