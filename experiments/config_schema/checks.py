"""Checks that relate several fields: sizes that must divide, names that must refer to
arms, paths a config reads. Each raises one `ConfigError` naming the field to change.

`check_sizes` and `check_references` need no imports beyond the config;
`check_pipeline` runs the pipelines' own checks (`trait_rl.check_arms`, ...), which
import the library, and so runs last.
"""

from __future__ import annotations

from experiments.config_schema import paths
from experiments.config_schema.fields import ConfigError


def _ppo_sizes(config, p: str) -> None:
  ppo = _node(config, p + "ppo")
  n = ppo.num_envs * ppo.num_steps
  if n % ppo.num_minibatches:
    raise ConfigError(
      f"{p}ppo.num_minibatches",
      ppo.num_minibatches,
      f"a divisor of {p}ppo.num_envs x {p}ppo.num_steps = {n}",
    )
  if ppo.total_timesteps < n:
    raise ConfigError(
      f"{p}ppo.total_timesteps",
      ppo.total_timesteps,
      f"an integer >= {p}ppo.num_envs x {p}ppo.num_steps = {n} (one update)",
    )
  run = _node(config, p) if p else config
  check_split(run, p, int(run.num_devices), "ppo.num_envs")
  kw = run.env_kwargs
  lo, hi, cap = kw.get("min_turns"), kw.get("max_turns"), kw.get("max_turns_capacity")
  if lo is not None and hi is not None and lo > hi:
    raise ConfigError(f"{p}env_kwargs.min_turns", lo, f"an integer <= {p}env_kwargs.max_turns")
  if hi is not None and cap is not None and hi > cap:
    raise ConfigError(
      f"{p}env_kwargs.max_turns", hi, f"an integer <= {p}env_kwargs.max_turns_capacity = {cap}"
    )
  objectives = tuple(run.ppo.get("objectives", ()))
  if "weight_anchor" in objectives and "ewc" in objectives:
    raise ConfigError(f"{p}ppo.objectives", objectives, "at most one of 'weight_anchor', 'ewc'")


def _node(config, prefix: str):
  node = config
  for part in filter(None, prefix.split(".")):
    node = node[part]
  return node


def check_split(run, p: str, devices: int, envs_field: str) -> None:
  """The axis that `split_over` splits must be a multiple of `devices` (0: unchecked)."""
  if devices <= 0:
    return
  if run.split_over == "seeds":
    field, size = "num_seeds", run.num_seeds
  else:
    field, size = envs_field, _node(run, envs_field)
  if size % devices:
    raise ConfigError(
      f"{p}{field}",
      size,
      f"a multiple of the {devices} devices it is split over (split_over={run.split_over!r})",
    )


def check_sizes(config, ppo_prefixes: tuple[str, ...]) -> None:
  """Batch sizes that must divide, per PPO run of the config; the prior's seeds."""
  for p in ppo_prefixes:
    _ppo_sizes(config, p)
  if "prior" in config and "ppo_run" in config:
    if config.prior.num_seeds != config.ppo_run.num_seeds:
      raise ConfigError(
        "prior.num_seeds",
        config.prior.num_seeds,
        f"ppo_run.num_seeds = {config.ppo_run.num_seeds} (each arm starts from its seed's prior)",
      )


def _arm_names(config, field: str, allowed: list[str]) -> None:
  for name in config.get(field, ()):
    if name not in allowed:
      raise ConfigError(field, tuple(config[field]), f"names among {', '.join(allowed)}")


def check_references(config) -> None:
  """A `trait_rl` config's arm references name its arms (and `prior` where it may)."""
  if "arms" not in config or not hasattr(config.arms, "keys"):
    return
  arms = list(config.arms.keys())
  for field in ("treatment", "baseline"):
    if config[field] not in arms:
      raise ConfigError(field, config[field], f"one of the arms: {', '.join(arms)}")
  if config.treatment == config.baseline:
    raise ConfigError("treatment", config.treatment, f"an arm other than baseline={arms!r}")
  _arm_names(config, "also_compare", arms)
  if config.get("personas") or config.get("pressure_turns"):  # Else unused.
    _arm_names(config, "persona_arms", ["prior", *arms])
  if config.get("finetune_stages"):
    _arm_names(config, "finetune_from", ["prior", *arms])
  negative = [n for n in arms if config.arms[n].get("rubric_control", "none") != "none"]
  _arm_names(config, "controls", negative)


def check_gridworlds(config) -> None:
  """Levels of known environments; held-out environments not among the trained ones."""
  from experiments.config_schema import names

  for env in config.get("levels", {}).keys():
    if env not in names.gridworlds():
      allowed = f"levels of the gridworlds {', '.join(names.gridworlds())}"
      raise ConfigError(f"levels.{env}", config.levels[env], allowed)
  if "transfer" in config:
    both = set(config.transfer.train_envs) & set(config.transfer.heldout_envs)
    if both:
      raise ConfigError(
        "transfer.heldout_envs",
        tuple(config.transfer.heldout_envs),
        f"environments not in transfer.train_envs (both hold {', '.join(sorted(both))})",
      )


def check_paths(config, workdir: str | None) -> None:
  """The workdir, and every folder the config reads."""
  if workdir is not None:
    paths.check_workdir(workdir)
  for field in ("data_dir", "prior.data.data_dir", "ppo_run.env_kwargs.data_dir"):
    try:
      value = _node(config, field)
    except (KeyError, AttributeError):
      continue
    paths.check_data_dir(value, field)
  for p in ("", "ppo_run.", "attack_ppo."):
    try:
      init_from = _node(config, p + "training.init_from")
    except (KeyError, AttributeError):
      continue
    if init_from:
      paths.check_run_folder(init_from, p + "training.init_from")
  for other in filter(None, str(config.get("reuse_from", "")).split(",")):
    paths.check_run_folder(other, "reuse_from")


def check_pipeline(config, experiment: str) -> None:
  """The pipelines' own checks, re-raised as one `ConfigError` line."""
  try:
    if "arms" in config and hasattr(config.arms, "keys"):
      from experiments.pipelines import trait_rl

      trait_rl.check_arms(config)
    if experiment == "evaluate":
      if not config.checkpoint:
        raise ConfigError("checkpoint", "", "`dir` or `name=dir` of finished runs (required)")
      from experiments.pipelines import evaluation

      for name, path in evaluation.checkpoints(config).items():
        paths.check_run_folder(path, f"checkpoint {name!r}")
  except ConfigError:
    raise
  except ValueError as e:  # "field: what is wrong" -> "field: value — allowed: what is wrong"
    field, _, rest = str(e).partition(":")
    try:
      value = _node(config, field)
    except (KeyError, AttributeError):
      raise ConfigError.from_message(str(e)) from None
    raise ConfigError(field, value, rest.strip()) from None
