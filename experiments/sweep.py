"""Expands a config file's `get_sweep()` into one config per sweep point."""

from __future__ import annotations

import importlib.util
import os

import ml_collections


def load_config_module(path: str):
  """Imports a config file (`configs/<name>.py`, without a `:arg` suffix)."""
  path = path.split(":", 1)[0]
  name = "alignment_rl_config_" + os.path.splitext(os.path.basename(path))[0]
  spec = importlib.util.spec_from_file_location(name, path)
  if spec is None or spec.loader is None:
    raise FileNotFoundError(f"config file {path!r} cannot be imported")
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def apply_overrides(
  config: ml_collections.ConfigDict, overrides: dict
) -> ml_collections.ConfigDict:
  """A copy of `config` with dotted fields set; unknown fields raise one line."""
  config = ml_collections.ConfigDict(config.to_dict())
  for field, value in overrides.items():
    node = config
    parts = field.split(".")
    for part in parts[:-1]:
      if part not in node:
        raise KeyError(f"sweep override {field!r}: config has no field {part!r}")
      node = node[part]
    if parts[-1] not in node:
      raise KeyError(
        f"sweep override {field!r}: config has no field {parts[-1]!r}; "
        f"known: {', '.join(sorted(node.keys()))}"
      )
    node[parts[-1]] = value
  return config


def point_name(index: int, overrides: dict) -> str:
  parts = [f"{k.split('.')[-1]}={v}" for k, v in sorted(overrides.items())]
  return f"{index:03d}_" + ",".join(parts)


def expand(config, sweep: list[dict]) -> list[tuple[str, ml_collections.ConfigDict]]:
  """[(point name, config)] for every override dict of the sweep."""
  if not sweep:
    raise ValueError("get_sweep() returned no sweep points")
  return [(point_name(i, o), apply_overrides(config, o)) for i, o in enumerate(sweep)]
