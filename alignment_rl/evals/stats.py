"""Host-side statistics comparing training arms over an evaluation suite (DESIGN 6).

Tests come from `scipy.stats`: the paired t-test on per-seed differences for arms that
share each seed's start model (Student 1908; `ttest_rel`), Welch's t-test for unpaired
arms (Welch 1947; `ttest_ind(equal_var=False)`), the exact sign-flip test as a check at
8 or more seeds (Fisher 1935; `permutation_test`), and Benjamini & Hochberg (1995)
q-values (`false_discovery_control`). Intervals over seeds are Student-t intervals;
their coverage at 4 and 8 seeds is simulated in `experiments/stats_page.py` (the
percentile bootstrap undercovers there). Power is that of the two-sided paired t-test
(the noncentral t; Cohen 1988). The significance level is `ALPHA` throughout.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import integrate, optimize
from scipy import stats as sps

#: Two-sided significance level of every test, and the BH false discovery rate.
ALPHA = 0.05
#: Seeds from which the exact sign-flip test is reported (at S seeds its smallest
#: two-sided p is 2 / 2^S: 0.125 at 4 seeds, 0.0078 at 8).
SIGN_FLIP_MIN_SEEDS = 8


class TTestResult(NamedTuple):
  t: float
  df: float
  p_value: float
  mean_diff: float


WelchResult = TTestResult  # The name older callers use.


def _as_vector(x: ArrayLike, name: str, min_len: int) -> np.ndarray:
  v = np.asarray(x, np.float64)
  if v.ndim != 1 or v.shape[0] < min_len:
    raise ValueError(f"{name} must be a 1-D array of >= {min_len} values, got shape {v.shape}")
  if not np.all(np.isfinite(v)):
    raise ValueError(f"{name} contains non-finite values")
  return v


def welch_t_test(a: ArrayLike, b: ArrayLike) -> TTestResult:
  """Two-sided Welch t-test of mean(a) == mean(b) (Welch 1947), for unpaired arms.

  t = (mean(a) - mean(b)) / sqrt(s_a^2/n_a + s_b^2/n_b), with ddof=1 variances s^2;
  df = (s_a^2/n_a + s_b^2/n_b)^2 / ((s_a^2/n_a)^2/(n_a-1) + (s_b^2/n_b)^2/(n_b-1))
  (Welch–Satterthwaite); p = 2 P(T_df > |t|) (`scipy.stats.ttest_ind`). If both
  samples are constant, df = n_a + n_b - 2 and (t, p) = (0, 1) for equal means,
  (±inf, 0) otherwise.

  Args:
    a: [n_a] finite per-seed values, n_a >= 2.
    b: [n_b] finite per-seed values, n_b >= 2.
  """
  a, b = _as_vector(a, "a", 2), _as_vector(b, "b", 2)
  mean_diff = float(a.mean() - b.mean())
  if np.ptp(a) == 0 and np.ptp(b) == 0:  # Exactly zero variance: scipy would give NaN.
    df = float(a.shape[0] + b.shape[0] - 2)
    if a[0] == b[0]:
      return TTestResult(0.0, df, 1.0, 0.0)
    return TTestResult(math.copysign(math.inf, a[0] - b[0]), df, 0.0, mean_diff)
  r = sps.ttest_ind(a, b, equal_var=False)
  return TTestResult(float(r.statistic), float(r.df), float(r.pvalue), mean_diff)


def paired_t_test(a: ArrayLike, b: ArrayLike) -> TTestResult:
  """Two-sided paired t-test of mean(a - b) == 0 (`scipy.stats.ttest_rel`).

  With d = a - b over S paired seeds: t = mean(d) / (s_d / sqrt(S)), df = S - 1,
  p = 2 P(T_df > |t|). Identical differences on every seed give (t, p) = (±inf, 0)
  when nonzero and (0, 1) when zero (a t-test of zero spread).

  Args:
    a, b: [S] finite per-seed values, aligned by seed, S >= 2.
  """
  a, b = _as_vector(a, "a", 2), _as_vector(b, "b", 2)
  if a.shape != b.shape:
    raise ValueError(f"paired test needs equal-length vectors, got {a.shape} and {b.shape}")
  d = a - b
  df = float(len(d) - 1)
  if np.ptp(d) <= 1e-12 * np.abs(d).max():  # Equal up to rounding: zero spread.
    d = np.full_like(d, d.mean())
  if np.ptp(d) == 0:
    if d[0] == 0:
      return TTestResult(0.0, df, 1.0, 0.0)
    return TTestResult(math.copysign(math.inf, d[0]), df, 0.0, float(d[0]))
  r = sps.ttest_rel(a, b)
  return TTestResult(float(r.statistic), df, float(r.pvalue), float(d.mean()))


def sign_flip_p(d: ArrayLike) -> float:
  """Exact two-sided sign-flip p of mean(d) == 0 (`scipy.stats.permutation_test`).

  p = #{signs e in {-1, 1}^S : |mean(e d)| >= |mean(d)|} / 2^S, so p >= 2 / 2^S: it
  cannot reach 0.05 below 6 seeds; a check on the t-test from `SIGN_FLIP_MIN_SEEDS`.
  """
  d = _as_vector(d, "d", 1)
  res = sps.permutation_test(
    (d,), np.mean, permutation_type="samples", n_resamples=np.inf, vectorized=True, axis=-1
  )
  return float(res.pvalue)


def benjamini_hochberg(p_values: ArrayLike) -> np.ndarray:
  """Benjamini & Hochberg (1995) q-values (`scipy.stats.false_discovery_control`).

  With the m non-NaN p-values sorted, p_(1) <= ... <= p_(m):
  q_(i) = min(1, min_{j >= i} m p_(j) / j). Rejecting q < alpha controls the false
  discovery rate at alpha for independent (or positively dependent) tests.

  Args:
    p_values: array of any shape with values in [0, 1]; NaN entries are passed
      through as NaN and do not count in m.

  Returns:
    float64 array of q-values, same shape and order as `p_values`.
  """
  p = np.asarray(p_values, np.float64)
  flat, q = p.ravel(), np.full(p.size, np.nan)
  ok = ~np.isnan(flat)
  if np.any((flat[ok] < 0) | (flat[ok] > 1)):
    raise ValueError("p_values must lie in [0, 1] (or be NaN)")
  if ok.any():
    q[ok] = sps.false_discovery_control(flat[ok], method="bh")
  return q.reshape(p.shape)


def t_interval(values: ArrayLike, level: float = 0.95, axis: int = -1):
  """Student-t interval of the mean over `axis`: mean ± t_{(1+level)/2, n-1} s / sqrt(n)
  (s with ddof=1). Vectorised; n == 1 gives (v, v).

  Returns:
    (low, high): float64 arrays of the shape of `values` without `axis` (floats for 1-D).
  """
  v = np.asarray(values, np.float64)
  if not 0.0 < level < 1.0:
    raise ValueError(f"level must be in (0, 1), got {level}")
  n = v.shape[axis]
  if n < 1:
    raise ValueError("t_interval needs at least one value")
  mean = v.mean(axis=axis)
  half = 0.0 if n == 1 else sps.t.ppf(0.5 + level / 2, n - 1) * v.std(axis=axis, ddof=1) / n**0.5
  low, high = mean - half, mean + half
  return (float(low), float(high)) if np.ndim(low) == 0 else (low, high)


def bootstrap_mean_ci(
  values: ArrayLike,
  n_boot: int = 1000,
  confidence: float = 0.95,
  seed: int | np.random.Generator = 0,
) -> tuple[float, float]:
  """Percentile bootstrap CI of the mean: the ((1-c)/2, (1+c)/2) quantiles of the
  means of `n_boot` size-n resamples drawn with replacement (deterministic per `seed`).
  Not for intervals over a few seeds: it covers about 81% at 4 and 90% at 8 seeds
  (docs/statistics.md); kept for the coverage comparison.

  Args:
    values: [n] finite values, n >= 1 (n == 1 gives (v, v)).
    seed: an int seed, or a `np.random.Generator` to draw from.
  """
  v = _as_vector(values, "values", 1)
  if not 0.0 < confidence < 1.0:
    raise ValueError(f"confidence must be in (0, 1), got {confidence}")
  if n_boot < 1:
    raise ValueError(f"n_boot must be >= 1, got {n_boot}")
  if v.shape[0] == 1:
    return float(v[0]), float(v[0])
  rng = np.random.default_rng(seed)
  means = v[rng.integers(0, v.shape[0], size=(n_boot, v.shape[0]))].mean(axis=1)
  lo, hi = np.quantile(means, [(1.0 - confidence) / 2, (1.0 + confidence) / 2])
  return float(lo), float(hi)


def _compare(test, a: dict, b: dict, alpha: float, key: str) -> list[dict]:
  rows = []
  for name in sorted(set(a) & set(b)):
    try:
      r = test(a[name], b[name])
    except ValueError as err:
      raise ValueError(f"evaluation {name!r}: {err}") from None
    mean_a, mean_b = float(np.mean(a[name])), float(np.mean(b[name]))
    row = {key: name, "mean_a": mean_a, "mean_b": mean_b, "delta": mean_a - mean_b}
    rows.append(row | {"t": r.t, "df": r.df, "p_value": r.p_value})
  q = benjamini_hochberg([r["p_value"] for r in rows])
  for row, qi in zip(rows, q, strict=True):
    row["q_value"] = float(qi)
    row["significant"] = bool(qi < alpha)
  return rows


def compare_arms(a: dict, b: dict, alpha: float = ALPHA, key: str = "evaluation") -> list[dict]:
  """Welch-tests arm A (treatment) against an unpaired arm B on every shared evaluation.

  Args:
    a: evaluation name -> [n_a] per-seed scores of arm A (higher is better).
    b: evaluation name -> [n_b] per-seed scores of arm B.
    alpha: false discovery rate for `significant`.
    key: the name of the row's label field ("evaluation" or "behaviour").

  Returns:
    One dict per evaluation in both arms, sorted by name, with keys `key`, mean_a,
    mean_b, delta (= mean_a - mean_b), t, df, p_value, q_value (BH over the compared
    evaluations) and significant (q_value < alpha).
  """
  return _compare(welch_t_test, a, b, alpha, key)


def compare_arms_paired(
  a: dict, b: dict, alpha: float = ALPHA, key: str = "evaluation"
) -> list[dict]:
  """As `compare_arms`, with the paired t-test (`paired_t_test`, df = S - 1) on the
  per-seed differences a[s] - b[s]: for arms that share each seed's start model.

  Args:
    a, b: name -> [S] per-seed scores, aligned by seed (same order).
  """
  return _compare(paired_t_test, a, b, alpha, key)


def headline(comparisons: list[dict], alpha: float = ALPHA, unit: str = "evaluations") -> dict:
  """Counts {n, improved (delta > 0), significant_improvements (delta > 0, q < alpha),
  significant_regressions (delta < 0, q < alpha), mean_delta, unit} over comparison rows."""
  deltas = np.array([c["delta"] for c in comparisons], np.float64)
  sig = np.array([c["q_value"] < alpha for c in comparisons], bool)
  return {
    "n": len(comparisons),
    "improved": int(np.sum(deltas > 0)),
    "significant_improvements": int(np.sum((deltas > 0) & sig)),
    "significant_regressions": int(np.sum((deltas < 0) & sig)),
    "mean_delta": float(deltas.mean()) if len(deltas) else float("nan"),
    "unit": unit,
  }


def format_headline(h: dict, alpha: float = ALPHA) -> str:
  """One line, e.g. '12 of 53 evaluations improved (mean Δ +0.091); 5 significant ...'."""
  return (
    f"{h['improved']} of {h['n']} {h.get('unit', 'evaluations')} improved "
    f"(mean Δ {h['mean_delta']:+.3f}); {h['significant_improvements']} significant after "
    f"Benjamini–Hochberg (q < {alpha:g}); {h['significant_regressions']} significant regressions"
  )


def _power_one(nc: float, df: float, crit: float) -> float:
  # T' = (Z + nc) / (W / sqrt(df)), Z ~ N(0, 1), W ~ chi(df): P(|T'| > crit) integrated
  # over W.
  def f(w):
    u = crit * w / df**0.5
    return (sps.norm.sf(u - nc) + sps.norm.cdf(-u - nc)) * sps.chi.pdf(w, df)

  return float(integrate.quad(f, 0.0, np.inf, epsabs=1e-12, epsrel=1e-10, limit=200)[0])


def paired_power(effect, sd, seeds, alpha: float = ALPHA):
  """Power of the two-sided paired t-test at level `alpha` (Cohen 1988, ch. 2):
  P(|T'| > t_{1-alpha/2, S-1}), T' noncentral t with S - 1 df and noncentrality
  effect / (sd / sqrt(S)); `sd` is the standard deviation of the per-seed differences.
  Broadcasts over its arguments."""
  effect, sd, seeds = np.broadcast_arrays(*(np.asarray(x, np.float64) for x in (effect, sd, seeds)))
  df = seeds - 1
  nc, crit = effect / (sd / np.sqrt(seeds)), sps.t.ppf(1 - alpha / 2, df)
  with np.errstate(all="ignore"):
    out = np.asarray(sps.nct.sf(crit, df, nc) + sps.nct.cdf(-crit, df, nc), np.float64)
  bad = ~np.isfinite(out)  # By the integral where `nct` fails (NaN at df = 1).
  out[bad] = [_power_one(*x) for x in zip(nc[bad], df[bad], crit[bad], strict=True)]
  return float(out) if out.ndim == 0 else out


def seeds_for_power(
  effect: float, sd: float, power: float = 0.8, alpha: float = ALPHA, max_seeds: int = 1024
) -> int:
  """The fewest seeds S >= 2 at which `paired_power(effect, sd, S) >= power`
  (`max_seeds + 1` if none up to `max_seeds`)."""
  for s in range(2, max_seeds + 1):  # Power rises with S: the first one that reaches it.
    if paired_power(effect, sd, s, alpha) >= power:
      return s
  return max_seeds + 1


def detectable_effect(sd: float, seeds: int, power: float = 0.8, alpha: float = ALPHA) -> float:
  """The effect (in the units of `sd`) that the paired t-test at `seeds` seeds detects
  with probability `power`: the root of paired_power(effect) = power (`brentq`)."""
  if seeds < 2 or sd <= 0:
    return float("nan") if seeds < 2 else 0.0
  f = lambda e: paired_power(e, sd, seeds, alpha) - power  # noqa: E731
  hi = sd
  while f(hi) < 0:
    hi *= 2
  return float(optimize.brentq(f, 0.0, hi, xtol=1e-12 * sd))


def refusal_stratified(
  scores_a: ArrayLike, scores_b: ArrayLike, refused_a: ArrayLike, refused_b: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
  """Per-seed means of both arms over the samples on which neither arm refused.

  keep[s, i] = ~refused_a[s, i] & ~refused_b[s, i];
  mean_x[s] = sum_i keep[s, i] scores_x[s, i] / sum_i keep[s, i] (NaN if nothing kept).

  Args:
    scores_a, scores_b: [S, N] float scores (seeds x the same N samples).
    refused_a, refused_b: [S, N] bool refusal flags.

  Returns:
    (mean_a, mean_b), float64[S] each.
  """
  arrays = [np.asarray(x) for x in (scores_a, scores_b, refused_a, refused_b)]
  shapes = [x.shape for x in arrays]
  if len(set(shapes)) != 1 or len(shapes[0]) != 2:
    raise ValueError(f"refusal_stratified: inputs must share one [S, N] shape, got {shapes}")
  keep = ~arrays[2].astype(bool) & ~arrays[3].astype(bool)
  count = keep.sum(axis=1)

  def kept_mean(scores: np.ndarray) -> np.ndarray:
    total = np.where(keep, scores.astype(np.float64), 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)

  return kept_mean(arrays[0]), kept_mean(arrays[1])
