"""The main job end to end at test scale: results, report and figures.

(One vs four fake CPU devices is tested for the PPO trainer in
tests/training/test_multidevice.py; the whole main job on four fake devices hangs in
XLA:CPU with jax 0.10.2 and is not run here: see docs/RESULTS.md.)
"""

import json
import os


def _load(workdir):
  with open(os.path.join(workdir, "results.json"), encoding="utf-8") as f:
    return json.load(f)


def test_main_job_writes_report_results_and_figures(main_job_test_run):
  workdir, summary = main_job_test_run
  results = _load(workdir)
  assert set(results["learning_curves"]) == {"baseline", "trait"}
  assert {r["arm"] for r in results["evaluation"]} == {"prior", "baseline", "trait"}
  assert len({r["evaluation"] for r in results["evaluation"]}) >= 53
  headline = summary["headline"]["trait"]
  assert headline["n"] >= 53 and 0 <= headline["improved"] <= headline["n"]
  assert {r["persona"] for r in results["personas"]} == {"bad_medical_advice", "careful_mentor"}
  curve = results["harmful_finetune"]
  assert set(curve) == {"prior", "baseline", "trait"}
  assert [p["updates"] for p in curve["trait"]] == [0, 1]
  report = open(os.path.join(workdir, "report.md"), encoding="utf-8").read()
  assert "evaluations improved" in report and "## Harmful fine-tuning" in report
  for name in ("learning_curves", "scoreboard", "persona_persistence", "harmful_finetune"):
    assert os.path.getsize(os.path.join(workdir, "figures", f"{name}.png")) > 1000
