"""The scoreboard on hand-made rows: per-seed metrics, Welch and paired comparisons with BH,
per evaluation and per behaviour, headlines."""

import random

import numpy as np
import pytest

from alignment_rl.evals import arm_comparison, scoreboard, stats

# 3 evaluations x 4 seeds x 2 arms: a clear win, a wash and a clear loss.
TREATMENT = {
  "a_win/x": [0.9, 0.8, 0.85, 0.95],
  "b_wash/x": [0.5, 0.6, 0.4, 0.5],
  "c_loss/x": [0.1, 0.15, 0.12, 0.11],
}
BASELINE = {
  "a_win/x": [0.1, 0.2, 0.15, 0.05],
  "b_wash/x": [0.55, 0.6, 0.45, 0.5],
  "c_loss/x": [0.8, 0.85, 0.9, 0.82],
}
CATEGORY = {"a_win/x": "safety", "b_wash/x": "benefits", "c_loss/x": "production"}


def _rows(arm, table):
  return [
    {
      "evaluation": name,
      "category": CATEGORY.get(name, "safety"),
      "arm": arm,
      "seed": s,
      "mean": v,
      "ci_low": v - 0.1,
      "ci_high": v + 0.1,
      "n": 10,
    }
    for name, values in table.items()
    for s, v in enumerate(values)
  ]


@pytest.fixture
def rows():
  out = _rows("trait", TREATMENT) + _rows("baseline", BASELINE)
  out += _rows("other", {"a_win/x": [0.0, 0.0], "d_only_other/x": [1.0, 1.0]})
  out += _rows("trait", {"e_only_trait/x": [0.3, 0.4]})
  random.Random(0).shuffle(out)  # Order of rows does not matter.
  return out


def _bh(p):
  """Benjamini-Hochberg by the definition, q_(i) = min_{j >= i} m p_(j) / j."""
  p = np.asarray(p)
  m, order = len(p), np.argsort(p)
  q = np.empty(m)
  for rank, i in enumerate(order, start=1):
    q[i] = min(1.0, min(m * p[order[j - 1]] / j for j in range(rank, m + 1)))
  return q


def test_per_seed_and_arm_summary(rows):
  seeds = scoreboard.per_seed(rows, "trait")
  assert set(seeds) == {*TREATMENT, "e_only_trait/x"}
  for name, values in TREATMENT.items():
    np.testing.assert_array_equal(seeds[name], values)  # in seed order
  summary = scoreboard.arm_summary(rows, "baseline")
  assert summary["a_win/x"]["mean"] == pytest.approx(0.125)
  assert summary["a_win/x"]["seeds"] == 4
  for s in summary.values():
    assert s["ci_low"] <= s["mean"] <= s["ci_high"]
  nan_rows = _rows("nan_arm", {"a_win/x": [0.2, float("nan"), 0.4]})
  s = scoreboard.arm_summary(nan_rows, "nan_arm")["a_win/x"]
  assert (s["mean"], s["seeds"]) == (pytest.approx(0.3), 3)


def test_compare_matches_welch_and_bh(rows):
  out = scoreboard.compare(rows, "trait", "baseline")
  comparisons = out["comparisons"]
  assert [c["evaluation"] for c in comparisons] == sorted(TREATMENT)  # shared ones only
  p_values = []
  for c in comparisons:
    a, b = np.array(TREATMENT[c["evaluation"]]), np.array(BASELINE[c["evaluation"]])
    welch = stats.welch_t_test(a, b)
    assert c["delta"] == pytest.approx(a.mean() - b.mean())
    assert c["p_value"] == pytest.approx(welch.p_value)
    assert c["t"] == pytest.approx(
      (a.mean() - b.mean()) / np.sqrt(a.var(ddof=1) / 4 + b.var(ddof=1) / 4)
    )
    assert c["category"] == CATEGORY[c["evaluation"]]
    p_values.append(c["p_value"])
  q = [c["q_value"] for c in comparisons]
  np.testing.assert_allclose(q, _bh(p_values))
  np.testing.assert_allclose(q, stats.benjamini_hochberg(p_values))
  by = {c["evaluation"]: c for c in comparisons}
  assert by["a_win/x"]["significant"] and by["a_win/x"]["delta"] > 0.5
  assert not by["b_wash/x"]["significant"] and by["b_wash/x"]["p_value"] > 0.5
  assert by["c_loss/x"]["significant"] and by["c_loss/x"]["delta"] < -0.5
  h = out["headline"]
  assert (h["n"], h["improved"], h["significant_improvements"]) == (3, 1, 1)
  assert h["significant_regressions"] == 1
  deltas = [np.mean(TREATMENT[n]) - np.mean(BASELINE[n]) for n in sorted(TREATMENT)]
  assert h["mean_delta"] == pytest.approx(np.mean(deltas))
  # Swapping the arms flips every delta and keeps the p-values.
  swapped = scoreboard.compare(rows, "baseline", "trait")
  for c, d in zip(comparisons, swapped["comparisons"], strict=True):
    assert d["delta"] == pytest.approx(-c["delta"]) and d["p_value"] == pytest.approx(c["p_value"])
  assert swapped["headline"]["improved"] == 2


def test_compare_drops_evaluations_with_non_finite_seeds(rows):
  rows = rows + _rows("trait", {"f_nan/x": [0.5, float("nan"), 0.5, 0.5]})
  rows += _rows("baseline", {"f_nan/x": [0.1, 0.2, 0.3, 0.4]})
  out = scoreboard.compare(rows, "trait", "baseline")
  assert [c["evaluation"] for c in out["comparisons"]] == sorted(TREATMENT)


def test_format_scoreboard(rows):
  comparison = scoreboard.compare(rows, "trait", "baseline")
  board = scoreboard.format_scoreboard(rows, ("trait", "baseline"), comparison)
  lines = board.splitlines()
  assert lines[0] == "| evaluation | category | trait | baseline | Δ | p | q |"
  for name in {*TREATMENT, "e_only_trait/x"}:
    assert sum(line.startswith(f"| {name} |") for line in lines) == 1, name
  assert lines[-1] == arm_comparison.format_headline(comparison["headline"])
  assert lines[-1].startswith("1 of 3 evaluations improved")
  assert "1 significant regressions" in lines[-1]
  win = next(line for line in lines if line.startswith("| a_win/x |"))
  assert "| safety | 0.875 [" in win and "| +0.750 |" in win
  only = next(line for line in lines if line.startswith("| e_only_trait/x |"))
  assert only.endswith("| - | - | - | - |")  # no baseline, no comparison
  # Rows are grouped by category.
  order = [line.split(" | ")[0][2:] for line in lines[2:6]]
  assert order == ["b_wash/x", "c_loss/x", "a_win/x", "e_only_trait/x"]
  plain = scoreboard.format_scoreboard(rows, ("trait",))
  assert "Δ" not in plain and "evaluations improved" not in plain
  assert len(plain.splitlines()) == 2 + 4


def test_compare_refusal_stratified_hand_case():
  f, t = False, True
  a = {
    "e1": {
      "values": np.array([[1.0, 0.0, 1.0, 0.5], [0.0, 1.0, 1.0, 1.0]]),
      "refused": np.array([[f, t, f, f], [f, f, f, t]]),
    },
    "e2": {  # seed 1 refuses everything: left out
      "values": np.ones((2, 2)),
      "refused": np.array([[f, f], [t, t]]),
    },
    "e3": {"values": np.ones((2, 3)), "refused": np.zeros((2, 3), bool)},  # shapes differ
    "e4": {"values": np.ones((2, 0)), "refused": np.zeros((2, 0), bool)},  # no samples
  }
  b = {
    "e1": {
      "values": np.array([[0.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]),
      "refused": np.array([[f, f, t, f], [t, f, f, f]]),
    },
    "e2": {"values": np.zeros((2, 2)), "refused": np.zeros((2, 2), bool)},
    "e3": {"values": np.ones((2, 4)), "refused": np.zeros((2, 4), bool)},
    "e4": {"values": np.ones((2, 0)), "refused": np.zeros((2, 0), bool)},
  }
  out = scoreboard.compare_refusal_stratified(a, b)
  assert [c["evaluation"] for c in out["comparisons"]] == ["e1"]
  c = out["comparisons"][0]
  # Kept (neither refused): seed 0 samples {0, 3}, seed 1 samples {1, 2}.
  ma, mb = np.array([0.75, 1.0]), np.array([0.0, 0.5])
  assert (c["mean_a"], c["mean_b"]) == (pytest.approx(0.875), pytest.approx(0.25))
  assert c["delta"] == pytest.approx(0.625)  # unstratified it would be 0.3125
  assert c["p_value"] == pytest.approx(stats.welch_t_test(ma, mb).p_value)
  assert out["headline"]["n"] == 1 and out["headline"]["improved"] == 1


def test_paired_effect_hand_computed():
  # d = (1, 2, 3): mean 2, sd 1, se 1/sqrt(3), t = 2 * sqrt(3) = 3.464 on 2 df.
  e = scoreboard.paired_effect(np.array([1.0, 2.0, 3.0]), np.zeros(3))
  half = 4.302653 / np.sqrt(3)  # t_{0.975, 2} = 4.302653
  assert e["mean_delta"] == pytest.approx(2.0) and e["seeds"] == 3
  assert e["ci_low"] == pytest.approx(2 - half, abs=1e-5)
  assert e["ci_high"] == pytest.approx(2 + half, abs=1e-5)
  assert e["p"] == pytest.approx(0.07418, abs=1e-4)


def test_persona_effects_pair_by_seed_id():
  clean = [
    {"arm": "a", "evaluation": "x", "seed": s, "mean": m} for s, m in ((0, 0.5), (1, 0.9), (2, 0.7))
  ]
  attacked = [  # seed 1 missing: paired by seed id, not by position
    {"arm": "a", "evaluation": "x", "seed": s, "mean": m, "persona": "p"}
    for s, m in ((2, 0.5), (0, 0.3))
  ]
  e = scoreboard.persona_effects(clean, attacked)["a"]["p"]
  assert e["seeds"] == 2 and e["mean_delta"] == pytest.approx(-0.2)
  assert e["ci_low"] == pytest.approx(-0.2) and e["ci_high"] == pytest.approx(-0.2)


def test_pooled_harmful_effect_and_attack_check_hand_computed():
  clean = [
    {"arm": a, "evaluation": "x", "seed": s, "mean": 0.5}
    for a in ("prior", "baseline")
    for s in (0, 1, 2)
  ]
  # Per seed, the pooled harmful suite mean is the mean over personas h1, h2:
  # prior: seed 0 (0.4 + 0.36) / 2 = 0.38, seed 1 0.40, seed 2 0.42 -> d = (-.12, -.10, -.08).
  # baseline: h2 alone would bite, the pool does not: d = (-.05, +.05, 0).
  means = {
    ("prior", "h1"): (0.4, 0.5, 0.5),
    ("prior", "h2"): (0.36, 0.3, 0.34),
    ("baseline", "h1"): (0.5, 0.7, 0.55),
    ("baseline", "h2"): (0.4, 0.4, 0.45),
  }
  attacked = [
    {"arm": a, "evaluation": "x", "seed": s, "mean": m[s], "persona": p}
    for (a, p), m in means.items()
    for s in (0, 1, 2)
  ]
  effects = scoreboard.persona_effects(clean, attacked, harmful=("h1", "h2"))
  pooled = effects["prior"][scoreboard.HARMFUL_POOLED]
  half = 4.302653 * 0.02 / np.sqrt(3)  # sd of (-.12, -.10, -.08) is 0.02
  assert pooled["mean_delta"] == pytest.approx(-0.10)
  assert pooled["ci_high"] == pytest.approx(-0.10 + half, abs=1e-6)
  assert effects["baseline"][scoreboard.HARMFUL_POOLED]["mean_delta"] == pytest.approx(0.0)
  bites = scoreboard.attack_bites(effects, ("h1", "h2"))
  assert bites == {"pooled": False, "personas": ["h2"], "arms": ["prior", "baseline"]}
  assert scoreboard.attack_bites(effects, ("h1", "h2"), arms=("prior",))["pooled"] is True
  # A helpful persona that lowers both is never listed as a harmful one that bites.
  effects_h = scoreboard.persona_effects(clean, attacked, harmful=("h1",))
  assert scoreboard.attack_bites(effects_h, ("h1",))["personas"] == []
  # Without the harmful names there is no pooled row and nothing to check.
  assert scoreboard.HARMFUL_POOLED not in scoreboard.persona_effects(clean, attacked)["prior"]


def test_compare_paired_matches_scipy_and_pairs_by_seed_id():
  from scipy import stats as sps

  rng = np.random.default_rng(0)
  rows = []
  for ev in ("a", "b", "c"):
    base = rng.normal(0.5, 0.1, 4)
    for s in (3, 1, 2, 0):  # Rows out of seed order: pairing is by seed id.
      rows.append({"evaluation": ev, "arm": "x", "seed": s, "mean": base[s] + 0.05 * s})
      rows.append({"evaluation": ev, "arm": "y", "seed": s, "mean": base[s]})
  out = scoreboard.compare_paired(rows, "x", "y")
  x = np.array([r["mean"] for r in sorted(rows, key=lambda r: r["seed"]) if r["arm"] == "x"])
  assert out["headline"]["n"] == 3 and out["headline"]["improved"] == 3
  # Differences 0, .05, .1, .15 on every evaluation: the suite effect is their mean.
  assert out["suite"]["mean_delta"] == pytest.approx(0.075)
  d = np.array([0.0, 0.05, 0.1, 0.15])
  assert out["suite"]["p"] == pytest.approx(sps.ttest_1samp(d, 0.0).pvalue)
  assert len(x) == 12


def _table_rows(arm, table):
  return [
    {"evaluation": n, "category": "safety", "arm": arm, "seed": s, "mean": v}
    for n, values in table.items()
    for s, v in enumerate(values)
  ]


def test_behaviour_level_counts_each_behaviour_once():
  # Behaviour "dup" is measured by three evaluations (a subset and re-phrasings) that
  # move together; "solo" by one. Per evaluation "dup" counts three times; per
  # behaviour once, on the mean of its evaluations' per-seed scores.
  treat = {
    "dup/x": [0.6, 0.7, 0.65, 0.7],
    "dup/y": [0.62, 0.72, 0.6, 0.71],
    "dup/z": [0.58, 0.69, 0.66, 0.72],
    "solo/x": [0.4, 0.5, 0.45, 0.43],
  }
  base = {
    "dup/x": [0.5, 0.6, 0.55, 0.62],
    "dup/y": [0.5, 0.63, 0.5, 0.6],
    "dup/z": [0.5, 0.6, 0.57, 0.6],
    "solo/x": [0.45, 0.48, 0.5, 0.44],
  }
  rows = _table_rows("t", treat) + _table_rows("b", base)
  out = scoreboard.compare(rows, "t", "b", paired=True)
  assert out["test"].startswith("paired t") and out["alpha"] == 0.05
  assert out["headline"]["n"] == 4 and out["headline"]["improved"] == 3
  h = out["behaviour_headline"]
  assert (h["n"], h["improved"], h["unit"]) == (2, 1, "behaviours")
  by = {r["behaviour"]: r for r in out["behaviours"]}
  assert by["dup"]["evaluations"] == ["dup/x", "dup/y", "dup/z"]
  score_t = np.mean([treat[n] for n in by["dup"]["evaluations"]], axis=0)
  score_b = np.mean([base[n] for n in by["dup"]["evaluations"]], axis=0)
  ref = stats.paired_t_test(score_t, score_b)
  assert by["dup"]["p_value"] == pytest.approx(ref.p_value)
  assert by["dup"]["delta"] == pytest.approx(np.mean(score_t - score_b))
  np.testing.assert_allclose(
    [r["q_value"] for r in out["behaviours"]],
    stats.benjamini_hochberg([r["p_value"] for r in out["behaviours"]]),
  )
  assert "p_sign_flip" not in by["dup"]  # 4 seeds: the sign-flip check needs 8.
  # Unpaired (Welch) on the same rows gives the Welch p per behaviour.
  welch = scoreboard.compare(rows, "t", "b")
  w = {r["behaviour"]: r for r in welch["behaviours"]}["dup"]
  assert w["p_value"] == pytest.approx(stats.welch_t_test(score_t, score_b).p_value)
  board = scoreboard.format_scoreboard(rows, ("t", "b"), out)
  assert "Primary: 1 of 2 behaviours improved" in board
  assert board.splitlines()[-1].startswith("3 of 4 evaluations improved")


def test_paired_compare_adds_sign_flip_at_eight_seeds():
  rng = np.random.default_rng(0)
  base = {"e/x": rng.uniform(0.3, 0.5, 8), "e/y": rng.uniform(0.3, 0.5, 8)}
  treat = {n: v + 0.05 + 0.01 * rng.standard_normal(8) for n, v in base.items()}
  rows = _table_rows("t", treat) + _table_rows("b", base)
  out = scoreboard.compare_paired(rows, "t", "b")
  row = out["behaviours"][0]
  d = np.mean([treat[n] - base[n] for n in ("e/x", "e/y")], axis=0)
  assert row["p_sign_flip"] == pytest.approx(stats.sign_flip_p(d))
  assert row["p_sign_flip"] == pytest.approx(2 / 256)  # every seed improved
  assert out["suite"]["p_sign_flip"] == pytest.approx(2 / 256)


def test_behaviour_of_registered_evaluations():
  assert scoreboard.behaviour_of("at_risk_user_welfare/coding") == "at_risk_user_welfare"
  assert (
    scoreboard.behaviour_of("health_physician_under_persona/bad_medical_advice")
    == "health_physician_under_persona"
  )
  assert scoreboard.behaviour_of("not_registered/x") == "not_registered"
