"""Shared test setup: quiet logs, and helpers that build small configs."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)
# Launches under test (and their subprocesses) keep no compiled programs in the user's
# cache folder; the tests of the persistent cache pass --compilation_cache themselves.
os.environ.setdefault("ALIGNMENT_RL_COMPILATION_CACHE", "off")


# Parallel runs (pytest-xdist, `-n 2 --dist loadgroup`) keep together what shares
# compiled programs or session fixtures: a test file's tests run on one worker, the
# gridworld files on one worker, and every test that reads an experiment trained by a
# session fixture on one worker, so each is trained once.
_SHARED_RUNS = ("main_job_test_run", "persistence_objectives_test_run")
_SHARED_RUN_FILES = ("tests/colabs/test_notebooks.py",)  # Requests them by name.
_SHARED_FOLDERS = ("tests/envs/gridworlds/",)


def _xdist_group(item) -> str:
  path = os.path.relpath(str(item.path), ROOT).replace(os.sep, "/")
  shared = any(name in getattr(item, "fixturenames", ()) for name in _SHARED_RUNS)
  if shared or path in _SHARED_RUN_FILES:
    return "shared_runs"
  return next((folder for folder in _SHARED_FOLDERS if path.startswith(folder)), path)


# The slow tests (`-m "not slow"` leaves them out: the fast suite), besides those marked
# in their files: whole experiments end to end, notebooks, kill-and-resume trials,
# multi-device runs, other libraries' trainers, and fixtures that train for minutes.
SLOW = (
  "tests/colabs/",
  "tests/pipelines/",
  "tests/training/test_kill_resume.py",
  "tests/training/test_multidevice.py",
  "tests/training/test_multihost.py::test_two_processes_match_one_process_with_four_devices",
  "tests/training/test_imitation.py",
  "tests/training/test_batched.py",
  "tests/launch/test_sweeps.py",
  "tests/evals/test_world_acceptance.py",
  "tests/evals/test_suite_runner.py",
  "tests/envs/test_gymnax_compat.py::test_rejax_ppo_trains_on_wrapped_env",
  "tests/evals/test_adversarial_prefix.py::test_rubric_search_on_a_real_policy",
  "tests/training/test_trainer.py::test_ppo_solves_cartpole_runlocal",
  "tests/training/test_trainer.py::test_sigkill_then_resume_is_bit_identical",
  "tests/conversations/test_heldout_formats.py",
  "tests/training/test_probe_learning.py",
  "tests/evals/test_reference.py",
  "tests/evals/test_pressure.py",
  "tests/training/test_trainer.py::test_anchor_is_the_init_from_model_and_ewc_estimates_its_fisher",
  "tests/training/test_trainer.py::test_learning_rate_sweep_point_does_not_recompile",
  "tests/training/test_trainer.py::test_gymnax_environment_trains_unchanged",
  "tests/networks/test_fast_paths.py::test_teacher_forced_log_probs_equal_those_of_sampling",
  "tests/training/test_logging.py::test_tensorboard_event_files_without_tensorflow",
  "tests/evals/test_rollout.py::test_turn_one_equals_grade_policy_when_greedy",
  "tests/evals/test_control_draws.py::test_control_check_measures_the_controls_against_a_plain_permutation",
  "tests/evals/test_rollout.py::test_transformer_input_length_is_checked",
  "tests/networks/test_networks.py::test_token_networks_ignore_trailing_padding[transformer]",
  "tests/networks/test_networks.py::test_transformer_is_order_sensitive_and_bag_is_not",
  "tests/networks/test_networks.py::test_transformer_is_causal",
)


def pytest_collection_modifyitems(config, items):
  for item in items:
    item.add_marker(pytest.mark.xdist_group(_xdist_group(item)))
    path = os.path.relpath(str(item.path), ROOT).replace(os.sep, "/")
    node = path + "::" + item.name.split("[")[0]
    # An entry names a folder, a file, a test (every parametrization) or one
    # parametrization (`test[param]`).
    if any(node.startswith(s) or path + "::" + item.name == s for s in SLOW):
      item.add_marker(pytest.mark.slow)


@pytest.fixture
def small_ppo_config():
  """A tiny PPO config on CartPole: 2 seeds, 8 envs x 16 steps, 10 updates."""
  from configs.common import ppo_config

  c = ppo_config()
  c.experiment = "cartpole_ppo"
  c.num_seeds = 2
  c.ppo.num_envs = 8
  c.ppo.num_steps = 16
  c.ppo.total_timesteps = 8 * 16 * 10
  c.training.updates_per_chunk = 2
  c.training.progress = False
  return c


@pytest.fixture(scope="session")
def main_job_test_run(tmp_path_factory):
  """The main job (`trait_rl_vs_baseline`) at test scale, run once per session in this
  process (one CPU device): (workdir, summary). Notebook tests reuse its workdir."""
  import importlib

  from experiments.pipelines.trait_rl import run_trait_rl

  workdir = str(tmp_path_factory.mktemp("main_job") / "run")
  config = importlib.import_module("configs.trait_rl_vs_baseline").get_config("test")
  return workdir, run_trait_rl(config, workdir)


@pytest.fixture(scope="session")
def persistence_objectives_test_run(tmp_path_factory, main_job_test_run):
  """`persistence_objectives` (nine arms) at test scale end to end, once per session,
  reusing the main job's equal runs (its prior, and its baseline and trait arms as
  this experiment's baseline and domain_diversity arms): (workdir, summary).
  The experiment test, the reuse test and the notebook test read it."""
  import importlib

  from experiments.pipelines.trait_rl import run_trait_rl

  workdir = str(tmp_path_factory.mktemp("persistence_objectives") / "run")
  config = importlib.import_module("configs.persistence_objectives").get_config("test")
  config.reuse_from = main_job_test_run[0]
  return workdir, run_trait_rl(config, workdir)
