r"""Launches a registered experiment. The only place flags are defined.

  python -m experiments.main                                  # the main job
  python -m experiments.main --config=configs/cartpole_ppo.py:runlocal \
      --workdir=runs/cartpole --config.hparams.learning_rate=1e-3
  python -m experiments.main --config=configs/cartpole_ppo.py:runlocal --sweep
  python -m experiments.main --jax_distributed ...            # one process per host

Running the same command again with the same workdir resumes from the latest
checkpoint. Errors in the input (unknown experiment, malformed override,
mismatched or corrupt checkpoint) exit with one line on stderr.
"""

from __future__ import annotations

import json
import os
import sys

from absl import app, flags
from ml_collections import config_flags

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_DEFAULT_CONFIG = os.path.join(_ROOT, "configs", "trait_rl_vs_baseline.py") + ":runlocal"

_FLAGS: dict = {}


def _define_flags() -> None:
  """Defines the launcher's flags (once); main.py is the only module with flags."""
  if _FLAGS:
    return
  _FLAGS["config"] = config_flags.DEFINE_config_file(
    "config", _DEFAULT_CONFIG, "Experiment config file, `path.py[:arg]`.", lock_config=True
  )
  _FLAGS["workdir"] = flags.DEFINE_string(
    "workdir", None, "Output folder (default: runs/<experiment>). Reused = resume."
  )
  _FLAGS["sweep"] = flags.DEFINE_bool(
    "sweep", False, "Run every point of the config's get_sweep()."
  )
  _FLAGS["jax_distributed"] = flags.DEFINE_bool(
    "jax_distributed", False, "Call jax.distributed.initialize() (multi-host runs)."
  )
  _FLAGS["compilation_cache"] = flags.DEFINE_string(
    "compilation_cache",
    "",
    "Folder of JAX's persistent compilation cache (e.g. ~/.cache/alignment_rl/jax): a "
    "program compiled once (same shapes, jax and machine) is loaded, not recompiled, by "
    "later runs. Off by default: with it on, the kill-and-resume test was not "
    "bit-identical on the CPU.",
  )


def _run(argv) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  import jax

  if _FLAGS["jax_distributed"].value:
    jax.distributed.initialize()
  cache = _FLAGS["compilation_cache"].value
  if cache:
    # Programs that took at least a second to compile (JAX's default threshold).
    jax.config.update("jax_compilation_cache_dir", os.path.expanduser(cache))

  from alignment_rl import pipelines  # noqa: F401  (registers experiments)
  from alignment_rl.registry import EXPERIMENTS
  from experiments import sweep

  config = _FLAGS["config"].value
  run_fn = EXPERIMENTS.get(config.experiment)
  workdir = _FLAGS["workdir"].value or os.path.join("runs", config.experiment)
  if _FLAGS["sweep"].value:
    module = sweep.load_config_module(config_flags.get_config_filename(flags.FLAGS["config"]))
    if not hasattr(module, "get_sweep"):
      raise ValueError(f"config file of {config.experiment!r} defines no get_sweep()")
    for name, point in sweep.expand(config, module.get_sweep()):
      summary = run_fn(point, os.path.join(workdir, name))
      print(f"{name}: {json.dumps(summary)}")
  else:
    summary = run_fn(config, workdir)
    print(json.dumps(summary, indent=2))


def _check_overrides(argv: list[str]) -> None:
  """Exits with one line if the config file fails or an override names no field."""
  path = _DEFAULT_CONFIG
  for i, arg in enumerate(argv):
    if arg.startswith("--config="):
      path = arg.split("=", 1)[1]
    elif arg == "--config" and i + 1 < len(argv):
      path = argv[i + 1]
  overrides = [a[len("--config.") :].split("=", 1)[0] for a in argv if a.startswith("--config.")]
  from experiments import sweep

  file, _, arg = path.partition(":")
  if not os.path.isfile(file):
    print(f"error: --config={path}: no config file {file!r}", file=sys.stderr)
    sys.exit(1)
  try:
    config = sweep.load_config_module(file).get_config(arg or None)
  except Exception as e:  # noqa: BLE001 - any failure of the user's config file.
    print(f"error: --config={path}: {type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(1)
  for field in overrides:
    node = config
    for depth, part in enumerate(field.split(".")):
      if not hasattr(node, "keys") or part not in node:
        where = ".".join(field.split(".")[:depth]) or "config"
        known = ", ".join(sorted(node.keys())) if hasattr(node, "keys") else "(not a group)"
        print(
          f"error: override --config.{field}: {where} has no field {part!r}; known: {known}",
          file=sys.stderr,
        )
        sys.exit(1)
      node = node[part]


def _parse_flags(argv: list[str]) -> list[str]:
  try:
    return flags.FLAGS(argv)
  except Exception as e:  # noqa: BLE001 - bad flags, config files or config args.
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    if not lines:
      lines = [type(e).__name__]
    first = lines[0].split(": Error whilst parsing")[0].split("Traceback")[0]
    message = first if len(lines) == 1 else f"{first.rstrip(': ')}: {lines[-1]}"
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def main(argv) -> None:
  from absl import logging

  from alignment_rl.registry import UnknownNameError
  from alignment_rl.training.checkpointing import CheckpointError
  from alignment_rl.training.trainer import NonFiniteLossError

  if not flags.FLAGS["verbosity"].present:  # Orbax logs every save at INFO.
    logging.set_verbosity(logging.WARNING)
  try:
    _run(argv)
  except (UnknownNameError, CheckpointError, NonFiniteLossError, KeyError, ValueError) as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  # Overrides are checked before the config flag exists: config_flags applies
  # them to the default config while defining the flag.
  _check_overrides(sys.argv)
  _define_flags()
  app.run(main, flags_parser=_parse_flags)
