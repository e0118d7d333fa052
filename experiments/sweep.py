"""Sweeps: a config file's `get_sweep()` expanded into one config per point, and run.

Every point runs in its own workdir, `<workdir>/<index>_<overrides>/`, so a sweep can
run in one process (`--sweep`) or spread over machines, one point per process
(`--sweep_index=K`, e.g. a SLURM array); `sweep_report` gathers the finished points.
In one process, points of a plain PPO experiment that share a compiled program (they
differ only in array leaves: `hparams.*`, the seed, an environment's param-only
kwargs) train as one program vmapped over points x seeds (`batched.train_together`);
the others, and every point of a pipeline experiment, run one after another.
"""

from __future__ import annotations

import importlib.util
import json
import os

import ml_collections

from alignment_rl.training import distributed

# Written into a point's workdir when the point has finished (`sweep_report` reads it).
POINT_FILE = "sweep_point.json"


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


def select(jobs: list, index: int) -> list:
  """The one job of sweep point `index`; out of range is a one-line `ConfigError`."""
  from experiments.config_schema import ConfigError

  if isinstance(index, bool) or not 0 <= index < len(jobs):
    raise ConfigError.from_message(f"--sweep_index: {index} — allowed: 0..{len(jobs) - 1}")
  return [jobs[index]]


def flat_fields(tree: dict, prefix: str = "") -> dict:
  """`tree` (nested dicts) as one dict of dotted keys."""
  out = {}
  for key, value in tree.items():
    if isinstance(value, dict):
      out.update(flat_fields(value, f"{prefix}{key}."))
    else:
      out[f"{prefix}{key}"] = value
  return out


def differing_fields(configs) -> list[str]:
  """The dotted config fields whose values differ between `configs`."""
  flat = [flat_fields(c.to_dict()) for c in configs]
  keys = sorted(set().union(*flat))
  return [k for k in keys if any(f.get(k) != flat[0].get(k) for f in flat[1:])]


def _together(run_fn):
  """The batched form of an experiment's run function, or None (a pipeline)."""
  from experiments import runs

  return {runs.run_ppo: runs.run_ppo_together}.get(run_fn)


def share_program(configs) -> bool:
  """Whether every config compiles to the same single-device training program."""
  from alignment_rl.training import trainer

  programs = {id(p): p for p in (trainer.get_program(c) for c in configs)}
  return len(programs) == 1 and next(iter(programs.values())).mesh.devices.size == 1


def run(run_fn, jobs: list, log=print) -> list[dict]:
  """Runs every job `(name, config, workdir)` (see the module docstring); marks each
  finished sweep point (`write_point`); returns their summaries in order."""
  configs = [c for _, c, _ in jobs]
  together = _together(run_fn) if len(jobs) > 1 else None
  fields = ", ".join(differing_fields(configs)) or "nothing"
  if together is not None and share_program(configs):
    log(
      f"sweep: {len(jobs)} points differ only in array leaves ({fields}): "
      "trained together as one vmapped program (one compilation)"
    )
    summaries = together(configs, [d for _, _, d in jobs])
    for (name, _, point_dir), summary in zip(jobs, summaries, strict=True):
      write_point(point_dir, name, summary)
    return summaries
  if len(jobs) > 1:
    why = "a pipeline experiment" if together is None else f"static fields differ: {fields}"
    log(f"sweep: {len(jobs)} points run one after another ({why})")
  summaries = []
  for name, config, point_dir in jobs:
    summaries.append(run_fn(config, point_dir))
    if name is not None:
      write_point(point_dir, name, summaries[-1])
  return summaries


def write_point(point_dir: str, name: str, summary: dict) -> None:
  """Marks a point finished: `{name, summary}` in `<point_dir>/POINT_FILE`, atomically."""
  if not distributed.is_primary():  # One writer in a multi-process run.
    return
  path = os.path.join(point_dir, POINT_FILE)
  with open(path + ".tmp", "w", encoding="utf-8") as f:
    json.dump({"name": name, "summary": summary}, f, indent=2, default=str)
  os.replace(path + ".tmp", path)
