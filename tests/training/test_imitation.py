"""Imitation of the assistant prior on small data, its saved parameters, and the
transcript viewer (`python -m experiments.show`)."""

import math
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from alignment_rl import networks
from alignment_rl.agents.policies import ResponsePolicy
from alignment_rl.language import schema, vocab
from alignment_rl.training import checkpointing, imitation
from configs import common
from experiments import show

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STEPS = 300


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  """300 steps of BC (2 seeds, batch 64) on the small config, in temporary folders."""
  data_dir = str(tmp_path_factory.mktemp("tfds"))
  workdir = str(tmp_path_factory.mktemp("imitation") / "run")
  config = common.imitation_config()
  config.num_seeds = 2
  config.data.config, config.data.data_dir = "small", data_dir
  ic = config.imitation
  ic.num_steps, ic.batch_size, ic.steps_per_chunk = STEPS, 64, STEPS // 2
  ic.learning_rate, ic.eval_samples, ic.progress = 3e-3, 1, False
  summary = imitation.train_prior_policy(config, workdir)
  return config, workdir, data_dir, summary


def test_bc_loss_falls_and_accuracy_beats_chance(run):
  _, _, _, summary = run
  curve = summary["curve"]
  assert curve[0]["step"] == 1 and curve[-1]["step"] == STEPS
  # Untrained: about uniform over the actions.
  assert curve[0]["bc_loss"] == pytest.approx(math.log(vocab.NUM_ACTIONS), rel=0.1)
  assert curve[-1]["bc_loss"] < 0.6 * curve[0]["bc_loss"]
  assert curve[-1]["token_accuracy"] > 0.45  # chance: 1/44 = 0.023
  # Held-out (test split) accuracy on prior responses beats guessing each position's
  # most frequent action, for every seed.
  for acc in summary["token_accuracy_per_seed"]:
    assert acc > summary["majority_token_accuracy"] + 0.05
  for key in ("prior_rubric", "policy_rubric", "policy_standard", "policy_class_freq"):
    assert key in summary
  assert len(summary["policy_rubric"]) == 2


def test_params_fit_the_ppo_runner_layout(run):
  """Final params: leading seed axis, loadable into `ResponsePolicy.init` vmapped over
  seeds on a first-turn observation (what `training.init_from` restores into)."""
  config, workdir, _, _ = run
  net = networks.make(config.network, vocab.NUM_ACTIONS, **config.network_kwargs)
  keys = jax.random.split(jax.random.PRNGKey(7), config.num_seeds)
  obs = jnp.zeros((schema.CONTEXT_LEN,), jnp.int32)
  target = jax.eval_shape(jax.vmap(ResponsePolicy(net).init, in_axes=(0, None)), keys, obs)
  loaded = checkpointing.load_final_params(workdir, target)
  pairs = list(zip(jax.tree.leaves(loaded), jax.tree.leaves(target), strict=True))
  for a, b in pairs:
    assert a.shape == b.shape and a.dtype == b.dtype and a.shape[0] == config.num_seeds
  assert all(np.isfinite(a).all() for a, _ in pairs)
  # The seeds were initialised and trained independently.
  assert not all(np.array_equal(a[0], a[1]) for a, _ in pairs)


def test_rerun_of_a_finished_run_does_no_work(run):
  config, workdir, _, summary = run
  assert imitation.train_prior_policy(config, workdir) == summary


def test_show_cli_prints_transcripts_and_rubric_breakdown(run):
  _, _, data_dir, _ = run
  args = ["--split=test", "--n=3", "--seed=1", "--data_config=small", f"--data_dir={data_dir}"]
  cmd = [sys.executable, "-m", "experiments.show", *args]
  out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert out.returncode == 0, out.stderr[-2000:]
  text = out.stdout
  assert text.count("<assistant>") >= 3 and text.count("HealthBench score") == 3
  assert "--- rubric" in text and "response from prior" in text
  assert "MET" in text and "[+" in text and "standard" in text and "helpfulness" in text


def test_show_samples_from_a_finished_run(run, capsys):
  _, workdir, data_dir, _ = run
  base = ["--n=2", "--data_config=small", f"--data_dir={data_dir}"]
  assert show.main([*base, f"--policy={workdir}", "--policy_seed=1"]) == 0
  text = capsys.readouterr().out
  assert text.count("HealthBench score") == 2 and f"policy {workdir} seed 1" in text
  assert show.main([*base, f"--policy={data_dir}"]) == 2
  assert "no config.json" in capsys.readouterr().err


def test_a_workdir_of_another_config_is_refused(run, tmp_path):
  """The trainer's same-run rule: a finished prior of another config is never returned
  as this config's, and nothing in its workdir changes."""
  config, workdir, _, _ = run
  other = config.copy_and_resolve_references()
  other.imitation.learning_rate = 1e-3
  before = {n: os.path.getmtime(os.path.join(workdir, n)) for n in os.listdir(workdir)}
  with pytest.raises(checkpointing.CheckpointError, match="imitation.learning_rate"):
    imitation.train_prior_policy(other, workdir)
  assert {n: os.path.getmtime(os.path.join(workdir, n)) for n in os.listdir(workdir)} == before


def test_a_killed_attempt_starts_over_without_duplicate_rows(run, tmp_path, capsys):
  """A prior killed before its summary (rows, a half-written row and params on disk)
  trains again from scratch: its stale params and every metric row are dropped, saying
  so, and the config is recorded (`start_over`; the training itself is the fixture's)."""
  import json
  import shutil

  from alignment_rl.training.metrics_writer import read_metrics

  config, finished, _, _ = run
  workdir = str(tmp_path / "prior")
  shutil.copytree(finished, workdir)
  os.remove(os.path.join(workdir, "summary.json"))  # killed before the summary
  with open(os.path.join(workdir, "metrics.jsonl"), "a", encoding="utf-8") as f:
    f.write('{"update": 301, "env')  # and a half-written row
  writer = imitation.start_over(workdir, json.loads(config.to_json_best_effort()))
  writer.write(1, 64, {"loss": np.zeros(2)})
  writer.close()
  err = capsys.readouterr().err
  assert "removed stale params" in err and f"dropped {STEPS} records" in err
  assert "truncated last line" in err
  assert [r["update"] for r in read_metrics(workdir)] == [1]
  assert not os.path.exists(os.path.join(workdir, "params"))
