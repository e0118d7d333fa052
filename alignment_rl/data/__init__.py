"""Scenario data of the conversation world: generator, TFDS builder and loader.

`load_split(split, config="full", data_dir=None, ...)` is the entry point; it builds
the TFDS dataset on first use (no TensorFlow needed) and returns stacked numpy arrays
with the fixed shapes of `alignment_rl.language.schema.FIELDS`; `split_rows` is the one
filter of a split's scenarios by family, domain and trait.
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
from alignment_rl.data.select import FAMILY_NAMES, TRAIT_NAMES, split_rows

__all__ = [
  "CONFIGS",
  "FAMILY_NAMES",
  "FULL",
  "SMALL",
  "TRAIT_NAMES",
  "VERSION",
  "GeneratorConfig",
  "check_world_version",
  "generate_split",
  "load_split",
  "make_builder",
  "scenario_config",
  "split_rows",
  "world_digest",
]
