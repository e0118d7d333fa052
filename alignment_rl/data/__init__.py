"""Scenario data of the conversation world: generator, TFDS builder and loader.

`load_split(split, config="full", data_dir=None, ...)` is the entry point; it builds
the TFDS dataset on first use (no TensorFlow needed) and returns stacked numpy arrays
with the fixed shapes of `alignment_rl.envs.conversations.schema.FIELDS`.
"""

from alignment_rl.data.generator import (
  CONFIGS,
  FULL,
  SMALL,
  VERSION,
  GeneratorConfig,
  generate_split,
)
from alignment_rl.data.loader import load_split, make_builder, scenario_config

__all__ = [
  "CONFIGS",
  "FULL",
  "SMALL",
  "VERSION",
  "GeneratorConfig",
  "generate_split",
  "load_split",
  "make_builder",
  "scenario_config",
]
