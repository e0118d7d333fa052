"""The transfer probe at test scale: it trains, is scored by the suite and is set beside
the best fixed reply on every held-out group."""

import importlib
import json
import os

import numpy as np

from alignment_rl.evals import probe
from experiments.pipelines.transfer_probe import run_transfer_probe


def test_transfer_probe_two_hundred_steps(tmp_path):
  config = importlib.import_module("configs.transfer_probe").get_config("test")
  summary = run_transfer_probe(config, str(tmp_path))
  with open(os.path.join(tmp_path, "results.json"), encoding="utf-8") as f:
    results = json.load(f)
  assert set(probe.HELDOUT_GROUPS) <= set(results["probe"]["groups"])
  assert set(summary["beats"]) == set(probe.HELDOUT_GROUPS)
  for group in probe.HELDOUT_GROUPS:
    assert 0.0 <= results["probe"]["groups"][group] <= 1.0
    assert 0.0 <= results["fixed_reply"]["groups"][group] <= 1.0
  # The oracle's replies really are what the rubric wants; the probe fit them at all.
  assert results["probe"]["oracle_train_rubric"] > 0.9
  assert np.isfinite(results["probe"]["final_bc_loss"])


def test_oracle_tokens_become_actions():
  tokens = np.array([[6 + 29, 6 + 17, 6, 0, 0]], np.int32)  # DO_TASK EXPLAIN <eot> PAD PAD
  np.testing.assert_array_equal(probe.tokens_to_actions(tokens), [[29, 17, 0, 0, 0]])
