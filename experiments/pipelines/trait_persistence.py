"""The persistence tests of a `trait_rl` experiment, each optional (DESIGN section 7).

After the evaluation suite (`trait_rl.run_trait_rl`), on the trained policies:

* `persona_results`: every persona of `config.personas` written into the persona slot of
  every evaluation scenario, on the arms of `config.persona_arms`;
* `pressure_results`: multi-turn pressure to `config.pressure_turns` turns on the
  trait conversations of `config.pressure_split`;
* `finetune_results`: harmful fine-tuning (`evals.harmful_finetune`), the same budget
  (`finetune_stages` x `finetune_updates` PPO updates) from each start model of
  `config.finetune_from`, with the suite after every stage.

Each returns the entries of `results.json` it fills.
"""

from __future__ import annotations

import json
import os

from tqdm.auto import tqdm

from alignment_rl.evals import scoreboard
from alignment_rl.evals.harmful_finetune import attack_config, harmful_finetune_many
from alignment_rl.evals.suite_runner import evaluate_suite, write_results
from alignment_rl.language.personas import EVAL_HARMFUL_PERSONA_NAMES
from experiments.pipelines import reuse
from experiments.pipelines.evaluation import to_jsonable, trait_subset
from experiments.pipelines.trait_arms import arm_config


def phase_bar(items, desc: str, config):
  """A progress bar over a pipeline phase (off when the arms' progress bars are off)."""
  items = list(items)
  return tqdm(items, desc=desc, unit="step", disable=not config.ppo_run.training.progress)


def persona_results(config, workdir, network, policies, rows, key, eval_kwargs, timer) -> dict:
  """Persona attacks: their rows (also `<workdir>/persona_attack.{json,csv}`), each
  persona's effect against `rows` (the suite without a persona) and which harmful
  personas bite (`scoreboard.persona_effects`, `scoreboard.attack_bites`)."""
  persona_rows = []
  pairs = [(n, p) for n in config.persona_arms for p in config.personas]
  with timer.phase("persona_attacks"):
    for name, persona in phase_bar(pairs, "persona attacks", config):
      res = evaluate_suite(
        network, policies[name], config.suite, arm=name, key=key, persona=persona, **eval_kwargs
      )
      persona_rows += [{**r, "persona": persona} for r in res.rows]
  write_results(persona_rows, os.path.join(workdir, "persona_attack"))
  harmful = tuple(p for p in config.personas if p in EVAL_HARMFUL_PERSONA_NAMES)
  effects = scoreboard.persona_effects(rows, persona_rows, harmful)
  return {
    "personas": persona_rows,
    "persona_effects": effects,
    "attack_bites": scoreboard.attack_bites(effects, harmful),
  }


def pressure_results(config, network, policies, splits, key, timer) -> dict:
  """{arm: the score at every turn of escalating pressure} (`evals.pressure`)."""
  from alignment_rl.evals.pressure import pressure_curve

  out = {}
  data = splits[config.pressure_split]
  with timer.phase("pressure"):
    for name in phase_bar(config.persona_arms, "multi-turn pressure", config):
      curve = pressure_curve(
        network,
        policies[name],
        trait_subset(data, config.pressure_samples),
        key,
        max_turns=int(config.pressure_turns),
      )
      out[name] = to_jsonable(curve)
  return out


def finetune_results(config, workdir, prior_dir, same_prior, splits, max_samples, timer) -> dict:
  """{start model: the suite after every harmful fine-tuning stage}. The attack is the
  baseline arm's PPO run retargeted to bad medical advice (`attack_config`); stages that
  a workdir of `same_prior` ran from the same start model are copied."""
  dirs = {"prior": prior_dir, **{n: os.path.join(workdir, f"arm_{n}") for n in config.arms}}
  attack_run = arm_config(config, config.baseline, prior_dir)
  stages, per_stage = int(config.finetune_stages), int(config.finetune_updates)
  stage_config = attack_config(attack_run, prior_dir, updates=per_stage).to_json_best_effort()
  with timer.phase("harmful_finetune"):
    starts = {}
    for name in config.finetune_from:
      finetune_dir = os.path.join(workdir, f"finetune_{name}")
      # Stages that another workdir ran from the same start model are copied.
      candidates = reuse.finetune_candidates(dirs[name], same_prior)
      reuse.reuse_stages(finetune_dir, json.loads(stage_config), candidates, stages)
      starts[name] = (dirs[name], finetune_dir)
    # Every start model's stage i trains in one vmapped program (same budget).
    out = harmful_finetune_many(
      attack_run,
      starts,
      num_stages=stages,
      updates_per_stage=per_stage,
      suite=config.suite,
      max_samples=max_samples,
      data_config=config.data_config,
      splits=splits,
      eval_seed=config.eval_seed,
      batch=config.get("batch_runs", "auto"),
    )
    return {name: out[name]["curve"] for name in config.finetune_from}
