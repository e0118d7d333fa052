"""The launcher's checks of its input, before any work, and which errors are one line.

`check_overrides` runs before the absl config flag exists (config_flags applies the
`--config.<field>=` overrides to the config while defining the flag): it loads the
config file and checks that every override names a field. `plan` lists the runs to do
(every sweep point) and validates each one's config and workdir against their declared
ranges (`experiments.config_schema`), writing nothing. `one_line_errors` are the errors
of bad input that `experiments.main` prints as one line, `error: field: value — allowed:
...`, exiting non-zero.
"""

from __future__ import annotations

import glob
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = os.path.join(ROOT, "configs", "trait_rl_vs_baseline.py") + ":runlocal"


def plan(
  config, workdir: str, sweep_points: list[dict] | None = None, index: int | None = None
) -> list[tuple]:
  """[(name, config, workdir)] of the runs to do (of sweep point `index` only, if
  given), every sweep point validated before any runs.

  Raises `ConfigError` (one line) for an `index` out of range and for the first field,
  sweep point or workdir outside its declared range (`experiments.config_schema`);
  writes nothing.
  """
  from experiments import sweep
  from experiments.config_schema import ConfigError, validate

  validate(config, workdir)
  if sweep_points is None:
    return [(None, config, workdir)]
  try:
    points = sweep.expand(config, sweep_points)
  except (KeyError, ValueError) as e:
    raise ConfigError("--sweep", sweep_points, str(e.args[0])) from None
  jobs = [(n, c, os.path.join(workdir, n)) for n, c in points]
  chosen = jobs if index is None else sweep.select(jobs, index)
  for name, point, point_dir in jobs:
    try:
      validate(point, point_dir)
    except ConfigError as e:
      raise ConfigError.from_message(f"{e} (sweep point {name})") from None
  return chosen


def config_path(argv: list[str]) -> str:
  """The `--config` value of the command line `argv` (`path.py[:arg]`; default: the
  main job's)."""
  path = DEFAULT_CONFIG
  for i, arg in enumerate(argv):
    if arg.startswith("--config="):
      path = arg.split("=", 1)[1]
    elif arg == "--config" and i + 1 < len(argv):
      path = argv[i + 1]
  return path


def check_overrides(argv: list[str]) -> None:
  """Raises one `ConfigError` if the config file fails or an override names no field."""
  from experiments import sweep
  from experiments.config_schema import ConfigError

  path = config_path(argv)
  file, _, arg = path.partition(":")
  if not os.path.isfile(file):
    known = ", ".join(
      sorted(os.path.basename(f) for f in glob.glob(os.path.join(ROOT, "configs", "[a-z]*.py")))
    )
    raise ConfigError("--config", path, f"configs/<file>.py[:arg], files: {known}")
  try:
    config = sweep.load_config_module(file).get_config(arg or None)
  except Exception as e:  # noqa: BLE001 - any failure of the user's config file.
    text = " ".join(str(e).split()) or type(e).__name__
    allowed = text.split("allowed:", 1)[1].strip() if "allowed:" in text else None
    if allowed is None:
      allowed = f"a config file whose get_config({arg or None!r}) works; {type(e).__name__}: {text}"
    raise ConfigError("--config", path, allowed) from None
  for arg_ in argv:
    if not arg_.startswith("--config."):
      continue
    field, _, value = arg_[len("--config.") :].partition("=")
    node = config
    for depth, part in enumerate(field.split(".")):
      if not hasattr(node, "keys") or part not in node:
        where = ".".join(field.split(".")[:depth]) or "config"
        if not hasattr(node, "keys"):
          raise ConfigError(f"--config.{field}", value, f"none: {where} is a value, not a group")
        known = ", ".join(sorted(node.keys()))
        raise ConfigError(f"--config.{field}", value, f"a field of {where}: {known}")
      node = node[part]


def one_line_errors() -> tuple[type, ...]:
  """Errors of bad input, printed as one line: the config's, and those of the library's
  modules already imported (a module not imported cannot have raised)."""
  errors = [KeyError, ValueError]
  for module, name in (
    ("alignment_rl.training.checkpoint_checks", "CheckpointError"),
    ("alignment_rl.training.trainer", "NonFiniteLossError"),
  ):
    if module in sys.modules:
      errors.append(getattr(sys.modules[module], name))
  return tuple(errors)
