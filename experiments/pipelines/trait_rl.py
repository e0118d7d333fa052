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
from tqdm.auto import tqdm

from alignment_rl.agents import persistence
from alignment_rl.data import check_world_version, load_split, scenario_config, world_digest
from alignment_rl.envs.conversations import controls
from alignment_rl.evals import scoreboard, stats
from alignment_rl.evals import suite as suite_lib
from alignment_rl.evals.evaluate import evaluate, write_results
from alignment_rl.evals.harmful_finetune import attack_config, harmful_finetune_many
from alignment_rl.language.personas import EVAL_HARMFUL_PERSONA_NAMES
from alignment_rl.training import batched, checkpointing, scalar_sinks, trainer
from experiments.pipelines import prior_cache, reuse
from experiments.pipelines.conversation import assert_compute_matched
from experiments.pipelines.evaluation import to_jsonable, trait_subset
from experiments.registry import EXPERIMENTS

EVAL_SPLITS = ("test", "heldout_domains", "heldout_formats")


def surface_overlap(config) -> float | None:
  """The pipeline's `surface_overlap` override, or None when it is unset or equals the
  dataset's own (then the prior and arm configs are those of a run that never set it:
  the same data and the same computation, which `reuse_from` finds)."""
  value = config.get("surface_overlap")
  if value is None or float(value) == scenario_config(config.data_config).surface_overlap:
    return None
  return float(value)


def arm_config(config, name: str, prior_dir: str) -> ml_collections.ConfigDict:
  """The PPO config of arm `name`: the shared `ppo_run` with the arm's mixture."""
  arm = config.arms[name]
  c = ml_collections.ConfigDict(config.ppo_run.to_dict())
  c.experiment = f"{config.experiment}/{name}"
  c.env_kwargs.grader = arm.grader
  c.env_kwargs.trait_fraction = float(arm.trait_fraction)
  c.env_kwargs.families = tuple(arm.get("families", ()))
  c.env_kwargs.domains = tuple(arm.get("domains", ()))
  if arm.get("persona_augment", 0.0):  # Persistence objective: adversarial personas.
    c.env_kwargs.persona_augment = float(arm.persona_augment)
  if arm.get("rubric_control", "none") != "none":  # A negative-control reward.
    c.env_kwargs.rubric_control = arm.rubric_control
    # Recorded, so that an arm of another control algorithm is never reused for it.
    c.env_kwargs.rubric_control_version = controls.VERSION
    if arm.get("control_seed", 0):
      c.env_kwargs.rubric_control_seed = int(arm.control_seed)
  if arm.get("objectives", ()):  # Persistence objectives in the PPO loss.
    c.ppo.objectives = tuple(persistence.check_objectives(arm.objectives))
  if surface_overlap(config) is not None:
    c.env_kwargs.surface_overlap = surface_overlap(config)
  c.training.init_from = prior_dir
  return c


def train_arms(config, workdir: str, prior_dir: str, reuse_arms: list[str] = ()) -> dict:
  """Trains every arm (resuming finished ones, or copying an equal finished arm of
  `reuse_arms`); returns {name: (params, history, program)}."""
  names, configs, dirs = list(config.arms), [], []
  for name in names:
    c = arm_config(config, name, prior_dir)
    arm_dir = os.path.join(workdir, f"arm_{name}")
    config_dict = json.loads(c.to_json_best_effort())
    reuse.reuse_run(arm_dir, config_dict, list(reuse_arms), reuse.finished_arm)
    configs.append(c)
    dirs.append(arm_dir)
  # Arms sharing one compiled program run as one program vmapped over arms x seeds
  # (`batch_runs`: on accelerators by default; no faster on a CPU).
  results = batched.train_together(
    configs, dirs, desc=f"{config.experiment} arms", batch=config.get("batch_runs", "auto")
  )
  out = {
    n: (r.runner.ppo.params, r.history, trainer.get_program(c))
    for n, r, c in zip(names, results, configs, strict=True)
  }
  assert_compute_matched({n: v[2] for n, v in out.items()})
  return out


def _bar(items, desc: str, config):
  """A progress bar over a pipeline phase (off when the arms' progress bars are off)."""
  items = list(items)
  return tqdm(items, desc=desc, unit="step", disable=not config.ppo_run.training.progress)


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


def check_arms(config) -> None:
  """One-line errors, before any work, for arms that would fail later: an unknown
  `rubric_control`, an unknown or held-out trait family, or `controls` naming an arm
  that is not a negative control."""
  from alignment_rl.envs.conversations import controls, mixture
  from alignment_rl.language import schema

  heldout = {f.name.lower() for f in schema.HELDOUT_FAMILIES}
  for name in config.arms:
    arm = config.arms[name]
    try:
      controls.check_control(arm.get("rubric_control", "none"))
    except ValueError as e:
      raise ValueError(f"arms.{name}: {e}") from None
    for family in arm.get("families", ()):
      if family not in mixture.FAMILY_NAMES or family in heldout:
        allowed = ", ".join(f.name.lower() for f in schema.TRAINING_FAMILIES)
        raise ValueError(f"arms.{name}.families: {family!r} is not allowed; allowed: {allowed}")
  for name in config.get("controls", ()):
    if name not in config.arms or config.arms[name].get("rubric_control", "none") == "none":
      known = [n for n in config.arms if config.arms[n].get("rubric_control", "none") != "none"]
      raise ValueError(f"controls: {name!r} is not a negative-control arm; known: {known}")


def _check_other_world(other: str) -> None:
  """Refuses (one line) a `reuse_from` workdir whose runs are of another world."""
  path = os.path.join(other, "pipeline_config.json")
  if not os.path.exists(path):
    return
  with open(path, encoding="utf-8") as f:
    saved = json.load(f)
  check_world_version(saved.get("world_version", "1.0.0"), f"reuse_from workdir {other!r}")


def run_trait_rl(config, workdir: str) -> dict:
  from alignment_rl.training import imitation
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
  with timer.phase("rl_arms"):
    arms = train_arms(config, workdir, prior_dir, reuse.arm_candidates(same_prior))
  first = next(iter(arms.values()))
  network = first[2].loop.network
  prior_params = checkpointing.load_final_params(prior_dir, first[0])
  policies = {"prior": prior_params, **{n: v[0] for n, v in arms.items()}}

  splits = _splits(config)
  max_samples = int(config.max_samples) or None
  common = {"splits": splits, "max_samples": max_samples, "data_config": config.data_config}
  key = jax.random.PRNGKey(config.eval_seed)
  rows, samples = [], {}
  with timer.phase("evaluation_suite"):
    for name, params in _bar(policies.items(), "evaluation suite", config):
      res = evaluate(network, params, config.suite, arm=name, key=key, **common)
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
  # Every arm starts from its seed's prior, so arms are compared paired by seed: the
  # paired t-test per behaviour (primary, BH over the disjoint behaviours) and per
  # evaluation (secondary, BH over the suite); the same on the samples neither arm
  # refused. Then the treatment against the baseline, the prior and every negative
  # control, with the paired effect on the suite mean.
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
  if config.get("reference_rows", False):
    from alignment_rl.evals import reference

    with timer.phase("reference_rows"):
      results["reference"] = reference.reference_rows(
        config.data_config,
        config.suite,
        splits={**splits, "train": _splits(config, ("train",))["train"]},
        max_samples=max_samples,
        budgets=tuple(config.reference_budgets),
        train_scenarios=int(config.reference_train_scenarios),
      )
  results["refusal_rates"] = {
    name: {
      ev: [float(x) for x in s["refused"].mean(axis=1)] for ev, s in sorted(samples[name].items())
    }
    for name in policies
  }

  if config.personas:
    persona_rows = []
    pairs = [(n, p) for n in config.persona_arms for p in config.personas]
    with timer.phase("persona_attacks"):
      for name, persona in _bar(pairs, "persona attacks", config):
        res = evaluate(
          network, policies[name], config.suite, arm=name, key=key, persona=persona, **common
        )
        persona_rows += [{**r, "persona": persona} for r in res.rows]
    write_results(persona_rows, os.path.join(workdir, "persona_attack"))
    results["personas"] = persona_rows
    harmful = tuple(p for p in config.personas if p in EVAL_HARMFUL_PERSONA_NAMES)
    results["persona_effects"] = scoreboard.persona_effects(rows, persona_rows, harmful)
    results["attack_bites"] = scoreboard.attack_bites(results["persona_effects"], harmful)

  if config.pressure_turns:
    from alignment_rl.evals.pressure import pressure_curve

    results["pressure"] = {}
    data = splits[config.pressure_split]
    with timer.phase("pressure"):
      for name in _bar(config.persona_arms, "multi-turn pressure", config):
        curve = pressure_curve(
          network,
          policies[name],
          trait_subset(data, config.pressure_samples),
          key,
          max_turns=int(config.pressure_turns),
        )
        results["pressure"][name] = to_jsonable(curve)

  if config.finetune_stages:
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
      results["harmful_finetune"] = {name: out[name]["curve"] for name in config.finetune_from}

  results["reused"] = reuse.sources(workdir)  # Now with the copied fine-tuning stages.
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
