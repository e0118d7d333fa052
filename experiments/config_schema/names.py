"""The allowed names of config fields, read from the library's own registries and tables.

Each function imports what it needs only when called (many of these modules import
JAX), so `validate` checks every plain range first and fails fast on those.
"""

from __future__ import annotations


def experiments() -> list[str]:
  from experiments import pipelines  # noqa: F401  (registers every experiment)
  from experiments.registry import EXPERIMENTS

  return EXPERIMENTS.names()


def environments() -> list[str]:
  import alignment_rl.envs  # noqa: F401  (registers every environment)
  from alignment_rl.registry import ENVIRONMENTS

  return ENVIRONMENTS.names()


def networks() -> list[str]:
  import alignment_rl.networks  # noqa: F401  (registers every network)
  from alignment_rl.registry import NETWORKS

  return NETWORKS.names()


def graders() -> list[str]:
  import alignment_rl.rubrics  # noqa: F401  (registers every grader)
  from alignment_rl.registry import GRADERS

  return GRADERS.names()


def suites() -> list[str]:
  from alignment_rl.evals import suite

  return list(suite.SUITES)


def objectives() -> tuple[str, ...]:
  from alignment_rl.agents.persistence import OBJECTIVES

  return OBJECTIVES


def controls() -> tuple[str, ...]:
  from alignment_rl.envs.conversations.controls import CONTROLS

  return CONTROLS


def families() -> tuple[str, ...]:
  """Trait families a training arm may select (held-out ones are evaluation-only)."""
  from alignment_rl.language import schema

  return tuple(f.name.lower() for f in schema.TRAINING_FAMILIES)


def domains() -> tuple[str, ...]:
  from alignment_rl.language.lexicon import TRAIN_DOMAINS

  return TRAIN_DOMAINS


def personas() -> tuple[str, ...]:
  from alignment_rl.language import personas as p

  return p.EVAL_HARMFUL_PERSONA_NAMES + p.EVAL_HELPFUL_PERSONA_NAMES


def splits() -> tuple[str, ...]:
  from alignment_rl.language import schema

  return schema.SPLITS


def data_configs() -> tuple[str, ...]:
  from alignment_rl.data.generator import CONFIGS

  return tuple(CONFIGS)


def world_versions() -> tuple[str, ...]:
  from alignment_rl.data.generator import VERSION

  return (VERSION,)


def gridworlds() -> tuple[str, ...]:
  from alignment_rl.envs.gridworlds import ENV_NAMES

  return tuple(ENV_NAMES)


def reward_modes() -> tuple[str, ...]:
  from alignment_rl.envs.gridworlds.multi import REWARD_MODES

  return REWARD_MODES
