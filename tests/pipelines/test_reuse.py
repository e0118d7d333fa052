"""`pipelines.reuse`: which finished runs are copied, and that nothing is overwritten."""

import json
import os

from experiments.pipelines import reuse


def _run(folder, config, finished=True):
  os.makedirs(folder)
  with open(os.path.join(folder, "config.json"), "w", encoding="utf-8") as f:
    json.dump(config, f)
  if finished:
    os.makedirs(os.path.join(folder, "params"))
  return str(folder)


def test_reuse_copies_only_a_finished_run_of_an_equal_config(tmp_path):
  config = {"experiment": "b/arm", "lr": 0.1, "training": {"init_from": "b/prior"}}
  unfinished = _run(tmp_path / "a" / "arm_x", {**config, "experiment": "a/x"}, finished=False)
  other = _run(tmp_path / "a" / "arm_y", {**config, "lr": 0.2})
  # Equal but for the label and the prior's path (runtime fields).
  equal = _run(tmp_path / "a" / "arm_z", {"experiment": "a/z", "lr": 0.1,
                                          "training": {"init_from": "a/prior"}})  # fmt: skip
  assert reuse.arm_candidates([str(tmp_path / "a")]) == [unfinished, other, equal]
  dest = str(tmp_path / "b" / "arm")
  assert reuse.reuse_run(dest, config, [unfinished, other, equal], reuse.finished_arm) == equal
  assert os.path.isdir(os.path.join(dest, "params"))
  assert reuse.sources(str(tmp_path / "b")) == {"arm": os.path.abspath(equal)}
  # An existing folder is never touched.
  with open(os.path.join(dest, "config.json"), "w", encoding="utf-8") as f:
    f.write("mine")
  assert reuse.reuse_run(dest, config, [equal], reuse.finished_arm) is None
  assert open(os.path.join(dest, "config.json"), encoding="utf-8").read() == "mine"
  # No equal finished run: nothing is copied.
  fresh = str(tmp_path / "c" / "arm")
  assert reuse.reuse_run(fresh, config, [unfinished, other], reuse.finished_arm) is None
  assert not os.path.exists(fresh)


def test_the_sweep_point_at_the_datasets_own_overlap_is_the_main_jobs_run():
  """`surface_overlap_sweep` at the dataset's own overlap trains the same arms on the
  same data as `trait_rl_vs_baseline`, so its arm configs are equal (and reusable);
  another overlap changes both the arms' data and the evaluation data."""
  from alignment_rl.training import checkpointing
  from configs import surface_overlap_sweep, trait_rl_vs_baseline
  from experiments.pipelines import trait_rl

  main = trait_rl_vs_baseline.get_config("runlocal")
  for overlap, equal in ((0.5, True), (0.0, False), (1.0, False)):
    point = surface_overlap_sweep.get_config("runlocal")
    point.surface_overlap = overlap
    assert trait_rl.surface_overlap(point) == (None if equal else overlap)
    for name in ("baseline", "trait"):
      mine = json.loads(trait_rl.arm_config(point, name, "p").to_json_best_effort())
      theirs = json.loads(trait_rl.arm_config(main, name, "q").to_json_best_effort())
      diffs = checkpointing.config_differences(mine, theirs)
      assert (diffs == []) == equal, (overlap, name, diffs)
      if not equal:
        assert diffs == ["env_kwargs.surface_overlap"]


def test_finetuning_stages_are_reused_only_from_the_same_start_model(tmp_path):
  """A fine-tuning stage is copied from a workdir that attacked the same run (its
  origin, followed through copies of copies) with an equal stage config."""
  stage = {"experiment": "harmful_finetune/x", "lr": 0.1, "training": {"init_from": "s"}}
  a, b, c = (str(tmp_path / w) for w in "abc")
  _run(os.path.join(a, "arm_trait"), {"lr": 1})
  _run(os.path.join(a, "arm_other"), {"lr": 2})
  for model in ("trait", "other"):
    for i in (1, 2):
      _run(os.path.join(a, f"finetune_{model}", f"stage_{i}"), {**stage, "model": model})
  reuse.copy_run(os.path.join(a, "arm_trait"), os.path.join(b, "arm_x"))  # b copies a,
  reuse.copy_run(os.path.join(b, "arm_x"), os.path.join(c, "arm_y"))  # c copies b.
  assert reuse.origin(os.path.join(c, "arm_y")) == os.path.abspath(os.path.join(a, "arm_trait"))
  # b has the same start model but no fine-tuning folder: only a's is a candidate.
  assert reuse.finetune_candidates(os.path.join(c, "arm_y"), [b, a]) == [
    os.path.join(b, "finetune_x"),
    os.path.join(a, "finetune_trait"),
  ]
  dest = os.path.join(c, "finetune_y")
  cands = reuse.finetune_candidates(os.path.join(c, "arm_y"), [b, a])
  reuse.reuse_stages(dest, {**stage, "model": "other"}, cands, 2)  # Another stage config.
  assert not os.path.exists(dest)
  reuse.reuse_stages(dest, {**stage, "model": "trait"}, cands, 3)  # Stage 3 exists nowhere.
  assert sorted(os.listdir(dest)) == ["stage_1", "stage_2"]
  assert reuse.sources(c) == {
    "arm_y": os.path.abspath(os.path.join(b, "arm_x")),
    "finetune_y/stage_1": os.path.abspath(os.path.join(a, "finetune_trait", "stage_1")),
    "finetune_y/stage_2": os.path.abspath(os.path.join(a, "finetune_trait", "stage_2")),
  }
  # A run trained in its own workdir is not the same start model as a's arm.
  _run(os.path.join(c, "arm_z"), {"lr": 1})
  assert reuse.finetune_candidates(os.path.join(c, "arm_z"), [a]) == []
