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
_DEFAULT_CONFIG = os.path.join(_ROOT, "configs", "cartpole_ppo.py") + ":runlocal"

_CONFIG = config_flags.DEFINE_config_file(
    "config", _DEFAULT_CONFIG, "Experiment config file, `path.py[:arg]`.", lock_config=True
)
_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Output folder (default: runs/<experiment>). Reused = resume."
)
_SWEEP = flags.DEFINE_bool("sweep", False, "Run every point of the config's get_sweep().")
_DISTRIBUTED = flags.DEFINE_bool(
    "jax_distributed", False, "Call jax.distributed.initialize() (multi-host runs)."
)


def _run(argv) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
  import jax

  if _DISTRIBUTED.value:
    jax.distributed.initialize()

  from alignment_rl.registry import EXPERIMENTS
  from alignment_rl.training import runs  # noqa: F401  (registers experiments)
  from experiments import sweep

  config = _CONFIG.value
  run_fn = EXPERIMENTS.get(config.experiment)
  workdir = _WORKDIR.value or os.path.join("runs", config.experiment)
  if _SWEEP.value:
    module = sweep.load_config_module(config_flags.get_config_filename(flags.FLAGS["config"]))
    if not hasattr(module, "get_sweep"):
      raise ValueError(f"config file of {config.experiment!r} defines no get_sweep()")
    for name, point in sweep.expand(config, module.get_sweep()):
      summary = run_fn(point, os.path.join(workdir, name))
      print(f"{name}: {json.dumps(summary)}")
  else:
    summary = run_fn(config, workdir)
    print(json.dumps(summary, indent=2))


def main(argv) -> None:
  from alignment_rl.registry import UnknownNameError
  from alignment_rl.training.checkpointing import CheckpointError
  from alignment_rl.training.trainer import NonFiniteLossError

  from absl import logging

  if not flags.FLAGS["verbosity"].present:  # Orbax logs every save at INFO.
    logging.set_verbosity(logging.WARNING)
  try:
    _run(argv)
  except (UnknownNameError, CheckpointError, NonFiniteLossError, KeyError, ValueError) as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  app.run(main)
