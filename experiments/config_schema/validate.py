"""`validate(config, workdir)`: the whole config against its declared ranges, before any work.

Order (cheapest first, so that most mistakes fail before JAX is imported):
  1. the experiment has a schema, and every field of the config is declared;
  2. every field with a fixed range (numbers, booleans, fixed choices);
  3. sizes that must divide, arm references, the workdir and the folders read;
  4. names checked against the library's registries and tables (imports it);
  5. the pipelines' own checks (`trait_rl.check_arms`, the evaluated checkpoints).
The first failure raises one `ConfigError`: `field: value — allowed: ...`.
Nothing is written, created or deleted.
"""

from __future__ import annotations

from collections.abc import Iterator

import ml_collections

from experiments.config_schema import checks, declared
from experiments.config_schema.declared import SCHEMAS
from experiments.config_schema.fields import ConfigError, Spec

#: Where a config of each schema holds its PPO runs (for the checks across fields).
PPO_MOUNTS = {
  id(declared.ROOT_PPO): ("",),
  id(declared.GRIDWORLDS): ("",),
  id(declared.GRIDWORLDS_TRANSFER): ("",),
  id(declared.TRAIT_RL): ("ppo_run.",),
  id(declared.CONVERSATION_RL): ("ppo_run.",),
  id(declared.EVALUATE): ("attack_ppo.",),
}


def ppo_prefixes(experiment: str) -> tuple[str, ...]:
  """The path prefixes at which `experiment`'s config holds a PPO run."""
  return PPO_MOUNTS.get(id(SCHEMAS[experiment]), ())


def spec_for(schema: dict[str, Spec], path: str) -> Spec | None:
  """The declared spec of a dotted `path` (exact, else a pattern with `*`), or None."""
  if path in schema:
    return schema[path]
  parts = path.split(".")
  for key, spec in schema.items():
    if "*" not in key:
      continue
    kparts = key.split(".")
    if len(kparts) == len(parts) and all(k in ("*", p) for k, p in zip(kparts, parts, strict=True)):
      return spec
  return None


def leaves(config, prefix: str = "") -> Iterator[tuple[str, object]]:
  """(dotted path, value) of every leaf field; empty groups have none."""
  for key in config.keys():
    value = config[key]
    if isinstance(value, (ml_collections.ConfigDict, dict)):
      yield from leaves(value, f"{prefix}{key}.")
    else:
      yield f"{prefix}{key}", value


def declared_fields(config) -> list[tuple[str, object, Spec | None]]:
  """(path, value, spec or None) of every leaf of `config`, by its experiment's schema."""
  schema = SCHEMAS.get(config.get("experiment"))
  if schema is None:
    return [(p, v, None) for p, v in leaves(config)]
  return [(p, v, spec_for(schema, p)) for p, v in leaves(config)]


def _check_experiment(config) -> str:
  if "experiment" not in config:
    raise ConfigError("experiment", None, "a registered experiment name (the field is missing)")
  experiment = config.experiment
  if experiment not in SCHEMAS:
    known = ", ".join(map(repr, sorted(SCHEMAS)))  # = the registered ones (tested)
    raise ConfigError("experiment", experiment, f"one of {known}")
  return experiment


def validate(config, workdir: str | None = None) -> None:
  """Raises one `ConfigError` for the first field (or path) outside its declared range.

  Args:
    config: an experiment's ConfigDict (as `configs/<name>.py:get_config` builds it,
      with overrides applied).
    workdir: the run's output folder, checked (a file, not writable, under a file)
      when given; nothing is created.
  """
  experiment = _check_experiment(config)
  fields = declared_fields(config)
  for path, value, spec in fields:
    if spec is None:
      raise ConfigError(
        path,
        value,
        f"no declared range for a field of {experiment!r} "
        "(declare it in experiments/config_schema/declared.py)",
      )
  for path, value, spec in fields:
    if not spec.lazy and not spec.allows(value):
      raise ConfigError(path, value, spec.describe())
  checks.check_sizes(config, ppo_prefixes(experiment))
  checks.check_references(config)
  checks.check_paths(config, workdir)
  for path, value, spec in fields:
    if spec.lazy and not spec.allows(value):
      raise ConfigError(path, value, spec.describe())
  checks.check_gridworlds(config)
  checks.check_pipeline(config, experiment)


def check_devices(config, num_devices: int) -> None:
  """Device counts, once JAX is up: `num_devices` at most those present, and the split
  axis of every PPO run a multiple of the devices it is split over."""
  experiment = _check_experiment(config)
  for p in ppo_prefixes(experiment):
    run = config
    for part in filter(None, p.split(".")):
      run = run[part]
    asked = int(run.num_devices)
    if asked > num_devices:
      raise ConfigError(
        f"{p}num_devices", asked, f"0 (all) to {num_devices}, the devices of all processes"
      )
    checks.check_split(run, p, asked or num_devices, "ppo.num_envs")
  if experiment == "imitate_prior" and config.split_over == "seeds":
    asked = int(config.num_devices)
    if asked > num_devices:
      allowed = f"0 (all) to {num_devices}, the devices of all processes"
      raise ConfigError("num_devices", asked, allowed)
    checks.check_split(config, "", asked or num_devices, "num_seeds")
