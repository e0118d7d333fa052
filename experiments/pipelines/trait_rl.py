"""Trait RL against a compute-matched baseline: prior -> arms -> suite -> persistence.

Every DESIGN section 7 experiment on the conversation world is a config of this one
pipeline (`configs/<experiment>.py`); they differ in their arms and in which
persistence tests they run:

  1. prior: every seed imitates the assistant prior (the shared pre-RL start);
  2. arms: PPO from that prior, all arms and seeds in one vmapped program
     (`training.batched`; each arm keeps its own workdir). An arm is a
     mixture (`trait_fraction` of trait conversations, the rest the standard mixture
     graded by the `standard` proxy) with the trait data's grader (`rubric`;
     `helpfulness` for the control; a narrow bad reward for emergent misalignment)
     and its family/domain filter. Arms are asserted compute-matched: same updates,
     samples and parameter count;
  3. the evaluation suite on the prior and every arm; the scoreboard of
     `treatment` against `baseline`, the prior and the controls, paired by seed
     (every arm starts from its seed's prior): paired t-tests with BH over the
     disjoint behaviours (primary) and over every evaluation (secondary);
  4. persistence, each optional: evaluation personas on every arm; multi-turn
     pressure to `pressure_turns`; harmful fine-tuning from `finetune_from` (a
     compute-matched budget from each start model);
  5. `results.json` (everything the figures need), `report.md`, and the figures.

Files: this one runs the pipeline (and registers the experiments); `trait_arms` builds,
checks and trains the arms; `trait_persistence` runs the persistence tests.

The workdir is resumable: finished steps (prior, arms, fine-tuning stages) are
reused when the same command runs again, and a finished run returns its logged
results without recomputing; a workdir of another config is refused. With
`reuse_from` (other experiments' workdirs) a prior, arm or fine-tuning stage equal
to a finished one there is copied instead of trained (`pipelines.reuse`).
"""

from __future__ import annotations

import json
import os

import jax
import ml_collections

from alignment_rl.data import check_world_version, load_split, world_digest
from alignment_rl.evals import scoreboard, stats
from alignment_rl.evals import suite as suite_lib
from alignment_rl.evals.suite_runner import evaluate_suite, write_results
from alignment_rl.training import batched, checkpointing, scalar_sinks
from experiments.pipelines import prior_cache, reference_cache, reuse, trait_persistence
from experiments.pipelines.trait_arms import (  # noqa: F401  (also this module's API)
  arm_config,
  check_arms,
  surface_overlap,
  train_arms,
)
from experiments.registry import EXPERIMENTS

EVAL_SPLITS = ("test", "heldout_domains", "heldout_formats")


def _splits(config, names: tuple[str, ...] = EVAL_SPLITS) -> dict:
  kw = {}
  if surface_overlap(config) is not None:
    kw["surface_overlap"] = surface_overlap(config)
  data_dir = config.get("data_dir") or None
  return {s: load_split(s, config.data_config, data_dir, **kw) for s in names}


def _check_workdir(config, workdir: str) -> dict | None:
  """Refuses a workdir of another config (one line, nothing changed); returns the
  results of a finished run of this config, else writes the config and returns None."""
  path = os.path.join(workdir, "pipeline_config.json")
  current = json.loads(config.to_json_best_effort())
  if os.path.exists(path):
    with open(path, encoding="utf-8") as f:
      saved = json.load(f)
    check_world_version(saved.get("world_version", "1.0.0"), f"workdir {workdir!r}")
    diffs = checkpointing.config_differences(saved, current)
    if diffs:
      raise ValueError(
        f"workdir {workdir!r} holds a run of another config (fields: {', '.join(diffs[:8])}); "
        "use a new workdir or the original config"
      )
    results_path = os.path.join(workdir, "results.json")
    if os.path.exists(results_path):
      with open(results_path, encoding="utf-8") as f:
        return json.load(f)
    return None
  with open(path, "w", encoding="utf-8") as f:
    json.dump(current, f, indent=1)
  return None


def _check_other_world(other: str) -> None:
  """Refuses (one line) a `reuse_from` workdir whose runs are of another world."""
  path = os.path.join(other, "pipeline_config.json")
  if not os.path.exists(path):
    return
  with open(path, encoding="utf-8") as f:
    saved = json.load(f)
  check_world_version(saved.get("world_version", "1.0.0"), f"reuse_from workdir {other!r}")


def _train_prior(config, workdir: str, others: list[str], timer) -> tuple[str, list[str]]:
  """Imitates the assistant prior into `<workdir>/prior` (or copies an equal finished
  prior of `others` or of the shared prior cache); returns its directory and the
  workdirs of `others` whose prior equals it (their equal arms are reused)."""
  from alignment_rl.training import imitation

  prior_dir = os.path.join(workdir, "prior")
  prior_config = ml_collections.ConfigDict(config.prior.to_dict())
  # The prior is split over the devices as the arms are (one switch for the pipeline).
  prior_config.split_over = config.ppo_run.split_over
  prior_config.num_devices = config.ppo_run.num_devices
  if surface_overlap(config) is not None:
    prior_config.data.surface_overlap = surface_overlap(config)
  # Other workdirs whose finished prior equals this one: their equal arms are reused.
  prior_dict = json.loads(prior_config.to_json_best_effort())
  others = [w for w in others if os.path.abspath(w) != os.path.abspath(workdir)]
  same_prior = [
    w for w in others if reuse.matches(os.path.join(w, "prior"), prior_dict, reuse.finished_prior)
  ]
  reuse.reuse_run(
    prior_dir, prior_dict, [os.path.join(w, "prior") for w in same_prior], reuse.finished_prior
  )
  # Experiments under one workdir root share the imitated prior (content-addressed).
  cache = prior_cache.cache_root(workdir) if config.get("prior_cache", True) else None
  if cache:
    prior_cache.fetch(prior_dir, prior_dict, cache)
  with timer.phase("imitation"):
    imitation.train_prior_policy(prior_config, prior_dir)
  if cache:
    prior_cache.store(prior_dir, prior_dict, cache)
  return prior_dir, same_prior


def _comparisons(config, rows: list, samples: dict) -> dict:
  """The scoreboards of `results.json`: comparisons, versus_paired, versus, statistics.

  Every arm starts from its seed's prior, so arms are compared paired by seed: the
  paired t-test per behaviour (primary, BH over the disjoint behaviours) and per
  evaluation (secondary, BH over the suite); the same on the samples neither arm
  refused. Then the treatment against the baseline, the prior and every negative
  control, with the paired effect on the suite mean.
  """
  results = {}
  comparisons = {}
  for treatment in [config.treatment, *config.get("also_compare", ())]:
    comp = scoreboard.compare(rows, treatment, config.baseline, paired=True)
    strat = scoreboard.compare_refusal_stratified(
      samples[treatment], samples[config.baseline], paired=True
    )
    comparisons[treatment] = {"all": comp, "refusal_stratified": strat}
  results["comparisons"] = comparisons
  versus = ["prior", *config.get("controls", ())]
  results["versus_paired"] = {
    other: scoreboard.compare_paired(rows, config.treatment, other)
    for other in [config.baseline, *versus]
  }
  keys = ("test", "behaviour_headline", "headline")
  results["versus"] = {o: {k: results["versus_paired"][o][k] for k in keys} for o in versus}
  shared = {r["evaluation"] for r in rows}
  results["statistics"] = {
    "alpha": stats.ALPHA,
    "bh_q": stats.ALPHA,
    "test": scoreboard.TESTS[True],
    "interval": "95% Student-t over seeds",
    "behaviours": {
      b: [n for n in names if n in shared]
      for b, names in suite_lib.behaviours(config.suite).items()
    },
  }
  return results


def run_trait_rl(config, workdir: str) -> dict:
  """Runs the pipeline of the module docstring in `workdir`; returns `report.summary`."""
  from experiments.pipelines import report
  from experiments.pipelines.timing import PhaseTimer

  timer = PhaseTimer()

  check_world_version(config.get("world_version", "1.0.0"), "config")
  check_arms(config)
  batched.check_batch(config.get("batch_runs", "auto"))
  others = [w for w in config.get("reuse_from", "").split(",") if w]
  for other in others:
    _check_other_world(other)
  os.makedirs(workdir, exist_ok=True)
  finished = _check_workdir(config, workdir)
  if finished is not None:  # The same config already ran to the end here.
    return report.summary(finished)
  prior_dir, same_prior = _train_prior(config, workdir, others, timer)
  with timer.phase("rl_arms"):
    arms = train_arms(config, workdir, prior_dir, reuse.arm_candidates(same_prior))
  first = next(iter(arms.values()))
  network = first[2].loop.network
  prior_params = checkpointing.load_final_params(prior_dir, first[0])
  policies = {"prior": prior_params, **{n: v[0] for n, v in arms.items()}}

  splits = _splits(config)
  max_samples = int(config.max_samples) or None
  eval_kwargs = {"splits": splits, "max_samples": max_samples, "data_config": config.data_config}
  key = jax.random.PRNGKey(config.eval_seed)
  rows, samples = [], {}
  with timer.phase("evaluation_suite"):
    for name, params in trait_persistence.phase_bar(policies.items(), "evaluation suite", config):
      res = evaluate_suite(network, params, config.suite, arm=name, key=key, **eval_kwargs)
      rows += res.rows
      samples[name] = res.samples
  write_results(rows, os.path.join(workdir, "evaluation"))
  if config.ppo_run.training.get("log_tensorboard", False):  # Beside each arm's curves.
    for n, (_, history, program) in arms.items():
      step = int(history[-1]["update"]) if history else program.num_updates
      arm_rows = [r for r in rows if r["arm"] == n]
      scalar_sinks.log_suite_scores(os.path.join(workdir, f"arm_{n}"), step, arm_rows)
  results = {
    "experiment": config.experiment,
    "world": {"version": config.world_version, "content_hash": world_digest(splits)},
    "surface_overlap": config.get("surface_overlap"),
    "num_seeds": int(config.ppo_run.num_seeds),
    "arms": {n: config.arms[n].to_dict() for n in config.arms},
    "treatment": config.treatment,
    "baseline": config.baseline,
    "reused": {},
    "learning_curves": {
      n: [{"update": int(h["update"]), "reward": float(h["reward_per_step"])} for h in v[1]]
      for n, v in arms.items()
    },
    "evaluation": rows,
  }
  results.update(_comparisons(config, rows, samples))
  reference_entry = None
  if config.get("reference_rows", False):
    from alignment_rl.evals import reference

    cache = reference_cache.cache_root(workdir) if config.get("reference_cache", True) else None
    with timer.phase("reference_rows"):
      results["reference"], reference_entry = reference_cache.cached(
        cache,
        reference.reference_rows,
        {**splits, "train": _splits(config, ("train",))["train"]},
        data_config=config.data_config,
        suite_name=config.suite,
        max_samples=max_samples,
        budgets=list(config.reference_budgets),
        train_scenarios=int(config.reference_train_scenarios),
      )
  results["refusal_rates"] = {
    name: {
      ev: [float(x) for x in s["refused"].mean(axis=1)] for ev, s in sorted(samples[name].items())
    }
    for name in policies
  }

  if config.personas:
    results.update(
      trait_persistence.persona_results(
        config, workdir, network, policies, rows, key, eval_kwargs, timer
      )
    )
  if config.pressure_turns:
    results["pressure"] = trait_persistence.pressure_results(
      config, network, policies, splits, key, timer
    )
  if config.finetune_stages:
    results["harmful_finetune"] = trait_persistence.finetune_results(
      config, workdir, prior_dir, same_prior, splits, max_samples, timer
    )

  results["reused"] = reuse.sources(workdir)  # Now with the copied fine-tuning stages.
  if reference_entry:
    results["reused"]["reference_rows"] = reference_entry
  # Wall and compile seconds per phase of this invocation (a resumed run: its part).
  results["timings"] = timer.table()
  with open(os.path.join(workdir, "results.json"), "w", encoding="utf-8") as f:
    json.dump(results, f, indent=1)
  text = report.write_report(results, workdir, figures=bool(config.get("figures", True)))
  print(text)
  return report.summary(results)


EXPERIMENT_NAMES = (
  "trait_rl_vs_baseline",
  "health_only_transfer",
  "no_health_science",
  "generic_helpfulness_control",
  "persona_persistence",
  "harmful_finetune",
  "long_interaction_pressure",
  "emergent_misalignment",
  "surface_overlap_sweep",
  "refusal_side_effects",
  "persistence_objectives",
)
for _name in EXPERIMENT_NAMES:
  EXPERIMENTS.add(_name, run_trait_rl)
