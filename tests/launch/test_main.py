"""The absl launcher's sweep expansion (its bad-input errors: test_bad_inputs.py)."""

import os

import pytest

from experiments import sweep

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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


def test_plan_validates_every_sweep_point_and_creates_nothing(tmp_path):
  from experiments import main as launcher

  module = sweep.load_config_module(os.path.join(ROOT, "configs", "cartpole_ppo.py"))
  jobs = launcher.plan(module.get_config("runlocal"), str(tmp_path / "w"), module.get_sweep())
  assert [name for name, _, _ in jobs] == [
    name for name, _ in sweep.expand(module.get_config("runlocal"), module.get_sweep())
  ]
  assert all(d == str(tmp_path / "w" / name) for name, _, d in jobs)
  assert os.listdir(tmp_path) == []


def test_plan_of_one_sweep_index_validates_every_point_and_checks_the_index(tmp_path):
  from experiments import main as launcher
  from experiments.config_schema import ConfigError

  module = sweep.load_config_module(os.path.join(ROOT, "configs", "cartpole_ppo.py"))
  config, points = module.get_config("runlocal"), module.get_sweep()
  [(name, point, point_dir)] = launcher.plan(config, str(tmp_path / "w"), points, index=2)
  assert name == "002_learning_rate=0.001" and point.hparams.learning_rate == 1e-3
  assert point_dir == str(tmp_path / "w" / name)  # Its own workdir, like --sweep's.
  for bad in (3, -1):
    with pytest.raises(ConfigError) as e:
      launcher.plan(config, str(tmp_path / "w"), points, index=bad)
    assert str(e.value) == f"--sweep_index: {bad} — allowed: 0..2"
  with pytest.raises(ConfigError, match="sweep point 001_learning_rate"):
    launcher.plan(config, str(tmp_path / "w"), [{}, {"hparams.learning_rate": -1.0}], index=0)
  assert os.listdir(tmp_path) == []


def test_compilation_cache_is_a_writable_folder_or_off(tmp_path, monkeypatch):
  from experiments import main
  from experiments.config_schema import ConfigError

  assert main.compilation_cache_dir("off") is None
  assert main.compilation_cache_dir("") is None
  monkeypatch.setenv("HOME", str(tmp_path))
  made = main.compilation_cache_dir("~/cache/jax")
  assert made == str(tmp_path / "cache" / "jax") and os.path.isdir(made)
  (tmp_path / "a_file").write_text("kept")
  with pytest.raises(ConfigError, match="--compilation_cache: .* a writable folder, or off"):
    main.compilation_cache_dir(str(tmp_path / "a_file"))
  assert (tmp_path / "a_file").read_text() == "kept"
