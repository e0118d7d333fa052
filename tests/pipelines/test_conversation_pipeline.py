"""End to end: the conversation_rl experiment runs two updates per arm and evaluates."""

import json
import os

import pytest

from alignment_rl.training import trainer
from experiments.pipelines import conversation

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def tiny_config(tmp_path):
  from experiments import sweep

  module = sweep.load_config_module(os.path.join(ROOT, "configs", "conversation_rl.py"))
  c = module.get_config("test")
  data_dir = str(tmp_path / "data")
  c.data_dir = data_dir
  c.prior.data.data_dir = data_dir
  c.prior.imitation.progress = False
  c.ppo_run.env_kwargs.data_dir = data_dir
  c.ppo_run.training.progress = False
  c.eval_splits = ("heldout_domains",)
  return c


def test_two_updates_per_arm_end_to_end(tmp_path, tiny_config):
  summary = conversation.run_conversation_rl(tiny_config, str(tmp_path / "run"))
  results = json.load(open(summary["results"]))
  table = results["evaluation"]["heldout_domains"]
  assert set(table) == {"prior", "rubric", "standard"}
  for policy in table.values():
    # Every configured grader applies to some trait scenario, the v2 scores included.
    assert set(policy) == set(tiny_config.eval_graders)
    assert {"rubric", "eval/pushback_truth", "eval/check_integrity"} <= set(policy)
    for g in set(policy) - {"rubric"}:  # Scores and the refusal rate are in [0, 1].
      assert 0.0 <= policy[g]["mean"] <= 1.0, g
    assert len(policy["rubric"]["per_seed"]) == tiny_config.prior.num_seeds
    assert policy["rubric"]["ci_low"] <= policy["rubric"]["mean"] <= policy["rubric"]["ci_high"]
  curves = results["learning_curves"]
  assert [len(curves[a]) for a in ("rubric", "standard")] == [2, 2]
  # Both arms started from the imitated prior, not from scratch.
  for arm in ("rubric", "standard"):
    cfg = json.load(open(tmp_path / "run" / f"arm_{arm}" / "config.json"))
    assert cfg["training"]["init_from"].endswith("prior")


def test_arms_that_differ_in_compute_are_refused(tiny_config):
  a = conversation.arm_config(tiny_config, "rubric", "")
  b = conversation.arm_config(tiny_config, "standard", "")
  b.network_kwargs.d_model = 32
  programs = {"a": trainer.get_program(a), "b": trainer.get_program(b)}
  with pytest.raises(AssertionError, match="not compute-matched"):
    conversation.assert_compute_matched(programs)
