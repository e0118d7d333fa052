"""Tests for alignment_rl.evals.stats: a hand-computed case for every test, interval and
power function (the library calls scipy.stats; these pin down that it calls it right)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alignment_rl.evals import stats

# --------------------------------------------------------------------------- welch_t_test


def test_welch_hand_computed():
  # a = [1, 2, 3, 4]: mean 2.5, s_a^2 = 5/3; b = [2, 4, 6]: mean 4, s_b^2 = 4.
  # s_a^2/n_a = 5/12, s_b^2/n_b = 16/12, sum = 7/4  ->  t = -1.5 / sqrt(7/4) = -3/sqrt(7).
  # df = (7/4)^2 / ((5/12)^2/3 + (4/3)^2/2) = (49/16) / (409/432) = 1323/409 ~ 3.2347.
  # p = 2 P(T_df > 3/sqrt(7)) = 0.33382370007750106 (scipy.stats.t.sf, cross-checked below).
  r = stats.welch_t_test([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0])
  assert r.t == pytest.approx(-3 / math.sqrt(7), rel=1e-14)
  assert r.df == pytest.approx(1323 / 409, rel=1e-14)
  assert r.p_value == pytest.approx(0.33382370007750106, rel=1e-10)
  assert r.mean_diff == pytest.approx(-1.5, rel=1e-14)


def test_welch_hand_computed_df2():
  # a = [1, 2, 3]: mean 2, s_a^2 = 1; b = [0, 0, 0]: s_b^2 = 0.  t = 2 / sqrt(1/3) = 2 sqrt(3);
  # df = (1/3)^2 / ((1/3)^2 / 2) = 2; with df = 2, p = 1 - |t|/sqrt(2 + t^2) = 1 - sqrt(6/7).
  r = stats.welch_t_test(np.array([1.0, 2.0, 3.0]), np.zeros(3))
  assert r.t == pytest.approx(2 * math.sqrt(3), rel=1e-14)
  assert r.df == pytest.approx(2.0, rel=1e-14)
  assert r.p_value == pytest.approx(1 - math.sqrt(6 / 7), rel=1e-12)
  # Swapping the arms flips the sign of t only.
  s = stats.welch_t_test(np.zeros(3), np.array([1.0, 2.0, 3.0]))
  assert (s.t, s.df, s.p_value) == pytest.approx((-r.t, r.df, r.p_value), rel=1e-14)


def test_welch_degenerate_zero_variance():
  assert stats.welch_t_test([0.1, 0.1, 0.1], [0.1, 0.1]) == (0.0, 3.0, 1.0, 0.0)
  r = stats.welch_t_test([0.3, 0.3, 0.3], [0.1, 0.1])
  assert (r.t, r.df, r.p_value) == (math.inf, 3.0, 0.0)
  assert r.mean_diff == pytest.approx(0.2)
  r = stats.welch_t_test([0.1, 0.1], [0.3, 0.3, 0.3, 0.3])
  assert (r.t, r.df, r.p_value) == (-math.inf, 4.0, 0.0)


def test_welch_matches_scipy():
  scipy_stats = pytest.importorskip("scipy.stats")
  rng = np.random.default_rng(0)
  for n_a, n_b in [(2, 2), (3, 5), (5, 3), (4, 4), (8, 2), (10, 17), (30, 25)]:
    a = rng.normal(0.3, rng.uniform(0.05, 2.0), n_a)
    b = rng.normal(0.0, rng.uniform(0.05, 2.0), n_b)
    ref = scipy_stats.ttest_ind(a, b, equal_var=False)
    r = stats.welch_t_test(a, b)
    expected = [ref.statistic, ref.df, ref.pvalue]
    np.testing.assert_allclose([r.t, r.df, r.p_value], expected, rtol=1e-8)
    assert r.mean_diff == pytest.approx(a.mean() - b.mean(), rel=1e-12)


def test_welch_bad_inputs():
  with pytest.raises(ValueError, match=r"^a must be a 1-D array of >= 2 values"):
    stats.welch_t_test([1.0], [1.0, 2.0])
  with pytest.raises(ValueError, match=r"^b must be a 1-D array"):
    stats.welch_t_test([1.0, 2.0], np.ones((2, 2)))
  with pytest.raises(ValueError, match=r"^b contains non-finite values"):
    stats.welch_t_test([1.0, 2.0], [1.0, np.nan])
  with pytest.raises(ValueError, match=r"^a contains non-finite values"):
    stats.welch_t_test([np.inf, 2.0], [1.0, 2.0])


# --------------------------------------------------------------------------- benjamini_hochberg


def test_bh_hand_computed():
  # Sorted: 0.005, 0.01, 0.03, 0.04; m p_(j)/j = 0.02, 0.02, 0.04, 0.04; running min from the
  # top changes nothing -> back in input order [0.02, 0.04, 0.04, 0.02].
  q = stats.benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
  np.testing.assert_allclose(q, [0.02, 0.04, 0.04, 0.02], rtol=1e-14)
  # Step-up: m p_(j)/j = 0.06, 0.0315, 0.5 -> q_(1) = min(0.06, 0.0315) = 0.0315.
  # The NaN is passed through and not counted in m = 3.
  q = stats.benjamini_hochberg([0.02, np.nan, 0.021, 0.5])
  np.testing.assert_allclose(q, [0.0315, np.nan, 0.0315, 0.5], rtol=1e-14)
  # Shape is kept; all-NaN and empty inputs are fine.
  assert stats.benjamini_hochberg(np.full((2, 3), 0.5)).shape == (2, 3)
  assert np.isnan(stats.benjamini_hochberg([np.nan, np.nan])).all()
  assert stats.benjamini_hochberg([]).shape == (0,)
  with pytest.raises(ValueError, match=r"p_values must lie in \[0, 1\]"):
    stats.benjamini_hochberg([0.2, 1.5])


def test_bh_monotone_and_bounded():
  rng = np.random.default_rng(1)
  p = rng.uniform(size=200) ** 3
  q = stats.benjamini_hochberg(p)
  order = np.argsort(p)
  assert np.all(np.diff(q[order]) >= 0)  # q is monotone in p
  assert np.all(q >= p) and np.all(q <= 1)


def test_bh_matches_scipy():
  scipy_stats = pytest.importorskip("scipy.stats")
  rng = np.random.default_rng(2)
  for m in (1, 2, 7, 53, 500):
    p = np.concatenate([rng.uniform(size=m - m // 3), rng.uniform(0, 1e-3, size=m // 3)])
    p[rng.uniform(size=m) < 0.1] = 0.02  # ties
    rng.shuffle(p)
    ref = scipy_stats.false_discovery_control(p, method="bh")
    np.testing.assert_allclose(stats.benjamini_hochberg(p), ref, rtol=1e-12)
    # With NaNs added, the other entries are unchanged.
    with_nan = np.insert(p, [0, m // 2], np.nan)
    q = stats.benjamini_hochberg(with_nan)
    assert np.isnan(q[[0, m // 2 + 1]]).all()
    np.testing.assert_allclose(q[~np.isnan(with_nan)], ref, rtol=1e-12)


# --------------------------------------------------------------------------- bootstrap_mean_ci


def test_bootstrap_mean_ci():
  v = np.array([0.1, 0.4, 0.35, 0.8, 0.55])
  lo, hi = stats.bootstrap_mean_ci(v, n_boot=2000, seed=3)
  assert (lo, hi) == stats.bootstrap_mean_ci(v, n_boot=2000, seed=3)
  assert (lo, hi) != stats.bootstrap_mean_ci(v, n_boot=2000, seed=4)
  assert v.min() <= lo < v.mean() < hi <= v.max()
  lo90, hi90 = stats.bootstrap_mean_ci(v, n_boot=2000, confidence=0.9, seed=3)
  assert lo <= lo90 and hi90 <= hi
  assert stats.bootstrap_mean_ci([0.7]) == (0.7, 0.7)
  assert stats.bootstrap_mean_ci([0.2, 0.2, 0.2]) == pytest.approx((0.2, 0.2))
  with pytest.raises(ValueError, match="confidence must be in"):
    stats.bootstrap_mean_ci(v, confidence=1.0)
  with pytest.raises(ValueError, match=r"^values must be a 1-D array of >= 1 values"):
    stats.bootstrap_mean_ci([])


# --------------------------------------------------------------------------- compare / headline


def test_compare_arms():
  a = {"zeta": [0.9, 0.95, 0.92], "alpha": [0.5, 0.6, 0.55], "only_a": [1.0, 2.0]}
  b = {"zeta": [0.1, 0.12, 0.11], "alpha": [0.52, 0.61, 0.5, 0.58], "only_b": [1.0, 2.0]}
  rows = stats.compare_arms(a, b)
  assert [r["evaluation"] for r in rows] == ["alpha", "zeta"]
  for r in rows:
    w = stats.welch_t_test(a[r["evaluation"]], b[r["evaluation"]])
    assert (r["t"], r["df"], r["p_value"]) == (w.t, w.df, w.p_value)
    assert r["delta"] == pytest.approx(r["mean_a"] - r["mean_b"])
  q = stats.benjamini_hochberg([r["p_value"] for r in rows])
  assert [r["q_value"] for r in rows] == list(q)
  # zeta: 2.77/3 - 0.11 = 0.81333 (clearly significant); alpha: 0.55 - 2.21/4 = -0.0025.
  assert rows[1]["delta"] == pytest.approx(2.77 / 3 - 0.11) and rows[1]["significant"] is True
  assert rows[0]["delta"] == pytest.approx(-0.0025) and rows[0]["significant"] is False
  assert stats.compare_arms({}, b) == []
  with pytest.raises(ValueError, match=r"^evaluation 'x': a must be"):
    stats.compare_arms({"x": [1.0]}, {"x": [1.0, 2.0]})


def test_headline_and_format():
  rows = [
    {"delta": 0.2, "q_value": 0.01},  # significant improvement
    {"delta": 0.1, "q_value": 0.2},  # improvement, not significant
    {"delta": -0.3, "q_value": 0.04},  # significant regression
    {"delta": -0.05, "q_value": 0.5},
    {"delta": 0.0, "q_value": 1.0},  # neither improved nor regressed
  ]
  h = stats.headline(rows)
  assert h == {
    "n": 5,
    "improved": 2,
    "significant_improvements": 1,
    "significant_regressions": 1,
    "mean_delta": pytest.approx(-0.01),
    "unit": "evaluations",
  }
  # A stricter alpha drops the regression (q = 0.04) but keeps q = 0.01.
  h2 = stats.headline(rows, alpha=0.02)
  assert (h2["significant_improvements"], h2["significant_regressions"]) == (1, 0)
  example = {
    "n": 53,
    "improved": 12,
    "significant_improvements": 5,
    "significant_regressions": 1,
    "mean_delta": 0.091,
  }
  assert stats.format_headline(example) == (
    "12 of 53 evaluations improved (mean Δ +0.091); 5 significant after "
    "Benjamini–Hochberg (q < 0.05); 1 significant regressions"
  )
  assert "(mean Δ -0.010)" in stats.format_headline(h)
  assert stats.format_headline(stats.headline(rows, unit="behaviours")).startswith(
    "2 of 5 behaviours improved"
  )


# --------------------------------------------------------------------------- refusal_stratified


def test_refusal_stratified():
  scores_a = np.array([[1.0, 0.0, 1.0], [0.5, 0.5, 0.0], [0.2, 0.4, 0.9]])
  scores_b = np.array([[0.0, 1.0, 1.0], [1.0, 1.0, 1.0], [0.1, 0.3, 0.5]])
  refused_a = np.array([[0, 1, 0], [1, 1, 0], [0, 0, 1]], bool)
  refused_b = np.array([[0, 0, 1], [0, 1, 1], [0, 0, 0]], bool)
  # Kept: seed 0 -> sample 0 only; seed 1 -> none (NaN); seed 2 -> samples 0 and 1.
  mean_a, mean_b = stats.refusal_stratified(scores_a, scores_b, refused_a, refused_b)
  assert mean_a.dtype == np.float64 and mean_a.shape == (3,)
  np.testing.assert_allclose(mean_a, [1.0, np.nan, 0.3], rtol=1e-14)
  np.testing.assert_allclose(mean_b, [0.0, np.nan, 0.2], rtol=1e-14)
  with pytest.raises(ValueError, match="must share one \\[S, N\\] shape"):
    stats.refusal_stratified(scores_a, scores_b[:2], refused_a, refused_b)
  with pytest.raises(ValueError, match="must share one \\[S, N\\] shape"):
    stats.refusal_stratified(scores_a[0], scores_b[0], refused_a[0], refused_b[0])


def test_compare_arms_paired_hand_computed():
  # d = [1, 2, 2]: mean 5/3, sd sqrt(1/3), t = (5/3) / (sqrt(1/3) / sqrt(3)) = 5, df 2;
  # two-sided p = 1 - 5 / sqrt(5^2 + 2) (Student t with 2 df in closed form).
  rows = stats.compare_arms_paired(
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
    stats.compare_arms_paired({"e": np.array([1.0, 2.0])}, {"e": np.array([1.0, 2.0, 3.0])})
  rows = stats.compare_arms_paired({"e": [0.3, 0.5]}, {"e": [0.1, 0.3]}, key="behaviour")
  assert rows[0]["behaviour"] == "e" and (rows[0]["t"], rows[0]["p_value"]) == (math.inf, 0.0)


# --------------------------------------------------------------------------- paired, sign flip


def test_paired_t_hand_computed():
  # d = a - b = [0.1, 0.3, 0.2, 0.4]: mean 0.25, s_d^2 = 0.05/3, se = sqrt(0.05/12);
  # t = 0.25 / sqrt(0.05/12) = 3.872983, df 3; p = 2 P(T_3 > t) = 0.030466 (tables:
  # t_{0.975,3} = 3.182 < t < t_{0.99,3} = 4.541, so 0.02 < p < 0.05).
  a, b = np.array([0.6, 0.8, 0.5, 0.9]), np.array([0.5, 0.5, 0.3, 0.5])
  r = stats.paired_t_test(a, b)
  assert r.t == pytest.approx(0.25 / math.sqrt(0.05 / 12), rel=1e-12) and r.df == 3.0
  assert r.mean_diff == pytest.approx(0.25)
  assert r.p_value == pytest.approx(0.0304663, abs=2e-7)
  assert stats.paired_t_test([0.2, 0.4], [0.2, 0.4]) == (0.0, 1.0, 1.0, 0.0)
  assert stats.paired_t_test([0.1, 0.3], [0.2, 0.4]).t == -math.inf


def test_sign_flip_hand_computed():
  # Every difference positive: only the all-plus and all-minus signs reach |mean|, so
  # p = 2 / 2^S: 0.125 at 4 seeds (never below 0.05), 2/256 at 8.
  assert stats.sign_flip_p([0.1, 0.2, 0.3, 0.4]) == pytest.approx(0.125)
  assert stats.sign_flip_p(np.arange(1.0, 9.0)) == pytest.approx(2 / 256)
  # d = [1, -2, 3]: |mean e d| >= 2/3 for signs (+,-,+), (-,+,-), (+,+,+), (-,-,-),
  # (-,-,+) and (+,+,-) (|sum| = 6, 6, 2, 2, 4, 4 >= 2): p = 6/8.
  assert stats.sign_flip_p([1.0, -2.0, 3.0]) == pytest.approx(0.75)


# --------------------------------------------------------------------------- t_interval


def test_t_interval_hand_computed():
  # [1, 2, 3]: mean 2, s = 1, t_{0.975, 2} = 4.302653 -> 2 ± 4.302653 / sqrt(3).
  lo, hi = stats.t_interval([1.0, 2.0, 3.0])
  assert (lo, hi) == pytest.approx((2 - 4.302653 / 3**0.5, 2 + 4.302653 / 3**0.5), abs=1e-6)
  # Vectorised over rows; a constant row has zero width; one value gives (v, v).
  lo, hi = stats.t_interval(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]), axis=1)
  assert lo.shape == (2,) and (lo[1], hi[1]) == (5.0, 5.0)
  assert stats.t_interval([0.7]) == (0.7, 0.7)
  # 90%: t_{0.95, 2} = 2.919986.
  assert stats.t_interval([1.0, 2.0, 3.0], 0.9)[1] == pytest.approx(2 + 2.919986 / 3**0.5)
  with pytest.raises(ValueError, match="level must be in"):
    stats.t_interval([1.0, 2.0], 1.0)


# --------------------------------------------------------------------------- power


def test_power_hand_computed():
  # Effect 0: the power is the level itself.
  assert stats.paired_power(0.0, 1.0, 8) == pytest.approx(0.05, rel=1e-9)
  # Cohen (1988), one-sample/paired t, d = effect / sd = 1: 10 pairs give 80% power
  # (0.8032; 9 pairs give 0.7469).
  assert stats.paired_power(1.0, 1.0, 10) == pytest.approx(0.8032, abs=5e-4)
  assert stats.seeds_for_power(0.02, 0.02) == 10
  assert stats.seeds_for_power(0.5, 1.0) == 34  # Cohen's table: d = 0.5 -> 34.
  e = stats.detectable_effect(0.02, 10)
  assert e < 0.02 and stats.paired_power(e, 0.02, 10) == pytest.approx(0.8, abs=1e-9)
  assert stats.seeds_for_power(1e-6, 1.0, max_seeds=50) == 51


def test_policy_grades_summarize_uses_student_t_over_seeds():
  import numpy as np

  from alignment_rl.evals import policy_grades

  # Per-seed means on the applicable scenario: (1, 0.5, 0): mean 0.5, sd 0.5, so the
  # interval is 0.5 ± t_{0.975, 2} 0.5 / sqrt(3) = 0.5 ± 1.242.
  grades = {
    "r": np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]]),
    "r/applies": np.array([True, False]),
  }
  out = policy_grades.summarize(grades)["r"]
  half = 4.302653 * 0.5 / np.sqrt(3)
  assert out["mean"] == pytest.approx(0.5) and out["n"] == 1
  assert (out["ci_low"], out["ci_high"]) == pytest.approx((0.5 - half, 0.5 + half), abs=1e-6)
