"""The arms of a `trait_rl` experiment: each arm's PPO config, checked and trained.

An arm (`configs/common.py: arm`) is the experiment's shared `ppo_run` with its own
training mixture. `arm_config` writes the arm's fields into the run's `env_kwargs`,
the keyword arguments of the `conversation` env
(`alignment_rl/envs/conversations/mixture.py: make_conversation_env`), which uses them:

  arm field                     run field                   used by (alignment_rl/...)
  grader                        env_kwargs.grader           envs/conversations/mixture.py:
                                                              make_conversation_env
  trait_fraction, families,     env_kwargs, same names      envs/conversations/mixture.py:
    domains                                                   mixture_weights
  persona_augment               env_kwargs.persona_augment  envs/conversations/env.py:
                                                              ConversationEnv.reset_env
  rubric_control, control_seed  env_kwargs.rubric_control,  envs/conversations/controls.py:
                                  rubric_control_seed         apply_control
  objectives                    ppo.objectives              agents/ppo_loss.py:
                                                              persistence_loss

Those env kwargs only set array leaves of the env's params
(`mixture.PARAMS_ONLY_KWARGS`), so every arm shares one compiled program (the program
cache's key: `alignment_rl/training/program.py: STATIC_ENV_KWARGS`).
"""

from __future__ import annotations

import json
import os

import ml_collections

from alignment_rl.agents import persistence
from alignment_rl.data import scenario_config
from alignment_rl.envs.conversations import controls, mixture
from alignment_rl.language import schema
from alignment_rl.training import batched, trainer
from experiments.pipelines import reuse
from experiments.pipelines.conversation import assert_compute_matched


def surface_overlap(config) -> float | None:
  """The pipeline's `surface_overlap` override, or None when it is unset or equals the
  dataset's own (then the prior and arm configs are those of a run that never set it:
  the same data and the same computation, which `reuse_from` finds)."""
  value = config.get("surface_overlap")
  if value is None or float(value) == scenario_config(config.data_config).surface_overlap:
    return None
  return float(value)


def arm_config(config, name: str, prior_dir: str) -> ml_collections.ConfigDict:
  """The PPO config of arm `name`: the shared `ppo_run` with the arm's mixture (the
  module docstring's table), started from `prior_dir`."""
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


def check_arms(config) -> None:
  """One-line errors, before any work, for arms that would fail later: an unknown
  `rubric_control`, an unknown or held-out trait family, or `controls` naming an arm
  that is not a negative control."""
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


def train_arms(config, workdir: str, prior_dir: str, reuse_arms: list[str] = ()) -> dict:
  """Trains every arm into `<workdir>/arm_<name>` (resuming finished ones, or copying an
  equal finished arm of `reuse_arms`); returns {name: (params, history, program)}."""
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
