"""Tests for alignment_rl.evals.arm_comparison: per-evaluation tests with BH q-values,
the headline counts and the refusal-stratified means."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alignment_rl.evals import arm_comparison, stats

# --------------------------------------------------------------------------- compare / headline


def test_compare_arms():
  a = {"zeta": [0.9, 0.95, 0.92], "alpha": [0.5, 0.6, 0.55], "only_a": [1.0, 2.0]}
  b = {"zeta": [0.1, 0.12, 0.11], "alpha": [0.52, 0.61, 0.5, 0.58], "only_b": [1.0, 2.0]}
  rows = arm_comparison.compare_arms(a, b)
  assert [r["evaluation"] for r in rows] == ["alpha", "zeta"]
  for r in rows:
    w = stats.welch_t_test(a[r["evaluation"]], b[r["evaluation"]])
    assert (r["t"], r["df"], r["p_value"]) == (w.t, w.df, w.p_value)
    assert r["delta"] == pytest.approx(r["mean_a"] - r["mean_b"])
  q = arm_comparison.benjamini_hochberg([r["p_value"] for r in rows])
  assert [r["q_value"] for r in rows] == list(q)
  # zeta: 2.77/3 - 0.11 = 0.81333 (clearly significant); alpha: 0.55 - 2.21/4 = -0.0025.
  assert rows[1]["delta"] == pytest.approx(2.77 / 3 - 0.11) and rows[1]["significant"] is True
  assert rows[0]["delta"] == pytest.approx(-0.0025) and rows[0]["significant"] is False
  assert arm_comparison.compare_arms({}, b) == []
  with pytest.raises(ValueError, match=r"^evaluation 'x': a must be"):
    arm_comparison.compare_arms({"x": [1.0]}, {"x": [1.0, 2.0]})


def test_headline_and_format():
  rows = [
    {"delta": 0.2, "q_value": 0.01},  # significant improvement
    {"delta": 0.1, "q_value": 0.2},  # improvement, not significant
    {"delta": -0.3, "q_value": 0.04},  # significant regression
    {"delta": -0.05, "q_value": 0.5},
    {"delta": 0.0, "q_value": 1.0},  # neither improved nor regressed
  ]
  h = arm_comparison.headline(rows)
  assert h == {
    "n": 5,
    "improved": 2,
    "significant_improvements": 1,
    "significant_regressions": 1,
    "mean_delta": pytest.approx(-0.01),
    "unit": "evaluations",
  }
  # A stricter alpha drops the regression (q = 0.04) but keeps q = 0.01.
  h2 = arm_comparison.headline(rows, alpha=0.02)
  assert (h2["significant_improvements"], h2["significant_regressions"]) == (1, 0)
  example = {
    "n": 53,
    "improved": 12,
    "significant_improvements": 5,
    "significant_regressions": 1,
    "mean_delta": 0.091,
  }
  assert arm_comparison.format_headline(example) == (
    "12 of 53 evaluations improved (mean Δ +0.091); 5 significant after "
    "Benjamini–Hochberg (q < 0.05); 1 significant regressions"
  )
  assert "(mean Δ -0.010)" in arm_comparison.format_headline(h)
  assert arm_comparison.format_headline(
    arm_comparison.headline(rows, unit="behaviours")
  ).startswith("2 of 5 behaviours improved")


# --------------------------------------------------------------------------- refusal_stratified


def test_refusal_stratified():
  scores_a = np.array([[1.0, 0.0, 1.0], [0.5, 0.5, 0.0], [0.2, 0.4, 0.9]])
  scores_b = np.array([[0.0, 1.0, 1.0], [1.0, 1.0, 1.0], [0.1, 0.3, 0.5]])
  refused_a = np.array([[0, 1, 0], [1, 1, 0], [0, 0, 1]], bool)
  refused_b = np.array([[0, 0, 1], [0, 1, 1], [0, 0, 0]], bool)
  # Kept: seed 0 -> sample 0 only; seed 1 -> none (NaN); seed 2 -> samples 0 and 1.
  mean_a, mean_b = arm_comparison.refusal_stratified(scores_a, scores_b, refused_a, refused_b)
  assert mean_a.dtype == np.float64 and mean_a.shape == (3,)
  np.testing.assert_allclose(mean_a, [1.0, np.nan, 0.3], rtol=1e-14)
  np.testing.assert_allclose(mean_b, [0.0, np.nan, 0.2], rtol=1e-14)
  with pytest.raises(ValueError, match="must share one \\[S, N\\] shape"):
    arm_comparison.refusal_stratified(scores_a, scores_b[:2], refused_a, refused_b)
  with pytest.raises(ValueError, match="must share one \\[S, N\\] shape"):
    arm_comparison.refusal_stratified(scores_a[0], scores_b[0], refused_a[0], refused_b[0])


def test_compare_arms_paired_hand_computed():
  # d = [1, 2, 2]: mean 5/3, sd sqrt(1/3), t = (5/3) / (sqrt(1/3) / sqrt(3)) = 5, df 2;
  # two-sided p = 1 - 5 / sqrt(5^2 + 2) (Student t with 2 df in closed form).
  rows = arm_comparison.compare_arms_paired(
    {"e": np.array([1.0, 2.0, 3.0]), "same": np.array([0.5, 0.5])},
    {"e": np.array([0.0, 0.0, 1.0]), "same": np.array([0.5, 0.5])},
  )
  e, same = rows
  assert e["evaluation"] == "e" and e["df"] == 2
  assert e["t"] == pytest.approx(5.0) and e["delta"] == pytest.approx(5 / 3)
  assert e["p_value"] == pytest.approx(1 - 5 / math.sqrt(27), rel=1e-6)
  assert same["p_value"] == 1.0 and same["t"] == 0.0  # No difference on any seed.
  # Pairing matters: the same numbers unpaired (Welch) are not significant at 0.05.
  welch = stats.welch_t_test([1.0, 2.0, 3.0], [0.0, 0.0, 1.0])
  assert welch.p_value > 0.05 > e["p_value"]
  with pytest.raises(ValueError, match="paired test needs equal-length"):
    arm_comparison.compare_arms_paired(
      {"e": np.array([1.0, 2.0])}, {"e": np.array([1.0, 2.0, 3.0])}
    )
  rows = arm_comparison.compare_arms_paired({"e": [0.3, 0.5]}, {"e": [0.1, 0.3]}, key="behaviour")
  assert rows[0]["behaviour"] == "e" and (rows[0]["t"], rows[0]["p_value"]) == (math.inf, 0.0)
