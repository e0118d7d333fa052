"""Helpers of the bad-input table: configs with changed fields, a workdir holding an
earlier run, a digest of every byte under a folder, the command-line runner, and the
builders of the table's cases (each a function of the case's folder; `prepare`, when
set, writes its input files before the folder is hashed)."""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys

import ml_collections

from experiments import figures, sweep
from experiments import main as launcher
from experiments.config_schema import check_devices

CART = "configs/cartpole_ppo.py:runlocal"
TRAIT = "trait_rl_vs_baseline"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@functools.cache
def _module(name: str):
  return sweep.load_config_module(os.path.join(ROOT, "configs", f"{name}.py"))


def config(name: str = "cartpole_ppo", arg: str = "runlocal", **fields):
  """`configs/<name>.py:get_config(arg)` with dotted `fields` set (`__` for `.`), any
  type allowed (rebuilt from a dict, so that a wrong type reaches `validate`)."""
  d = _module(name).get_config(arg).to_dict()
  for key, value in fields.items():
    node, parts = d, key.split("__")
    for part in parts[:-1]:
      node = node[part]
    node[parts[-1]] = value
  return ml_collections.ConfigDict(d)


def sweep_points(name: str) -> list[dict]:
  return _module(name).get_sweep()


def earlier_run(folder) -> str:
  """A workdir holding an earlier run: checkpoints, metrics, results."""
  w = os.path.join(str(folder), "w")
  if os.path.isdir(w):
    return w
  for step in ("10", "20", "30"):
    os.makedirs(os.path.join(w, "checkpoints", step))
    with open(os.path.join(w, "checkpoints", step, "state.bin"), "wb") as f:
      f.write(bytes(range(256)) * int(step))
  with open(os.path.join(w, "metrics.jsonl"), "w", encoding="utf-8") as f:
    f.write('{"update": 1, "reward": 0.5}\n{"update": 2, "reward": 0.7}\n')
  with open(os.path.join(w, "results.json"), "w", encoding="utf-8") as f:
    f.write('{"experiment": "cartpole_ppo"}\n')
  return w


def tree_digest(path) -> str:
  """sha256 of every name, kind and byte under `path` (a folder or a file)."""
  h = hashlib.sha256()
  path = str(path)
  if os.path.isfile(path):
    with open(path, "rb") as f:
      return hashlib.sha256(f.read()).hexdigest()
  for root, dirs, files in os.walk(path):
    dirs.sort()
    h.update(f"d:{os.path.relpath(root, path)}\n".encode())
    for name in sorted(files):
      full = os.path.join(root, name)
      h.update(f"f:{os.path.relpath(full, path)}:{os.stat(full).st_mode:o}\n".encode())
      with open(full, "rb") as f:
        h.update(f.read())
  return h.hexdigest()


def run_command(module: str, *args: str) -> subprocess.CompletedProcess:
  """`python -m <module> <args>` from the repository root, on the CPU."""
  return subprocess.run(
    [sys.executable, "-m", module, *args],
    cwd=ROOT,
    capture_output=True,
    text=True,
    env=dict(os.environ, JAX_PLATFORMS="cpu"),
    timeout=300,
  )


def cfg(*args, **fields):
  """A case input: validate `config(*args, **fields)` with the earlier run's workdir."""
  return lambda d: launcher.plan(config(*args, **fields), earlier_run(d))


def in_workdir(make_path, *args, **fields):
  """Validate a config with the workdir that `make_path(folder)` returns."""
  return lambda d: launcher.plan(config(*args, **fields), make_path(d))


def swept(points, *args, **fields):
  return lambda d: launcher.plan(config(*args, **fields), earlier_run(d), points)


def overrides(*argv):
  return lambda d: launcher.check_overrides(["main.py", *argv])


def devices(n, *args, **fields):
  return lambda d: check_devices(config(*args, **fields), n)


def prepared(prepare, act):
  """A case whose input files `prepare(folder)` writes before the folder is hashed."""
  act.prepare = prepare
  return act


def figures_cli(*argv, setup=None):
  def prepare(d):
    os.makedirs(os.path.join(str(d), "runs", "trait_rl_vs_baseline"), exist_ok=True)
    if setup:
      setup(os.path.join(str(d), "runs"))

  def act(d):
    argv_ = [a.format(runs=os.path.join(str(d), "runs"), d=d) for a in argv]
    if not any(a.startswith("--out") for a in argv_):
      argv_.append(f"--out={d}/figures")
    return figures.main(argv_)

  return prepared(prepare, act)


def viewer(*argv):
  def run(d):
    from experiments import show

    return show.main([a.format(d=d) for a in argv])

  return run


def write(rel, text):
  def setup(runs):
    with open(os.path.join(runs, rel), "w", encoding="utf-8") as f:
      f.write(text)

  return setup


def a_file(d):
  path = os.path.join(str(d), "afile")
  if not os.path.exists(path):
    with open(path, "w", encoding="utf-8") as f:
      f.write("not a folder\n")
  return path


def under_file(d):
  return os.path.join(a_file(d), "w")


def bad_config_file(text):
  def prepare(d):
    with open(os.path.join(str(d), "bad_config.py"), "w", encoding="utf-8") as f:
      f.write(text)

  act = lambda d: launcher.check_overrides(["main.py", f"--config={d}/bad_config.py"])  # noqa: E731
  return prepared(prepare, act)


def arms(**extra):
  return {"arms": {**config(TRAIT, "test").arms.to_dict(), **extra}}


def arm(**fields):
  from configs.common import arm as make_arm

  return make_arm(**fields).to_dict()


def point_file(d):
  with open(os.path.join(earlier_run(d), "001_learning_rate=0.00025"), "w") as f:
    f.write("a file where a sweep point's workdir goes\n")


def _digests(d, damage):
  """Records every checkpoint step's content digest, then `damage(step_dir)` on step 30."""
  from alignment_rl.training import checkpoint_digests

  checkpoints = os.path.join(earlier_run(d), "checkpoints")
  for step in (10, 20, 30):
    checkpoint_digests.record(os.path.join(checkpoints, str(step)), step)
  damage(os.path.join(checkpoints, "30"))


def flip_byte(step_dir):
  with open(os.path.join(step_dir, "state.bin"), "r+b") as f:
    f.seek(100)
    f.write(b"\xff")


def drop_digest(step_dir):
  os.remove(os.path.join(step_dir, "content_digest.json"))
  os.remove(os.path.join(os.path.dirname(step_dir), "20", "content_digest.json"))


def open_checkpoints(damage):
  """Opens the earlier run's checkpoints as the trainer does first (resume="latest")."""

  def act(d):
    from alignment_rl.training import checkpointing

    checkpointing.Checkpointer(earlier_run(d), {}, keep=3, async_save=False, resume="latest")

  return prepared(lambda d: _digests(d, damage), act)


def read_metrics_file(text):
  """Reads the earlier run's metrics.jsonl (holding `text`) as a resumed run does first."""

  def prepare(d):
    with open(os.path.join(earlier_run(d), "metrics.jsonl"), "w", encoding="utf-8") as f:
      f.write(text)

  def act(d):
    from alignment_rl.training import metrics_writer

    metrics_writer.MetricsWriter(earlier_run(d)).load()

  return prepared(prepare, act)
