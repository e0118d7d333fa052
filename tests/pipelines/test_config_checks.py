"""Bad arm settings and runs of another world fail at once, with one line, before any work."""

import importlib
import json
import os

import pytest

from configs.common import arm
from experiments.pipelines import trait_rl


def _config():
  return importlib.import_module("configs.trait_rl_vs_baseline").get_config("test")


@pytest.mark.parametrize(
  "change,match",
  [
    (lambda c: c.arms.update({"x": arm(rubric_control="nope")}), "arms.x: unknown rubric_control"),
    (lambda c: c.arms.update({"x": arm(families=("identity_pair",))}), "arms.x.families"),
    (lambda c: c.arms.update({"x": arm(families=("nope",))}), "arms.x.families: 'nope'"),
    (lambda c: setattr(c, "controls", ("baseline",)), "controls: 'baseline' is not a negative"),
  ],
)
def test_bad_arms_fail_before_any_work(tmp_path, change, match):
  config = _config()
  change(config)
  with pytest.raises(ValueError, match=match):
    trait_rl.run_trait_rl(config, str(tmp_path / "run"))
  assert not os.path.exists(tmp_path / "run")


def test_runs_of_another_world_are_refused(tmp_path):
  old = tmp_path / "old"
  old.mkdir()
  saved = json.loads(_config().to_json_best_effort())
  saved.pop("world_version")  # a v1 workdir: no world_version recorded
  (old / "pipeline_config.json").write_text(json.dumps(saved))
  with pytest.raises(ValueError, match="world_version='1.0.0' was made with another"):
    trait_rl.run_trait_rl(_config(), str(old))
  config = _config()
  config.reuse_from = str(old)
  with pytest.raises(ValueError, match="reuse_from workdir"):
    trait_rl.run_trait_rl(config, str(tmp_path / "new"))
  assert sorted(os.listdir(old)) == ["pipeline_config.json"]  # nothing written there


@pytest.mark.parametrize("scale", ["test", "runlocal", "full"])
def test_evaluate_attacks_with_the_conversation_rl_arms_ppo_run(scale):
  """`configs/evaluate.py` spells out the PPO run of `configs/conversation_rl.py`'s arms
  (the checkpoints it evaluates by default) for its harmful fine-tuning: the same run."""
  evaluate = importlib.import_module("configs.evaluate").get_config(scale)
  conversation = importlib.import_module("configs.conversation_rl").get_config(scale)
  assert evaluate.attack_ppo.to_dict() == conversation.ppo_run.to_dict()
