"""Host-side statistics over seeds: tests, the interval of a mean, power (DESIGN 6).

Tests come from `scipy.stats`: the paired t-test on per-seed differences for arms that
share each seed's start model (Student 1908; `ttest_rel`), Welch's t-test for unpaired
arms (Welch 1947; `ttest_ind(equal_var=False)`), the exact sign-flip test as a check at
8 or more seeds (Fisher 1935; `permutation_test`), and Benjamini & Hochberg (1995)
q-values (`false_discovery_control`). `mean_interval` is the one interval of a mean:
Student-t over seeds (every report), the percentile bootstrap over an evaluation's
scenarios (the suite's per-seed rows), and both bootstraps of the coverage study; their
coverage at 4 and 8 seeds is simulated in `experiments/stats_page.py` (the percentile
bootstrap undercovers there). Power is that of the two-sided paired t-test (the
noncentral t; Cohen 1988). The significance level is `ALPHA` throughout. Comparisons of
arms over many evaluations are in `evals/arm_comparison.py`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import integrate, optimize, special
from scipy import stats as sps

#: Two-sided significance level of every test, and the BH false discovery rate.
ALPHA = 0.05
#: Seeds from which the exact sign-flip test is reported (at S seeds its smallest
#: two-sided p is 2 / 2^S: 0.125 at 4 seeds, 0.0078 at 8).
SIGN_FLIP_MIN_SEEDS = 8
#: The methods of `mean_interval`.
INTERVAL_METHODS = ("t", "percentile", "bca")


class TTestResult(NamedTuple):
  t: float
  df: float
  p_value: float
  mean_diff: float


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


def mean_interval(
  values: ArrayLike,
  level: float = 0.95,
  axis: int = -1,
  *,
  method: str = "t",
  n_boot: int = 1000,
  seed: int | np.random.Generator = 0,
  nearest_rank: bool = False,
):
  """Two-sided interval of the mean over `axis` that covers it with probability `level`.

  Methods (`INTERVAL_METHODS`), with n values along `axis`:
    "t": Student-t, mean ± t_{(1+level)/2, n-1} s / sqrt(n) (s with ddof=1); NaN values
      give NaN bounds. The interval of every report over seeds.
    "percentile": the percentile bootstrap: the ((1-level)/2, (1+level)/2) quantiles of
      the means of `n_boot` size-n resamples with replacement, the resample indices drawn
      as one `rng.integers(0, n, [..., n_boot, n])` (rng = `default_rng(seed)`). Quantiles
      interpolate linearly (`np.quantile`), or with `nearest_rank` are the order
      statistics at round(q (n_boot - 1)). Undercovers over a few seeds (about 81% at 4
      and 90% at 8, docs/statistics.md); the suite's rows use it over scenarios.
    "bca": bias-corrected and accelerated bootstrap (Efron 1987) on the same draws:
      z0 = Phi^-1(share of resample means below the mean, clipped to
      [0.5 / n_boot, 1 - 0.5 / n_boot]), acceleration a = sum(u^3) / (6 (sum(u^2))^1.5)
      with u the jackknife deviations, levels Phi(z0 + (z0 + z_q) / (1 - a (z0 + z_q)));
      always nearest-rank.
  n == 1 gives (v, v) (the bootstraps then draw nothing).

  Args:
    values: float array; the bootstraps need finite values.
    level: coverage in (0, 1).
    axis: the axis of the n values.
    method: one of `INTERVAL_METHODS`.
    n_boot: bootstrap resamples (bootstraps only).
    seed: an int seed, or a `np.random.Generator` to draw from (bootstraps only).
    nearest_rank: nearest-rank percentile quantiles (method "percentile" only).

  Returns:
    (low, high): float64 arrays of the shape of `values` without `axis` (floats for 1-D).
  """
  v = np.asarray(values, np.float64)
  if method not in INTERVAL_METHODS:
    raise ValueError(f"method must be one of {INTERVAL_METHODS}, got {method!r}")
  if not 0.0 < level < 1.0:
    raise ValueError(f"level must be in (0, 1), got {level}")
  if v.ndim == 0 or v.shape[axis] < 1:
    raise ValueError(f"mean_interval needs at least one value, got shape {v.shape}")
  if method == "t":
    n = v.shape[axis]
    mean = v.mean(axis=axis)
    half = 0.0 if n == 1 else sps.t.ppf(0.5 + level / 2, n - 1) * v.std(axis=axis, ddof=1) / n**0.5
    low, high = mean - half, mean + half
  else:
    if n_boot < 1:
      raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    if not np.all(np.isfinite(v)):
      raise ValueError("bootstrap intervals need finite values")
    low, high = _bootstrap(np.moveaxis(v, axis, -1), level, method, n_boot, seed, nearest_rank)
  return (float(low), float(high)) if np.ndim(low) == 0 else (low, high)


def _bootstrap(v, level, method, n_boot, seed, nearest_rank):
  """(low, high) of `mean_interval`'s bootstraps over the last axis of float64 `v`."""
  n = v.shape[-1]
  if n == 1:
    return v[..., 0], v[..., 0]
  rng = np.random.default_rng(seed)
  idx = rng.integers(0, n, (*v.shape[:-1], n_boot, n))
  means = np.take_along_axis(v[..., None, :], idx, -1).mean(-1)  # [..., n_boot]
  q = np.array([(1.0 - level) / 2, (1.0 + level) / 2])
  if method == "percentile" and not nearest_rank:
    low, high = np.quantile(means, q, axis=-1)
    return low, high
  means.sort(axis=-1)
  q = np.broadcast_to(q, (*v.shape[:-1], 2))
  if method == "bca":
    share = (means < v.mean(-1, keepdims=True)).mean(-1)
    z0 = special.ndtri(np.clip(share, 0.5 / n_boot, 1 - 0.5 / n_boot))[..., None]
    jack = (v.sum(-1, keepdims=True) - v) / (n - 1)
    u = jack.mean(-1, keepdims=True) - jack
    den = 6 * (u**2).sum(-1) ** 1.5
    acc = np.where(den > 0, (u**3).sum(-1) / np.where(den > 0, den, 1.0), 0.0)[..., None]
    z = special.ndtri(q) + z0
    q = special.ndtr(z0 + z / (1 - acc * z))
  rank = np.clip(np.round(q * (n_boot - 1)).astype(int), 0, n_boot - 1)
  low, high = np.moveaxis(np.take_along_axis(means, rank, -1), -1, 0)
  return low, high


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
