"""Every field of every registered config has a declared range, and every shipped config
(each scale, each sweep point) is inside its ranges."""

from __future__ import annotations

import glob
import os

import pytest

from configs.common import ppo_config
from experiments import sweep
from experiments.config_schema import declared_fields, validate
from experiments.config_schema import names as schema_names
from experiments.config_schema.declared import SCHEMAS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG_FILES = sorted(
  os.path.basename(p)[:-3]
  for p in glob.glob(os.path.join(ROOT, "configs", "[a-z]*.py"))
  if os.path.basename(p) != "common.py"  # The defaults the configs start from.
)


def shipped_configs(name: str, tmp_path) -> list[tuple[str, object]]:
  """(label, config) for each scale of `configs/<name>.py` and each of its sweep points."""
  module = sweep.load_config_module(os.path.join(ROOT, "configs", f"{name}.py"))
  out = []
  for arg in ("runlocal", "test", None):
    try:
      config = module.get_config(arg)
    except ValueError:  # This file has no such scale.
      continue
    if config.experiment == "evaluate":  # Required at run time: a finished run's folder.
      config.checkpoint = str(tmp_path)
    out.append((f"{name}:{arg}", config))
    for point, c in sweep.expand(config, module.get_sweep()):
      out.append((f"{name}:{arg} {point}", c))
  assert out, f"configs/{name}.py builds no config"
  return out


def test_every_registered_experiment_has_a_schema():
  assert sorted(SCHEMAS) == sorted(schema_names.experiments())


@pytest.mark.parametrize("name", CONFIG_FILES)
def test_every_field_has_a_declared_range_and_shipped_values_are_in_it(name, tmp_path):
  for label, config in shipped_configs(name, tmp_path):
    missing = [path for path, _, spec in declared_fields(config) if spec is None]
    assert not missing, f"{label}: fields without a declared range: {missing}"
    validate(config)


def test_base_ppo_config_is_declared_with_the_runtime_fields():
  config = ppo_config()
  config.training.resume = "latest"  # Being added to defaults.py; declared already.
  config.training.overwrite = False
  missing = [path for path, _, spec in declared_fields(config) if spec is None]
  assert not missing, missing
  validate(config)


def test_a_new_field_without_a_range_is_refused():
  config = ppo_config()
  config.ppo.new_knob = 1
  with pytest.raises(ValueError, match=r"^ppo\.new_knob: 1 — allowed: no declared range"):
    validate(config)
