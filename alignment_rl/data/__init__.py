"""Scenario data of the conversation world: generator, TFDS builder and loader.

`load_split(split, config="full", data_dir=None, ...)` is the entry point; it builds
the TFDS dataset on first use (no TensorFlow needed) and returns stacked numpy arrays
with the fixed shapes of `alignment_rl.language.schema.FIELDS`.
"""

from alignment_rl.data.generator import (
  CONFIGS,
  FULL,
  SMALL,
  VERSION,
  GeneratorConfig,
  generate_split,
)
from alignment_rl.data.loader import (
  check_world_version,
  load_split,
  make_builder,
  scenario_config,
  world_digest,
)

__all__ = [
  "CONFIGS",
  "FULL",
  "SMALL",
  "VERSION",
  "GeneratorConfig",
  "check_world_version",
  "generate_split",
  "load_split",
  "make_builder",
  "scenario_config",
  "world_digest",
]
