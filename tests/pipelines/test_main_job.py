"""The main job end to end at test scale: results, report and figures; and the same
job on four fake CPU devices (in its own process) against the one-device run, and
its prior with the seeds split over two of them."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load(workdir):
  with open(os.path.join(workdir, "results.json"), encoding="utf-8") as f:
    return json.load(f)


def test_main_job_writes_report_results_and_figures(main_job_test_run):
  workdir, summary = main_job_test_run
  results = _load(workdir)
  controls = {"control_shuffle_family", "control_shuffle_all", "control_random_sign"}
  assert set(results["learning_curves"]) == {"baseline", "trait"} | controls
  assert {r["arm"] for r in results["evaluation"]} == {"prior", "baseline", "trait"} | controls
  assert len({r["evaluation"] for r in results["evaluation"]}) >= 53
  headline = summary["headline"]["trait"]
  assert headline["n"] >= 53 and 0 <= headline["improved"] <= headline["n"]
  assert set(results["versus"]) == {"prior"} | controls
  assert results["world"]["version"] == "2.0.0" and len(results["world"]["content_hash"]) == 16
  ref = results["reference"]
  assert (
    ref["random"]["suite_mean"] < ref["fixed_reply"]["suite_mean"] < ref["oracle"]["suite_mean"]
  )
  # Stored for the experiments beside this one (`pipelines/reference_cache.py`).
  cache = os.path.join(os.path.dirname(workdir), ".reference_cache")
  (entry,) = os.listdir(cache)
  with open(os.path.join(cache, entry), encoding="utf-8") as f:
    assert json.load(f)["rows"] == ref
  assert {r["persona"] for r in results["personas"]} == {"bad_medical_advice", "careful_mentor"}
  effects = results["persona_effects"]
  assert set(effects) == {"prior", "baseline", "trait"}
  assert {"mean_delta", "ci_low", "ci_high", "p"} <= set(effects["prior"]["bad_medical_advice"])
  pooled = effects["prior"]["harmful personas (pooled)"]
  assert pooled["mean_delta"] == pytest.approx(effects["prior"]["bad_medical_advice"]["mean_delta"])
  assert set(results["attack_bites"]) == {"pooled", "personas", "arms"}
  curve = results["harmful_finetune"]
  assert set(curve) == {"prior", "baseline", "trait"}
  assert [p["updates"] for p in curve["trait"]] == [0, 1]
  report = open(os.path.join(workdir, "report.md"), encoding="utf-8").read()
  assert "evaluations improved" in report and "## Harmful fine-tuning" in report
  assert "## Reference rows" in report and "**trait vs control_random_sign**" in report
  for name in (
    "learning_curves",
    "scoreboard",
    "persona_persistence",
    "harmful_finetune",
    "reference_rows",
  ):
    assert os.path.getsize(os.path.join(workdir, "figures", f"{name}.png")) > 1000


FOUR_DEVICES = textwrap.dedent(
  """
    import importlib, sys
    import jax, ml_collections
    from experiments.pipelines.trait_rl import arm_config, run_trait_rl
    from alignment_rl.training import imitation, sharding, trainer

    assert jax.device_count() == 4, jax.devices()
    config = importlib.import_module("configs.trait_rl_vs_baseline").get_config("test")
    config.reference_rows = False  # Host-side search: the same on any device count.
    run_trait_rl(config, sys.argv[1])
    program = trainer.get_program(arm_config(config, "trait", ""))
    print("mesh devices:", program.mesh.devices.size)
    # The prior again, its 2 seeds split over 2 devices.
    prior = ml_collections.ConfigDict(config.prior.to_dict())
    prior.split_over, prior.num_devices = "seeds", 2
    imitation.train_prior_policy(prior, sys.argv[1] + "_prior_split")
    placed = sharding.split_seeds(imitation.Imitation(prior).init(0, 2), "seeds", 2)
    print("prior split devices:", len(jax.tree.leaves(placed)[0].sharding.device_set))
    """
)


def _metrics(path):
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f]


def _by_key(rows, *fields):
  return {tuple(r.get(f) for f in fields): r["mean"] for r in rows}


@pytest.mark.slow
def test_main_job_on_four_fake_devices_matches_one_device(main_job_test_run, tmp_path):
  """Same config and seeds; the arms' envs are split over a 4-device mesh (gradients
  averaged by XLA). Only float summation order differs, so every logged number agrees
  to 1e-4 (scores are means of sampled responses: a flipped sample would show)."""
  env = dict(
    os.environ,
    XLA_FLAGS="--xla_force_host_platform_device_count=4",
    JAX_PLATFORMS="cpu",
    PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]),
  )
  workdir = str(tmp_path / "run")
  proc = subprocess.run(
    [sys.executable, "-c", FOUR_DEVICES, workdir],
    cwd=ROOT,
    env=env,
    capture_output=True,
    text=True,
    timeout=1200,
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "mesh devices: 4" in proc.stdout
  # The prior with its seeds split over 2 devices: the same imitation, step by step.
  assert "prior split devices: 2" in proc.stdout
  one_dev, split = (
    _metrics(os.path.join(d, "metrics.jsonl"))
    for d in (os.path.join(workdir, "prior"), workdir + "_prior_split")
  )
  assert len(one_dev) == len(split) == 10
  for a, b in zip(one_dev, split, strict=True):
    for key in ("loss/per_seed", "token_accuracy/per_seed"):
      np.testing.assert_allclose(b[key], a[key], rtol=1e-5, atol=1e-6, err_msg=key)
  one, four = _load(main_job_test_run[0]), _load(workdir)
  for arm, curve in one["learning_curves"].items():
    np.testing.assert_allclose(
      [p["reward"] for p in four["learning_curves"][arm]],
      [p["reward"] for p in curve],
      atol=1e-4,
      err_msg=arm,
    )
  for key in ("evaluation", "personas"):
    fields = ("arm", "evaluation", "seed", "persona")
    a, b = _by_key(one[key], *fields), _by_key(four[key], *fields)
    assert a.keys() == b.keys()
    diff = max(abs(a[k] - b[k]) for k in a if np.isfinite(a[k]))
    assert diff <= 1e-4, (key, diff)
  for name, curve in one["harmful_finetune"].items():
    for p, q in zip(curve, four["harmful_finetune"][name], strict=True):
      np.testing.assert_allclose(q["suite"], p["suite"], atol=1e-4, err_msg=name)
