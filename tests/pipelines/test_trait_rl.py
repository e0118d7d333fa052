"""The DESIGN section 7 experiments of `trait_rl`: every registered experiment builds and
trains two updates per arm; figures regenerate from logged results without training."""

import importlib
import json
import os

import jax
import numpy as np
import pytest

from experiments import (
  figures,
  pipelines,  # noqa: F401  (registers experiments)
)
from experiments.pipelines import trait_arms, trait_rl
from experiments.registry import EXPERIMENTS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _config(name: str):
  return importlib.import_module(f"configs.{name}").get_config("test")


@pytest.fixture(scope="module")
def prior_dir(main_job_test_run):
  """The session main job's test-scale prior (every experiment's test-scale prior config
  is the same)."""
  return os.path.join(main_job_test_run[0], "prior")


def test_every_trait_rl_experiment_is_registered_with_a_config():
  for name in trait_rl.EXPERIMENT_NAMES:
    assert EXPERIMENTS.get(name) is trait_rl.run_trait_rl
    assert os.path.isfile(os.path.join(ROOT, "configs", f"{name}.py")), name
    module = importlib.import_module(f"configs.{name}")
    for scale in ("test", "runlocal", "full"):
      c = module.get_config(scale)
      assert c.experiment == name and c.treatment in c.arms and c.baseline in c.arms
      assert c.ppo_run.num_seeds >= (4 if scale != "test" else 2)
    assert module.get_sweep(), name
    with pytest.raises(ValueError, match="allowed: test, runlocal, full"):
      module.get_config("huge")


def test_the_arm_functions_are_also_importable_from_trait_rl():
  """`trait_rl` runs the pipeline; the arms live in `trait_arms` (its old names kept)."""
  for name in ("arm_config", "check_arms", "surface_overlap", "train_arms"):
    assert getattr(trait_rl, name) is getattr(trait_arms, name)


# Experiments whose whole test-scale pipeline runs once per session (tests/conftest.py);
# their two-update check reads that run instead of training the arms again.
WHOLE_RUNS = {"persistence_objectives": "persistence_objectives_test_run"}


@pytest.mark.parametrize("name", trait_rl.EXPERIMENT_NAMES)
def test_experiment_trains_two_updates_per_arm(name, prior_dir, tmp_path, request):
  config = _config(name)
  if name in WHOLE_RUNS:
    workdir, _ = request.getfixturevalue(WHOLE_RUNS[name])
    with open(os.path.join(workdir, "results.json"), encoding="utf-8") as f:
      results = json.load(f)
    assert set(results["learning_curves"]) == set(config.arms)
    for arm_name, curve in results["learning_curves"].items():
      assert [p["update"] for p in curve] == [1, 2], arm_name
      assert all(np.isfinite(p["reward"]) for p in curve)
    assert {r["arm"] for r in results["evaluation"]} == {"prior", *config.arms}
    assert set(results["harmful_finetune"]) == set(config.finetune_from)
    assert results["num_seeds"] == config.ppo_run.num_seeds
  else:
    arms = trait_arms.train_arms(config, str(tmp_path), prior_dir)  # Asserts compute-matched.
    assert set(arms) == set(config.arms)
    for arm_name, (params, history, _) in arms.items():
      assert [h["update"] for h in history] == [1, 2], arm_name
      assert all(np.isfinite(h["reward_per_step"]) for h in history)
      seeds = {np.asarray(x).shape[0] for x in jax.tree.leaves(params)}
      assert seeds == {config.ppo_run.num_seeds}
  # The trait data's share is what the arm says (5% by default).
  trait = config.arms[config.treatment]
  assert trait.trait_fraction == pytest.approx(0.05)


def test_equal_runs_are_reused_across_experiments(
  main_job_test_run, persistence_objectives_test_run
):
  """`reuse_from`: the prior, the arms equal to the main job's and the fine-tuning of
  an arm copied from it are copied, not trained, and their curves are the main job's;
  the other arms and their fine-tuning are trained."""
  main_dir, po_dir = main_job_test_run[0], persistence_objectives_test_run[0]
  main, po = (json.load(open(os.path.join(d, "results.json"))) for d in (main_dir, po_dir))
  source = lambda name: os.path.abspath(os.path.join(main_dir, name))  # noqa: E731
  assert po["reused"] == {
    "arm_baseline": source("arm_baseline"),
    "arm_domain_diversity": source("arm_trait"),
    "prior": source("prior"),
    "finetune_domain_diversity/stage_1": source("finetune_trait/stage_1"),
  }
  finetuned = po["harmful_finetune"]
  assert finetuned["domain_diversity"] == main["harmful_finetune"]["trait"]
  assert finetuned["none"][1]["suite"] != finetuned["domain_diversity"][1]["suite"]
  assert po["learning_curves"]["baseline"] == main["learning_curves"]["baseline"]
  assert po["learning_curves"]["domain_diversity"] == main["learning_curves"]["trait"]
  assert po["learning_curves"]["none"] != main["learning_curves"]["trait"]  # Other domains.


def _fake_results(experiment: str) -> dict:
  """Small hand-made results in the layout `trait_rl` logs."""
  rng = np.random.default_rng(0)
  rows = []
  for arm, shift in (("prior", 0.0), ("baseline", 0.0), ("trait", 0.2)):
    for e, cat in (("a/x", "safety"), ("b/health", "benefits"), ("c/y", "synthetic")):
      for seed in range(3):
        m = 0.4 + shift + 0.01 * rng.standard_normal()
        rows.append(
          {"evaluation": e, "category": cat, "arm": arm, "seed": seed, "mean": m,
           "ci_low": m - 0.05, "ci_high": m + 0.05, "n": 32}
        )  # fmt: skip
  from alignment_rl.evals import scoreboard

  comp = scoreboard.compare(rows, "trait", "baseline")
  personas = [{**r, "persona": p, "mean": r["mean"] - d} for r in rows if r["arm"] != "prior"
              for p, d in (("bad_medical_advice", 0.1), ("careful_mentor", 0.0))]  # fmt: skip
  curve = [{"updates": u, "suite": [0.5 - 0.01 * u] * 3, "health": [0.4] * 3} for u in (0, 5)]
  return {
    "experiment": experiment,
    "surface_overlap": 0.5,
    "num_seeds": 3,
    "treatment": "trait",
    "baseline": "baseline",
    "learning_curves": {
      a: [{"update": u, "reward": 0.1 * u} for u in (1, 2)] for a in ("baseline", "trait")
    },
    "evaluation": rows,
    "comparisons": {"trait": {"all": comp, "refusal_stratified": comp}},
    "refusal_rates": {a: {"a/x": [0.1, 0.2, 0.1]} for a in ("prior", "baseline", "trait")},
    "personas": personas,
    "harmful_finetune": {"prior": curve, "trait": curve},
    "pressure": {"trait": {"curves": {"rubric": {"per_seed": [[0.5, 0.4, 0.3]] * 3}}}},
  }  # fmt: skip


def test_figures_regenerate_from_logged_results_without_training(tmp_path, capsys):
  runs, out = tmp_path / "runs", tmp_path / "figures"
  for name in ("trait_rl_vs_baseline", "health_only_transfer", "long_interaction_pressure"):
    (runs / name).mkdir(parents=True)
    (runs / name / "results.json").write_text(json.dumps(_fake_results(name)))
  for overlap in (0.0, 1.0):  # A sweep: one results.json per point.
    point = runs / "surface_overlap_sweep" / f"surface_overlap={overlap}"
    point.mkdir(parents=True)
    res = _fake_results("surface_overlap_sweep")
    res["surface_overlap"] = overlap
    point.joinpath("results.json").write_text(json.dumps(res))
  assert figures.main(["--runs", str(runs), "--out", str(out)]) == 0
  for name in (
    "learning_curves",
    "scoreboard",
    "persona_persistence",
    "harmful_finetune",
    "refusal_side_effects",
    "health_only_transfer",
    "long_interaction_pressure",
    "surface_overlap_sweep",
  ):
    for ext in ("png", "pdf"):
      assert (out / f"{name}.{ext}").stat().st_size > 1000, (name, ext)
  table = (out / "tables" / "trait_rl_vs_baseline.md").read_text()
  assert "| a/x | safety |" in table and "of 3 evaluations improved" in table
  assert not (out / "gridworlds_baselines.png").exists()  # No results: skipped.
  # One figure by name; a missing one and an unknown one are one-line errors.
  assert figures.main(["--runs", str(runs), "--out", str(out), "--figure=scoreboard"]) == 0
  capsys.readouterr()
  assert figures.main(["--runs", str(runs), "--out", str(out), "--figure=no_health_science"]) == 1
  assert "no_health_science/results.json" in capsys.readouterr().err
  assert figures.main(["--runs", str(runs), "--figure=nope"]) == 1
  assert "unknown figure 'nope'; known: learning_curves" in capsys.readouterr().err
