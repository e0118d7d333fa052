"""No run state is lost or corrupted: checkpoint digests and `training.resume`, the
same-run rule and `training.overwrite`, damaged metrics, non-finite updates, bad
settings, a full disk while saving, and one run per workdir."""

import errno
import fcntl
import os
import shutil
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from orbax.checkpoint._src.handlers import json_checkpoint_handler

from alignment_rl.training import batched, checkpointing, metrics_writer, trainer
from alignment_rl.training.program import Program
from alignment_rl.training.workdir_lock import WorkdirBusyError, WorkdirLock
from experiments import runs


def _config():
  """The conftest's `small_ppo_config` (10 updates, a checkpoint every 2, 3 kept)."""
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


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
  """A finished run (checkpoints 6, 8, 10): (workdir, summary, metrics bytes)."""
  workdir = tmp_path_factory.mktemp("finished") / "run"
  summary = runs.run_ppo(_config(), str(workdir))
  return workdir, summary, (workdir / "metrics.jsonl").read_bytes()


def _copy(finished, tmp_path):
  dest = tmp_path / "run"
  shutil.copytree(finished[0], dest)
  return dest


def _snapshot(folder):
  return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_line(excinfo):
  assert "\n" not in str(excinfo.value)
  return str(excinfo.value)


def _flip_a_bit(folder):
  biggest = max((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
  data = bytearray(biggest.read_bytes())
  data[len(data) // 2] ^= 1
  biggest.write_bytes(bytes(data))


def test_flipped_bit_fails_naming_the_step_unless_previous_good(finished, tmp_path, capsys):
  workdir = _copy(finished, tmp_path)
  _flip_a_bit(workdir / "checkpoints" / "10" / "state")
  before = _snapshot(workdir)
  with pytest.raises(checkpointing.CheckpointError) as e:
    runs.run_ppo(_config(), str(workdir))
  assert "checkpoint 10 " in _one_line(e) and "content digest mismatch" in str(e.value)
  assert _snapshot(workdir) == before  # Nothing changed.
  config = _config()
  config.training.resume = "previous_good"
  summary = runs.run_ppo(config, str(workdir))
  said = capsys.readouterr().err.splitlines()
  assert any("corrupt checkpoints 10 (content digest mismatch)" in s for s in said), said
  assert any("resuming from 8 (training.resume=previous_good)" in s for s in said), said
  assert summary["resumed_from"] == 8
  assert summary["params_sha256"] == finished[1]["params_sha256"]
  assert (workdir / "metrics.jsonl").read_bytes() == finished[2]
  assert (workdir / "corrupt_checkpoints" / "10").is_dir()


@pytest.mark.parametrize(
  "garbled", ["_CHECKPOINT_METADATA", "meta/metadata", "content_digest.json"]
)
def test_garbled_checkpoint_metadata_is_one_line(finished, tmp_path, capfd, garbled):
  workdir = _copy(finished, tmp_path)
  (workdir / "checkpoints" / "10" / garbled).write_text("{garbled")
  with pytest.raises(checkpointing.CheckpointError, match="checkpoint 10 .*corrupt") as e:
    trainer.train(_config(), str(workdir))
  _one_line(e)
  assert capfd.readouterr().err == ""  # No orbax noise.


def test_no_good_checkpoint_restarts_from_scratch_dropping_stale_state(finished, tmp_path, capsys):
  """Every checkpoint corrupt (previous_good): the run starts again, its metrics rows
  and stale summary and parameters removed, saying so; the result is the same."""
  workdir = _copy(finished, tmp_path)
  for step in ("6", "8", "10"):
    (workdir / "checkpoints" / step / "content_digest.json").write_text('{"step": 1}')
  config = _config()
  config.training.resume = "previous_good"
  summary = runs.run_ppo(config, str(workdir))
  said = capsys.readouterr().err
  assert "starting from scratch (training.resume=previous_good)" in said
  assert "dropped 10 records (restarting)" in said
  assert "removed stale params, summary.json" in said
  assert summary["resumed_from"] is None
  assert summary["params_sha256"] == finished[1]["params_sha256"]
  assert (workdir / "metrics.jsonl").read_bytes() == finished[2]


def test_killed_before_first_checkpoint_restarts_without_duplicate_rows(finished, tmp_path, capsys):
  workdir = tmp_path / "run"
  workdir.mkdir()
  shutil.copy(finished[0] / "config.json", workdir)
  rows = finished[2].splitlines(keepends=True)
  (workdir / "metrics.jsonl").write_bytes(b"".join(rows[:3]) + rows[3][:20])  # Torn 4th row.
  result = trainer.train(_config(), str(workdir))
  said = capsys.readouterr().err
  assert "repaired: dropped its truncated last line 4" in said
  assert "dropped 3 records (restarting)" in said
  assert [h["update"] for h in result.history] == list(range(1, 11))
  assert (workdir / "metrics.jsonl").read_bytes() == finished[2]


def test_truncated_metrics_tail_is_repaired_and_a_bad_line_fails(finished, tmp_path, capsys):
  workdir = _copy(finished, tmp_path)
  metrics = workdir / "metrics.jsonl"
  metrics.write_bytes(finished[2] + b'{"update": 11, "los')
  summary = runs.run_ppo(_config(), str(workdir))
  assert "repaired: dropped its truncated last line 11" in capsys.readouterr().err
  assert summary["resumed_from"] == 10 and metrics.read_bytes() == finished[2]
  rows = finished[2].splitlines(keepends=True)
  metrics.write_bytes(b"".join(rows[:2]) + b"{not json\n" + b"".join(rows[3:]))
  before = _snapshot(workdir)
  with pytest.raises(metrics_writer.MetricsFileError, match=r"metrics.jsonl line 3 is corrupt"):
    runs.run_ppo(_config(), str(workdir))
  assert _snapshot(workdir) == before


def test_resume_and_overwrite_are_runtime_fields():
  saved = {"training": {"resume": "latest", "overwrite": False}}
  current = {"training": {"resume": "previous_good", "overwrite": True}}
  assert checkpointing.config_differences(saved, current) == []


def test_other_config_is_refused_and_overwrite_replaces_once_started(finished, tmp_path, capsys):
  workdir = _copy(finished, tmp_path)
  before = _snapshot(workdir)
  config = _config()
  config.hparams.learning_rate = 1e-3
  with pytest.raises(checkpointing.CheckpointError, match="another config") as e:
    runs.run_ppo(config, str(workdir))
  assert "hparams.learning_rate" in _one_line(e) and "training.overwrite=True" in str(e.value)
  config.training.overwrite = True
  config.training.init_from = str(tmp_path / "missing")  # Fails before the run starts.
  with pytest.raises(checkpointing.CheckpointError, match="no finished run"):
    runs.run_ppo(config, str(workdir))
  assert _snapshot(workdir) == before  # The old run is untouched.
  config.training.init_from = ""
  summary = runs.run_ppo(config, str(workdir))
  assert "replaced the run of another config (fields: hparams.learning_rate" in (
    capsys.readouterr().err
  )
  assert summary["resumed_from"] is None
  assert summary["params_sha256"] != finished[1]["params_sha256"]
  assert [r["update"] for r in metrics_writer.read_metrics(str(workdir))] == list(range(1, 11))
  again = runs.run_ppo(config, str(workdir))  # Now it is this config's run: resumed.
  assert again["resumed_from"] == 10


def test_non_finite_parameters_stop_and_the_last_good_checkpoint_stays(tmp_path, monkeypatch):
  real, calls = Program.run_chunk, []

  def poisoned(self, runner, num_updates, env_params=None):
    runner, metrics = real(self, runner, num_updates, env_params)
    calls.append(num_updates)
    if len(calls) == 3:  # Updates 5-6: one weight of seed 1 becomes infinite.
      leaves, treedef = jax.tree.flatten(runner.ppo.params)
      leaves[0] = leaves[0].at[1].set(jnp.inf)
      runner = runner.replace(ppo=runner.ppo.replace(params=jax.tree.unflatten(treedef, leaves)))
    return runner, metrics

  monkeypatch.setattr(Program, "run_chunk", poisoned)
  with pytest.raises(trainer.NonFiniteLossError) as e:
    trainer.train(_config(), str(tmp_path))
  assert "non-finite parameter " in _one_line(e) and "in seed 1 after update 6; " in str(e.value)
  assert "the last checkpoint (update 4) is kept" in str(e.value)
  assert sorted(os.listdir(tmp_path / "checkpoints")) == ["2", "4"]
  assert [r["update"] for r in metrics_writer.read_metrics(str(tmp_path))] == [1, 2, 3, 4]


@pytest.mark.parametrize(
  "field, value, message",
  [
    ("num_seeds", 0, "num_seeds=0; allowed: >= 1"),
    ("training.keep_checkpoints", 0, "training.keep_checkpoints=0; allowed: >= 1"),
    ("training.resume", "oldest", "training.resume='oldest'; allowed: latest, previous_good"),
  ],
)
def test_bad_settings_fail_at_once(tmp_path, field, value, message):
  config = _config()
  group, _, name = field.rpartition(".")
  (config[group] if group else config)[name] = value
  with pytest.raises(ValueError, match=message):
    trainer.train(config, str(tmp_path / "a"))
  with pytest.raises(ValueError, match=message):
    batched.train_together([_config(), config], [str(tmp_path / "b"), str(tmp_path / "c")])
  assert os.listdir(tmp_path) == []  # Before any work.


# Orbax's background save loop is closed after the failure: a warning, not an error.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_disk_full_while_saving_keeps_the_previous_checkpoint(finished, tmp_path, monkeypatch):
  real = json_checkpoint_handler.JsonCheckpointHandler._save_fn

  async def full_at_6(self, x, directory):
    if x.get("update") == 6:
      raise OSError(errno.ENOSPC, "No space left on device")
    return await real(self, x, directory)

  monkeypatch.setattr(json_checkpoint_handler.JsonCheckpointHandler, "_save_fn", full_at_6)
  with pytest.raises(checkpointing.CheckpointError) as e:
    trainer.train(_config(), str(tmp_path))
  assert "saving checkpoint 6 " in _one_line(e) and "No space left on device" in str(e.value)
  assert "the previous checkpoint (4) is intact" in str(e.value)
  monkeypatch.undo()
  assert sorted(d for d in os.listdir(tmp_path / "checkpoints") if d.isdigit()) == ["2", "4"]
  summary = runs.run_ppo(_config(), str(tmp_path))  # The same command: resumed from 4.
  assert summary["resumed_from"] == 4
  assert summary["params_sha256"] == finished[1]["params_sha256"]
  assert (tmp_path / "metrics.jsonl").read_bytes() == finished[2]


def test_second_launch_into_a_workdir_is_refused(finished, tmp_path):
  workdir = _copy(finished, tmp_path)
  held = WorkdirLock(str(workdir))
  try:
    with pytest.raises(WorkdirBusyError, match="in use by another run") as e:
      trainer.train(_config(), str(workdir))
    _one_line(e)
  finally:
    held.release()
  # Another process holds it; once that process is killed, the lock is free again.
  holder = subprocess.Popen(
    [sys.executable, "-c", _HOLD, str(workdir / "run.lock")], stdout=subprocess.PIPE, text=True
  )
  try:
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(WorkdirBusyError):
      WorkdirLock(str(workdir))
  finally:
    holder.kill()
    holder.wait()
  assert trainer.train(_config(), str(workdir)).resumed_from == 10


_HOLD = f"""
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, {fcntl.LOCK_EX})
print("held", flush=True)
time.sleep(600)
"""


def test_batched_runs_resume_by_the_same_rules(finished, tmp_path, capsys):
  """In a batch each run is opened by the same rules: a finished run is resumed, a
  corrupt one falls back under previous_good; another config's workdir is refused."""
  done, corrupt = _copy(finished, tmp_path / "a"), _copy(finished, tmp_path / "b")
  _flip_a_bit(corrupt / "checkpoints" / "10" / "state")
  configs = [_config(), _config()]
  with pytest.raises(checkpointing.CheckpointError, match="checkpoint 10 .*corrupt"):
    batched.train_together(configs, [str(done), str(corrupt)], batch="on")
  configs[1].training.resume = "previous_good"
  results = batched.train_together(configs, [str(done), str(corrupt)], batch="on")
  assert [r.resumed_from for r in results] == [10, 8]
  assert "resuming from 8" in capsys.readouterr().err
  digests = {runs.params_digest(r.runner.ppo.params) for r in results}
  assert digests == {finished[1]["params_sha256"]}
  np.testing.assert_array_equal(results[0].history[-1]["loss"], results[1].history[-1]["loss"])
  configs[0].hparams.learning_rate = 1e-3
  with pytest.raises(checkpointing.CheckpointError, match="another config"):
    batched.train_together(configs, [str(done), str(corrupt)], batch="on")
