"""The host trainer: solving CartPole, resume after SIGKILL, bad checkpoints, NaNs,
no recompiles per sweep point, and gymnax environments unchanged."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import chex
import jax
import ml_collections
import numpy as np
import pytest

from alignment_rl.training import checkpointing, trainer
from alignment_rl.training.ppo_loop import PPOLoop
from experiments import runs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_ppo_solves_cartpole_runlocal(tmp_path):
  """DESIGN target: mean final return >= 475 over 4 seeds within 500k steps each."""
  from configs import cartpole_ppo

  config = cartpole_ppo.get_config("runlocal")
  config.training.progress = False
  summary = runs.run_ppo(config, str(tmp_path))
  assert summary["num_seeds"] == 4
  assert summary["env_steps_per_seed"] <= 500_000
  assert summary["final_return_mean"] >= 475, summary["final_return_per_seed"]
  records = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
  assert len(records) == summary["num_updates"]
  assert len(records[-1]["episode_return/per_seed"]) == 4


def test_rerun_of_finished_run_is_identical_and_does_no_work(tmp_path, small_ppo_config):
  first = runs.run_ppo(small_ppo_config, str(tmp_path))
  second = runs.run_ppo(small_ppo_config, str(tmp_path))
  assert second["resumed_from"] == first["num_updates"]
  assert second["params_sha256"] == first["params_sha256"]


def test_resumed_run_returns_the_history_of_the_whole_run(tmp_path, small_ppo_config):
  """A run resumed from its first checkpoint reports every update's metrics, the
  earlier ones read back from metrics.jsonl, equal to an uninterrupted run's."""
  whole = trainer.train(small_ppo_config, str(tmp_path / "a"))
  assert [h["update"] for h in whole.history] == list(range(1, 11))
  resumed_dir = tmp_path / "b"
  shutil.copytree(tmp_path / "a", resumed_dir)
  ckpts = resumed_dir / "checkpoints"
  steps = sorted(int(d) for d in os.listdir(ckpts) if d.isdigit())
  for step in steps[1:]:  # Keep only the first kept checkpoint.
    shutil.rmtree(ckpts / str(step))
  shutil.rmtree(resumed_dir / "params")
  resumed = trainer.train(small_ppo_config, str(resumed_dir))
  assert resumed.resumed_from == steps[0] < 10
  assert resumed.history == whole.history


def _snapshot(folder):
  out = {}
  for dirpath, _, files in os.walk(folder):
    for f in files:
      p = os.path.join(dirpath, f)
      with open(p, "rb") as fh:
        out[p] = fh.read()
  return out


def test_corrupt_checkpoint_is_a_clear_error_and_nothing_is_overwritten(tmp_path, small_ppo_config):
  runs.run_ppo(small_ppo_config, str(tmp_path))
  latest = os.path.join(tmp_path, "checkpoints", "10", "state")
  for dirpath, _, files in os.walk(latest):
    for f in files:
      with open(os.path.join(dirpath, f), "wb") as fh:
        fh.write(b"\x00garbage")
  before = _snapshot(tmp_path)
  with pytest.raises(checkpointing.CheckpointError, match="corrupt") as e:
    runs.run_ppo(small_ppo_config, str(tmp_path))
  assert "\n" not in str(e.value)
  assert _snapshot(tmp_path) == before


def test_mismatched_config_is_refused(tmp_path, small_ppo_config):
  runs.run_ppo(small_ppo_config, str(tmp_path))
  before = _snapshot(tmp_path)
  small_ppo_config.hparams.learning_rate = 1e-2
  with pytest.raises(checkpointing.CheckpointError, match="hparams.learning_rate"):
    runs.run_ppo(small_ppo_config, str(tmp_path))
  assert _snapshot(tmp_path) == before


def test_config_differences_ignore_runtime_fields_at_any_depth():
  saved = {"split_over": "envs", "ppo_run": {"split_over": "envs", "training": {"progress": True}}}
  current = {"split_over": "seeds", "ppo_run": {"split_over": "seeds", "training": {"progress": 0}}}
  assert checkpointing.config_differences(saved, current) == []
  current["ppo_run"]["hparams"] = {"learning_rate": 1e-3}
  current["ppo_run"]["training"]["num_updates"] = 2
  assert checkpointing.config_differences(saved, current) == [
    "ppo_run.hparams.learning_rate",
    "ppo_run.training.num_updates",
  ]


def test_non_finite_loss_stops_with_a_clear_error(tmp_path, small_ppo_config):
  small_ppo_config.hparams.learning_rate = float("nan")
  with pytest.raises(trainer.NonFiniteLossError, match="non-finite loss at update"):
    runs.run_ppo(small_ppo_config, str(tmp_path))
  assert not os.path.exists(tmp_path / "checkpoints" / "2")


def test_learning_rate_sweep_point_does_not_recompile(tmp_path, small_ppo_config, monkeypatch):
  trainer._PROGRAMS.clear()
  chex.clear_trace_counter()
  monkeypatch.setattr(PPOLoop, "run", chex.assert_max_traces(PPOLoop.run, n=1))
  for i, lr in enumerate([1e-4, 3e-4, 1e-3]):
    small_ppo_config.hparams.learning_rate = lr
    runs.run_ppo(small_ppo_config, str(tmp_path / str(i)))
  trainer._PROGRAMS.clear()


def test_conversation_runs_share_a_program_unless_a_static_env_kwarg_differs():
  """The program cache's key: env kwargs that only set array leaves of the env's params
  (`mixture.PARAMS_ONLY_KWARGS`, a grader of `SHARED_GRADERS`) share one compiled
  program; any other env kwarg compiles another (`program.STATIC_ENV_KWARGS`)."""
  from alignment_rl.training import program, sharding
  from configs.common import conversation_ppo_run

  mesh = sharding.make_mesh(1)
  base = conversation_ppo_run("x", 0, "small", 2, {"encoder": "bag_of_tokens", "d_model": 64})

  def key(**env_kwargs):
    c = ml_collections.ConfigDict(base.to_dict())
    c.env_kwargs.update(env_kwargs)
    return program._static_key(c, mesh)

  same = [
    key(trait_fraction=0.05, families=("impossible_task",), domains=("health",)),
    key(grader="helpfulness", standard_grader="rubric"),
    key(grader="harmful/bad_medical_advice", trait_fraction=1.0),
    key(rubric_control="random_sign", rubric_control_seed=3, rubric_control_version=2),
    key(pressure_start=1, per_turn_reward=True, persona_augment=0.5),
    key(min_turns=1, max_turns=1),
  ]
  assert set(same) == {key()}
  other = [
    key(grader="eval/honesty"),  # Not a shared grader: the env computes another set.
    key(standard_grader="eval/refusal"),
    key(response_len=6),
    key(max_turns_capacity=2),
    key(data_config="full"),
    key(surface_overlap=0.0),
  ]
  assert len({key(), *other}) == 1 + len(other)


def test_gymnax_environment_trains_unchanged(tmp_path, small_ppo_config):
  pytest.importorskip("gymnax")
  small_ppo_config.env_name = "gymnax/CartPole-v1"
  small_ppo_config.ppo.total_timesteps = 8 * 16 * 40
  summary = runs.run_ppo(small_ppo_config, str(tmp_path))
  records = [json.loads(line) for line in open(tmp_path / "metrics.jsonl")]
  assert all(np.isfinite(r["loss"]) for r in records)
  assert summary["final_return_mean"] > 9  # Episodes are running and being counted.
  # It learns: later returns beat the first ones.
  assert records[-1]["episode_return"] > records[4]["episode_return"]


def _main_cmd(workdir):
  return [
    sys.executable,
    "-m",
    "experiments.main",
    "--config=configs/cartpole_ppo.py:runlocal",
    f"--workdir={workdir}",
    "--config.num_seeds=2",
    "--config.ppo.num_envs=32",
    "--config.ppo.num_steps=64",
    "--config.ppo.total_timesteps=98304",  # 48 updates of 32 x 64 steps.
    "--config.training.updates_per_chunk=4",
    "--config.training.progress=False",
  ]


def test_sigkill_then_resume_is_bit_identical(tmp_path):
  """With the persistent compilation cache on (the launcher's default): the killed run
  and its resumption load the uninterrupted run's compiled programs from it."""
  cache = tmp_path / "jax_cache"
  env = dict(os.environ, JAX_PLATFORMS="cpu", ALIGNMENT_RL_COMPILATION_CACHE=str(cache))
  ref = tmp_path / "uninterrupted"
  subprocess.run(_main_cmd(ref), cwd=ROOT, env=env, check=True, capture_output=True)
  cached = sorted(os.listdir(cache))
  assert cached, "the first run wrote no compiled program to the cache"
  killed = tmp_path / "killed"
  proc = subprocess.Popen(
    _main_cmd(killed), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
  )
  ckpts = killed / "checkpoints"
  deadline = time.time() + 300
  while time.time() < deadline:
    steps = [d for d in os.listdir(ckpts) if d.isdigit()] if ckpts.exists() else []
    if steps and max(map(int, steps)) >= 8:
      break
    time.sleep(0.05)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  assert proc.returncode == -signal.SIGKILL
  assert not (killed / "summary.json").exists()  # It really was cut off mid-run.
  subprocess.run(_main_cmd(killed), cwd=ROOT, env=env, check=True, capture_output=True)
  a = json.load(open(ref / "summary.json"))
  b = json.load(open(killed / "summary.json"))
  assert b["resumed_from"] is not None and 0 < b["resumed_from"] < b["num_updates"]
  assert a["params_sha256"] == b["params_sha256"]
  assert sorted(os.listdir(cache)) == cached  # Loaded, not compiled again.
  updates = [json.loads(line)["update"] for line in open(killed / "metrics.jsonl")]
  assert updates == list(range(1, b["num_updates"] + 1))  # No duplicate or missing lines.


def test_init_from_starts_at_a_finished_runs_parameters(tmp_path, small_ppo_config):
  source = runs.run_ppo(small_ppo_config, str(tmp_path / "source"))
  small_ppo_config.training.init_from = str(tmp_path / "source")
  small_ppo_config.hparams.learning_rate = 0.0  # Nothing moves: params stay the source's.
  frozen = runs.run_ppo(small_ppo_config, str(tmp_path / "frozen"))
  assert frozen["params_sha256"] == source["params_sha256"]
  small_ppo_config.network_kwargs.hidden_sizes = (8,)
  with pytest.raises(checkpointing.CheckpointError, match="do not fit"):
    runs.run_ppo(small_ppo_config, str(tmp_path / "mismatch"))


def test_anchor_is_the_init_from_model_and_ewc_estimates_its_fisher(tmp_path, small_ppo_config):
  """Persistence objectives in the trainer: the anchor is `init_from`'s parameters, the
  EWC Fisher is estimated on it (mean 1, not all ones), and both come back from the
  checkpoint when the same command runs again."""
  small_ppo_config.training.progress = False
  src = trainer.train(small_ppo_config, str(tmp_path / "source"))
  c = ml_collections.ConfigDict(small_ppo_config.to_dict())
  c.training.init_from = str(tmp_path / "source")
  c.ppo.objectives = ("ewc",)
  c.training.max_updates = 2
  first = trainer.train(c, str(tmp_path / "ewc"))
  persist = first.runner.ppo.persist
  leaves = zip(jax.tree.leaves(persist.anchor), jax.tree.leaves(src.runner.ppo.params), strict=True)
  for a, b in leaves:
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
  fisher = np.concatenate(
    [np.asarray(x).reshape(x.shape[0], -1) for x in jax.tree.leaves(persist.fisher)], 1
  )
  np.testing.assert_allclose(fisher.mean(axis=1), 1.0, rtol=1e-4)  # Per seed.
  assert fisher.std() > 0.1
  assert all(np.isfinite(h["weight_anchor"]) for h in first.history)
  resumed = trainer.train(c, str(tmp_path / "ewc"))  # The same command: restored.
  assert resumed.resumed_from == 2
  np.testing.assert_array_equal(
    np.asarray(jax.tree.leaves(resumed.runner.ppo.persist.fisher)[0]),
    np.asarray(jax.tree.leaves(persist.fisher)[0]),
  )
