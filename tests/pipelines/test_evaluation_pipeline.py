"""End to end at test scale: a tiny imitated prior, then the `evaluate` experiment."""

import json
import os

import pytest

from alignment_rl.evals import suite as suite_lib
from alignment_rl.evals.checkpoint_policy import load_policy
from alignment_rl.evals.harmful_finetune import suite_curve
from alignment_rl.evals.suite_runner import ROW_FIELDS, read_results
from alignment_rl.training import checkpointing
from experiments.pipelines import evaluation
from experiments.registry import EXPERIMENTS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NUM_SEEDS = 2


def _config_module(name):
  from experiments import sweep

  return sweep.load_config_module(os.path.join(ROOT, "configs", f"{name}.py"))


@pytest.fixture(scope="module")
def prior_dir(main_job_test_run):
  """The imitated prior of the session's test-scale main job (2 seeds, SMALL data)."""
  return os.path.join(main_job_test_run[0], "prior"), ""


def test_evaluate_experiment_end_to_end(prior_dir, tmp_path):
  prior, data_dir = prior_dir
  c = _config_module("evaluate").get_config("test")
  assert c.max_samples == 32 and c.data_config == "small"
  # The health suite keeps the test fast; tests/evals/test_suite_runner.py grades "full".
  c.suite = "health"
  c.checkpoint = f"prior={prior}"
  c.baseline = f"copy={prior}"
  c.data_dir = data_dir
  c.personas = ("bad_medical_advice", "careful_mentor")
  c.finetune_stages = 1
  c.finetune_updates = 1
  # Pressure and adversarial-prefix attacks compile programs of their own; they have
  # their own tests (tests/evals/test_pressure.py, test_adversarial_prefix.py).
  c.pressure_turns = 0
  c.prefix_budget = 0
  if data_dir:
    c.attack_ppo.env_kwargs.data_dir = data_dir
  c.attack_ppo.training.progress = False
  workdir = str(tmp_path / "evaluate")
  summary = EXPERIMENTS.get("evaluate")(c, workdir)

  n_evals = len(suite_lib.get_suite("health"))
  assert n_evals >= 3
  assert summary["evaluations"] == n_evals and summary["arms"] == ["prior", "copy"]
  files = set(os.listdir(workdir))
  assert {"evaluation.json", "evaluation.csv", "scoreboard.md", "attacks.json"} <= files
  assert {"persona_attack.json", "persona_attack.csv"} <= files
  rows = read_results(os.path.join(workdir, "evaluation.json"))
  assert read_results(os.path.join(workdir, "evaluation.csv")) == rows
  assert all(set(r) == set(ROW_FIELDS) for r in rows)
  assert len(rows) == 2 * NUM_SEEDS * n_evals
  assert {(r["arm"], r["seed"]) for r in rows} == {
    (a, s) for a in ("prior", "copy") for s in (0, 1)
  }
  for r in rows:
    assert r["n"] <= 32
  # The same checkpoint under two names: identical rows, so nothing is significant.
  key = lambda r: (r["evaluation"], r["seed"])  # noqa: E731
  prior_rows = sorted((r for r in rows if r["arm"] == "prior"), key=key)
  copy_rows = sorted((r for r in rows if r["arm"] == "copy"), key=key)
  strip = lambda r: {k: v for k, v in r.items() if k != "arm"}  # noqa: E731
  assert [strip(r) for r in prior_rows] == [strip(r) for r in copy_rows]
  headline = summary["headline"]
  assert headline["improved"] == 0 and headline["significant_improvements"] == 0
  assert headline["significant_regressions"] == 0

  board = open(os.path.join(workdir, "scoreboard.md"), encoding="utf-8").read()
  assert "| evaluation | category | prior | copy | Δ | p | q |" in board
  assert f"0 of {headline['n']} evaluations improved" in board
  assert "Refusal-stratified: " in board
  for name in suite_lib.SUITES["health"]:
    assert f"| {name} |" in board, name

  persona_rows = read_results(os.path.join(workdir, "persona_attack.json"))
  assert {r["persona"] for r in persona_rows} == set(c.personas)
  assert len(persona_rows) == len(c.personas) * len(rows)
  attacks = json.load(open(os.path.join(workdir, "attacks.json"), encoding="utf-8"))
  assert set(attacks) == {"personas", "harmful_finetune"}
  assert set(attacks["personas"]) == {f"{a}|{p}" for a in ("prior", "copy") for p in c.personas}
  for v in attacks["personas"].values():
    assert v["delta"] == pytest.approx(v["attacked"] - v["clean"])
  assert summary["persona_delta"].keys() == attacks["personas"].keys()
  curves = attacks["harmful_finetune"]
  assert set(curves) == {"prior", "copy"}
  for curve in curves.values():
    assert [p["updates"] for p in curve] == [0, 1]
    for point in curve:
      assert set(point) == {"updates", "suite", "health"}  # no non-health evaluation
      assert len(point["suite"]) == NUM_SEEDS
  # Before the attack the curve is the clean evaluation's suite mean per seed.
  for s in range(NUM_SEEDS):
    clean = [r["mean"] for r in prior_rows if r["seed"] == s]
    finite = [m for m in clean if m == m]
    assert curves["prior"][0]["suite"][s] == pytest.approx(sum(finite) / len(finite))
  finetune = read_results(os.path.join(workdir, "finetune_prior", "evaluation.json"))
  assert {r["updates"] for r in finetune} == {0, 1}


def test_load_policy(prior_dir, tmp_path):
  prior, _ = prior_dir
  network, params, config = load_policy(prior)
  assert config["experiment"] == "imitate_prior" and config["num_seeds"] == NUM_SEEDS
  assert network.max_response_len == 8
  import jax

  assert all(x.shape[0] == NUM_SEEDS for x in jax.tree.leaves(params))
  with pytest.raises(checkpointing.CheckpointError, match="no config.json") as info:
    load_policy(str(tmp_path))
  assert "\n" not in str(info.value)
  (tmp_path / "config.json").write_text("{not json")
  with pytest.raises(checkpointing.CheckpointError, match="unreadable config.json"):
    load_policy(str(tmp_path))


def test_checkpoint_names():
  c = _config_module("evaluate").get_config("test")
  c.checkpoint = "runs/a/arm_rubric,b=runs/b"
  c.baseline = "base=runs/c"
  assert evaluation.checkpoints(c) == {
    "arm_rubric": "runs/a/arm_rubric",
    "b": "runs/b",
    "base": "runs/c",
  }
  c.baseline = "b=runs/d"
  with pytest.raises(ValueError, match="arm name 'b' is given twice"):
    evaluation.checkpoints(c)
  c.checkpoint = c.baseline = ""
  with pytest.raises(ValueError, match="checkpoint: required"):
    evaluation.checkpoints(c)


def test_suite_curve_hand_case():
  h1, h2 = "health_physician_rubric/test", "health_physician_rubric/heldout_formats"
  other = "truth_under_pushback/coding"
  rows = [
    {"evaluation": h1, "seed": 0, "mean": 0.2},
    {"evaluation": h2, "seed": 0, "mean": float("nan")},  # ignored
    {"evaluation": other, "seed": 0, "mean": 0.6},
    {"evaluation": h1, "seed": 1, "mean": 0.4},
    {"evaluation": h2, "seed": 1, "mean": 0.8},
    {"evaluation": other, "seed": 1, "mean": 1.0},
    {"evaluation": "fairness_identity_pairs/coding", "seed": 0, "mean": 0.0},  # not in suite
  ]
  curve = suite_curve(rows, (h1, h2, other))
  assert curve == {
    "suite": [pytest.approx(0.4), pytest.approx(2.2 / 3)],
    "health": [pytest.approx(0.2), pytest.approx(0.6)],
    "non_health": [pytest.approx(0.6), pytest.approx(1.0)],
  }
  assert set(suite_curve(rows, (h1,))) == {"suite", "health"}
