r"""Launches a registered experiment. The only place flags are defined.

  python -m experiments.main                                  # the main job
  python -m experiments.main --config=configs/cartpole_ppo.py:runlocal \
      --workdir=runs/cartpole --config.hparams.learning_rate=1e-3
  python -m experiments.main --config=configs/cartpole_ppo.py:runlocal --sweep
  python -m experiments.main --config=configs/cartpole_ppo.py:runlocal --sweep_count
  python -m experiments.main --config=configs/cartpole_ppo.py:runlocal --sweep_index=1
  python -m experiments.main --config=configs/cartpole_ppo.py:runlocal --sweep_report
  python -m experiments.main --jax_distributed ...            # one process per host
  python -m experiments.main --coordinator_address=host0:1234 --num_processes=2 \
      --process_id=0 ...                                      # (and 1 on the other host)

Running the same command again with the same workdir resumes from the latest
checkpoint. The whole config (every sweep point's too) and the workdir are validated
against their declared ranges (`experiments.config_schema`) before any work
(`experiments.launch_checks`); bad input (unknown experiment or name, malformed
override, a value out of range, a workdir that is a file or not writable, mismatched
or corrupt checkpoint) exits non-zero with one line on stderr, `field: value —
allowed: ...`, and nothing on disk changed.
A sweep's points run in `<workdir>/<index>_<overrides>/` (`experiments.sweep`): all in
this process (`--sweep`), or one per process (`--sweep_index=K`, 0..`--sweep_count`-1,
e.g. a SLURM array); `--sweep_report` gathers the finished ones.
"""

from __future__ import annotations

import json
import os
import sys

from absl import app, flags
from ml_collections import config_flags

from experiments.launch_checks import DEFAULT_CONFIG, check_overrides, one_line_errors, plan

__all__ = ["check_overrides", "main", "one_line_errors", "plan"]

_FLAGS: dict = {}
#: Where compiled programs are kept between runs unless --compilation_cache says otherwise.
DEFAULT_COMPILATION_CACHE = "~/.cache/alignment_rl/jax"
CACHE_ENV = "ALIGNMENT_RL_COMPILATION_CACHE"


def _define_flags() -> None:
  """Defines the launcher's flags (once); main.py is the only module with flags."""
  if _FLAGS:
    return
  _FLAGS["config"] = config_flags.DEFINE_config_file(
    "config", DEFAULT_CONFIG, "Experiment config file, `path.py[:arg]`.", lock_config=True
  )
  _FLAGS["workdir"] = flags.DEFINE_string(
    "workdir", None, "Output folder (default: runs/<experiment>). Reused = resume."
  )
  _FLAGS["sweep"] = flags.DEFINE_bool(
    "sweep",
    False,
    "Run every point of the config's get_sweep(), each in <workdir>/<point>/ (PPO points "
    "that share a compiled program: trained together as one vmapped program).",
  )
  _FLAGS["sweep_index"] = flags.DEFINE_integer(
    "sweep_index",
    None,
    "Run only point K (0-based) of get_sweep(), in <workdir>/<point>/: one point per "
    "process or machine (e.g. --sweep_index=$SLURM_ARRAY_TASK_ID).",
  )
  _FLAGS["sweep_count"] = flags.DEFINE_bool(
    "sweep_count", False, "Print the number of points of get_sweep() and exit (no work)."
  )
  _FLAGS["sweep_report"] = flags.DEFINE_bool(
    "sweep_report",
    False,
    "Gather the finished points of get_sweep() in <workdir> into sweep_report.md and "
    "sweep_report.json (and list the unfinished ones), print it and exit (no training).",
  )
  _FLAGS["jax_distributed"] = flags.DEFINE_bool(
    "jax_distributed",
    False,
    "One process per host (multi-host runs): jax.distributed.initialize(), its values "
    "detected from SLURM, Open MPI or Cloud TPU, or given by the three flags below.",
  )
  _FLAGS["coordinator_address"] = flags.DEFINE_string(
    "coordinator_address",
    None,
    "Multi-host: host:port of process 0, the same in every process (implies "
    "--jax_distributed; with --num_processes and --process_id).",
  )
  _FLAGS["num_processes"] = flags.DEFINE_integer(
    "num_processes", None, "Multi-host: the number of processes (implies --jax_distributed)."
  )
  _FLAGS["process_id"] = flags.DEFINE_integer(
    "process_id", None, "Multi-host: this process's index, 0..--num_processes-1."
  )
  _FLAGS["compilation_cache"] = flags.DEFINE_string(
    "compilation_cache",
    os.environ.get(CACHE_ENV, DEFAULT_COMPILATION_CACHE),
    "Folder of JAX's persistent compilation cache: a program compiled once (same "
    "shapes, jax, flags and machine) is loaded, not recompiled, by later runs. On by "
    f"default (the ${CACHE_ENV} environment variable, else {DEFAULT_COMPILATION_CACHE}); "
    "--compilation_cache=off turns it off.",
  )


def compilation_cache_dir(value: str) -> str | None:
  """The persistent compilation cache folder of `--compilation_cache=value` (user and
  environment variables expanded), or None for "off" (or empty): no cache."""
  value = value.strip()
  if value.lower() in ("", "off", "none", "false", "0"):
    return None
  path = os.path.abspath(os.path.expanduser(os.path.expandvars(value)))
  try:
    os.makedirs(path, exist_ok=True)
    writable = os.access(path, os.W_OK | os.X_OK)
  except OSError:
    writable = False
  if not writable:
    from experiments.config_schema import ConfigError

    raise ConfigError("--compilation_cache", value, "a writable folder, or off")
  return path


def _sweep_mode() -> str | None:
  """Which sweep flag is set ("count", "report", "index", "all") or None; two of
  --sweep_count, --sweep_report and --sweep_index together are a one-line error."""
  from experiments.config_schema import ConfigError

  given = [
    name
    for name, on in (
      ("count", _FLAGS["sweep_count"].value),
      ("report", _FLAGS["sweep_report"].value),
      ("index", _FLAGS["sweep_index"].value is not None),
    )
    if on
  ]
  if len(given) > 1:
    raise ConfigError(f"--sweep_{given[0]}", True, f"not with --sweep_{given[1]}")
  return given[0] if given else ("all" if _FLAGS["sweep"].value else None)


def _launch() -> dict | None:
  """The `distributed.initialize` arguments of a multi-host launch, from the flags or
  the environment (`distributed.launch_args`; one-line errors); None: one process."""
  from alignment_rl.training import distributed

  given = {k: _FLAGS[k].value for k in ("coordinator_address", "num_processes", "process_id")}
  launch = distributed.launch_args(**given)  # Flags, else JAX_NUM_PROCESSES etc.
  wanted = _FLAGS["jax_distributed"].value or given["coordinator_address"] is not None
  return launch if wanted or launch["num_processes"] is not None else None


def _run(argv) -> None:
  from experiments import sweep, sweep_report
  from experiments.config_schema import ConfigError, check_devices

  if len(argv) > 1:
    raise ConfigError("arguments", tuple(argv[1:]), "none (only flags; see --helpshort)")
  launch = _launch()
  config = _FLAGS["config"].value
  workdir = _FLAGS["workdir"].value or os.path.join("runs", str(config.get("experiment")))
  points = None
  mode = _sweep_mode()
  if mode is not None:
    path = config_flags.get_config_filename(flags.FLAGS["config"])
    module = sweep.load_config_module(path)
    if not hasattr(module, "get_sweep"):
      raise ConfigError("--sweep", True, f"a config file with get_sweep() ({path!r} has none)")
    points = module.get_sweep()
  index = _FLAGS["sweep_index"].value
  jobs = plan(config, workdir, points, index)  # Every run's config, before any work.
  if mode == "count":
    print(len(jobs))
    return
  if mode == "report":
    print(sweep_report.write(sweep_report.gather(jobs, points), workdir), end="")
    return
  cache = compilation_cache_dir(_FLAGS["compilation_cache"].value)
  if launch is not None:  # Before anything uses a JAX backend.
    from alignment_rl.training import distributed

    distributed.initialize(**launch)
  import jax

  for _, point, _ in jobs:
    check_devices(point, len(jax.devices()))
  if cache is not None:
    jax.config.update("jax_compilation_cache_dir", cache)
    # Every program, not only those that took a second to compile (JAX's default): the
    # reference rows and the suite compile dozens of small ones.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)

  from experiments import pipelines  # noqa: F401  (registers experiments)
  from experiments.registry import EXPERIMENTS

  run_fn = EXPERIMENTS.get(config.experiment)
  summaries = sweep.run(run_fn, jobs)  # Points sharing one program: trained together.
  for (name, _, _), summary in zip(jobs, summaries, strict=True):
    if name is None:
      print(json.dumps(summary, indent=2))
    else:
      print(f"{name}: {json.dumps(summary)}")


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

  if not flags.FLAGS["verbosity"].present:  # Orbax logs every save at INFO.
    logging.set_verbosity(logging.WARNING)
  try:
    _run(argv)
  except Exception as e:  # noqa: BLE001 - re-raised below unless it is bad input.
    if not isinstance(e, one_line_errors()):
      raise
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
  # Overrides are checked before the config flag exists: config_flags applies
  # them to the default config while defining the flag.
  try:
    check_overrides(sys.argv)
  except ValueError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  _define_flags()
  app.run(main, flags_parser=_parse_flags)
