"""Helpers of the bad-input table: configs with changed fields, a workdir holding an
earlier run, a digest of every byte under a folder, and the command-line runner."""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys

import ml_collections

from experiments import sweep

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
