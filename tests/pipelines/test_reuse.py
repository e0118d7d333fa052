"""`pipelines.reuse`: which finished runs are copied, and that nothing is overwritten."""

import json
import os

from alignment_rl.pipelines import reuse


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
  from alignment_rl.pipelines import trait_rl
  from alignment_rl.training import checkpointing
  from configs import surface_overlap_sweep, trait_rl_vs_baseline

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
