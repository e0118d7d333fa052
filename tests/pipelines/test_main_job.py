"""The main job end to end at test scale: outputs, and one vs four fake CPU devices."""

import json
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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


def test_main_job_four_fake_devices_match_one(main_job_test_run, tmp_path):
  """The same config on 4 fake CPU devices (environments sharded over a mesh) gives the
  same learning curves and evaluation results as on one device."""
  workdir1, _ = main_job_test_run
  workdir4 = str(tmp_path / "four")
  env = dict(
    os.environ,
    JAX_PLATFORMS="cpu",
    XLA_FLAGS="--xla_force_host_platform_device_count=4",
  )
  cmd = [
    sys.executable,
    "-m",
    "experiments.main",
    "--config=configs/trait_rl_vs_baseline.py:test",
    f"--workdir={workdir4}",
  ]
  proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
  assert proc.returncode == 0, proc.stderr[-2000:]
  one, four = _load(workdir1), _load(workdir4)
  for arm in ("baseline", "trait"):
    r1 = [p["reward"] for p in one["learning_curves"][arm]]
    r4 = [p["reward"] for p in four["learning_curves"][arm]]
    np.testing.assert_allclose(r4, r1, rtol=1e-5, atol=1e-6)
  key = lambda r: (r["arm"], r["evaluation"], r["seed"])  # noqa: E731
  m1 = {key(r): r["mean"] for r in one["evaluation"]}
  m4 = {key(r): r["mean"] for r in four["evaluation"]}
  assert m1.keys() == m4.keys()
  np.testing.assert_allclose([m4[k] for k in m1], [m1[k] for k in m1], atol=1e-6)
