"""Sweeps past one machine: a sweep of array-valued hyperparameters trains as one
vmapped program (one compile of the train program) whose per-point results equal each
point run alone by `--sweep_index` (as on separate machines); the report gathers the
finished points; `--sweep_count` and a bad `--sweep_index` on the command line."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from alignment_rl.training import checkpointing, metrics_writer, trainer
from alignment_rl.training.ppo_loop import PPOLoop
from alignment_rl.training.program import Program
from experiments import main as launcher
from experiments import runs, sweep, sweep_report

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"  # One per XLA compilation.
POINTS = [
  {"hparams.learning_rate": 1e-4},
  {"hparams.learning_rate": 1e-3, "hparams.ent_coef": 0.0},
  {"hparams.clip_eps": 0.1, "hparams.vf_coef": 1.0},
]


class _Counts:
  """Traces of the train step (`PPOLoop.run`), dispatches of chunks (of one run, of
  several together), and XLA compilations during those dispatches (`compiles`: of the
  train program) and in all (`all_compiles`: also the runner's init and small ops)."""

  def __init__(self, monkeypatch):
    self.traces = self.lone_calls = self.many_calls = self.compiles = self.all_compiles = 0
    self.inside = False
    run = PPOLoop.run

    def traced(*a, **k):
      self.traces += 1
      return run(*a, **k)

    monkeypatch.setattr(PPOLoop, "run", traced)
    for name, counter in (("run_chunk", "lone_calls"), ("run_chunk_many", "many_calls")):
      monkeypatch.setattr(Program, name, self._wrap(getattr(Program, name), counter))

  def _wrap(self, method, counter):
    def wrapped(*a, **k):
      setattr(self, counter, getattr(self, counter) + 1)
      self.inside = True
      try:
        return method(*a, **k)
      finally:
        self.inside = False

    return wrapped

  def on_event(self, event, duration, **kwargs):
    del duration, kwargs
    if event == COMPILE_EVENT:
      self.all_compiles += 1
      self.compiles += self.inside


def _counted(monkeypatch, fn):
  counts = _Counts(monkeypatch)
  jax.monitoring.register_event_duration_secs_listener(counts.on_event)
  try:
    fn()
  finally:
    jax.monitoring.unregister_event_duration_listener(counts.on_event)
    monkeypatch.undo()
  return counts


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
  """The 3-point sweep run both ways: (config, batched dir, lone dir, batched counts,
  lone counts, log lines, the report after the first lone point)."""
  from configs.common import ppo_config

  # Tiny CartPole (2 seeds x 8 envs x 16 steps, one epoch of one minibatch: a short
  # compile); 6 updates in 3 chunks, checkpointed once at the end.
  config = ppo_config()
  config.experiment = "cartpole_ppo"
  config.num_seeds, config.ppo.num_envs, config.ppo.num_steps = 2, 8, 16
  config.ppo.update_epochs = config.ppo.num_minibatches = 1
  config.ppo.total_timesteps = 8 * 16 * 6
  config.training.updates_per_chunk = 2
  config.training.checkpoint_every_chunks = 3
  config.training.progress = False
  config.network_kwargs.hidden_sizes = (16,)
  trainer._PROGRAMS.clear()  # Compiled here (the lone points reuse the runner's init).
  root = tmp_path_factory.mktemp("sweeps")
  batched_dir, lone_dir = str(root / "batched"), str(root / "lone")
  log = []
  jobs = launcher.plan(config, batched_dir, POINTS)
  together = _counted(pytest.MonkeyPatch(), lambda: sweep.run(runs.run_ppo, jobs, log=log.append))
  partial = []

  def one_by_one():  # As three `--sweep_index=K` processes (or SLURM tasks) would.
    for k in range(len(POINTS)):
      sweep.run(runs.run_ppo, launcher.plan(config, lone_dir, POINTS, index=k), log=log.append)
      if k == 0:
        partial.append(sweep_report.gather(launcher.plan(config, lone_dir, POINTS), POINTS))

  alone = _counted(pytest.MonkeyPatch(), one_by_one)
  trainer._PROGRAMS.clear()
  return config, batched_dir, lone_dir, together, alone, log, partial[0]


def test_hparams_sweep_compiles_the_train_program_once(swept):
  _, _, _, together, alone, log, _ = swept
  assert log == [
    "sweep: 3 points differ only in array leaves (hparams.clip_eps, hparams.ent_coef, "
    "hparams.learning_rate, hparams.vf_coef): trained together as one vmapped program "
    "(one compilation)"
  ]
  # One trace and one XLA compilation of the train program for all 3 points x 2 seeds;
  # its 3 chunks are 3 dispatches, none of a lone point's program.
  assert (together.traces, together.compiles) == (1, 1)
  assert (together.many_calls, together.lone_calls) == (3, 0)
  # Alone (in one process) the lone program is compiled once too, but dispatched 9 times;
  # on 3 machines (`--sweep_index`) it would be compiled 3 times.
  assert (alone.traces, alone.compiles) == (1, 1)
  assert (alone.many_calls, alone.lone_calls) == (0, 9)
  print(
    f"\nXLA compilations: batched sweep {together.compiles} of the train program "
    f"({together.all_compiles} in all), one by one {alone.compiles} ({alone.all_compiles})"
  )


def _final_params(workdir, config):
  target = trainer.get_program(config).abstract_params
  return jax.device_get(checkpointing.load_final_params(workdir, target))


def test_batched_sweep_equals_each_point_run_alone(swept):
  config, batched_dir, lone_dir, *_ = swept
  jobs = launcher.plan(config, batched_dir, POINTS)
  worst_params = worst_metric = 0.0
  finals = []
  for name, point, point_dir in jobs:
    lone = os.path.join(lone_dir, name)
    a, b = _final_params(point_dir, point), _final_params(lone, point)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
      worst_params = max(worst_params, float(np.max(np.abs(np.asarray(x) - np.asarray(y)))))
    finals.append(np.concatenate([np.ravel(x) for x in jax.tree.leaves(a)]))
    together, alone = metrics_writer.read_metrics(point_dir), metrics_writer.read_metrics(lone)
    assert [m["update"] for m in together] == [m["update"] for m in alone] == list(range(1, 7))
    for mt, ma in zip(together, alone, strict=True):
      assert mt.keys() == ma.keys()
      for key, value in ma.items():
        diff = np.abs(np.asarray(mt[key], float) - np.asarray(value, float))
        worst_metric = max(worst_metric, float(np.max(diff / np.maximum(1.0, np.abs(value)))))
  print(f"\nmax |batched - alone|: params {worst_params:.2e}, metrics (rel) {worst_metric:.2e}")
  assert worst_params <= 1e-5 and worst_metric <= 1e-5
  # The points really differ, so equality is not trivial.
  assert min(np.max(np.abs(finals[i] - finals[j])) for i, j in ((0, 1), (0, 2), (1, 2))) > 1e-4


def test_report_gathers_finished_points_and_lists_the_others(swept):
  config, batched_dir, _, _, _, _, partial = swept
  assert partial["finished"] == 1
  assert [p["status"] for p in partial["points"]] == ["finished", "not started", "not started"]
  text = sweep_report.markdown(partial)
  assert text.startswith("# Sweep: 1 of 3 points finished")
  assert "- 1: 001_ent_coef=0.0,learning_rate=0.001 (not started)" in text
  report = sweep_report.gather(launcher.plan(config, batched_dir, POINTS), POINTS)
  text = sweep_report.write(report, batched_dir)
  assert report["unfinished"] == [] and "Not finished" not in text
  rows = [line for line in text.splitlines() if line.startswith("| ")]
  assert rows[0].startswith("| index | point | hparams.learning_rate | hparams.ent_coef |")
  assert len(rows) == 4 and "final_return_mean" in rows[0]
  with open(os.path.join(batched_dir, "sweep_report.json")) as f:
    saved = json.load(f)
  summary = saved["points"][2]["summary"]
  with open(os.path.join(batched_dir, saved["points"][2]["name"], "summary.json")) as f:
    assert json.load(f) == summary
  assert saved["points"][2]["overrides"] == POINTS[2]


def test_points_differing_in_static_fields_do_not_share_a_program(small_ppo_config):
  points = [{"ppo.num_envs": 8}, {"ppo.num_envs": 4}]
  configs = [c for _, c in sweep.expand(small_ppo_config, points)]
  assert sweep.differing_fields(configs) == ["ppo.num_envs"]
  assert not sweep.share_program(configs)
  from experiments.pipelines.trait_rl import run_trait_rl

  assert sweep._together(run_trait_rl) is None  # Pipelines run their points one by one.
  trainer._PROGRAMS.clear()


def _main(*args):
  return subprocess.run(
    [sys.executable, "-m", "experiments.main", "--config=configs/cartpole_ppo.py:runlocal", *args],
    cwd=ROOT,
    capture_output=True,
    text=True,
    env={**os.environ, "JAX_PLATFORMS": "cpu"},
    timeout=120,
  )


def test_sweep_count_and_an_out_of_range_index_on_the_command_line(tmp_path):
  count = _main("--sweep_count", f"--workdir={tmp_path / 'w'}")
  assert (count.returncode, count.stdout) == (0, "3\n")
  bad = _main("--sweep_index=3", f"--workdir={tmp_path / 'w'}")
  assert bad.returncode == 1
  assert bad.stderr == "error: --sweep_index: 3 — allowed: 0..2\n"
  assert os.listdir(tmp_path) == []  # Nothing written before the error.
