"""The absl launcher: one-line errors for bad input, and sweep expansion."""

import os
import subprocess
import sys

import pytest

from experiments import sweep

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_main(*args, workdir):
  return subprocess.run(
    [sys.executable, "-m", "experiments.main", f"--workdir={workdir}", *args],
    cwd=ROOT,
    capture_output=True,
    text=True,
    env=dict(os.environ, JAX_PLATFORMS="cpu"),
  )


@pytest.mark.parametrize(
  "args, expected",
  [
    (["--config.experiment=nope"], "unknown experiment 'nope'; known: "),
    (["--config.ppo.nope=1"], "ppo has no field 'nope'; known: anneal_lr"),
    (["--config.ppox.a=1"], "config has no field 'ppox'"),
    (["--config.ppo.num_envs=abc"], "--config.ppo.num_envs=abc"),
    (["--config=configs/missing.py"], "no config file 'configs/missing.py'"),
    (["--config=configs/cartpole_ppo.py:huge"], "allowed: 'runlocal', 'full'"),
    (["--config.env_name=Pong-v9"], "unknown environment 'Pong-v9'; known: "),
    (["--config.network=lstm"], "unknown network 'lstm'; known: "),
  ],
)
def test_bad_input_is_one_line_error(tmp_path, args, expected):
  proc = run_main("--config=configs/cartpole_ppo.py:runlocal", *args, workdir=tmp_path / "w")
  assert proc.returncode == 1
  lines = proc.stderr.strip().splitlines()
  assert len(lines) == 1, proc.stderr
  assert lines[0].startswith("error: ") and expected in lines[0], lines[0]
  assert not (tmp_path / "w" / "checkpoints").exists()


def test_sweep_expands_config_points():
  module = sweep.load_config_module(os.path.join(ROOT, "configs", "cartpole_ppo.py"))
  points = sweep.expand(module.get_config("runlocal"), module.get_sweep())
  lrs = [c.hparams.learning_rate for _, c in points]
  assert lrs == [1e-4, 2.5e-4, 1e-3]
  assert points[0][0] == "000_learning_rate=0.0001"
  assert len({name for name, _ in points}) == len(points)


def test_sweep_override_of_unknown_field_fails():
  module = sweep.load_config_module(os.path.join(ROOT, "configs", "cartpole_ppo.py"))
  with pytest.raises(KeyError, match="no field 'lr'"):
    sweep.apply_overrides(module.get_config("runlocal"), {"hparams.lr": 1.0})
