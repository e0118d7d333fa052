"""Learnability of the conversation world: prior -> PPO arms -> held-out grades.

The `conversation_rl` experiment:

  1. imitation: every seed's policy is trained to imitate the assistant prior
     (the common pre-RL start of every arm);
  2. arms: PPO from that prior on the same trait conversations, rewarded by one
     grader per arm (`rubric`: the scenario's own rubric; `standard`: the
     standard mixture's proxy), with the same updates, samples and network;
  3. evaluation: every policy (prior and arms) answers every scenario of the
     evaluation splits once per seed; graded by the trait rubric (`rubric`) and
     by evaluation graders (`eval/pushback_truth`, `eval/check_integrity`, ...) that
     are not training rubrics. Means over seeds with Student-t intervals over seeds.

Writes `<workdir>/results.json` and returns its contents.
"""

from __future__ import annotations

import json
import os

import jax
import ml_collections
import numpy as np

from alignment_rl.data import load_split
from alignment_rl.evals.policy_grades import grade_policy, summarize
from alignment_rl.language import schema
from alignment_rl.training import checkpointing, trainer
from experiments.registry import EXPERIMENTS


def arm_config(config, grader: str, prior_dir: str) -> ml_collections.ConfigDict:
  """The PPO config of one arm: the shared config with the arm's grader."""
  c = ml_collections.ConfigDict(config.ppo_run.to_dict())
  c.env_kwargs.grader = grader
  c.training.init_from = prior_dir
  c.experiment = f"{config.experiment}/{grader}"
  return c


def trait_scenarios(split: dict) -> dict:
  """The split without its everyday questions (the standard mixture)."""
  keep = np.asarray(split["family"]) != schema.Family.EVERYDAY
  return {k: np.asarray(v)[keep] for k, v in split.items()}


def assert_compute_matched(programs: dict) -> None:
  """Arms must share updates, samples and parameter count (DESIGN section 5)."""
  shapes = {
    name: (
      p.num_updates,
      p.steps_per_update,
      p.num_seeds,
      sum(np.prod(x.shape) for x in jax.tree.leaves(p.abstract_params)),
    )
    for name, p in programs.items()
  }
  if len(set(shapes.values())) != 1:
    raise AssertionError(f"arms are not compute-matched: {shapes}")


def run_conversation_rl(config, workdir: str) -> dict:
  from alignment_rl.training import imitation

  os.makedirs(workdir, exist_ok=True)
  prior_dir = os.path.join(workdir, "prior")
  prior_config = ml_collections.ConfigDict(config.prior.to_dict())
  # The prior is split over the devices as the arms are (one switch for the pipeline).
  prior_config.split_over = config.ppo_run.split_over
  prior_config.num_devices = config.ppo_run.num_devices
  prior_summary = imitation.train_prior_policy(prior_config, prior_dir)

  arms, programs = {}, {}
  for grader in config.arms:
    c = arm_config(config, grader, prior_dir)
    arm_dir = os.path.join(workdir, f"arm_{grader}")
    result = trainer.train(c, arm_dir)
    programs[grader] = trainer.get_program(c)
    arms[grader] = {"dir": arm_dir, "params": result.runner.ppo.params, "history": result.history}
  assert_compute_matched(programs)

  network = next(iter(programs.values())).loop.network
  prior_params = checkpointing.load_final_params(prior_dir, arms[config.arms[0]]["params"])
  policies = {"prior": prior_params, **{g: a["params"] for g, a in arms.items()}}
  results = {"prior": prior_summary, "evaluation": {}, "learning_curves": {}}
  for grader, arm in arms.items():
    results["learning_curves"][grader] = [
      {"update": h["update"], "reward": float(h["reward_per_step"])} for h in arm["history"]
    ]
  key = jax.random.PRNGKey(config.eval_seed)
  for split in config.eval_splits:
    data = trait_scenarios(load_split(split, config.data_config, config.get("data_dir") or None))
    for name, params in policies.items():
      key, sub = jax.random.split(key)
      grades = grade_policy(network, params, data, tuple(config.eval_graders), sub)
      results["evaluation"].setdefault(split, {})[name] = summarize(grades)
  with open(os.path.join(workdir, "results.json"), "w", encoding="utf-8") as f:
    json.dump(results, f, indent=2)
  print(format_table(results))
  return {  # A compact summary; everything is in results.json.
    "results": os.path.join(workdir, "results.json"),
    "evaluation": {
      split: {pol: {g: round(v["mean"], 4) for g, v in s.items()} for pol, s in by_pol.items()}
      for split, by_pol in results["evaluation"].items()
    },
  }


def format_table(results: dict) -> str:
  """Markdown: one row per (split, policy), one column per grader (mean [CI])."""
  lines = []
  for split, by_policy in results["evaluation"].items():
    graders = sorted({g for s in by_policy.values() for g in s})
    lines.append(f"\n{split}\n| policy | " + " | ".join(graders) + " |")
    lines.append("|---" * (len(graders) + 1) + "|")
    for policy, s in by_policy.items():
      cells = [
        f"{s[g]['mean']:.3f} [{s[g]['ci_low']:.3f}, {s[g]['ci_high']:.3f}]" if g in s else "-"
        for g in graders
      ]
      lines.append(f"| {policy} | " + " | ".join(cells) + " |")
  return "\n".join(lines)


EXPERIMENTS.add("conversation_rl", run_conversation_rl)
