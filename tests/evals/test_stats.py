"""Tests for alignment_rl.evals.stats: a hand-computed case for every test, interval and
power function (the library calls scipy.stats; these pin down that it calls it right);
the bootstraps' draws and quantile rules."""

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


# ----------------------------------------------------------------- mean_interval: bootstraps


def test_percentile_bootstrap_draws_and_quantiles():
  v = np.array([0.1, 0.4, 0.35, 0.8, 0.55])
  lo, hi = stats.mean_interval(v, method="percentile", n_boot=2000, seed=3)
  # The contract: one rng.integers(0, n, [n_boot, n]) draw, linear-interpolated quantiles.
  means = v[np.random.default_rng(3).integers(0, 5, (2000, 5))].mean(1)
  assert (lo, hi) == tuple(np.quantile(means, [0.025, 0.975]))
  assert (lo, hi) != stats.mean_interval(v, method="percentile", n_boot=2000, seed=4)
  assert v.min() <= lo < v.mean() < hi <= v.max()
  lo90, hi90 = stats.mean_interval(v, 0.9, method="percentile", n_boot=2000, seed=3)
  assert lo <= lo90 and hi90 <= hi
  # Nearest rank: the order statistics at round(q (n_boot - 1)) = 50 and 1949.
  near = stats.mean_interval(v, method="percentile", n_boot=2000, seed=3, nearest_rank=True)
  assert near == (np.sort(means)[50], np.sort(means)[1949])
  assert stats.mean_interval([0.7], method="percentile") == (0.7, 0.7)
  assert stats.mean_interval([0.2, 0.2, 0.2], method="bca") == pytest.approx((0.2, 0.2))
  with pytest.raises(ValueError, match="level must be in"):
    stats.mean_interval(v, 1.0, method="percentile")
  with pytest.raises(ValueError, match="needs at least one value"):
    stats.mean_interval([], method="percentile")
  with pytest.raises(ValueError, match="finite"):
    stats.mean_interval([0.1, np.nan], method="percentile")
  with pytest.raises(ValueError, match="method must be one of"):
    stats.mean_interval(v, method="bootstrap")


def test_bootstrap_rows_draw_in_row_order():
  # Rows of a batch draw what the same rows draw one after another from one generator.
  x = np.random.default_rng(0).beta(2, 3, (6, 4))
  for method in ("percentile", "bca"):
    lo, hi = stats.mean_interval(
      x, axis=1, method=method, n_boot=300, seed=np.random.default_rng(5), nearest_rank=True
    )
    rng = np.random.default_rng(5)
    one = [
      stats.mean_interval(r, method=method, n_boot=300, seed=rng, nearest_rank=True) for r in x
    ]
    np.testing.assert_array_equal(np.stack([lo, hi], 1), np.array(one))
    # axis=0 on the transposed batch is the same computation.
    lo_t, _ = stats.mean_interval(x.T, axis=0, method=method, n_boot=300, seed=5, nearest_rank=True)
    np.testing.assert_array_equal(
      lo_t, stats.mean_interval(x, axis=1, method=method, n_boot=300, seed=5, nearest_rank=True)[0]
    )


def test_bca_corrects_toward_the_skew():
  # Right-skewed sample: BCa moves both ends of the percentile interval to the right
  # (z0 > 0: fewer than half the resample means lie below the mean; a > 0).
  v = np.random.default_rng(1).exponential(1.0, 40)
  pct = stats.mean_interval(v, method="percentile", n_boot=4000, seed=2, nearest_rank=True)
  bca = stats.mean_interval(v, method="bca", n_boot=4000, seed=2)
  assert bca[0] > pct[0] and bca[1] > pct[1]


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


# ------------------------------------------------------------------ mean_interval: Student-t


def test_student_t_interval_hand_computed():
  # [1, 2, 3]: mean 2, s = 1, t_{0.975, 2} = 4.302653 -> 2 ± 4.302653 / sqrt(3).
  lo, hi = stats.mean_interval([1.0, 2.0, 3.0])
  assert (lo, hi) == pytest.approx((2 - 4.302653 / 3**0.5, 2 + 4.302653 / 3**0.5), abs=1e-6)
  # Vectorised over rows; a constant row has zero width; one value gives (v, v).
  lo, hi = stats.mean_interval(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]), axis=1)
  assert lo.shape == (2,) and (lo[1], hi[1]) == (5.0, 5.0)
  assert stats.mean_interval([0.7]) == (0.7, 0.7)
  # 90%: t_{0.95, 2} = 2.919986.
  assert stats.mean_interval([1.0, 2.0, 3.0], 0.9)[1] == pytest.approx(2 + 2.919986 / 3**0.5)
  with pytest.raises(ValueError, match="level must be in"):
    stats.mean_interval([1.0, 2.0], 1.0)


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
